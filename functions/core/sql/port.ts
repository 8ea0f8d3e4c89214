import { ValidationError } from "../errors";

/**
 * The SQL port: the only way `functions/core` talks to PostgreSQL.
 *
 * SQL is written once with `:name` placeholders and runs unchanged through both adapters
 * (node-postgres locally and in tests, the RDS Data API in AWS). Both adapters return the
 * same JavaScript types:
 *   - timestamp / timestamptz / date → `Date`
 *   - json / jsonb                   → parsed value (object, array, ...)
 *   - int2 / int4 / int8 / numeric / float → `number` (counts and percentiles fit in 2^53)
 *   - uuid / text                    → `string`
 *   - bool                           → `boolean`
 *   - NULL                           → `null`
 * Column names come back exactly as the statement names them (write `AS "camelCase"`
 * where a camelCase key is wanted).
 */

/** A value wrapped so the Data API adapter can send the right type hint. */
export interface JsonParam {
  readonly kind: "json";
  readonly value: unknown;
}
export interface UuidParam {
  readonly kind: "uuid";
  readonly value: string;
}

/**
 * A statement parameter. `Date` is sent as a TIMESTAMP (UTC), integers as longs, other
 * numbers as doubles. Arrays are not supported by the Data API: send them with `json()` and
 * unpack in SQL (`jsonb_array_elements_text(:ids)`), which works the same through both.
 */
export type SqlValue = string | number | boolean | null | Date | JsonParam | UuidParam;
export type SqlParams = Readonly<Record<string, SqlValue | undefined>>;

export const json = (value: unknown): JsonParam => ({ kind: "json", value });
export const uuid = (value: string): UuidParam => ({ kind: "uuid", value });

export type Row = Record<string, unknown>;

export interface QueryOptions {
  /**
   * A name for a statement run over and over with the same text (the executor's sync: 15 KB
   * of SQL, parsed in about 2 ms): an adapter that can keep it parsed per connection does
   * (pg: a named prepared statement), and plans it for each call's values as before; the
   * Data API parses every call. One name, one text.
   */
  prepareAs?: string;
}

export interface SqlPort {
  /** Runs one statement and returns its rows (empty for statements without RETURNING). */
  query<T extends Row = Row>(sql: string, params?: SqlParams, options?: QueryOptions): Promise<T[]>;
  /**
   * Runs `fn` inside one transaction: committed when it resolves, rolled back when it
   * throws. Nested calls on the transaction's port reuse the same transaction.
   */
  transaction<T>(fn: (tx: SqlPort) => Promise<T>): Promise<T>;
  /** Releases connections; the port is unusable afterwards. */
  close(): Promise<void>;
}

/**
 * The value bound to `:name`, checked the same way for both adapters: a missing value, an
 * invalid Date, NaN or Infinity, or a json() of nothing is a ValidationError naming the
 * parameter, never a value one adapter sends and the other refuses.
 */
export function parameterValue(name: string, params: SqlParams | undefined): SqlValue {
  const value = params?.[name];
  const problem =
    value === undefined
      ? "has no value"
      : value instanceof Date && Number.isNaN(value.getTime())
        ? "is an invalid Date"
        : typeof value === "number" && !Number.isFinite(value)
          ? `must be a finite number (got ${value})`
          : typeof value === "object" &&
              value !== null &&
              !(value instanceof Date) &&
              value.kind === "json" &&
              ["undefined", "function", "symbol"].includes(typeof value.value)
            ? "is not JSON-serialisable"
            : undefined;
  if (problem) throw new ValidationError(`SQL parameter :${name} ${problem}`);
  return value as SqlValue;
}
