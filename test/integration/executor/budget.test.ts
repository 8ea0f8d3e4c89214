import { describe, expect, it } from "vitest";
import { runExecutor } from "../../../functions/core/executor/loop";
import {
  createTask,
  createTasks,
  llmFor,
  loopDeps,
  OWNER,
  recordingTasks,
  statusCounts,
  useExecutorFixture,
  waitUntil,
} from "./harness";

/**
 * The time budget: claiming stops once the remaining time falls below the reserve
 * (LLM_TIMEOUT_MS + margin), attempts still running near the end are given back, and the
 * loop returns before the budget ends.
 */

const ctx = useExecutorFixture();

// Reserve = LLM_TIMEOUT_MS 1 s + margin 1 s = 2 s.
const settings = { LLM_TIMEOUT_MS: 1_000, MAX_CONCURRENCY: 2 };
const tuning = { reserveMarginMs: 1_000 };

describe("the executor's time budget", () => {
  it("stops claiming when the budget falls below the reserve and returns before it ends", async () => {
    // Prepare: far more work than fits in the budget.
    ctx.server.setLatency(300);
    await createTasks(ctx.store, 60);
    const tasks = recordingTasks(ctx.store);
    const budgetMs = 5_000;

    // Act
    const startedAt = Date.now();
    const summary = await runExecutor(
      loopDeps({ tasks, llm: llmFor(ctx.server.url), workerId: "budget-1", settings, tuning }),
      budgetMs,
    );
    const returnedAt = Date.now();

    // Assess: claims only while at least the reserve remained (a little slack for the
    // synchronous code between the loop's decision and the recorded send).
    const claimUntil = startedAt + budgetMs - 2_000;
    const claiming = tasks.syncs.filter((s) => s.request.claimLimit > 0);
    expect(claiming.length).toBeGreaterThan(0);
    for (const sync of claiming) expect(sync.sentAt).toBeLessThanOrEqual(claimUntil + 50);
    expect(
      tasks.syncs.some((s) => s.request.claimLimit === 0 && s.request.outcomes.length > 0),
    ).toBe(true);
    expect(returnedAt - startedAt).toBeLessThan(budgetMs);
    // What it claimed it finished; the rest is still waiting, untouched.
    const counts = await statusCounts(ctx.db.current.sql);
    expect(counts.in_progress).toBeUndefined();
    expect(counts.completed).toBe(summary.claimed);
    expect(counts.pending).toBe(60 - summary.claimed);
    expect(summary).toMatchObject({ completed: summary.claimed, unsettled: 0 });
  });

  it("claims nothing when the budget is already below the reserve", async () => {
    // Prepare
    const task = await createTask(ctx.store);
    const tasks = recordingTasks(ctx.store);

    // Act
    const summary = await runExecutor(
      loopDeps({ tasks, llm: llmFor(ctx.server.url), workerId: "budget-2", settings, tuning }),
      1_500,
    );

    // Assess
    expect(tasks.syncs.every((s) => s.request.claimLimit === 0)).toBe(true);
    expect(summary.claimed).toBe(0);
    expect(await ctx.store.get(OWNER, task.id)).toMatchObject({ status: "pending", attempts: 0 });
  });

  it("gives back an attempt still running near the end: aborted, pending again and due at once", async () => {
    // Prepare: the task's call outlasts the budget (its client allows a minute, more than
    // LLM_TIMEOUT_MS, as a type making several calls could).
    ctx.server.setLatency(60_000);
    const task = await createTask(ctx.store);

    // Act
    const startedAt = Date.now();
    const summary = await runExecutor(
      loopDeps({
        tasks: ctx.store,
        llm: llmFor(ctx.server.url, 60_000),
        workerId: "budget-3",
        settings,
        tuning,
      }),
      4_000,
    );
    const returnedAt = Date.now();

    // Assess
    expect(returnedAt - startedAt).toBeLessThan(4_000);
    const row = await ctx.store.get(OWNER, task.id);
    expect(row).toMatchObject({ status: "pending", attempts: 1, leaseOwner: null, result: null });
    expect(row.error).toContain("interrupted");
    expect(row.runAt.getTime()).toBeLessThanOrEqual(returnedAt);
    await waitUntil(() => ctx.server.stats.aborted === 1, 10_000, "the server to see the abort");
    expect(summary).toMatchObject({ claimed: 1, retried: 1, unsettled: 0 });
  });

  it("winds down when a budget read as a function is cut short (the local runtime's shutdown)", async () => {
    // Prepare
    ctx.server.setLatency(60_000);
    const task = await createTask(ctx.store);
    let deadline = Date.now() + 120_000;
    const run = runExecutor(
      loopDeps({
        tasks: ctx.store,
        llm: llmFor(ctx.server.url, 60_000),
        workerId: "budget-4",
        settings,
        tuning,
      }),
      () => deadline - Date.now(),
    );
    await waitUntil(() => ctx.server.stats.active === 1, 30_000, "the call to start");

    // Act
    deadline = Date.now() + 1_500;
    const summary = await run;

    // Assess
    expect(Date.now()).toBeLessThan(deadline);
    expect(await ctx.store.get(OWNER, task.id)).toMatchObject({ status: "pending", attempts: 1 });
    expect(summary).toMatchObject({ claimed: 1, retried: 1 });
  });
});
