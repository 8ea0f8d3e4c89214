import pg from "pg";
import { DatabaseUnavailableError } from "../errors";
import { compileNamedSql } from "./namedParams";
import {
  parameterValue,
  type QueryOptions,
  type Row,
  type SqlParams,
  type SqlPort,
  type SqlValue,
} from "./port";
import { UNAVAILABLE_SQL_STATES } from "./sqlStates";
import { parseTimestamptz } from "./timestamptz";

/**
 * The node-postgres adapter: used by the local runtime, `npm run migrate` and the tests.
 * Decodes to the port's types (see port.ts): int8 and numeric as numbers, timestamps as
 * Date, json as objects. The type parsers are set on this pool only, not globally.
 */

const INT8_OID = 20;
const NUMERIC_OID = 1700;
const INT8_ARRAY_OID = 1016;
const TIMESTAMPTZ_OID = 1184;
const NUMERIC_ARRAY_OID = 1231;

/** pg asks for a parser per column of every result: made once, pg's own as the fallback. */
const pgTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ_OID, "text") as (value: string) => unknown;
const timestamptz = (value: string) => parseTimestamptz(value, pgTimestamptz);

const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    if (oid === TIMESTAMPTZ_OID && format !== "binary") return timestamptz;
    if (oid === INT8_ARRAY_OID || oid === NUMERIC_ARRAY_OID) {
      // pg parses these arrays to strings; the Data API adapter returns numbers.
      const parseArray = pg.types.getTypeParser(
        oid as Parameters<typeof pg.types.getTypeParser>[0],
        "text",
      ) as (value: string) => unknown;
      const toNumbers = (value: unknown): unknown =>
        Array.isArray(value) ? value.map(toNumbers) : value === null ? null : Number(value);
      return (value: string) => toNumbers(parseArray(value));
    }
    // biome-ignore lint/suspicious/noExplicitAny: pg's overloads do not accept a union format
    return pg.types.getTypeParser(oid, format as any);
  },
};

export interface PgSqlPortOptions {
  connectionString: string;
  /** Pool size; the executor needs MAX_CONCURRENCY-independent few connections. */
  max?: number;
  /** Per-statement timeout on the server, in ms (0: none). */
  statementTimeoutMs?: number;
  /** How long to wait for a connection before failing, in ms. */
  connectionTimeoutMs?: number;
  /** Called with errors of idle pooled connections (server restart, killed backend). */
  onIdleError?: (error: Error) => void;
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND"]);

export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  if (code && (UNAVAILABLE_SQL_STATES.has(code) || NETWORK_CODES.has(code))) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(
    error.message,
  );
}

export function createPgSqlPort(options: PgSqlPortOptions): SqlPort {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    statement_timeout: options.statementTimeoutMs || undefined,
    // A prepared statement (QueryOptions.prepareAs) is planned for each call's values, as an
    // unnamed one is: after 5 calls PostgreSQL may switch to one generic plan, blind to
    // values such as a sync's claim limit of 0, which lets it skip the claim's every CTE.
    options: "-c plan_cache_mode=force_custom_plan",
    types,
  });
  // Without a listener an idle connection's error (server restarted) crashes the process.
  pool.on("error", (error) => options.onIdleError?.(error));

  const run = async <T extends Row>(
    client: pg.Pool | pg.PoolClient,
    sql: string,
    params?: SqlParams,
    queryOptions?: QueryOptions,
  ) => {
    const { text, values } = bind(sql, params);
    try {
      const result = await client.query({ name: queryOptions?.prepareAs, text, values });
      return result.rows as T[];
    } catch (error) {
      throw translate(error);
    }
  };

  const port: SqlPort = {
    query: (sql, params, queryOptions) => run(pool, sql, params, queryOptions),
    async transaction(fn) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw translate(error);
      }
      const tx: SqlPort = {
        query: (sql, params, queryOptions) => run(client, sql, params, queryOptions),
        transaction: (inner) => inner(tx),
        close: async () => {},
      };
      let broken = false;
      try {
        await client.query("BEGIN");
        const value = await fn(tx);
        await client.query("COMMIT");
        return value;
      } catch (error) {
        broken = isConnectionError(error) || error instanceof DatabaseUnavailableError;
        if (!broken) await client.query("ROLLBACK").catch(() => {});
        throw translate(error);
      } finally {
        // A connection that failed mid-transaction is discarded, not returned to the pool.
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
  return port;
}

function bind(sql: string, params: SqlParams | undefined): { text: string; values: unknown[] } {
  const { text, names } = compileNamedSql(sql);
  const values = names.map((name) => toPg(parameterValue(name, params)));
  return { text, values };
}

function toPg(value: SqlValue): unknown {
  if (value === null || value instanceof Date) return value;
  if (typeof value === "object") {
    return value.kind === "json" ? JSON.stringify(value.value) : value.value;
  }
  return value;
}

function translate(error: unknown): unknown {
  if (error instanceof DatabaseUnavailableError) return error;
  if (isConnectionError(error)) {
    return new DatabaseUnavailableError(`database unavailable: ${(error as Error).message}`, error);
  }
  return error;
}
