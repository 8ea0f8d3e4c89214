import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BadRequestException,
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  type ExecuteStatementCommandOutput,
  RDSDataClient,
  RollbackTransactionCommand,
} from "@aws-sdk/client-rds-data";
import type { CloudFormationCustomResourceEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const rds = mockClient(RDSDataClient);

const base = {
  ServiceToken: "arn:aws:lambda:eu-west-1:123456789012:function:provider",
  ResponseURL: "https://cloudformation-custom-resource-response.example/",
  StackId: "arn:aws:cloudformation:eu-west-1:123456789012:stack/pipeline/1",
  RequestId: "request-1",
  LogicalResourceId: "Migrations",
  ResourceType: "Custom::Migrations",
  ResourceProperties: { ServiceToken: "provider" },
};
const createEvent = { ...base, RequestType: "Create" } as CloudFormationCustomResourceEvent;
const updateEvent = {
  ...base,
  RequestType: "Update",
  PhysicalResourceId: "task-pipeline-migrations",
  OldResourceProperties: {},
} as CloudFormationCustomResourceEvent;
const deleteEvent = {
  ...base,
  RequestType: "Delete",
  PhysicalResourceId: "task-pipeline-migrations",
} as CloudFormationCustomResourceEvent;

/** A database with nothing applied: schema_migrations answers with no rows. */
function emptyDatabase(failOn?: RegExp) {
  let transactions = 0;
  rds
    .on(BeginTransactionCommand)
    .callsFake(async () => ({ transactionId: `tx-${++transactions}` }));
  rds.on(CommitTransactionCommand).resolves({ transactionStatus: "Transaction Committed" });
  rds.on(RollbackTransactionCommand).resolves({ transactionStatus: "Rollback Complete" });
  rds
    .on(ExecuteStatementCommand)
    .callsFake(
      async (
        input: ExecuteStatementCommandInput,
      ): Promise<Partial<ExecuteStatementCommandOutput>> => {
        if (failOn?.test(input.sql ?? "")) {
          throw new BadRequestException({
            message: 'ERROR: relation "nope" does not exist; SQLState: 42P01',
            $metadata: {},
          });
        }
        if (/FROM schema_migrations/.test(input.sql ?? "")) {
          return {
            records: [],
            columnMetadata: [{ name: "name", label: "name", typeName: "text" }],
          };
        }
        return { numberOfRecordsUpdated: 0 };
      },
    );
}

describe("migrate custom resource handler", () => {
  let dir: string;
  let handler: typeof import("../../../functions/migrate/handler").handler;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "migrate-handler-"));
    await writeFile(
      join(dir, "0001_first.sql"),
      "CREATE TABLE first (id int);\nCREATE INDEX first_idx ON first (id);\n",
    );
    await writeFile(join(dir, "0002_second.sql"), "ALTER TABLE first ADD COLUMN note text;\n");
    // Settings are read at cold start, i.e. when the module is first imported.
    Object.assign(process.env, {
      DB_CLUSTER_ARN: "arn:aws:rds:eu-west-1:123456789012:cluster:tasks",
      DB_SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tasks-db",
      DB_NAME: "tasks",
      MIGRATIONS_DIR: dir,
      AWS_REGION: "eu-west-1",
      POWERTOOLS_LOG_LEVEL: "SILENT",
    });
    ({ handler } = await import("../../../functions/migrate/handler"));
  });
  afterEach(() => {
    rds.reset();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ["Create", createEvent],
    ["Update", updateEvent],
  ])("%s applies every pending migration through the Data API", async (_type, event) => {
    // Prepare
    emptyDatabase();

    // Act
    const response = await handler(event, { awsRequestId: "invocation-1" });

    // Assess
    expect(response).toEqual({
      PhysicalResourceId: "task-pipeline-migrations",
      Data: { Applied: "2" },
    });
    const statements = rds.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input);
    const ddl = statements.map((s) => s.sql?.trim());
    expect(ddl).toEqual(
      expect.arrayContaining([
        "CREATE TABLE first (id int)",
        "CREATE INDEX first_idx ON first (id)",
        "ALTER TABLE first ADD COLUMN note text",
      ]),
    );
    // Each file runs inside its own transaction, recorded by name.
    const create = statements.find((s) => s.sql?.startsWith("CREATE TABLE first"));
    expect(create?.transactionId).toMatch(/^tx-/);
    const recorded = statements
      .filter((s) => s.sql?.startsWith("INSERT INTO schema_migrations"))
      .map((s) => s.parameters?.find((p) => p.name === "name")?.value);
    expect(recorded).toEqual([
      { stringValue: "0001_first.sql" },
      { stringValue: "0002_second.sql" },
    ]);
    expect(rds.commandCalls(CommitTransactionCommand).length).toBeGreaterThanOrEqual(3);
  });

  it("Delete leaves the database alone", async () => {
    // Prepare
    emptyDatabase();

    // Act
    const response = await handler(deleteEvent, { awsRequestId: "invocation-2" });

    // Assess
    expect(response).toEqual({ PhysicalResourceId: "task-pipeline-migrations" });
    expect(rds.calls()).toHaveLength(0);
  });

  it("fails with the failing migration's name and rolls its transaction back", async () => {
    // Prepare
    emptyDatabase(/ADD COLUMN note/);

    // Act
    const run = handler(createEvent, { awsRequestId: "invocation-3" });

    // Assess
    await expect(run).rejects.toThrow(/migration 0002_second\.sql failed: .*does not exist/);
    expect(rds.commandCalls(RollbackTransactionCommand)).toHaveLength(1);
    const recorded = rds
      .commandCalls(ExecuteStatementCommand)
      .filter((c) => c.args[0].input.sql?.startsWith("INSERT INTO schema_migrations"));
    expect(recorded).toHaveLength(1);
  });
});
