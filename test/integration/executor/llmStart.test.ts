import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_EXECUTOR_TUNING } from "../../../functions/core/executor/loop";
import { WAKE_MESSAGE } from "../../../functions/core/executor/scheduleEvent";
import type { LlmStarter } from "../../../functions/core/llm/starter";
import { TaskStore } from "../../../functions/core/tasks/store";
import { createTaskTypeRegistry } from "../../../functions/core/taskTypes/registry";
import { createMemoryDueMarker } from "../../../functions/core/wake/memoryDueMarker";
import { createExecutorHandler } from "../../../functions/executor/handler";
import { type OllamaTestServer, startOllamaServer } from "../../../testkit/ollamaServer";
import { lambdaContext } from "../../support/apiEvents";
import {
  createTask,
  llmFor,
  OWNER,
  recordingLogger,
  recordingMetrics,
  testSettings,
  useExecutorFixture,
} from "./harness";

/**
 * The LLM server off when idle, started by work (docs/design.md), on the real PostgreSQL
 * and the Ollama test server, whose port really refuses connections while it is "off"
 * (the listening socket closed, then opened again on the same port). One case waits out a
 * real start's 60 s at the executor's own cadence (a probe every 2 s, a start request a
 * minute); the others shorten it to 3 s, and the start request to once a second.
 */

const ctx = useExecutorFixture();
const servers: OllamaTestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => (s.listening ? s.stop() : undefined)));
});

const START_EVERY_MS = 1_000;
const STARTING_MS = 3_000;

/** A starter that records when it was asked (ms since the test began). */
function recordingStarter(t0: number): LlmStarter & { askedAt: number[] } {
  const starter = {
    askedAt: [] as number[],
    async requestStart() {
      starter.askedAt.push(Date.now() - t0);
    },
  };
  return starter;
}

async function serverAndExecutor(
  latencyMs: number,
  tuning: { llmRetryMs?: number; llmStartEveryMs?: number } = {},
) {
  const server = await startOllamaServer({ latency: latencyMs });
  servers.push(server);
  const t0 = Date.now();
  const starter = recordingStarter(t0);
  const llm = llmFor(server.url, 15_000);
  const metrics = recordingMetrics();
  const logger = recordingLogger();
  const handler = createExecutorHandler({
    tasks: new TaskStore(ctx.db.current.sql),
    registry: createTaskTypeRegistry(),
    llm,
    llmProbe: () => llm.version({ timeoutMs: 1_000 }),
    llmStarter: starter,
    notifier: { notify: async () => {} },
    settings: testSettings({ MAX_CONCURRENCY: 4 }),
    logger,
    metrics,
    tuning: {
      reserveMarginMs: 1_000,
      llmRetryMs: 200,
      llmStartEveryMs: START_EVERY_MS,
      ...tuning,
    },
    dueMarker: createMemoryDueMarker(),
  });
  const wake = (budgetMs: number) =>
    handler(
      { Records: [{ eventSource: "aws:sqs", body: JSON.stringify(WAKE_MESSAGE) }] },
      lambdaContext(budgetMs),
    );
  return { server, starter, wake, metrics, logger };
}

/** Every task completed, none retried or failed: the wait cost no attempt. */
async function expectCompletedOnFirstAttempt(tasks: readonly { id: string }[], summary: unknown) {
  for (const task of tasks) {
    expect(await ctx.store.get(OWNER, task.id)).toMatchObject({ status: "completed", attempts: 1 });
  }
  expect(summary).toMatchObject({ completed: tasks.length, retried: 0, failed: 0 });
}

describe("an LLM server that is off when work comes", () => {
  it("is asked to start, at most once a second (the shortened minute) while it refuses; every task completes on its first attempt", async () => {
    // Prepare: the server is off (connections refused) and starts in 3 s.
    const { server, starter, wake, metrics } = await serverAndExecutor(50);
    const { reopened } = await server.refuseFor(STARTING_MS);
    const tasks = await Promise.all([1, 2, 3, 4, 5, 6].map(() => createTask(ctx.store)));

    // Act
    const summary = await wake(40_000);
    await reopened;

    // Assess
    await expectCompletedOnFirstAttempt(tasks, summary);
    expect(starter.askedAt.length).toBeGreaterThanOrEqual(1);
    expect(starter.askedAt.length).toBeLessThanOrEqual(STARTING_MS / START_EVERY_MS + 1);
    expect(starter.askedAt[0]).toBeLessThan(1_000);
    for (let i = 1; i < starter.askedAt.length; i++) {
      const gap = (starter.askedAt[i] as number) - (starter.askedAt[i - 1] as number);
      expect(gap).toBeGreaterThanOrEqual(START_EVERY_MS - 50);
    }
    // One LlmActivity per attempt started: what keeps the instance up (lib/llmPower.ts).
    expect(metrics.sum("LlmActivity")).toBe(6);
  });

  it("waits out a 60 s start at the production cadence: every task completes on its first attempt", async () => {
    // Prepare: the server is off for a minute, as an instance start plus Ollama's and the
    // model's load take (README "The LLM server off when idle"); the gate's own timings
    // (DEFAULT_EXECUTOR_TUNING).
    const { server, starter, wake, metrics } = await serverAndExecutor(50, {
      llmRetryMs: DEFAULT_EXECUTOR_TUNING.llmRetryMs,
      llmStartEveryMs: DEFAULT_EXECUTOR_TUNING.llmStartEveryMs,
    });
    const { reopened } = await server.refuseFor(60_000);
    const tasks = await Promise.all([1, 2, 3, 4, 5, 6].map(() => createTask(ctx.store)));

    // Act: one invocation long enough to see the start through (an executor whose budget
    // ends first leaves the tasks pending, unclaimed, for the next tick)
    const summary = await wake(90_000);
    await reopened;

    // Assess
    await expectCompletedOnFirstAttempt(tasks, summary);
    // Asked at once, then once a minute while it still refuses: one or two requests.
    expect(starter.askedAt[0]).toBeLessThan(1_000);
    expect(starter.askedAt.length).toBeLessThanOrEqual(2);
    expect(metrics.sum("LlmActivity")).toBe(6);
  }, 120_000);

  it("goes away mid-batch (stopped while attempts run): every task completes with at most one attempt beyond the first", async () => {
    // Prepare: each call takes 1.5 s; 8 tasks, 4 at once.
    const { server, starter, wake } = await serverAndExecutor(1_500);
    const tasks = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(() => createTask(ctx.store)));
    let reopened: Promise<void> | undefined;
    const stopMidBatch = (async () => {
      await server.waitFor(() => server.stats.inFlight >= 4, 20_000);
      reopened = (await server.refuseFor(STARTING_MS)).reopened;
    })();

    // Act
    const summary = await wake(60_000);
    await stopMidBatch;
    await reopened;

    // Assess
    const attempts: number[] = [];
    for (const task of tasks) {
      const row = await ctx.store.get(OWNER, task.id);
      expect(row).toMatchObject({ status: "completed" });
      attempts.push(row?.attempts ?? 0);
    }
    expect(Math.max(...attempts)).toBeLessThanOrEqual(2);
    // The 4 calls the stop cut off were retried once each; the others ran once.
    expect(attempts.filter((a) => a === 2).length).toBeLessThanOrEqual(4);
    expect(summary).toMatchObject({ completed: 8, failed: 0 });
    expect(starter.askedAt.length).toBeGreaterThanOrEqual(1);
  });
});
