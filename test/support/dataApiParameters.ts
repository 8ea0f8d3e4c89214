import { segmentSql } from "../../functions/core/sql/lexer";
import { compileNamedSql } from "../../functions/core/sql/namedParams";

/**
 * The test Data API endpoint's errors and parameters (./dataApiServer.ts): an error as AWS
 * sends it (status, name, body members), and SqlParameters bound the way the Data API binds
 * them (API reference: ExecuteStatement, SqlParameter): `:name` placeholders; a
 * `stringValue` without hint binds as varchar, `longValue` as int8, `doubleValue` as
 * float8, `booleanValue` as bool; a hinted string (TIMESTAMP, DATE, TIME, UUID, JSON,
 * DECIMAL) must have the hint's shape and is then typed by PostgreSQL from context; array
 * parameters are refused ("Array parameters are not supported").
 */

/** An AWS error: its name (the `x-amzn-errortype`), message, status and body members. */
export class DataApiError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly status = statusOf(name),
    /** More members of the error's body, as the SDK model defines them. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const STATUS: Record<string, number> = {
  AccessDeniedException: 403,
  ForbiddenException: 403,
  NotFoundException: 404,
  DatabaseNotFoundException: 404,
  TransactionNotFoundException: 404,
  InternalServerErrorException: 500,
  ServiceUnavailableError: 503,
  DatabaseUnavailableException: 504,
};
// StatementTimeoutException, DatabaseErrorException, UnsupportedResultException,
// ValidationException and the rest of the client faults: 400.
export const statusOf = (name: string) => STATUS[name] ?? 400;

const HINT_SHAPES: Record<string, RegExp> = {
  TIMESTAMP: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/,
  DATE: /^\d{4}-\d{2}-\d{2}$/,
  TIME: /^\d{2}:\d{2}:\d{2}(\.\d{1,9})?$/,
  UUID: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  DECIMAL: /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/,
};

export interface WireParameter {
  name?: string;
  value?: WireField;
  typeHint?: string;
}

export interface WireField {
  isNull?: boolean;
  booleanValue?: boolean;
  longValue?: number;
  doubleValue?: number;
  stringValue?: string;
  blobValue?: string;
  arrayValue?: unknown;
}

/** The SQL with typed positional placeholders, and the values, for a call's parameters. */
export function bind(
  sql: string,
  parameters: WireParameter[],
): { text: string; values: unknown[] } {
  const compiled = compileNamedSql(sql);
  const byName = new Map(parameters.map((p) => [p.name ?? "", p]));
  const casts: string[] = [];
  const values = compiled.names.map((name, i) => {
    const parameter = byName.get(name);
    if (!parameter?.value) {
      throw new DataApiError("BadRequestException", `No value specified for parameter ${i + 1}`);
    }
    const [value, cast] = decodeParameter(parameter);
    casts.push(cast);
    return value;
  });
  // Type the placeholders the way the Data API binds them (see the header comment).
  const text = segmentSql(compiled.text)
    .map((segment) =>
      segment.code
        ? segment.text.replace(/\$(\d+)/g, (match, n) => `${match}${casts[Number(n) - 1] ?? ""}`)
        : segment.text,
    )
    .join("");
  return { text, values };
}

function decodeParameter({ name, value, typeHint }: WireParameter): [unknown, string] {
  const field = value as WireField;
  if (typeHint) {
    if (field.stringValue === undefined) {
      throw new DataApiError(
        "BadRequestException",
        `typeHint ${typeHint} of parameter ${name} needs a stringValue`,
      );
    }
    const shape = HINT_SHAPES[typeHint];
    const ok = typeHint === "JSON" ? isJson(field.stringValue) : shape?.test(field.stringValue);
    if (!ok) {
      throw new DataApiError(
        "BadRequestException",
        `parameter ${name}: "${field.stringValue}" is not a valid ${typeHint}`,
      );
    }
    return [field.stringValue, ""];
  }
  if (field.isNull) return [null, ""];
  if (field.stringValue !== undefined) return [field.stringValue, "::varchar"];
  if (field.longValue !== undefined) return [String(field.longValue), "::int8"];
  if (field.doubleValue !== undefined) return [String(field.doubleValue), "::float8"];
  if (field.booleanValue !== undefined) return [field.booleanValue, "::bool"];
  if (field.blobValue !== undefined) return [Buffer.from(field.blobValue, "base64"), "::bytea"];
  if (field.arrayValue !== undefined) {
    throw new DataApiError("BadRequestException", "Array parameters are not supported");
  }
  throw new DataApiError("BadRequestException", `parameter ${name} has no value`);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
