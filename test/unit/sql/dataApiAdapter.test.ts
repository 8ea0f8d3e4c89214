import {
  BadRequestException,
  BeginTransactionCommand,
  CommitTransactionCommand,
  DatabaseErrorException,
  DatabaseResumingException,
  DatabaseUnavailableException,
  ExecuteStatementCommand,
  ForbiddenException,
  InternalServerErrorException,
  RDSDataClient,
  RDSDataServiceException,
  RollbackTransactionCommand,
  ServiceUnavailableError,
  StatementTimeoutException,
} from "@aws-sdk/client-rds-data";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { DatabaseUnavailableError, ValidationError } from "../../../functions/core/errors";
import {
  createDataApiSqlPort,
  type DataApiSqlPortOptions,
} from "../../../functions/core/sql/dataApiAdapter";
import { json, uuid } from "../../../functions/core/sql/port";

// A zone far from UTC, so a timestamp read in the wrong zone shows.
process.env.TZ = "Pacific/Chatham";

const rds = mockClient(RDSDataClient);

const resourceArn = "arn:aws:rds:eu-west-1:123456789012:cluster:tasks";
const secretArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tasks-db";

/** A port on the mocked client whose sleeps are recorded, not waited. */
function portWithRecordedSleeps(options: Partial<DataApiSqlPortOptions> = {}) {
  const delays: number[] = [];
  const port = createDataApiSqlPort({
    client: new RDSDataClient({ region: "eu-west-1" }),
    resourceArn,
    secretArn,
    database: "tasks",
    sleep: async (ms) => {
      delays.push(ms);
    },
    ...options,
  });
  return { port, delays };
}

const meta = { $metadata: {} };
const resuming = () =>
  new DatabaseResumingException({ message: "The database is resuming", ...meta });

describe("Data API adapter: resuming database", () => {
  afterEach(() => {
    rds.reset();
  });

  it("retries DatabaseResumingException with growing delays, then succeeds", async () => {
    // Prepare
    rds
      .on(ExecuteStatementCommand)
      .rejectsOnce(resuming())
      .rejectsOnce(resuming())
      .rejectsOnce(resuming())
      .rejectsOnce(resuming())
      .resolves({
        records: [[{ longValue: 1 }]],
        columnMetadata: [{ name: "one", label: "one", typeName: "int4" }],
      });
    const { port, delays } = portWithRecordedSleeps({
      resume: { maxWaitMs: 30_000, baseDelayMs: 500, maxDelayMs: 5_000 },
    });

    // Act
    const rows = await port.query("SELECT 1 AS one");

    // Assess
    expect(rows).toEqual([{ one: 1 }]);
    expect(rds.commandCalls(ExecuteStatementCommand)).toHaveLength(5);
    expect(delays).toHaveLength(4);
    for (let i = 1; i < delays.length; i++) {
      expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1] as number);
    }
    expect(delays[3]).toBeGreaterThan((delays[0] as number) * 2);
    // Jitter stays within the exponential step: [step/2, step].
    delays.forEach((delay, attempt) => {
      const step = Math.min(5_000, 500 * 2 ** attempt);
      expect(delay).toBeGreaterThanOrEqual(step / 2);
      expect(delay).toBeLessThanOrEqual(step);
    });
  });

  it("gives up after the maximum wait with DatabaseUnavailableError", async () => {
    // Prepare
    rds.on(ExecuteStatementCommand).rejects(resuming());
    const { port, delays } = portWithRecordedSleeps({
      resume: { maxWaitMs: 30_000, baseDelayMs: 500, maxDelayMs: 5_000 },
    });

    // Act
    const run = port.query("SELECT 1");

    // Assess
    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toMatch(/still resuming after 30 s/);
    expect((error as Error).cause).toMatchObject({ name: "DatabaseResumingException" });
    expect(delays.reduce((sum, d) => sum + d, 0)).toBe(30_000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(5_000);
    expect(rds.commandCalls(ExecuteStatementCommand)).toHaveLength(delays.length + 1);
  });

  it("also waits for a resuming database on BeginTransaction", async () => {
    // Prepare
    rds.on(BeginTransactionCommand).rejectsOnce(resuming()).resolves({ transactionId: "tx-1" });
    rds.on(CommitTransactionCommand).resolves({ transactionStatus: "Transaction Committed" });
    const { port, delays } = portWithRecordedSleeps();

    // Act
    const value = await port.transaction(async () => "done");

    // Assess
    expect(value).toBe("done");
    expect(rds.commandCalls(BeginTransactionCommand)).toHaveLength(2);
    expect(delays).toHaveLength(1);
  });
});

describe("Data API adapter: other AWS errors", () => {
  afterEach(() => {
    rds.reset();
  });

  it.each([
    ["BadRequestException", new BadRequestException({ message: "syntax error", ...meta })],
    ["ForbiddenException", new ForbiddenException({ message: "not allowed", ...meta })],
    [
      "ThrottlingException",
      new RDSDataServiceException({ name: "ThrottlingException", $fault: "client", ...meta }),
    ],
    [
      "DatabaseErrorException",
      new DatabaseErrorException({
        message: 'ERROR: duplicate key value violates unique constraint "x"; SQLState: 23505',
        ...meta,
      }),
    ],
    [
      "InternalServerErrorException",
      new InternalServerErrorException({ message: "internal error", ...meta }),
    ],
  ])("surfaces %s by name after one call, without retrying", async (name, error) => {
    // Prepare
    rds.on(ExecuteStatementCommand).rejects(error);
    const { port, delays } = portWithRecordedSleeps();

    // Act
    const run = port.query("SELECT 1");

    // Assess
    await expect(run).rejects.toMatchObject({ name });
    expect(rds.commandCalls(ExecuteStatementCommand)).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it.each([
    [
      "StatementTimeoutException",
      new StatementTimeoutException({ message: "timed out", dbConnectionId: 7, ...meta }),
      /^database unavailable \(StatementTimeoutException\): timed out$/,
    ],
    [
      "DatabaseUnavailableException",
      new DatabaseUnavailableException({ message: "writer unavailable", ...meta }),
      /^database unavailable \(DatabaseUnavailableException\): writer unavailable$/,
    ],
    [
      "ServiceUnavailableError",
      new ServiceUnavailableError({ message: "unavailable", ...meta }),
      /^database unavailable \(ServiceUnavailableError\)/,
    ],
    [
      "DatabaseErrorException with a serialization failure",
      new DatabaseErrorException({
        message: "ERROR: could not serialize access; SQLState: 40001",
        ...meta,
      }),
      /^database unavailable \(DatabaseErrorException, SQLState 40001\)/,
    ],
    [
      "DatabaseErrorException with a server shutting down",
      new DatabaseErrorException({
        message: "FATAL: terminating connection due to administrator command; SQLState: 57P01",
        ...meta,
      }),
      /^database unavailable \(DatabaseErrorException, SQLState 57P01\)/,
    ],
  ])(
    "turns %s into DatabaseUnavailableError after one call, keeping it as the cause",
    async (_, error, message) => {
      // Prepare
      rds.on(ExecuteStatementCommand).rejects(error);
      const { port, delays } = portWithRecordedSleeps();

      // Act
      const run = port.query("SELECT 1");

      // Assess
      await expect(run).rejects.toThrow(DatabaseUnavailableError);
      await expect(run).rejects.toMatchObject({
        message: expect.stringMatching(message),
        cause: error,
      });
      expect(rds.commandCalls(ExecuteStatementCommand)).toHaveLength(1);
      expect(delays).toEqual([]);
    },
  );

  it("copies a SQL error's SQLSTATE to code, like node-postgres", async () => {
    // Prepare
    rds.on(ExecuteStatementCommand).rejects(
      new BadRequestException({
        message: 'ERROR: duplicate key value violates unique constraint "x"; SQLState: 23505',
        ...meta,
      }),
    );
    const { port } = portWithRecordedSleeps();

    // Act
    const run = port.query("INSERT INTO t VALUES (1)");

    // Assess
    await expect(run).rejects.toMatchObject({ name: "BadRequestException", code: "23505" });
  });
});

describe("Data API adapter: statements", () => {
  afterEach(() => {
    rds.reset();
  });

  it("sends each parameter with the right value kind and type hint", async () => {
    // Prepare
    rds.on(ExecuteStatementCommand).resolves({ numberOfRecordsUpdated: 1 });
    const { port } = portWithRecordedSleeps();

    // Act
    await port.query(
      `UPDATE tasks SET result = :result, run_at = :runAt, priority = :priority,
              score = :score, cancel_requested = :flag, error = :error, title = :title
        WHERE id = :id AND owner = :owner AND id = :id`,
      {
        result: json({ text: "it's done", tokens: [1, 2] }),
        runAt: new Date("2024-05-06T07:08:09.120Z"),
        priority: 3,
        score: 0.5,
        flag: false,
        error: null,
        title: "quoted 'title'",
        id: uuid("0b6f1c2e-3d4a-4b5c-8d6e-7f8091a2b3c4"),
        owner: "user-1",
        unused: "not sent",
      },
    );

    // Assess
    const [call] = rds.commandCalls(ExecuteStatementCommand);
    expect(call?.args[0].input).toEqual({
      resourceArn,
      secretArn,
      database: "tasks",
      sql: expect.stringContaining("UPDATE tasks"),
      includeResultMetadata: true,
      continueAfterTimeout: false,
      transactionId: undefined,
      parameters: [
        {
          name: "result",
          value: { stringValue: '{"text":"it\'s done","tokens":[1,2]}' },
          typeHint: "JSON",
        },
        {
          name: "runAt",
          value: { stringValue: "2024-05-06 07:08:09.120" },
          typeHint: "TIMESTAMP",
        },
        { name: "priority", value: { longValue: 3 } },
        { name: "score", value: { doubleValue: 0.5 } },
        { name: "flag", value: { booleanValue: false } },
        { name: "error", value: { isNull: true } },
        { name: "title", value: { stringValue: "quoted 'title'" } },
        {
          name: "id",
          value: { stringValue: "0b6f1c2e-3d4a-4b5c-8d6e-7f8091a2b3c4" },
          typeHint: "UUID",
        },
        { name: "owner", value: { stringValue: "user-1" } },
      ],
    });
  });

  it("rejects values the Data API cannot carry before calling it", async () => {
    // Prepare
    const { port } = portWithRecordedSleeps();

    // Act
    const missing = port.query("SELECT :a", {});
    const notFinite = port.query("SELECT :a", { a: Number.NaN });
    const badDate = port.query("SELECT :a", { a: new Date("not a date") });

    // Assess
    await expect(missing).rejects.toThrow(ValidationError);
    await expect(notFinite).rejects.toThrow(/:a must be a finite number/);
    await expect(badDate).rejects.toThrow(/:a is an invalid Date/);
    expect(rds.commandCalls(ExecuteStatementCommand)).toHaveLength(0);
  });

  it("decodes records by column type name into the port's JavaScript types", async () => {
    // Prepare
    rds.on(ExecuteStatementCommand).resolves({
      columnMetadata: [
        { name: "id", label: "id", typeName: "uuid" },
        { name: "created_at", label: "createdAt", typeName: "timestamptz" },
        { name: "input", label: "input", typeName: "jsonb" },
        { name: "n", label: "n", typeName: "int8" },
        { name: "p95", label: "p95", typeName: "numeric" },
        { name: "ok", label: "ok", typeName: "bool" },
        { name: "title", label: "title", typeName: "text" },
        { name: "tags", label: "tags", typeName: "_text" },
        { name: "seen", label: "seen", typeName: "_timestamptz" },
      ],
      records: [
        [
          { stringValue: "0b6f1c2e-3d4a-4b5c-8d6e-7f8091a2b3c4" },
          { stringValue: "2024-05-06 07:08:09.123456" },
          { stringValue: '{"prompt":"hi","n":[1]}' },
          { longValue: 42 },
          { stringValue: "1234.5678" },
          { booleanValue: true },
          { isNull: true },
          { arrayValue: { stringValues: ["a", "b"] } },
          { arrayValue: { stringValues: ["2024-01-01 00:00:00"] } },
        ],
      ],
    });
    const { port } = portWithRecordedSleeps();

    // Act
    const rows = await port.query("SELECT ...");

    // Assess
    expect(rows).toEqual([
      {
        id: "0b6f1c2e-3d4a-4b5c-8d6e-7f8091a2b3c4",
        createdAt: new Date("2024-05-06T07:08:09.123Z"),
        input: { prompt: "hi", n: [1] },
        n: 42,
        p95: 1234.5678,
        ok: true,
        title: null,
        tags: ["a", "b"],
        seen: [new Date("2024-01-01T00:00:00.000Z")],
      },
    ]);
  });
});

describe("Data API adapter: transactions", () => {
  afterEach(() => {
    rds.reset();
  });

  it("begins, runs statements with the transaction id, and commits", async () => {
    // Prepare
    rds.on(BeginTransactionCommand).resolves({ transactionId: "tx-42" });
    rds.on(ExecuteStatementCommand).resolves({ numberOfRecordsUpdated: 1 });
    rds.on(CommitTransactionCommand).resolves({ transactionStatus: "Transaction Committed" });
    const { port } = portWithRecordedSleeps();

    // Act
    const value = await port.transaction(async (tx) => {
      await tx.query("UPDATE a SET x = 1");
      await tx.transaction((nested) => nested.query("UPDATE b SET y = 2"));
      return "ok";
    });

    // Assess
    expect(value).toBe("ok");
    expect(rds.commandCalls(BeginTransactionCommand)[0]?.args[0].input).toEqual({
      resourceArn,
      secretArn,
      database: "tasks",
    });
    const statements = rds.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input);
    expect(statements.map((s) => s.transactionId)).toEqual(["tx-42", "tx-42"]);
    expect(rds.commandCalls(CommitTransactionCommand)[0]?.args[0].input).toEqual({
      resourceArn,
      secretArn,
      transactionId: "tx-42",
    });
    expect(rds.commandCalls(BeginTransactionCommand)).toHaveLength(1);
    expect(rds.commandCalls(RollbackTransactionCommand)).toHaveLength(0);
  });

  it("rolls back with the transaction id when the function throws, keeping its error", async () => {
    // Prepare
    rds.on(BeginTransactionCommand).resolves({ transactionId: "tx-7" });
    rds
      .on(ExecuteStatementCommand)
      .rejects(new BadRequestException({ message: "ERROR: boom; SQLState: 22012", ...meta }));
    rds
      .on(RollbackTransactionCommand)
      .rejects(new BadRequestException({ message: "Transaction tx-7 is not found", ...meta }));
    const { port } = portWithRecordedSleeps();

    // Act
    const run = port.transaction((tx) => tx.query("SELECT 1 / 0"));

    // Assess
    await expect(run).rejects.toMatchObject({ name: "BadRequestException", code: "22012" });
    expect(rds.commandCalls(RollbackTransactionCommand)[0]?.args[0].input).toEqual({
      resourceArn,
      secretArn,
      transactionId: "tx-7",
    });
    expect(rds.commandCalls(CommitTransactionCommand)).toHaveLength(0);
  });

  it("surfaces a failed commit", async () => {
    // Prepare
    rds.on(BeginTransactionCommand).resolves({ transactionId: "tx-9" });
    rds
      .on(CommitTransactionCommand)
      .rejects(new ForbiddenException({ message: "secret rotated", ...meta }));
    const { port } = portWithRecordedSleeps();

    // Act
    const run = port.transaction(async () => "never");

    // Assess
    await expect(run).rejects.toMatchObject({ name: "ForbiddenException" });
  });
});
