/**
 * The due marker as one DynamoDB item (`id = "executor"`, `dueAt` in ms since the epoch or
 * -1 for "nothing due", `version`), in the stack's DueMarker table. Conditional writes make
 * the rules of ./ports.ts atomic: `lower` only ever moves `dueAt` earlier, and always moves
 * `version` on; `record` writes only against the version it read. Reads are strongly
 * consistent. Each call is one request (~$1.25 per million writes, $0.25 per million reads,
 * on demand), reached from the VPC through the free DynamoDB gateway endpoint.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { DueMarker } from "./ports";

const KEY = { id: { S: "executor" } };
const NOTHING_DUE = -1;

export function createDynamoDueMarker(options: {
  client: DynamoDBClient;
  tableName: string;
}): DueMarker {
  const { client, tableName } = options;
  const conditional = async (send: () => Promise<unknown>): Promise<boolean> => {
    try {
      await send();
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  };

  return {
    async read() {
      const { Item } = await client.send(
        new GetItemCommand({ TableName: tableName, Key: KEY, ConsistentRead: true }),
      );
      if (!Item) return { known: false, dueAtMs: null, version: 0 };
      const dueAt = Number(Item.dueAt?.N ?? NOTHING_DUE);
      return {
        known: true,
        dueAtMs: dueAt === NOTHING_DUE ? null : dueAt,
        version: Number(Item.version?.N ?? 0),
      };
    },

    async lower(atMs) {
      const at = { N: String(Math.floor(atMs)) };
      const one = { N: "1" };
      // Earlier than what is recorded (or nothing is due): move it.
      const lowered = await conditional(() =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: KEY,
            UpdateExpression: "SET dueAt = :at ADD version :one",
            ConditionExpression: "attribute_exists(id) AND (dueAt > :at OR dueAt = :none)",
            ExpressionAttributeValues: { ":at": at, ":one": one, ":none": { N: "-1" } },
          }),
        ),
      );
      if (lowered) return;
      // Already earlier: only the version moves, so an executor's record() that read the
      // database before this task was committed cannot raise the marker past it.
      await conditional(() =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: KEY,
            UpdateExpression: "ADD version :one",
            ConditionExpression: "attribute_exists(id)",
            ExpressionAttributeValues: { ":one": one },
          }),
        ),
      );
    },

    async record(dueAtMs, version) {
      const dueAt = { N: String(dueAtMs === null ? NOTHING_DUE : Math.floor(dueAtMs)) };
      if (version === 0) {
        return conditional(() =>
          client.send(
            new PutItemCommand({
              TableName: tableName,
              Item: { ...KEY, dueAt, version: { N: "1" } },
              ConditionExpression: "attribute_not_exists(id)",
            }),
          ),
        );
      }
      return conditional(() =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: KEY,
            UpdateExpression: "SET dueAt = :due, version = :next",
            ConditionExpression: "version = :read",
            ExpressionAttributeValues: {
              ":due": dueAt,
              ":next": { N: String(version + 1) },
              ":read": { N: String(version) },
            },
          }),
        ),
      );
    },
  };
}
