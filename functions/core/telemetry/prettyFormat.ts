import { LogFormatter, LogItem } from "@aws-lambda-powertools/logger";
import type { LogAttributes, UnformattedAttributes } from "@aws-lambda-powertools/logger/types";

/**
 * One short line per log event, for a person at a terminal (LOG_FORMAT=pretty, the default
 * when stdout is a TTY):
 *
 *   18:02:11.204 WARN  executor  task failed  task=3f0c… 1234ms  type=summarize attempts=3 error="…"
 *
 * A Powertools LogFormatter: the Logger still does levels, keys and child loggers; only
 * the printed line differs. Powertools prints a LogItem as JSON, so the line travels in a
 * PrettyLogItem and PrettyPowertoolsLogger (logger.ts) prints it as it is.
 */

/** Keys every line carries that a person does not need to read each time. */
const HIDDEN = new Set([
  "environment",
  "invocationId",
  "awsRequestId",
  "functionName",
  "requestId",
  "workerId",
]);
/** Shown right after the message, in this form. */
const TASK_KEYS = ["taskId", "taskIds"];
const DURATION_KEYS = ["durationMs", "runMs"];
/** More than this many other fields end in `+N more`: a line that wraps is not read. */
const MAX_FIELDS = 6;
/** Longer values are cut: an 80-column terminal shows about one field this long. */
const MAX_VALUE_CHARS = 60;

export interface PrettyFormatOptions {
  /** ANSI colour for levels and the dimmed parts; off when NO_COLOR is set. */
  color: boolean;
}

/** A LogItem that carries its finished line. */
export class PrettyLogItem extends LogItem {
  constructor(
    readonly line: string,
    readonly level: string,
  ) {
    super({ attributes: { message: line } });
  }
}

const COLORS: Record<string, string> = {
  DEBUG: "\u001b[90m",
  INFO: "\u001b[36m",
  WARN: "\u001b[33m",
  ERROR: "\u001b[31m",
  CRITICAL: "\u001b[31m",
};
const DIM = "\u001b[2m";
const RESET = "\u001b[0m";

export class PrettyLogFormatter extends LogFormatter {
  constructor(private readonly options: PrettyFormatOptions) {
    super();
  }

  formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const paint = (code: string | undefined, text: string) =>
      this.options.color && code ? `${code}${text}${RESET}` : text;
    const level = attributes.logLevel.toUpperCase();
    const parts = [
      paint(DIM, clock(attributes.timestamp)),
      paint(COLORS[level], level.padEnd(5)),
      attributes.serviceName ? paint(DIM, attributes.serviceName) : "",
      attributes.message,
    ];
    const fields: string[] = [];
    for (const key of TASK_KEYS) {
      if (additional[key] !== undefined) fields.push(formatTasks(additional[key]));
    }
    for (const key of DURATION_KEYS) {
      const value = additional[key];
      if (typeof value === "number") fields.push(formatDuration(value));
    }
    const others = Object.entries(additional).filter(
      ([key, value]) =>
        value !== undefined &&
        !HIDDEN.has(key) &&
        !TASK_KEYS.includes(key) &&
        !(DURATION_KEYS.includes(key) && typeof value === "number"),
    );
    for (const [key, value] of others.slice(0, MAX_FIELDS)) {
      fields.push(`${key}=${formatValue(value)}`);
    }
    if (others.length > MAX_FIELDS) fields.push(paint(DIM, `+${others.length - MAX_FIELDS} more`));
    const line = [...parts.filter(Boolean), ...(fields.length ? [fields.join(" ")] : [])].join(
      "  ",
    );
    return new PrettyLogItem(line, level);
  }
}

/** Local wall-clock time with milliseconds: the day is the terminal session's. */
function clock(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, "0")}`;
}

function formatDuration(ms: number): string {
  return ms < 10_000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

function formatTasks(value: unknown): string {
  if (Array.isArray(value)) return `tasks=${value.join(",")}`;
  return `task=${String(value)}`;
}

function formatValue(value: unknown): string {
  if (value instanceof Error) return quote(`${value.name}: ${value.message}`);
  if (typeof value === "string") return quote(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) {
    return String(value);
  }
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object" && !Array.isArray(value)) {
    // A nested summary carries the same ids as the line: drop them before cutting.
    const shown = Object.entries(value).filter(([key]) => !HIDDEN.has(key));
    return cut(JSON.stringify(Object.fromEntries(shown)));
  }
  return cut(JSON.stringify(value) ?? String(value));
}

/** Bare when it reads unambiguously, JSON-quoted when it has spaces or quotes. */
function quote(text: string): string {
  const short = cut(text);
  return /^[^\s"=]+$/.test(short) ? short : JSON.stringify(short);
}

function cut(text: string): string {
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}
