import type { LogFields, Logger } from "../core/telemetry/ports";

/**
 * The local runtime's own log lines: one JSON object per line on stderr, in the shape the
 * Lambdas' Powertools logger writes (level, message, service, timestamp, fields), so the
 * handlers' lines and the runtime's read alike. The banner alone is plain text, on stdout.
 */

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

export function createJsonLogger(options: {
  service: string;
  level?: Level;
  write?: (line: string) => void;
}): Logger {
  const threshold = LEVELS[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log = (level: Level) => (message: string, fields?: LogFields) => {
    if (LEVELS[level] < threshold) return;
    write(
      JSON.stringify({
        level: level.toUpperCase(),
        message,
        service: options.service,
        timestamp: new Date().toISOString(),
        ...fields,
      }),
    );
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

/** An error as log fields: name and message, and the stack only for the log, never an answer. */
export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) {
    return { error: { name: error.name, message: error.message, stack: error.stack } };
  }
  return { error: { message: String(error) } };
}
