import {
  BeginTransactionCommand,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  type RDSDataClient,
} from "@aws-sdk/client-rds-data";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDataApiSqlPort } from "../../../functions/core/sql/dataApiAdapter";
import type { SqlPort } from "../../../functions/core/sql/port";
import { type DataApiServer, startDataApiServer } from "../../support/dataApiServer";
import { useTestDatabase } from "../../support/database";

/**
 * The test endpoint refuses what the RDS Data API refuses, one test per rule, each naming
 * its AWS source (the rules and their sources are listed in test/support/dataApiRules.ts;
 * the 1 MiB response limit and the `void` type are tested in ./dataApi.test.ts). Each rule
 * is shown against node-postgres, which lets the same statement through, so a statement
 * that works locally but would fail in AWS fails here too. Time limits are configured short
 * (the defaults are AWS's 45 s, 3 min and 24 h) and every wait is longer than the limit it
 * tests, so a busy machine only makes them pass later, never fail.
 */
describe("the Data API endpoint's rules", () => {
  const db = useTestDatabase();
  let server: DataApiServer;
  let client: RDSDataClient;
  let dataApi: SqlPort;

  beforeAll(async () => {
    server = await startDataApiServer({
      databaseUrl: db.current.url,
      statementTimeoutMs: 300,
      transactionIdleMs: 200,
      transactionMaxMs: 1_500,
    });
    client = server.createClient();
    dataApi = createDataApiSqlPort({
      client,
      resourceArn: server.resourceArn,
      secretArn: server.secretArn,
      database: server.database,
    });
    await db.current.sql.query("CREATE TABLE notes (id int PRIMARY KEY, body text)");
  });
  afterAll(async () => {
    await dataApi?.close();
    client?.destroy();
    await server?.close();
  });
  beforeEach(async () => {
    await db.current.sql.query("TRUNCATE notes");
  });

  const execute = (sql: string, extra: Partial<ExecuteStatementCommandInput> = {}) =>
    client.send(
      new ExecuteStatementCommand({
        resourceArn: server.resourceArn,
        secretArn: server.secretArn,
        database: server.database,
        sql,
        ...extra,
      }),
    );
  const begin = async () =>
    (
      await client.send(
        new BeginTransactionCommand({
          resourceArn: server.resourceArn,
          secretArn: server.secretArn,
          database: server.database,
        }),
      )
    ).transactionId as string;
  const notes = () => db.current.sql.query("SELECT id FROM notes ORDER BY id");
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  // data-api.limitations.html: "The Data API size limit is 64 KB per row in the result set
  // returned by the database"; data-api.troubleshooting.html: "Packet for query is too large".
  it("refuses a row over 64 KB, which node-postgres returns", async () => {
    // Prepare: two columns of 32,000 bytes are exactly 64,000; one more byte is over
    const statement =
      "SELECT repeat('a', 32000) AS a, repeat('b', 32000 + cast(:extra AS integer)) AS b";

    // Act
    const viaPg = await db.current.sql.query(statement, { extra: 1 });
    const atLimit = await dataApi.query(statement, { extra: 0 });
    const overLimit = dataApi.query(statement, { extra: 1 });

    // Assess
    expect(viaPg).toHaveLength(1);
    expect(atLimit).toHaveLength(1);
    await expect(overLimit).rejects.toMatchObject({
      name: "UnsupportedResultException",
      message: expect.stringMatching(/^Packet for query is too large/),
    });
  });

  // data-api-timeouts.html: the Data API cancels a statement still running after 45 s and
  // returns a timeout error; with continueAfterTimeout the statement runs on, and the caller
  // still gets the error. StatementTimeoutException in the SDK model.
  it("cancels a statement past the timeout, or lets it finish with continueAfterTimeout", async () => {
    // Prepare: each insert takes at least 2 s, the endpoint's timeout is 0.3 s
    const slowInsert = (id: number) =>
      `INSERT INTO notes (id, body) SELECT ${id}, 'slow' FROM pg_sleep(2)`;

    // Act
    const cancelled = await execute(slowInsert(1)).catch((error: unknown) => error);
    const continued = await execute(slowInsert(2), { continueAfterTimeout: true }).catch(
      (error: unknown) => error,
    );
    const viaAdapter = dataApi.query(slowInsert(3));
    await expect(viaAdapter).rejects.toThrow(/StatementTimeoutException/);
    let rows = await notes();
    for (let waited = 0; rows.length === 0 && waited < 30_000; waited += 100) {
      await sleep(100);
      rows = await notes();
    }

    // Assess
    expect(cancelled).toMatchObject({
      name: "StatementTimeoutException",
      dbConnectionId: expect.any(Number),
    });
    expect(continued).toMatchObject({ name: "StatementTimeoutException" });
    expect(rows).toEqual([{ id: 2 }]);
    await expect(viaAdapter).rejects.toMatchObject({ name: "DatabaseUnavailableError" });
  });

  // API_BeginTransaction.html: "A transaction times out if no calls use its transaction ID
  // in three minutes ... it's rolled back automatically"; data-api.troubleshooting.html:
  // "Transaction <transaction_ID> is not found ... Transaction may be expired".
  it("rolls back a transaction left idle past its time limit and no longer knows it", async () => {
    // Prepare
    const transactionId = await begin();
    await execute("INSERT INTO notes (id) VALUES (1)", { transactionId });

    // Act: idle for three times the 0.2 s limit
    await sleep(600);
    const late = execute("INSERT INTO notes (id) VALUES (2)", { transactionId });

    // Assess
    await expect(late).rejects.toMatchObject({
      name: "TransactionNotFoundException",
      message: expect.stringMatching(/is not found: Transaction may be expired/),
    });
    expect(await notes()).toEqual([]);
    expect(server.openTransactions()).toBe(0);
  });

  // API_BeginTransaction.html: "A transaction can run for a maximum of 24 hours. A
  // transaction is terminated and rolled back automatically after 24 hours."
  it("ends a transaction past its total time limit even while it is being used", async () => {
    // Prepare
    const transactionId = await begin();
    const began = Date.now();

    // Act: a call every 0.1 s (never idle) until well past the 1.5 s limit
    let failure: unknown;
    for (let id = 1; failure === undefined && Date.now() - began < 10_000; id++) {
      failure = await execute(`INSERT INTO notes (id) VALUES (${id})`, { transactionId }).then(
        () => undefined,
        (error: unknown) => error,
      );
      await sleep(100);
    }

    // Assess
    expect(Date.now() - began).toBeGreaterThan(1_500);
    expect(failure).toMatchObject({ name: "TransactionNotFoundException" });
    expect(await notes()).toEqual([]);
  });

  // data-api.troubleshooting.html, "Transaction <transaction_ID> is not found": "Transaction
  // has been aborted due to an error from a previous call". The SQL error itself is a
  // DatabaseErrorException ("There was an error in processing the SQL statement", SDK model;
  // BadRequestException is deprecated) carrying the SQLSTATE.
  it("answers a SQL error as DatabaseErrorException and ends the transaction it was in", async () => {
    // Prepare
    const transactionId = await begin();
    await execute("INSERT INTO notes (id) VALUES (1)", { transactionId });

    // Act
    const duplicate = await execute("INSERT INTO notes (id) VALUES (1)", { transactionId }).catch(
      (error: unknown) => error,
    );
    const after = execute("SELECT 1 AS one", { transactionId });

    // Assess
    expect(duplicate).toMatchObject({
      name: "DatabaseErrorException",
      message: expect.stringMatching(/duplicate key value.*; SQLState: 23505$/s),
    });
    await expect(after).rejects.toMatchObject({
      name: "TransactionNotFoundException",
      message: expect.stringMatching(/aborted due to an error from a previous call/),
    });
    expect(server.openTransactions()).toBe(0);
  });

  // data-api.differences.html (Aurora Serverless v2 and provisioned): multistatements
  // aren't supported.
  it("refuses several statements in one call before running any, as node-postgres does not", async () => {
    // Prepare
    const two = "INSERT INTO notes (id) VALUES (1); INSERT INTO notes (id) VALUES (2)";

    // Act
    const viaDataApi = await dataApi.query(two).catch((error: unknown) => error);
    const rowsAfterDataApi = await notes();
    await db.current.sql.query(two);
    const oneWithSemicolons = await dataApi.query("SELECT ';' AS s; -- a comment; with ;");

    // Assess
    expect(viaDataApi).toMatchObject({
      name: "ValidationException",
      message: "Multistatements aren't supported.",
    });
    expect(rowsAfterDataApi).toEqual([]);
    expect(await notes()).toEqual([{ id: 1 }, { id: 2 }]);
    expect(oneWithSemicolons).toEqual([{ s: ";" }]);
  });

  // SDK model, UnsupportedResultException: "It contained an unsupported data type" / "It
  // contained a multidimensional array"; data-api.differences.html lists the supported
  // types, which do not include the single-byte "char".
  it('refuses a "char" column and a multidimensional array, which node-postgres returns', async () => {
    // Prepare
    const char = "SELECT relkind FROM pg_class WHERE relname = 'notes'";
    const grid = "SELECT ARRAY[[1, 2], [3, 4]] AS grid";

    // Act
    const charViaPg = await db.current.sql.query(char);
    const gridViaPg = await db.current.sql.query(grid);
    const charViaDataApi = dataApi.query(char);
    const gridViaDataApi = dataApi.query(grid);

    // Assess
    expect(charViaPg).toEqual([{ relkind: "r" }]);
    expect(gridViaPg).toHaveLength(1);
    await expect(charViaDataApi).rejects.toMatchObject({
      name: "UnsupportedResultException",
      message: expect.stringMatching(/unsupported data type char/),
    });
    await expect(gridViaDataApi).rejects.toMatchObject({
      name: "UnsupportedResultException",
      message: expect.stringMatching(/multidimensional array/),
    });
  });

  // Where AWS is permissive the endpoint must be too: arrays with NULL elements come back
  // (ArrayValue's lists hold the nulls).
  it("returns arrays with NULL elements, as AWS does", async () => {
    // Act
    const [row] = await dataApi.query(
      "SELECT ARRAY[1, NULL, 3] AS numbers, ARRAY['x', NULL] AS words, ARRAY[true, NULL] AS flags",
    );

    // Assess
    expect(row).toEqual({ numbers: [1, null, 3], words: ["x", null], flags: [true, null] });
  });
});
