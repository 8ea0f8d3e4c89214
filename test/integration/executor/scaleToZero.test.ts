import { createConnection, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { countStatements } from "../../../bench/support/countingSqlPort";
import { scheduleEvent, WAKE_MESSAGE } from "../../../functions/core/executor/scheduleEvent";
import { TaskStore } from "../../../functions/core/tasks/store";
import { createTaskTypeRegistry } from "../../../functions/core/taskTypes/registry";
import { createMemoryDueMarker } from "../../../functions/core/wake/memoryDueMarker";
import { createExecutorHandler } from "../../../functions/executor/handler";
import { freePort } from "../../../functions/local/embeddedPostgres";
import { lambdaContext } from "../../support/apiEvents";
import { claimTasks } from "../../support/taskStates";
import {
  createTask,
  defined,
  llmFor,
  OWNER,
  recordingLogger,
  recordingMetrics,
  testSettings,
  useExecutorFixture,
  waitUntil,
} from "./harness";

/**
 * Scale to zero through the executor's handler, on the real PostgreSQL with every statement
 * counted: a tick with nothing due reads nothing, an idle invocation records the next due
 * time and stops, and work due later (a runAt, a dead worker's lease) is still done on time.
 * Cancels reach a running LLM call within about a second; a silent LLM server costs no
 * attempts.
 */

const ctx = useExecutorFixture();
const servers: Server[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** The handler on this file's database, a statement counter, the memory marker. */
function executor(options: { llmUrl?: string; settings?: Record<string, number> } = {}) {
  const counting = countStatements(ctx.db.current.sql);
  const marker = createMemoryDueMarker();
  const logger = recordingLogger();
  const llm = llmFor(options.llmUrl ?? ctx.server.url, 30_000);
  const handler = createExecutorHandler({
    tasks: new TaskStore(counting.port),
    registry: createTaskTypeRegistry(),
    llm,
    llmProbe: () => llm.version({ timeoutMs: 1_000 }),
    notifier: { notify: async () => {} },
    settings: testSettings({ POLL_INTERVAL_MS: 100, ...options.settings }),
    logger,
    metrics: recordingMetrics(),
    tuning: { reserveMarginMs: 1_000, llmRetryMs: 250 },
    dueMarker: marker,
  });
  const tick = (everySeconds = 60, budgetMs = 20_000) =>
    handler(scheduleEvent("test", everySeconds), lambdaContext(budgetMs));
  const wake = (budgetMs = 20_000) =>
    handler(
      { Records: [{ eventSource: "aws:sqs", body: JSON.stringify(WAKE_MESSAGE) }] },
      lambdaContext(budgetMs),
    );
  return { handler, tick, wake, marker, counting, logger };
}

describe("an idle executor", () => {
  it("reads nothing on a tick when nothing is due before the next one", async () => {
    // Prepare: an earlier invocation found the queue empty.
    const { tick, marker, counting } = executor();
    await marker.record(null, 0);

    // Act
    const summary = await tick();

    // Assess
    expect(counting.counts().statements).toBe(0);
    expect(summary).toMatchObject({ claimed: 0, syncs: 0, loops: 0 });
  });

  it("records when work is next due and stops, instead of polling out its budget", async () => {
    // Prepare: nothing due now; one task due in 3 minutes.
    const { tick, marker, counting } = executor();
    const later = await createTask(ctx.store, { runAt: new Date(Date.now() + 180_000) });

    // Act: the marker is unknown, so this tick reads the database once.
    const first = await tick(60, 60_000);
    const read = counting.counts();
    counting.reset();
    const second = await tick(60, 60_000);

    // Assess
    expect(first.durationMs).toBeLessThan(30_000);
    expect(Object.keys(read.byLabel).sort()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^WITH/), expect.stringMatching(/least/)]),
    );
    expect((await marker.read()).dueAtMs).toBe(later.runAt.getTime());
    expect(counting.counts().statements).toBe(0);
    expect(second).toMatchObject({ syncs: 0 });
  });

  it("claims a task due before the next tick at its due time, waiting without reading", async () => {
    // Prepare: the marker knows a task falls due in 1.5 s.
    const { tick, marker, counting } = executor();
    await marker.record(null, 0);
    const task = await createTask(ctx.store, { runAt: new Date(Date.now() + 1_500) });
    await marker.lower(task.runAt.getTime());

    // Act
    const summary = await tick(60, 30_000);

    // Assess
    const done = await ctx.store.get(OWNER, task.id);
    expect(done.status).toBe("completed");
    expect(defined(done.startedAt).getTime()).toBeGreaterThanOrEqual(task.runAt.getTime());
    expect(summary).toMatchObject({ claimed: 1, completed: 1 });
    // No poll before the due time: one sync claims the task, one settles it.
    expect(summary.syncs).toBeLessThanOrEqual(3);
    expect(counting.counts().statements).toBeLessThanOrEqual(6);
  });

  it("recovers a dead worker's task when its lease expires, from the marker alone", async () => {
    // Prepare: a worker claimed the task with a 2 s lease and died.
    const { tick, marker } = executor();
    const task = await createTask(ctx.store);
    await claimTasks(ctx.store, "dead-worker", 1, 2);
    await tick(60, 30_000); // finds nothing to claim: records the lease's expiry
    const recorded = defined((await marker.read()).dueAtMs);

    // Act: the next tick waits for the expiry, recovers and runs the task.
    await tick(60, 30_000);

    // Assess
    const done = await ctx.store.get(OWNER, task.id);
    expect(recorded).toBeGreaterThan(Date.now() - 30_000);
    expect(done).toMatchObject({ status: "completed", attempts: 2 });
  });
});

describe("an LLM server that is stopped", () => {
  it("does not keep an invocation with nothing due: it records the marker and stops", async () => {
    // Prepare: nothing listens where the LLM server should be; no task at all.
    const port = await freePort();
    const { tick, marker } = executor({ llmUrl: `http://127.0.0.1:${port}` });

    // Act
    const summary = await tick(60, 60_000);

    // Assess
    expect(summary.durationMs).toBeLessThan(30_000);
    expect(await marker.read()).toMatchObject({ known: true, dueAtMs: null });
  });
});

describe("a cancel while running", () => {
  it("aborts the LLM call long before the next heartbeat (a third of a 60 s lease)", async () => {
    // Prepare
    ctx.server.setLatency(60_000);
    const { wake } = executor({ settings: { LEASE_SECONDS: 60 } });
    const task = await createTask(ctx.store);
    const running = wake(45_000);
    await waitUntil(() => ctx.server.stats.active === 1, 20_000, "the LLM call to start");

    // Act
    const cancelledAt = Date.now();
    await ctx.store.cancel(OWNER, task.id);
    await waitUntil(() => ctx.server.stats.aborted === 1, 15_000, "the LLM call to be aborted");
    const abortedAfterMs = Date.now() - cancelledAt;
    await running;

    // Assess
    expect(abortedAfterMs).toBeLessThan(15_000);
    expect(await ctx.store.get(OWNER, task.id)).toMatchObject({ status: "cancelled" });
  });
});

describe("an LLM server that is starting", () => {
  it("is waited for: every task completes on its first attempt", async () => {
    // Prepare: nothing listens on the port for 2 s (connections refused), then the Ollama
    // test server answers there.
    const port = await freePort();
    const { wake, logger } = executor({ llmUrl: `http://127.0.0.1:${port}` });
    const tasks = await Promise.all([1, 2, 3].map(() => createTask(ctx.store)));
    setTimeout(() => servers.push(forward(port, ctx.server.port)), 2_000);

    // Act
    const summary = await wake(40_000);

    // Assess
    for (const task of tasks) {
      expect(await ctx.store.get(OWNER, task.id)).toMatchObject({
        status: "completed",
        attempts: 1,
      });
    }
    expect(summary).toMatchObject({ completed: 3, retried: 0 });
    expect(logger.entries.map((e) => e.message)).toEqual(
      expect.arrayContaining([
        "LLM server does not answer; claiming nothing until it does",
        "LLM server answers again; claiming",
      ]),
    );
  });
});

/** A TCP forwarder from `port` to `target`: the "started" server. */
function forward(port: number, target: number): Server {
  const server = createServer((socket) => {
    const upstream = createConnection(target, "127.0.0.1");
    sockets.add(socket).add(upstream);
    socket.pipe(upstream).pipe(socket);
    socket.on("error", () => upstream.destroy());
    upstream.on("error", () => socket.destroy());
  });
  server.listen(port, "127.0.0.1");
  return server;
}
