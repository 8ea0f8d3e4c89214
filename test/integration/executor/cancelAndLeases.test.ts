import { describe, expect, it } from "vitest";
import { createPgSqlPort } from "../../../functions/core/sql/pgAdapter";
import { TaskStore } from "../../../functions/core/tasks/store";
import {
  createTask,
  llmFor,
  OWNER,
  recordingLogger,
  severableSql,
  startLoop,
  useExecutorFixture,
  waitUntil,
} from "./harness";

/** Cancel aborts the running LLM call; a lease left behind is taken over once, safely. */

const ctx = useExecutorFixture();

describe("cancel while running", () => {
  it("aborts the in-flight LLM call and ends the task cancelled, with no result", async () => {
    // Prepare: a call that would take a minute.
    ctx.server.setLatency(60_000);
    const task = await createTask(ctx.store);
    const loop = startLoop({
      tasks: ctx.store,
      llm: llmFor(ctx.server.url, 120_000),
      workerId: "cancel-1",
    });
    await waitUntil(() => ctx.server.stats.active === 1, 30_000, "the LLM call to start");

    // Act
    const requested = await ctx.store.cancel(OWNER, task.id);
    await waitUntil(
      async () => (await ctx.store.get(OWNER, task.id)).status === "cancelled",
      30_000,
      "the cancel",
    );
    loop.stop();
    const summary = await loop.done;

    // Assess
    expect(requested).toMatchObject({ status: "in_progress", cancelRequested: true });
    const row = await ctx.store.get(OWNER, task.id);
    expect(row).toMatchObject({ status: "cancelled", result: null, leaseOwner: null, attempts: 1 });
    await waitUntil(() => ctx.server.stats.aborted === 1, 10_000, "the server to see the abort");
    expect(ctx.server.calls()[0]?.outcome).toBe("aborted");
    expect(summary).toMatchObject({ claimed: 1, cancelled: 1, completed: 0, failed: 0 });
  });
});

describe("a loop abandoned mid-task", () => {
  it("leaves a task that another loop reclaims after the lease and completes once; the first cannot overwrite it", async () => {
    // Prepare: loop A has its own connection, which the test cuts once A has claimed.
    let call = 0;
    ctx.server.respondWith(() => `answer number ${++call}`);
    ctx.server.setLatency(800);
    const task = await createTask(ctx.store);
    const poolA = severableSql(createPgSqlPort({ connectionString: ctx.db.current.url, max: 2 }));
    const loggerA = recordingLogger();
    const settings = { LEASE_SECONDS: 2 };
    const loopA = startLoop({
      tasks: new TaskStore(poolA),
      llm: llmFor(ctx.server.url),
      workerId: "abandoning-a",
      settings,
      logger: loggerA,
    });
    await waitUntil(() => ctx.server.stats.active === 1, 30_000, "A's LLM call to start");
    poolA.down = true; // A can no longer heartbeat or settle: to the queue it looks dead.

    // Act: B comes along; after A's lease expires it recovers the task and runs it again.
    const loopB = startLoop({
      tasks: ctx.store,
      llm: llmFor(ctx.server.url),
      workerId: "rescuing-b",
      settings,
    });
    await waitUntil(
      async () => (await ctx.store.get(OWNER, task.id)).status === "completed",
      60_000,
      "B to complete it",
    );
    const completed = await ctx.store.get(OWNER, task.id);
    // A's answer came back long ago and is still buffered: let A reach the database again.
    poolA.down = false;
    await waitUntil(
      () =>
        loggerA.entries.some((e) =>
          e.message.startsWith("outcome not written: the lease was lost"),
        ),
      30_000,
      "A's late outcome to be fenced out",
    );
    loopA.stop();
    loopB.stop();
    const [summaryA, summaryB] = await Promise.all([loopA.done, loopB.done]);
    await poolA.close();

    // Assess: completed once, by B, on the second attempt; A's late write changed nothing.
    const row = await ctx.store.get(OWNER, task.id);
    expect(row).toMatchObject({ status: "completed", attempts: 2, leaseOwner: null });
    expect(row.result).toMatchObject({ summary: "answer number 2" });
    expect(row.completedAt).toEqual(completed.completedAt);
    expect(row.updatedAt).toEqual(completed.updatedAt);
    expect(ctx.server.stats.totalCalls).toBe(2);
    expect(summaryA).toMatchObject({ claimed: 1, completed: 0, leaseLost: 1 });
    expect(summaryA.databaseErrors).toBeGreaterThan(0);
    expect(summaryB).toMatchObject({ recovered: 1, claimed: 1, completed: 1 });
  });
});
