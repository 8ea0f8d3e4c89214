import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";
import { createDynamoDueMarker } from "../../../functions/core/wake/dynamoDueMarker";
import { createMemoryDueMarker } from "../../../functions/core/wake/memoryDueMarker";

/** The due marker's rules (functions/core/wake/ports.ts), in memory and on DynamoDB. */

describe("the memory due marker", () => {
  it("is unknown until an executor records a time, and lowering an unknown one changes nothing", async () => {
    // Prepare
    const marker = createMemoryDueMarker();

    // Act
    await marker.lower(5_000);
    const before = await marker.read();
    const recorded = await marker.record(9_000, before.version);

    // Assess
    expect(before).toEqual({ known: false, dueAtMs: null, version: 0 });
    expect(recorded).toBe(true);
    expect(await marker.read()).toEqual({ known: true, dueAtMs: 9_000, version: 1 });
  });

  it("only ever moves earlier when lowered, and moves its version even when it does not", async () => {
    // Prepare
    const marker = createMemoryDueMarker();
    await marker.record(null, 0);

    // Act
    await marker.lower(9_000);
    await marker.lower(4_000);
    await marker.lower(7_000);

    // Assess
    expect(await marker.read()).toEqual({ known: true, dueAtMs: 4_000, version: 4 });
  });

  it("refuses a record against a version someone lowered since (new work arrived)", async () => {
    // Prepare: an executor reads the version, then a create lowers the marker.
    const marker = createMemoryDueMarker();
    await marker.record(20_000, 0);
    const { version } = await marker.read();
    await marker.lower(30_000);

    // Act: the executor's database read missed the new task; its record must not land.
    const recorded = await marker.record(null, version);

    // Assess
    expect(recorded).toBe(false);
    expect((await marker.read()).dueAtMs).toBe(20_000);
  });
});

describe("the DynamoDB due marker", () => {
  const TABLE = "task-pipeline-dev-DueMarker";
  const failed = () =>
    new ConditionalCheckFailedException({
      message: "The conditional request failed",
      $metadata: {},
    });

  it("reads strongly consistent, absent as unknown and -1 as nothing due", async () => {
    // Prepare
    const dynamo = mockClient(DynamoDBClient);
    dynamo
      .on(GetItemCommand)
      .resolvesOnce({})
      .resolvesOnce({ Item: { id: { S: "executor" }, dueAt: { N: "-1" }, version: { N: "7" } } });
    const marker = createDynamoDueMarker({ client: new DynamoDBClient({}), tableName: TABLE });

    // Act
    const absent = await marker.read();
    const nothing = await marker.read();

    // Assess
    expect(absent).toEqual({ known: false, dueAtMs: null, version: 0 });
    expect(nothing).toEqual({ known: true, dueAtMs: null, version: 7 });
    expect(dynamo.commandCalls(GetItemCommand)[0]?.args[0].input).toMatchObject({
      TableName: TABLE,
      ConsistentRead: true,
      Key: { id: { S: "executor" } },
    });
  });

  it("lowers with a condition, and when the marker is earlier already moves only its version", async () => {
    // Prepare
    const dynamo = mockClient(DynamoDBClient);
    dynamo.on(UpdateItemCommand).rejectsOnce(failed()).resolves({});
    const marker = createDynamoDueMarker({ client: new DynamoDBClient({}), tableName: TABLE });

    // Act
    await marker.lower(1_700_000_000_000);

    // Assess
    const [lower, bump] = dynamo.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(lower).toMatchObject({
      UpdateExpression: "SET dueAt = :at ADD version :one",
      ConditionExpression: "attribute_exists(id) AND (dueAt > :at OR dueAt = :none)",
      ExpressionAttributeValues: { ":at": { N: "1700000000000" } },
    });
    expect(bump).toMatchObject({
      UpdateExpression: "ADD version :one",
      ConditionExpression: "attribute_exists(id)",
    });
  });

  it("records only against the version it read: a first record puts, a stale one is refused", async () => {
    // Prepare
    const dynamo = mockClient(DynamoDBClient);
    dynamo.on(PutItemCommand).resolves({});
    dynamo.on(UpdateItemCommand).rejects(failed());
    const marker = createDynamoDueMarker({ client: new DynamoDBClient({}), tableName: TABLE });

    // Act
    const first = await marker.record(null, 0);
    const stale = await marker.record(5_000, 3);

    // Assess
    expect(first).toBe(true);
    expect(dynamo.commandCalls(PutItemCommand)[0]?.args[0].input).toMatchObject({
      Item: { id: { S: "executor" }, dueAt: { N: "-1" }, version: { N: "1" } },
      ConditionExpression: "attribute_not_exists(id)",
    });
    expect(stale).toBe(false);
    expect(dynamo.commandCalls(UpdateItemCommand)[0]?.args[0].input).toMatchObject({
      ConditionExpression: "version = :read",
      ExpressionAttributeValues: {
        ":read": { N: "3" },
        ":next": { N: "4" },
        ":due": { N: "5000" },
      },
    });
  });

  it("lets other DynamoDB errors through (access denied is not a refused condition)", async () => {
    // Prepare
    const dynamo = mockClient(DynamoDBClient);
    const denied = Object.assign(new Error("not authorized to perform dynamodb:UpdateItem"), {
      name: "AccessDeniedException",
    });
    dynamo.on(UpdateItemCommand).rejects(denied);
    const marker = createDynamoDueMarker({ client: new DynamoDBClient({}), tableName: TABLE });

    // Act
    const lowering = marker.lower(1_000);

    // Assess
    await expect(lowering).rejects.toThrow(/not authorized/);
  });
});
