import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  type RDSDataClient,
  RollbackTransactionCommand,
} from "@aws-sdk/client-rds-data";
import { backoffDelay } from "../backoff";
import { DatabaseUnavailableError } from "../errors";
import { type Logger, silentLogger } from "../telemetry/ports";
import { decodeRecords, encodeParameters } from "./dataApiValues";
import { compileNamedSql } from "./namedParams";
import type { Row, SqlParams, SqlPort } from "./port";
import { RETRY_LATER_SQL_STATES } from "./sqlStates";

/**
 * The RDS Data API adapter, used in AWS: each statement is one `ExecuteStatement` call with
 * typed parameters (see dataApiValues.ts), rows decoded from `records` + column metadata.
 * `formatRecordsAs: JSON` is not used: AWS documents it for SELECT only, and the claim is an
 * `UPDATE … RETURNING`.
 *
 * Errors:
 * - `DatabaseResumingException` (Aurora Serverless v2 waking from 0 ACU, ~15 s) is a 400 the
 *   SDK does not retry. Every call retries it with exponential backoff and jitter until
 *   `resume.maxWaitMs` (30 s) has passed, then fails with DatabaseUnavailableError.
 *   Retrying is safe: a resuming database ran nothing.
 * - Server faults (500/503/504) and throttling the SDK already retries; a retry loop here
 *   would multiply its attempts. A SQL error comes as DatabaseErrorException ("There was an
 *   error in processing the SQL statement"; BadRequestException, which older endpoints
 *   send, is deprecated for it in the @aws-sdk/client-rds-data model and handled the same):
 *   its SQLSTATE (`...; SQLState: 23505` in the message) is copied to the error's `code`,
 *   where node-postgres puts it, so callers can test it the same way.
 * - A statement still running after 45 s is cancelled (`continueAfterTimeout: false`, sent
 *   explicitly: a caller told "failed" must not have work running on behind its back) and
 *   answered with StatementTimeoutException (Aurora User Guide, data-api-timeouts.html).
 * - A row over 64 KB or a response over 1 MiB is UnsupportedResultException ("The size was
 *   too large", SDK model): the statement ran, its answer is lost, and the same statement
 *   would hit it again, so it surfaces by name. The task store's byte budgets keep every
 *   statement under both (functions/core/tasks/byteBudgets.ts).
 * - A transaction the Data API ended (3 minutes without a call, 24 hours in all, or a failed
 *   statement in it) is TransactionNotFoundException on the next call; it surfaces too.
 * - Errors after which the same call may well succeed shortly become DatabaseUnavailableError
 *   (the API answers 503 with Retry-After; see RETRY_LATER_ERRORS and RETRY_LATER_SQL_STATES).
 *   Every other AWS error surfaces as it is, by name (the API answers 500): a SQL error that
 *   the same statement would hit again, a denied secret, a throttled call the SDK gave up on.
 * - A call can fail on the client (timeout, dropped connection) after the statement
 *   committed. For the task store that is safe by design: a claim that "failed" this way
 *   leaves rows `in_progress` under a lease nobody heartbeats, and the lease expiry hands
 *   them back (attempts permitting); every executor write is fenced by its lease, so a
 *   repeated complete/fail/heartbeat changes nothing.
 *
 * Transactions map to BeginTransaction / CommitTransaction / RollbackTransaction; statements
 * inside carry the transaction id. Calls without one autocommit.
 */

export interface ResumeOptions {
  /** How long to keep retrying a resuming database, in ms. */
  maxWaitMs?: number;
  /** First retry delay, in ms; doubles every attempt. */
  baseDelayMs?: number;
  /** Largest single delay, in ms. */
  maxDelayMs?: number;
}

export interface DataApiSqlPortOptions {
  /** The SDK client, created once per container by the caller. */
  client: RDSDataClient;
  /** The Aurora cluster's ARN. */
  resourceArn: string;
  /** The Secrets Manager secret holding the database credentials. */
  secretArn: string;
  database: string;
  resume?: ResumeOptions;
  /** Injected by tests to observe backoff without waiting. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** A number in [0, 1) for jitter. */
  random?: () => number;
  logger?: Logger;
}

const DEFAULT_RESUME: Required<ResumeOptions> = {
  // Resuming from 0 ACU takes about 15 s; twice that leaves room for a slow one.
  maxWaitMs: 30_000,
  baseDelayMs: 500,
  maxDelayMs: 5_000,
};

const RESUMING = "DatabaseResumingException";

/**
 * AWS errors that say "try again shortly" (meanings from the @aws-sdk/client-rds-data
 * model): the writer instance isn't available (DatabaseUnavailableException, a 504), the
 * service isn't (ServiceUnavailableError, a 503), both server faults the SDK has already
 * retried; and the statement timed out (StatementTimeoutException), which an overloaded
 * or resuming database causes and a calmer one does not.
 */
const RETRY_LATER_ERRORS = new Set([
  "DatabaseUnavailableException",
  "ServiceUnavailableError",
  "StatementTimeoutException",
]);

export function createDataApiSqlPort(options: DataApiSqlPortOptions): SqlPort {
  const { client, resourceArn, secretArn, database } = options;
  const resume = { ...DEFAULT_RESUME, ...options.resume };
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const logger = options.logger ?? silentLogger;
  let closed = false;

  /** Sends one command, retrying only while the database resumes. */
  async function send<T>(operation: string, call: () => Promise<T>): Promise<T> {
    if (closed) throw new Error("the Data API SQL port is closed");
    const started = now();
    let slept = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if ((error as Error | undefined)?.name !== RESUMING) throw translate(error);
        // Slept time counts as well as clock time, so an injected sleep ends the loop too.
        const waited = Math.max(now() - started, slept);
        const remaining = resume.maxWaitMs - waited;
        if (remaining <= 0) {
          throw new DatabaseUnavailableError(
            `database still resuming after ${Math.round(waited / 1000)} s (${attempt + 1} attempts of ${operation})`,
            error,
          );
        }
        // Equal jitter: delays grow while concurrent callers (executor + API) spread out.
        const policy = {
          baseMs: resume.baseDelayMs,
          maxMs: resume.maxDelayMs,
          jitter: "equal",
        } as const;
        const delay = Math.min(remaining, backoffDelay(policy, attempt + 1, random));
        logger.warn("database resuming, retrying", { operation, attempt: attempt + 1, delay });
        await sleep(delay);
        slept += delay;
      }
    }
  }

  const execute = async <T extends Row>(
    sql: string,
    params: SqlParams | undefined,
    transactionId: string | undefined,
  ): Promise<T[]> => {
    const parameters = encodeParameters(compileNamedSql(sql).names, params);
    const output = await send("ExecuteStatement", () =>
      client.send(
        new ExecuteStatementCommand({
          resourceArn,
          secretArn,
          database,
          sql,
          parameters,
          transactionId,
          includeResultMetadata: true,
          continueAfterTimeout: false,
        }),
      ),
    );
    return decodeRecords(output.records, output.columnMetadata) as T[];
  };

  const port: SqlPort = {
    query: (sql, params) => execute(sql, params, undefined),
    async transaction(fn) {
      const { transactionId } = await send("BeginTransaction", () =>
        client.send(new BeginTransactionCommand({ resourceArn, secretArn, database })),
      );
      if (!transactionId) throw new Error("BeginTransaction returned no transaction id");
      const tx: SqlPort = {
        query: (sql, params) => execute(sql, params, transactionId),
        transaction: (inner) => inner(tx),
        close: async () => {},
      };
      let value: Awaited<ReturnType<typeof fn>>;
      try {
        value = await fn(tx);
      } catch (error) {
        await send("RollbackTransaction", () =>
          client.send(new RollbackTransactionCommand({ resourceArn, secretArn, transactionId })),
        ).catch((rollbackError: unknown) => {
          // The Data API drops a transaction idle for 3 minutes; the original error matters.
          logger.warn("rollback failed", {
            transactionId,
            error: (rollbackError as Error)?.name ?? String(rollbackError),
          });
        });
        throw error;
      }
      await send("CommitTransaction", () =>
        client.send(new CommitTransactionCommand({ resourceArn, secretArn, transactionId })),
      );
      return value;
    },
    async close() {
      // The client belongs to whoever created it (one per container); only this port ends.
      closed = true;
    },
  };
  return port;
}

/** An AWS error as the port's callers see it (see the file comment). */
function translate(error: unknown): unknown {
  const named = withSqlState(error);
  if (!(named instanceof Error)) return named;
  const state = (named as { code?: unknown }).code;
  const retryLater =
    RETRY_LATER_ERRORS.has(named.name) ||
    (typeof state === "string" && RETRY_LATER_SQL_STATES.has(state));
  if (!retryLater) return named;
  return new DatabaseUnavailableError(
    `database unavailable (${named.name}${typeof state === "string" ? `, SQLState ${state}` : ""}): ${named.message}`,
    named,
  );
}

/** Copies `SQLState: XXXXX` from a Data API SQL error's message to `code`, like node-postgres. */
function withSqlState(error: unknown): unknown {
  if (error instanceof Error && !("code" in error)) {
    const state = /SQLState: ([0-9A-Z]{5})/.exec(error.message)?.[1];
    if (state) Object.assign(error, { code: state });
  }
  return error;
}
