import pg from "pg";
import { segmentSql } from "../../functions/core/sql/lexer";

/**
 * The RDS Data API's rules that the test endpoint (./dataApiServer.ts) enforces, each with
 * the AWS page or SDK model it comes from, and how results are encoded as `records`. The
 * endpoint must be at least as strict as AWS where the project could trip over it, and no
 * stricter where AWS is permissive (arrays with NULL elements come back).
 *
 * Sources:
 * - [limits] Aurora User Guide, "Limitations for the Amazon RDS Data API",
 *   docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html
 * - [troubleshooting] Aurora User Guide, "Troubleshooting Amazon RDS Data API",
 *   docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.troubleshooting.html
 * - [timeouts] Aurora User Guide, "Controlling Data API timeout behavior",
 *   docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-timeouts.html
 * - [differences] Aurora User Guide, "Comparing Amazon RDS Data API behaviors for Aurora
 *   Serverless v2 and provisioned clusters with Aurora Serverless v1 clusters",
 *   docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.differences.html
 * - [BeginTransaction] RDS Data API reference, API_BeginTransaction.html
 * - [model] @aws-sdk/client-rds-data, dist-types/models/errors.d.ts (the exceptions
 *   ExecuteStatement throws and what each means)
 */

/**
 * "The Data API size limit is 64 KB per row in the result set returned by the database"
 * [limits]; the error is "Packet for query is too large" [troubleshooting]. 64,000, not
 * 65,536: AWS does not say which "KB", and the endpoint must not be more lenient than AWS.
 */
export const ROW_LIMIT_BYTES = 64_000;
/** "The response size limit is 1 MiB" [limits]; "Database response exceeded size limit" [troubleshooting]. */
export const RESPONSE_LIMIT_BYTES = 1024 * 1024;
/** "the Data API cancels an operation and returns a timeout error if the operation doesn't finish processing within 45 seconds" [timeouts]. */
export const STATEMENT_TIMEOUT_MS = 45_000;
/** "A transaction times out if no calls use its transaction ID in three minutes" [BeginTransaction]. */
export const TRANSACTION_IDLE_MS = 3 * 60_000;
/** "A transaction can run for a maximum of 24 hours" [BeginTransaction]. */
export const TRANSACTION_MAX_MS = 24 * 3600_000;

/**
 * Result column types the Data API has no Field for: `void` (what `pg_advisory_xact_lock`
 * returns; "It contained an unsupported data type", UnsupportedResultException [model]) and
 * the single-byte `"char"` (the internal type of `pg_class.relkind` and the like), which
 * [differences] leaves out of the types it supports.
 */
export const UNSUPPORTED_TYPES: ReadonlySet<string> = new Set(["void", "char"]);

export interface RuleViolation {
  name: string;
  message: string;
}

/**
 * "Multistatements aren't supported" for Aurora Serverless v2 and provisioned clusters
 * [differences]: a `;` followed by more SQL, outside strings and comments, is refused
 * (ValidationException; AWS checks it before running anything). A trailing `;` is one
 * statement.
 */
export function multiStatementViolation(sql: string): RuleViolation | undefined {
  const code = segmentSql(sql)
    .map((segment) => (segment.code ? segment.text : " "))
    .join("");
  const end = code.indexOf(";");
  if (end === -1 || code.slice(end + 1).replace(/[\s;]/g, "") === "") return undefined;
  return { name: "ValidationException", message: "Multistatements aren't supported." };
}

/**
 * The row and response limits, counted over the values as PostgreSQL sends them (text
 * format), which is what "returned by the database" counts [limits]. Both are
 * UnsupportedResultException: "There was a problem with the result because of ... The size
 * was too large" [model]; the messages are [troubleshooting]'s headings.
 */
export function sizeViolation(rows: readonly unknown[][]): RuleViolation | undefined {
  let total = 0;
  for (const [index, row] of rows.entries()) {
    let bytes = 0;
    for (const value of row) if (typeof value === "string") bytes += Buffer.byteLength(value);
    if (bytes > ROW_LIMIT_BYTES) {
      return {
        name: "UnsupportedResultException",
        message: `Packet for query is too large: row ${index + 1} is ${bytes} bytes, over the Data API's 64 KB row limit`,
      };
    }
    total += bytes;
  }
  if (total <= RESPONSE_LIMIT_BYTES) return undefined;
  return {
    name: "UnsupportedResultException",
    message: `Database response exceeded size limit: ${total} bytes, over the Data API's response size limit of 1 MiB`,
  };
}

interface WireField {
  isNull?: boolean;
  booleanValue?: boolean;
  longValue?: number;
  doubleValue?: number;
  stringValue?: string;
  blobValue?: string;
  arrayValue?: unknown;
}

export interface PgType {
  name: string;
  /** For arrays: the element type's OID. */
  element: number;
}

/** node-postgres' text[] parser splits any array literal into (nested) string elements. */
const TEXT_ARRAY_OID = 1009;
const parseTextArray = (
  pg.types.getTypeParser as (oid: number, format: "text") => (value: string) => unknown
)(TEXT_ARRAY_OID, "text");

/** Thrown by the encoders for a result AWS refuses; the endpoint answers with it. */
export class UnsupportedResult extends Error {}

/**
 * One value as a Field (API reference, Field): int2/4/8 → longValue, float → doubleValue,
 * bool → booleanValue, bytea → blobValue, arrays → arrayValue, everything else (numeric,
 * uuid, json/jsonb, text, dates) → stringValue; timestamps in UTC without offset.
 */
export function encodeField(value: unknown, type: PgType, elementType?: PgType): WireField {
  if (value === null || value === undefined) return { isNull: true };
  const text = value as string;
  if (type.element !== 0) {
    return {
      arrayValue: encodeArray(parseTextArray(text) as unknown[], elementType?.name ?? "text"),
    };
  }
  return encodeScalar(text, type.name);
}

/**
 * A one-dimensional array; NULL elements come back as nulls in the list (AWS returns them).
 * A multidimensional one is refused: UnsupportedResultException, "It contained a
 * multidimensional array" [model].
 */
function encodeArray(list: unknown[], elementType: string): Record<string, unknown> {
  if (list.some(Array.isArray)) {
    throw new UnsupportedResult(
      "The result contains a multidimensional array, which is not supported.",
    );
  }
  const fields = list.map((item) =>
    item === null ? undefined : encodeScalar(item as string, elementType),
  );
  if (["int2", "int4", "int8", "oid"].includes(elementType)) {
    return { longValues: fields.map((f) => f?.longValue ?? null) };
  }
  if (["float4", "float8"].includes(elementType)) {
    return { doubleValues: fields.map((f) => f?.doubleValue ?? null) };
  }
  if (elementType === "bool") return { booleanValues: fields.map((f) => f?.booleanValue ?? null) };
  return { stringValues: fields.map((f) => f?.stringValue ?? null) };
}

function encodeScalar(text: string, typeName: string): WireField {
  switch (typeName) {
    case "bool":
      return { booleanValue: text === "t" };
    case "int2":
    case "int4":
    case "int8":
    case "oid":
      return { longValue: Number(text) };
    case "float4":
    case "float8":
      return { doubleValue: Number(text) };
    case "bytea":
      return { blobValue: Buffer.from(text.replace(/^\\x/, ""), "hex").toString("base64") };
    case "timestamptz":
      // The session is UTC, so the offset PostgreSQL prints is +00: drop it, as AWS does.
      return { stringValue: text.replace(/[+-]\d{2}(:\d{2})?$/, "") };
    default:
      return { stringValue: text };
  }
}
