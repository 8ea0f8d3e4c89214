import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { RDSDataClient } from "@aws-sdk/client-rds-data";
import pg from "pg";
import { isConnectionError } from "../../functions/core/sql/pgAdapter";
import { bind, DataApiError, statusOf, type WireParameter } from "./dataApiParameters";
import {
  encodeField,
  multiStatementViolation,
  type PgType,
  STATEMENT_TIMEOUT_MS,
  sizeViolation,
  TRANSACTION_IDLE_MS,
  TRANSACTION_MAX_MS,
  UNSUPPORTED_TYPES,
  UnsupportedResult,
} from "./dataApiRules";

/**
 * A small RDS Data API-compatible HTTP endpoint for tests, executing on a real PostgreSQL.
 * The real `@aws-sdk/client-rds-data` client talks to it (REST-JSON, `POST /Execute`,
 * `/BeginTransaction`, `/CommitTransaction`, `/RollbackTransaction`), so the Data API adapter
 * is exercised end to end: serialisation, typed parameters, result encoding, errors.
 *
 * How it mirrors AWS (API reference: ExecuteStatement, SqlParameter, Field, ColumnMetadata):
 * - `:name` parameters typed as the Data API types them (./dataApiParameters.ts), so a
 *   timestamp sent without its hint fails here as it fails in AWS.
 * - Results as `records` of Field unions (see ./dataApiRules.ts); `columnMetadata` (name,
 *   label, typeName as PostgreSQL names it: `int8`, `timestamptz`, `_text`) only with
 *   `includeResultMetadata`; `numberOfRecordsUpdated` for DML.
 * - The service's limits, each rule in ./dataApiRules.ts with its AWS source: a row over
 *   64 KB or a response over 1 MiB (counted as the database sends the values), a result type
 *   it cannot encode (`void`, `"char"`) or a multidimensional array is refused with
 *   UnsupportedResultException, after the statement ran (and, outside a transaction,
 *   committed); several statements in one call are refused before anything runs; a
 *   statement still running after `statementTimeoutMs` (45 s) is cancelled, or left running
 *   with `continueAfterTimeout`, and answered with StatementTimeoutException either way.
 * - Errors the AWS JSON way: status, `x-amzn-errortype` header, `{"message"}` body. SQL
 *   errors are DatabaseErrorException (BadRequestException is deprecated for them in the
 *   SDK model) ending `; SQLState: XXXXX`.
 * - Each transaction holds its own PostgreSQL connection until commit or rollback. It ends
 *   (rolled back) after `transactionIdleMs` (3 min) without a call, after
 *   `transactionMaxMs` (24 h), or when one of its statements fails; a call naming it then
 *   gets TransactionNotFoundException, "Transaction <id> is not found" with the cause
 *   appended (Aurora User Guide, data-api.troubleshooting.html). Tests can inject any error
 *   with `failNext`.
 */

export type DataApiOperation =
  | "Execute"
  | "BeginTransaction"
  | "CommitTransaction"
  | "RollbackTransaction";

export interface InjectedFailure {
  /** Which calls fail; all operations when absent. */
  operation?: DataApiOperation;
  /** The AWS error name, e.g. `DatabaseResumingException`. */
  name: string;
  message?: string;
  /** HTTP status; derived from the name when absent. */
  status?: number;
  /** How many matching calls fail (default 1). */
  times?: number;
  /**
   * Run the statement first, then answer with the error: a call that "failed" although it
   * committed, as a client-side timeout looks.
   */
  afterRunning?: boolean;
}

export interface RecordedCall {
  operation: string;
  sql?: string;
  transactionId?: string;
  /** The HTTP status this endpoint answered with. */
  status: number;
  error?: string;
}

export interface DataApiServer {
  /** `http://127.0.0.1:PORT`: the client's `endpoint`. */
  endpoint: string;
  resourceArn: string;
  secretArn: string;
  database: string;
  /** Every call answered so far, in order. */
  calls: RecordedCall[];
  /** Makes the next matching call(s) fail with an AWS error. */
  failNext(failure: InjectedFailure): void;
  /** Forgets failures injected but not yet used. */
  clearFailures(): void;
  /** A real SDK client pointed here (dummy credentials, any region). */
  createClient(): RDSDataClient;
  /** Open transactions (each holds a connection). */
  openTransactions(): number;
  close(): Promise<void>;
}

export interface DataApiServerOptions {
  /** The PostgreSQL the statements run on. */
  databaseUrl: string;
  /** Connections for statements outside transactions. */
  poolSize?: number;
  /** A statement's time limit (AWS: 45 s); tests use a short one. */
  statementTimeoutMs?: number;
  /** A transaction ends after this long without a call (AWS: 3 minutes). */
  transactionIdleMs?: number;
  /** A transaction ends this long after it began (AWS: 24 hours). */
  transactionMaxMs?: number;
}

/** Raw text for every column: this endpoint encodes values itself, from the type OIDs. */
const rawTypes = { getTypeParser: () => (value: string) => value };
interface OpenTransaction {
  client: pg.PoolClient;
  beganAt: number;
  lastCallAt: number;
  /** Calls running on it now: a long statement is a call in use, never idle. */
  busy: number;
}

export async function startDataApiServer(options: DataApiServerOptions): Promise<DataApiServer> {
  // Data API sessions run in UTC; timestamps go in and come out in UTC.
  const connection = { connectionString: options.databaseUrl, options: "-c TimeZone=UTC" };
  const pool = new pg.Pool({ ...connection, max: options.poolSize ?? 20 });
  pool.on("error", () => {});
  const transactions = new Map<string, OpenTransaction>();
  const statementTimeoutMs = options.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS;
  const transactionIdleMs = options.transactionIdleMs ?? TRANSACTION_IDLE_MS;
  const transactionMaxMs = options.transactionMaxMs ?? TRANSACTION_MAX_MS;
  // Expired transactions give their connection back even if nobody calls again.
  const sweeper = setInterval(
    () => {
      for (const id of transactions.keys()) expiry(id);
    },
    Math.min(1_000, transactionIdleMs / 2),
  );
  sweeper.unref();
  const failures: Array<Required<Pick<InjectedFailure, "times">> & InjectedFailure> = [];
  const calls: RecordedCall[] = [];
  const typeCache = new Map<number, PgType>();
  const database = new URL(options.databaseUrl).pathname.slice(1) || "postgres";

  async function typesOf(oids: number[]): Promise<void> {
    const missing = [...new Set(oids)].filter((oid) => !typeCache.has(oid));
    if (missing.length === 0) return;
    const result = await pool.query<{ oid: string; typname: string; typelem: string }>({
      text: `SELECT oid::int8 AS oid, typname,
                    CASE WHEN typcategory = 'A' THEN typelem::int8 ELSE 0 END AS typelem
               FROM pg_type WHERE oid = ANY($1::oid[])`,
      values: [missing],
      types: rawTypes,
    });
    for (const row of result.rows) {
      typeCache.set(Number(row.oid), { name: row.typname, element: Number(row.typelem) });
    }
    // Arrays are encoded by their element type: know it too.
    await typesOf(result.rows.map((row) => Number(row.typelem)).filter((oid) => oid !== 0));
  }

  async function execute(body: Record<string, unknown>) {
    const sql = requireString(body, "sql");
    requireString(body, "resourceArn");
    requireString(body, "secretArn");
    if (body.formatRecordsAs === "JSON") {
      throw new DataApiError("BadRequestException", "formatRecordsAs JSON is not supported here");
    }
    const multi = multiStatementViolation(sql);
    if (multi) throw new DataApiError(multi.name, multi.message);
    const { text, values } = bind(sql, (body.parameters as WireParameter[] | undefined) ?? []);
    const transactionId = body.transactionId as string | undefined;
    const transaction = transactionId ? transactionOf(transactionId) : undefined;
    const client: pg.PoolClient = transaction
      ? transaction.client
      : await pool.connect().catch((error: unknown) => {
          throw sqlError(error);
        });
    const query = { text, values, rowMode: "array" as const, types: rawTypes };
    let result: pg.QueryResult<unknown[]>;
    if (transaction) transaction.busy += 1;
    try {
      result = await runTimed(client, query, body.continueAfterTimeout === true, !transaction);
    } catch (error) {
      // "Transaction has been aborted due to an error from a previous call": the Data API
      // ends the transaction (Aurora User Guide, data-api.troubleshooting.html).
      if (transactionId)
        await endTransaction(transactionId, "aborted due to an error from a previous call");
      throw sqlError(error);
    } finally {
      if (transaction) {
        transaction.busy -= 1;
        transaction.lastCallAt = Date.now();
      }
    }
    // From here on the statement has run (and, outside a transaction, committed); a refusal
    // loses only its answer, as in AWS.
    const size = sizeViolation(result.rows);
    if (size) throw new DataApiError(size.name, size.message);
    await typesOf(result.fields.map((f) => f.dataTypeID));
    const types = result.fields.map((f) => typeCache.get(f.dataTypeID) as PgType);
    const unsupported = types.find((type) => UNSUPPORTED_TYPES.has(type.name));
    if (unsupported) {
      throw new DataApiError(
        "UnsupportedResultException",
        `The result contains the unsupported data type ${unsupported.name}.`,
      );
    }
    const response: Record<string, unknown> = {
      numberOfRecordsUpdated: ["INSERT", "UPDATE", "DELETE", "MERGE"].includes(result.command)
        ? (result.rowCount ?? 0)
        : 0,
    };
    if (result.fields.length > 0) {
      try {
        response.records = result.rows.map((row) =>
          row.map((value, i) => {
            const type = types[i] as PgType;
            return encodeField(value, type, typeCache.get(type.element));
          }),
        );
      } catch (error) {
        if (error instanceof UnsupportedResult) {
          throw new DataApiError("UnsupportedResultException", error.message);
        }
        throw error;
      }
      if (body.includeResultMetadata === true) {
        response.columnMetadata = result.fields.map((field, i) => ({
          name: field.name,
          label: field.name,
          typeName: types[i]?.name,
        }));
      }
    }
    return response;
  }

  /**
   * Runs a statement under the Data API's statement timeout: past it, the call answers
   * StatementTimeoutException, and the statement is cancelled, unless continueAfterTimeout
   * asked to let it finish (Aurora User Guide, data-api-timeouts.html). A pool connection
   * (`release`) goes back once the statement has ended.
   */
  async function runTimed(
    client: pg.PoolClient,
    query: pg.QueryArrayConfig,
    continueAfterTimeout: boolean,
    release: boolean,
  ): Promise<pg.QueryResult<unknown[]>> {
    const running = client.query<unknown[]>(query);
    const settled = running.then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    if (release) void settled.then(() => client.release());
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), statementTimeoutMs);
    });
    const outcome = await Promise.race([settled, timedOut]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      const connectionId = (client as unknown as { processID: number }).processID;
      if (!continueAfterTimeout) {
        await pool.query("SELECT pg_cancel_backend($1)", [connectionId]);
        await settled;
      }
      throw new DataApiError(
        "StatementTimeoutException",
        `The execution of the SQL statement timed out after ${statementTimeoutMs} ms${continueAfterTimeout ? "; it continues to run" : ""}`,
        statusOf("StatementTimeoutException"),
        { dbConnectionId: connectionId },
      );
    }
    if ("error" in outcome) throw outcome.error;
    return outcome.result;
  }

  /** Why a transaction the Data API ended, remembered for the "not found" answers after. */
  const ended = new Map<string, string>();

  function transactionOf(id: string): OpenTransaction {
    const reason = expiry(id);
    const transaction = transactions.get(id);
    if (!transaction || reason) {
      const cause = reason ?? ended.get(id) ?? "it was not begun by BeginTransaction, or has ended";
      throw new DataApiError(
        "TransactionNotFoundException",
        `Transaction ${id} is not found: ${cause}`,
      );
    }
    transaction.lastCallAt = Date.now();
    return transaction;
  }

  /** Ends a transaction past its idle or total time limit; its reason, or undefined. */
  function expiry(id: string): string | undefined {
    const transaction = transactions.get(id);
    if (!transaction || transaction.busy > 0) return undefined;
    const now = Date.now();
    const reason =
      now - transaction.beganAt > transactionMaxMs
        ? `Transaction may be expired (it ran longer than ${transactionMaxMs} ms)`
        : now - transaction.lastCallAt > transactionIdleMs
          ? `Transaction may be expired (no call used it for ${transactionIdleMs} ms)`
          : undefined;
    if (reason) void endTransaction(id, reason);
    return reason;
  }

  /** Rolls a transaction back and forgets it, remembering why. */
  async function endTransaction(id: string, reason: string): Promise<void> {
    const transaction = transactions.get(id);
    if (!transaction) return;
    transactions.delete(id);
    ended.set(id, reason);
    const broken = await transaction.client.query("ROLLBACK").then(
      () => false,
      () => true,
    );
    transaction.client.release(broken);
  }

  async function begin(body: Record<string, unknown>) {
    requireString(body, "resourceArn");
    requireString(body, "secretArn");
    const client = await pool.connect().catch((error) => {
      throw sqlError(error);
    });
    try {
      await client.query("BEGIN");
    } catch (error) {
      client.release(true);
      throw sqlError(error);
    }
    // AWS ids are long opaque strings; their exact form does not matter to clients.
    const transactionId = `${randomUUID()}${randomBytes(12).toString("base64url")}`;
    const now = Date.now();
    transactions.set(transactionId, { client, beganAt: now, lastCallAt: now, busy: 0 });
    return { transactionId };
  }

  async function end(body: Record<string, unknown>, commit: boolean) {
    const id = requireString(body, "transactionId");
    const { client } = transactionOf(id);
    transactions.delete(id);
    ended.set(
      id,
      commit
        ? "One previous call resulted in a termination of your transaction (committed)"
        : "One previous call resulted in a termination of your transaction (rolled back)",
    );
    let broken = false;
    try {
      const result = await client.query(commit ? "COMMIT" : "ROLLBACK");
      if (commit && result.command === "ROLLBACK") {
        // PostgreSQL answers COMMIT of a failed transaction with a silent rollback.
        throw new DataApiError(
          "DatabaseErrorException",
          "Transaction was rolled back: a statement in it failed",
        );
      }
    } catch (error) {
      broken = !(error instanceof DataApiError);
      throw sqlError(error);
    } finally {
      client.release(broken);
    }
    return { transactionStatus: commit ? "Transaction Committed" : "Rollback Complete" };
  }

  const routes: Record<string, (body: Record<string, unknown>) => Promise<unknown>> = {
    "/Execute": execute,
    "/BeginTransaction": begin,
    "/CommitTransaction": (body) => end(body, true),
    "/RollbackTransaction": (body) => end(body, false),
  };

  function takeFailure(operation: string) {
    const index = failures.findIndex((f) => !f.operation || f.operation === operation);
    if (index === -1) return undefined;
    const failure = failures[index] as (typeof failures)[number];
    failure.times -= 1;
    if (failure.times <= 0) failures.splice(index, 1);
    return failure;
  }

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const operation = (request.url ?? "").replace(/^\//, "").replace(/\?.*$/, "");
    const call: RecordedCall = { operation, status: 200 };
    calls.push(call);
    try {
      const route = request.method === "POST" ? routes[`/${operation}`] : undefined;
      if (!route) {
        throw new DataApiError(
          "BadRequestException",
          `${request.method} /${operation} is not supported here`,
        );
      }
      const body = JSON.parse((await readBody(request)) || "{}") as Record<string, unknown>;
      call.sql = typeof body.sql === "string" ? body.sql : undefined;
      call.transactionId = typeof body.transactionId === "string" ? body.transactionId : undefined;
      const failure = takeFailure(operation);
      if (failure && !failure.afterRunning) throw injected(failure);
      const result = await route(body);
      if (failure) throw injected(failure);
      send(response, 200, JSON.stringify(result), {});
    } catch (error) {
      const known =
        error instanceof DataApiError
          ? error
          : new DataApiError("InternalServerErrorException", (error as Error).message);
      call.status = known.status;
      call.error = known.name;
      send(response, known.status, JSON.stringify({ ...known.extra, message: known.message }), {
        "x-amzn-errortype": known.name,
      });
    }
  }

  const server = createServer((request, response) => {
    void handle(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const resourceArn = "arn:aws:rds:us-east-1:123456789012:cluster:test-cluster";
  const secretArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:test-secret";

  return {
    endpoint,
    resourceArn,
    secretArn,
    database,
    calls,
    failNext(failure) {
      failures.push({ ...failure, times: failure.times ?? 1 });
    },
    clearFailures() {
      failures.length = 0;
    },
    createClient: () =>
      new RDSDataClient({
        endpoint,
        region: "us-east-1",
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
      }),
    openTransactions: () => transactions.size,
    async close() {
      clearInterval(sweeper);
      for (const id of [...transactions.keys()]) await endTransaction(id, "the endpoint closed");
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}

function injected(failure: InjectedFailure): DataApiError {
  return new DataApiError(
    failure.name,
    failure.message ?? `${failure.name} (injected by the test)`,
    failure.status ?? statusOf(failure.name),
  );
}

/** A PostgreSQL error as the Data API reports it. */
function sqlError(error: unknown): DataApiError {
  if (error instanceof DataApiError) return error;
  if (isConnectionError(error)) {
    return new DataApiError("DatabaseUnavailableException", (error as Error).message);
  }
  const { message, code, detail } = error as pg.DatabaseError;
  if (!code) return new DataApiError("InternalServerErrorException", String(message));
  const details = detail ? `\n  Detail: ${detail}` : "";
  return new DataApiError(
    "DatabaseErrorException",
    `ERROR: ${message}${details}; SQLState: ${code}`,
  );
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== "string" || value === "") {
    throw new DataApiError("BadRequestException", `${field} is required`);
  }
  return value;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function send(
  response: ServerResponse,
  status: number,
  payload: string,
  headers: Record<string, string>,
) {
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(payload),
    "x-amzn-requestid": randomUUID(),
    ...headers,
  });
  response.end(payload);
}
