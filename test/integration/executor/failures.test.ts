import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";
import { createSqsFailedTaskNotifier } from "../../../functions/core/executor/failedTasks";
import type { TaskOutcome } from "../../../functions/core/tasks/model";
import { METRICS } from "../../../functions/core/telemetry/metricNames";
import { freePort } from "../../../functions/local/embeddedPostgres";
import {
  createTask,
  createTasks,
  defined,
  llmFor,
  MODEL,
  OWNER,
  recordingLogger,
  recordingMetrics,
  recordingTasks,
  startLoop,
  useExecutorFixture,
  waitUntil,
} from "./harness";

/** Failures: retried with backoff when they may pass, final at once when they cannot. */

const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/failed-tasks";
const sqsMock = mockClient(SQSClient);
const ctx = useExecutorFixture({ reset: () => sqsMock.reset() });

function sqsNotifier() {
  const logger = recordingLogger();
  const metrics = recordingMetrics();
  sqsMock.on(SendMessageBatchCommand).callsFake((input) => ({
    Successful: input.Entries.map((entry: { Id: string }) => ({
      Id: entry.Id,
      MessageId: `msg-${entry.Id}`,
    })),
    Failed: [],
  }));
  return {
    notifier: createSqsFailedTaskNotifier({
      sqs: new SQSClient({ region: "eu-west-1" }),
      queueUrl: QUEUE_URL,
      logger,
      metrics,
    }),
    metrics,
  };
}

/** Every message body sent to the failed-tasks queue. */
function sentMessages(): Record<string, unknown>[] {
  return sqsMock
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => JSON.parse(entry.MessageBody ?? "null"));
}

describe("with the LLM server down", () => {
  it("retries with growing delays, then fails after maxAttempts naming the host, one SQS message each", async () => {
    // Prepare: a port nothing listens on.
    const downHost = `http://127.0.0.1:${await freePort()}`;
    const created = await createTasks(ctx.store, 2, () => ({ maxAttempts: 3 }));
    const { notifier } = sqsNotifier();
    const tasks = recordingTasks(ctx.store);
    const metrics = recordingMetrics();
    const loop = startLoop({
      tasks,
      llm: llmFor(downHost),
      workerId: "down-1",
      notifier,
      metrics,
      // Base 1 s so the growth stands out from scheduling noise; random 0.5: the middle of
      // equal jitter, delays 0.75 s then 1.5 s.
      settings: { RETRY_BASE_MS: 1_000, RETRY_MAX_MS: 10_000 },
      random: () => 0.5,
    });

    // Act
    await waitUntil(
      async () =>
        (await Promise.all(created.map((t) => ctx.store.get(OWNER, t.id)))).every(
          (t) => t.status === "failed",
        ),
      60_000,
      "both tasks to fail",
    );
    loop.stop();
    const summary = await loop.done;

    // Assess
    for (const task of created) {
      const row = await ctx.store.get(OWNER, task.id);
      expect(row.attempts).toBe(3);
      expect(row.error).toContain(downHost.replace("http://", ""));
      expect(row.result).toBeNull();
      // Its retries, in order: each due later after its attempt than the one before.
      const retries = tasks.syncs.flatMap((s) =>
        s.request.outcomes
          .filter(
            (o): o is Extract<TaskOutcome, { status: "pending" }> =>
              o.id === task.id && o.status === "pending",
          )
          .map((o) => ({ delayMs: o.runAt.getTime() - s.sentAt })),
      );
      expect(retries).toHaveLength(2);
      const [first, second] = retries.map((r) => r.delayMs);
      // runAt = finish + delay and the sync follows the finish, so this never exceeds the delay.
      expect(first).toBeLessThanOrEqual(750);
      expect(second).toBeLessThanOrEqual(1_500);
      expect(second).toBeGreaterThan(defined(first));
      // No attempt started before its retry was due.
      const starts = tasks.syncs
        .flatMap((s) => s.result?.claimed ?? [])
        .filter((t) => t.id === task.id)
        .map((t) => defined(t.startedAt, "startedAt").getTime());
      expect(starts).toHaveLength(3);
      const [s1, s2, s3] = starts.map((s) => defined(s));
      expect(defined(s2) - defined(s1)).toBeGreaterThanOrEqual(750);
      expect(defined(s3) - defined(s2)).toBeGreaterThanOrEqual(1_500);
    }
    const messages = sentMessages();
    expect(messages).toHaveLength(2);
    for (const task of created) {
      expect(messages.filter((m) => m.taskId === task.id)).toEqual([
        {
          taskId: task.id,
          owner: OWNER,
          type: "summarize",
          attempts: 3,
          error: expect.stringContaining(downHost.replace("http://", "")),
          failedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        },
      ]);
    }
    expect(summary).toMatchObject({ claimed: 6, retried: 4, failed: 2, completed: 0 });
    expect(metrics.sum(METRICS.tasksRetried.name)).toBe(4);
    expect(metrics.sum(METRICS.tasksFailed.name)).toBe(2);
  });
});

describe("final failures", () => {
  it("fails a model the LLM server does not know at the first attempt, without retrying", async () => {
    // Prepare: allowed here, but never pulled on the server.
    const task = await createTask(ctx.store, { model: "mystery-model" });
    const { notifier } = sqsNotifier();
    const loop = startLoop({
      tasks: ctx.store,
      llm: llmFor(ctx.server.url),
      workerId: "unknown-model-1",
      notifier,
      settings: { OLLAMA_MODELS: [MODEL, "mystery-model"] },
    });

    // Act
    await waitUntil(
      async () => (await ctx.store.get(OWNER, task.id)).status === "failed",
      30_000,
      "the task to fail",
    );
    loop.stop();
    const summary = await loop.done;

    // Assess
    const row = await ctx.store.get(OWNER, task.id);
    expect(row.attempts).toBe(1);
    expect(row.error).toContain('model "mystery-model" is not available');
    expect(ctx.server.stats.totalCalls).toBe(1);
    expect(summary).toMatchObject({ claimed: 1, failed: 1, retried: 0 });
    expect(sentMessages()).toEqual([expect.objectContaining({ taskId: task.id, attempts: 1 })]);
  });

  it("fails at once, without calling the LLM, a model off the allowlist, an unknown type and input that no longer fits", async () => {
    // Prepare: rows the API would refuse today (the allowlist or the schemas changed since).
    const offList = await createTask(ctx.store, { model: "retired-model" });
    const [unknownType] = await ctx.db.current.sql.query<{ id: string }>(
      "INSERT INTO tasks (owner, type, input, model) VALUES (:owner, 'translate', '{}'::jsonb, :model) RETURNING id",
      { owner: OWNER, model: MODEL },
    );
    const [badInput] = await ctx.db.current.sql.query<{ id: string }>(
      `INSERT INTO tasks (owner, type, input, model) VALUES (:owner, 'summarize', '{"text": 42}'::jsonb, :model) RETURNING id`,
      { owner: OWNER, model: MODEL },
    );
    const ids = [offList.id, defined(unknownType).id, defined(badInput).id];
    const { notifier } = sqsNotifier();
    const loop = startLoop({
      tasks: ctx.store,
      llm: llmFor(ctx.server.url),
      workerId: "final-1",
      notifier,
    });

    // Act
    await waitUntil(
      async () =>
        (await Promise.all(ids.map((id) => ctx.store.get(OWNER, id)))).every(
          (t) => t.status === "failed",
        ),
      30_000,
      "all three to fail",
    );
    loop.stop();
    await loop.done;

    // Assess
    const [a, b, c] = await Promise.all(ids.map((id) => ctx.store.get(OWNER, id)));
    expect(a).toMatchObject({
      attempts: 1,
      error: expect.stringContaining('model "retired-model" is not allowed'),
    });
    expect(b).toMatchObject({
      attempts: 1,
      error: expect.stringContaining('unknown task type "translate"'),
    });
    expect(c).toMatchObject({ attempts: 1, error: expect.stringContaining("input.text") });
    expect(ctx.server.stats.totalCalls).toBe(0);
    expect(
      sentMessages()
        .map((m) => m.taskId)
        .sort(),
    ).toEqual([...ids].sort());
  });

  it("keeps a task failed and counts the error when its SQS message cannot be sent", async () => {
    // Prepare
    const task = await createTask(ctx.store, { model: "retired-model" });
    sqsMock.on(SendMessageBatchCommand).rejects(new Error("AccessDenied: not allowed to send"));
    const notifierLogger = recordingLogger();
    const notifierMetrics = recordingMetrics();
    const notifier = createSqsFailedTaskNotifier({
      sqs: new SQSClient({ region: "eu-west-1" }),
      queueUrl: QUEUE_URL,
      logger: notifierLogger,
      metrics: notifierMetrics,
    });
    const loop = startLoop({
      tasks: ctx.store,
      llm: llmFor(ctx.server.url),
      workerId: "sqs-down-1",
      notifier,
    });

    // Act
    await waitUntil(
      () => notifierMetrics.sum(METRICS.failedTaskNotifyErrors.name) > 0,
      30_000,
      "the send to fail",
    );
    loop.stop();
    const summary = await loop.done;

    // Assess
    expect((await ctx.store.get(OWNER, task.id)).status).toBe("failed");
    expect(summary.failed).toBe(1);
    expect(notifierMetrics.sum(METRICS.failedTaskNotifyErrors.name)).toBe(1);
    expect(notifierLogger.entries).toContainEqual(
      expect.objectContaining({
        level: "error",
        fields: expect.objectContaining({ taskId: task.id }),
      }),
    );
  });
});
