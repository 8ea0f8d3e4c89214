import type { LogItem } from "@aws-lambda-powertools/logger";
import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import type { ConstructorOptions } from "@aws-lambda-powertools/logger/types";
import { z } from "zod";
import { readSettings } from "../config/settings";
import type { LogFields, Logger } from "./ports";
import { PrettyLogFormatter, PrettyLogItem } from "./prettyFormat";

/**
 * The Logger port over Powertools Logger: one JSON object per line with level, message,
 * timestamp, service, environment, the invocation's id and the call's fields (errors
 * formatted with name, message and stack). The level comes from POWERTOOLS_LOG_LEVEL (or
 * LOG_LEVEL, or Lambda's advanced logging controls), INFO when unset.
 *
 * At a terminal (stdout a TTY, or LOG_FORMAT=pretty) the same events are one short line
 * each instead (prettyFormat.ts), and the EMF metrics documents are not printed (emf.ts).
 * Everywhere else, AWS included, JSON: CloudWatch and the metric filters read it.
 */

export const LogFormatSettingsSchema = z.object({
  /** json or pretty; unset: pretty when stdout is a terminal, json otherwise. */
  LOG_FORMAT: z
    .enum(["json", "pretty"], { error: 'LOG_FORMAT must be "json" or "pretty"' })
    .optional(),
  /** https://no-color.org: any value turns the pretty lines' colour off. */
  NO_COLOR: z.string().optional(),
});
export type LogFormat = "json" | "pretty";

export interface OutputFormat {
  format: LogFormat;
  color: boolean;
}

/** The decision, from the settings and whether stdout is a terminal. */
export function resolveOutputFormat(
  env: Record<string, string | undefined>,
  stdoutIsTerminal: boolean,
): OutputFormat {
  const settings = readSettings(LogFormatSettingsSchema, env);
  const format = settings.LOG_FORMAT ?? (stdoutIsTerminal ? "pretty" : "json");
  return { format, color: format === "pretty" && settings.NO_COLOR === undefined };
}

let processFormat: OutputFormat | undefined;
/**
 * This process's format, decided once: every logger and metrics adapter of the process
 * (the local runtime holds three) prints alike. A bad LOG_FORMAT throws a SettingsError
 * naming it.
 */
export function processOutputFormat(): OutputFormat {
  processFormat ??= resolveOutputFormat(process.env, process.stdout.isTTY === true);
  return processFormat;
}

export interface ServiceLoggerOptions {
  /** "executor" or "api". */
  service: string;
  /** The deployment's environment name (PIPELINE_ENV; "local" off AWS). */
  environment: string;
  /** Default: this process's (processOutputFormat). */
  output?: OutputFormat;
}

/** What a handler knows about its invocation; a Lambda context fits it. */
export interface InvocationInfo {
  /** The Lambda request id, or one the local runtime made up. */
  awsRequestId: string;
  functionName?: string;
}

export interface ServiceLogger extends Logger {
  readonly powertools: PowertoolsLogger;
  /**
   * A logger for one invocation: every line carries `invocationId` (and `keys`, e.g. the
   * executor's worker id). A child, not a mutation, so invocations that overlap in one
   * process (the local runtime's schedule) each keep their own id.
   */
  forInvocation(invocation: InvocationInfo, keys?: LogFields): Logger;
  /**
   * Tags this logger's following lines with the invocation instead (dropping the previous
   * invocation's keys). Fine where one invocation runs at a time (a Lambda container);
   * prefer `forInvocation` where invocations overlap.
   */
  beginInvocation(invocation: InvocationInfo, keys?: LogFields): void;
}

export function createServiceLogger(options: ServiceLoggerOptions): ServiceLogger {
  const output = options.output ?? processOutputFormat();
  const config = {
    serviceName: options.service,
    persistentKeys: { environment: options.environment },
  };
  const powertools =
    output.format === "pretty"
      ? new PrettyPowertoolsLogger({
          ...config,
          logFormatter: new PrettyLogFormatter({ color: output.color }),
        })
      : new PowertoolsLogger(config);
  return adaptPowertoolsLogger(powertools);
}

/**
 * Powertools' Logger, printing PrettyLogFormatter's lines as they are (Powertools would
 * print them as JSON strings), to the streams Powertools uses: debug and info to stdout,
 * warn and error to stderr. Its children (createChild) are of this class too.
 */
class PrettyPowertoolsLogger extends PowertoolsLogger {
  protected override printLog(logLevel: number, log: LogItem): void {
    if (!(log instanceof PrettyLogItem)) {
      super.printLog(logLevel, log);
      return;
    }
    const stream = ["TRACE", "DEBUG", "INFO"].includes(log.level) ? process.stdout : process.stderr;
    stream.write(`${log.line}\n`);
  }

  protected override createLogger(options?: ConstructorOptions): PowertoolsLogger {
    return new PrettyPowertoolsLogger(options);
  }
}

/** Adapts an existing Powertools Logger (e.g. one shared with a middy middleware). */
export function adaptPowertoolsLogger(powertools: PowertoolsLogger): ServiceLogger {
  const extra = (fields: LogFields | undefined) => (fields ? [fields] : []);
  const invocationKeys = (invocation: InvocationInfo, keys: LogFields) => ({
    invocationId: invocation.awsRequestId,
    ...(invocation.functionName ? { functionName: invocation.functionName } : {}),
    ...keys,
  });
  return {
    powertools,
    debug: (message, fields) => powertools.debug(message, ...extra(fields)),
    info: (message, fields) => powertools.info(message, ...extra(fields)),
    warn: (message, fields) => powertools.warn(message, ...extra(fields)),
    error: (message, fields) => powertools.error(message, ...extra(fields)),
    forInvocation(invocation, keys = {}) {
      const child = powertools.createChild();
      child.appendPersistentKeys(invocationKeys(invocation, keys));
      return adaptPowertoolsLogger(child);
    },
    beginInvocation(invocation, keys = {}) {
      powertools.resetKeys();
      powertools.appendKeys(invocationKeys(invocation, keys));
    },
  };
}
