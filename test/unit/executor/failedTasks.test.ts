import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import {
  createSqsFailedTaskNotifier,
  failedTaskMessage,
} from "../../../functions/core/executor/failedTasks";
import type { Task } from "../../../functions/core/tasks/model";
import { METRICS } from "../../../functions/core/telemetry/metricNames";
import type { LogFields, MetricUnit } from "../../../functions/core/telemetry/ports";
import { aTask } from "../../support/taskFixture";

const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/failed-tasks";
const sqsMock = mockClient(SQSClient);

afterEach(() => {
  sqsMock.reset();
});

function failedTask(n: number, overrides: Partial<Task> = {}): Task {
  const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, n));
  return aTask(
    {
      id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
      owner: `user-${n}`,
      status: "failed",
      attempts: 3,
      error: `Ollama unreachable at http://10.0.0.${n}:11434`,
      startedAt: at,
      completedAt: at,
      firstDueAt: at,
      firstStartedAt: at,
      ...overrides,
    },
    at,
  );
}

function recorders() {
  const logs: { message: string; fields?: LogFields }[] = [];
  const points: { name: string; unit: MetricUnit; value: number }[] = [];
  const logger = {
    debug() {},
    info() {},
    warn() {},
    error: (message: string, fields?: LogFields) => logs.push({ message, fields }),
  };
  const metrics = {
    add: (name: string, unit: MetricUnit, value: number) => points.push({ name, unit, value }),
    flush() {},
  };
  const notifyErrors = () =>
    points
      .filter((p) => p.name === METRICS.failedTaskNotifyErrors.name)
      .reduce((n, p) => n + p.value, 0);
  return { logs, logger, metrics, notifyErrors };
}

function notifierWith(r: ReturnType<typeof recorders>) {
  return createSqsFailedTaskNotifier({
    sqs: new SQSClient({ region: "eu-west-1" }),
    queueUrl: QUEUE_URL,
    logger: r.logger,
    metrics: r.metrics,
  });
}

describe("the SQS failed-task notifier", () => {
  it("sends one message per task with taskId, owner, type, attempts, error and failedAt", async () => {
    // Prepare
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const r = recorders();
    const task = failedTask(1);

    // Act
    await notifierWith(r).notify([task]);

    // Assess
    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.QueueUrl).toBe(QUEUE_URL);
    expect(input?.Entries).toHaveLength(1);
    expect(JSON.parse(input?.Entries?.[0]?.MessageBody ?? "null")).toEqual({
      taskId: task.id,
      owner: "user-1",
      type: "summarize",
      attempts: 3,
      error: "Ollama unreachable at http://10.0.0.1:11434",
      failedAt: "2026-01-02T03:04:05.001Z",
    });
    expect(r.notifyErrors()).toBe(0);
  });

  it("sends 23 tasks as batches of at most 10, each task once", async () => {
    // Prepare
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const r = recorders();
    const tasks = Array.from({ length: 23 }, (_, i) => failedTask(i + 1));

    // Act
    await notifierWith(r).notify(tasks);

    // Assess
    const batches = sqsMock
      .commandCalls(SendMessageBatchCommand)
      .map((c) => c.args[0].input.Entries ?? []);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 3]);
    const ids = batches.flat().map((e) => JSON.parse(e.MessageBody ?? "null").taskId);
    expect(ids.sort()).toEqual(tasks.map((t) => t.id).sort());
    for (const batch of batches) expect(new Set(batch.map((e) => e.Id)).size).toBe(batch.length);
  });

  it("logs and counts a send that fails, and does not throw", async () => {
    // Prepare
    sqsMock.on(SendMessageBatchCommand).rejects(new Error("AccessDenied: sqs:SendMessage"));
    const r = recorders();

    // Act
    await expect(notifierWith(r).notify([failedTask(1), failedTask(2)])).resolves.toBeUndefined();

    // Assess
    expect(r.notifyErrors()).toBe(2);
    expect(r.logs.map((l) => l.fields?.taskId).sort()).toEqual([
      failedTask(1).id,
      failedTask(2).id,
    ]);
    expect(r.logs[0]?.fields).toMatchObject({
      queueUrl: QUEUE_URL,
      reason: expect.stringContaining("AccessDenied"),
    });
  });

  it("counts only the entries SQS refused in a batch that partly succeeded", async () => {
    // Prepare
    sqsMock.on(SendMessageBatchCommand).callsFake((input) => ({
      Successful: [{ Id: input.Entries[0].Id, MessageId: "m-1", MD5OfMessageBody: "x" }],
      Failed: [
        {
          Id: input.Entries[1].Id,
          SenderFault: false,
          Code: "InternalError",
          Message: "try again",
        },
      ],
    }));
    const r = recorders();

    // Act
    await notifierWith(r).notify([failedTask(1), failedTask(2)]);

    // Assess
    expect(r.notifyErrors()).toBe(1);
    expect(r.logs).toEqual([
      expect.objectContaining({
        fields: expect.objectContaining({
          taskId: failedTask(2).id,
          reason: "InternalError: try again",
        }),
      }),
    ]);
  });

  it("sends nothing for no tasks", async () => {
    // Act
    await notifierWith(recorders()).notify([]);

    // Assess
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});

describe("failedTaskMessage", () => {
  it("cuts a very long error and falls back to now when the row has no completedAt", () => {
    // Prepare
    const task = failedTask(1, { error: "e".repeat(10_000), completedAt: null });

    // Act
    const message = failedTaskMessage(task, () => new Date("2026-05-06T07:08:09.000Z"));

    // Assess
    expect(message.error.length).toBeLessThanOrEqual(4_001);
    expect(message.failedAt).toBe("2026-05-06T07:08:09.000Z");
  });
});
