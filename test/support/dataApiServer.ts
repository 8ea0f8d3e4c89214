import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { RDSDataClient } from "@aws-sdk/client-rds-data";
import pg from "pg";
import { segmentSql } from "../../functions/core/sql/lexer";
import { compileNamedSql } from "../../functions/core/sql/namedParams";
import { isConnectionError } from "../../functions/core/sql/pgAdapter";

/**
 * A small RDS Data API-compatible HTTP endpoint for tests, executing on a real PostgreSQL.
 * The real `@aws-sdk/client-rds-data` client talks to it (REST-JSON, `POST /Execute`,
 * `/BeginTransaction`, `/CommitTransaction`, `/RollbackTransaction`), so the Data API adapter
 * is exercised end to end: serialisation, typed parameters, result encoding, errors.
 *
 * How it mirrors AWS (API reference: ExecuteStatement, SqlParameter, Field, ColumnMetadata):
 * - `:name` parameters; a `stringValue` without hint binds as varchar, `longValue` as int8,
 *   `doubleValue` as float8, `booleanValue` as bool; a hinted string (TIMESTAMP, DATE, TIME,
 *   UUID, JSON, DECIMAL) must have the hint's shape and is then typed by PostgreSQL from
 *   context. So a timestamp sent without its hint fails here as it fails in AWS.
 * - Results as `records` of Field unions: int2/4/8 → longValue, float → doubleValue, bool →
 *   booleanValue, bytea → blobValue, arrays → arrayValue, everything else (numeric, uuid,
 *   json/jsonb, text, dates) → stringValue; timestamps in UTC as `YYYY-MM-DD HH:MM:SS[.ffffff]`.
 *   `columnMetadata` (name, label, typeName as PostgreSQL names it: `int8`, `timestamptz`,
 *   `_text`) only with `includeResultMetadata`; `numberOfRecordsUpdated` for DML.
 * - A result column of a type the Data API cannot encode (`void`, what
 *   `pg_advisory_xact_lock` returns) is refused with UnsupportedResultException, as AWS
 *   refuses it ("It contained an unsupported data type": UnsupportedResultException in the
 *   @aws-sdk/client-rds-data model; "Unsupported result exception" in the Aurora User Guide's
 *   Data API troubleshooting page, docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/
 *   data-api.troubleshooting.html). The statement has run by then.
 * - A result over 1 MiB is refused, as AWS refuses it. AWS counts the data the database
 *   returned, not the JSON it answers with (where escaping can double a string), so this
 *   counts the values' bytes as PostgreSQL sends them.
 * - Errors the AWS JSON way: status, `x-amzn-errortype` header, `{"message"}` body. SQL
 *   errors are BadRequestException ending `; SQLState: XXXXX`; an unknown transaction id is
 *   NotFoundException. Tests can inject any error with `failNext`.
 * - Each transaction holds its own PostgreSQL connection until commit or rollback.
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
}

class DataApiError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly status = statusOf(name),
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
const statusOf = (name: string) => STATUS[name] ?? 400;

/** Result column types the Data API has no Field for (see the file comment). */
const UNSUPPORTED_TYPES = new Set(["void"]);

/** The Data API's documented limit on the data a statement returns. */
const MAX_RESULT_BYTES = 1024 * 1024;

const HINT_SHAPES: Record<string, RegExp> = {
  TIMESTAMP: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/,
  DATE: /^\d{4}-\d{2}-\d{2}$/,
  TIME: /^\d{2}:\d{2}:\d{2}(\.\d{1,9})?$/,
  UUID: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  DECIMAL: /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/,
};

interface WireField {
  isNull?: boolean;
  booleanValue?: boolean;
  longValue?: number;
  doubleValue?: number;
  stringValue?: string;
  blobValue?: string;
  arrayValue?: unknown;
}
interface WireParameter {
  name?: string;
  value?: WireField;
  typeHint?: string;
}

interface PgType {
  name: string;
  /** For arrays: the element type's OID. */
  element: number;
}

/** Raw text for every column: this endpoint encodes values itself, from the type OIDs. */
const rawTypes = { getTypeParser: () => (value: string) => value };
/** node-postgres' text[] parser splits any array literal into (nested) string elements. */
const TEXT_ARRAY_OID = 1009;
const parseTextArray = (
  pg.types.getTypeParser as (oid: number, format: "text") => (value: string) => unknown
)(TEXT_ARRAY_OID, "text");

export async function startDataApiServer(options: DataApiServerOptions): Promise<DataApiServer> {
  // Data API sessions run in UTC; timestamps go in and come out in UTC.
  const connection = { connectionString: options.databaseUrl, options: "-c TimeZone=UTC" };
  const pool = new pg.Pool({ ...connection, max: options.poolSize ?? 20 });
  pool.on("error", () => {});
  const transactions = new Map<string, pg.PoolClient>();
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
    const { text, values } = bind(sql, (body.parameters as WireParameter[] | undefined) ?? []);
    const transactionId = body.transactionId as string | undefined;
    const client = transactionId ? transactionOf(transactionId) : pool;
    let result: pg.QueryResult<unknown[]>;
    try {
      result = await client.query<unknown[]>({ text, values, rowMode: "array", types: rawTypes });
    } catch (error) {
      throw sqlError(error);
    }
    if (resultBytes(result.rows) > MAX_RESULT_BYTES) {
      // The statement ran (and, outside a transaction, committed); only its answer is lost.
      throw new DataApiError(
        "BadRequestException",
        "Database returned more than the allowed response size limit",
      );
    }
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
      response.records = result.rows.map((row) =>
        row.map((value, i) => encodeField(value, types[i] as PgType)),
      );
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

  function encodeField(value: unknown, type: PgType): WireField {
    if (value === null || value === undefined) return { isNull: true };
    const text = value as string;
    if (type.element !== 0) {
      const element = typeCache.get(type.element);
      return { arrayValue: encodeArray(parseTextArray(text), element?.name ?? "text") };
    }
    return encodeScalar(text, type.name);
  }

  function encodeArray(items: unknown, elementType: string): Record<string, unknown> {
    const list = items as unknown[];
    if (list.some((item) => item === null)) {
      throw new DataApiError(
        "UnsupportedResultException",
        "arrays with NULL elements are not supported",
      );
    }
    if (list.some(Array.isArray)) {
      return { arrayValues: list.map((inner) => encodeArray(inner, elementType)) };
    }
    const fields = list.map((item) => encodeScalar(item as string, elementType));
    if (["int2", "int4", "int8", "oid"].includes(elementType)) {
      return { longValues: fields.map((f) => f.longValue) };
    }
    if (["float4", "float8"].includes(elementType)) {
      return { doubleValues: fields.map((f) => f.doubleValue) };
    }
    if (elementType === "bool") return { booleanValues: fields.map((f) => f.booleanValue) };
    return { stringValues: fields.map((f) => f.stringValue) };
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

  function bind(sql: string, parameters: WireParameter[]): { text: string; values: unknown[] } {
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

  function transactionOf(id: string): pg.PoolClient {
    const client = transactions.get(id);
    if (!client) throw new DataApiError("NotFoundException", `Transaction ${id} is not found`);
    return client;
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
    transactions.set(transactionId, client);
    return { transactionId };
  }

  async function end(body: Record<string, unknown>, commit: boolean) {
    const id = requireString(body, "transactionId");
    const client = transactionOf(id);
    transactions.delete(id);
    let broken = false;
    try {
      const result = await client.query(commit ? "COMMIT" : "ROLLBACK");
      if (commit && result.command === "ROLLBACK") {
        // PostgreSQL answers COMMIT of a failed transaction with a silent rollback.
        throw new DataApiError(
          "BadRequestException",
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
      send(response, known.status, JSON.stringify({ message: known.message }), {
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
      for (const [id, client] of transactions) {
        transactions.delete(id);
        await client.query("ROLLBACK").catch(() => {});
        client.release();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}

/** The size of a result's values in PostgreSQL's text format. */
function resultBytes(rows: unknown[][]): number {
  let bytes = 0;
  for (const row of rows) {
    for (const value of row) if (typeof value === "string") bytes += Buffer.byteLength(value);
  }
  return bytes;
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
  return new DataApiError("BadRequestException", `ERROR: ${message}${details}; SQLState: ${code}`);
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== "string" || value === "") {
    throw new DataApiError("BadRequestException", `${field} is required`);
  }
  return value;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
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
