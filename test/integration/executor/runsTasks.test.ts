import { describe, expect, it } from "vitest";
import type { TaskStore } from "../../../functions/core/tasks/store";
import { METRICS } from "../../../functions/core/telemetry/metricNames";
import {
  createTask,
  createTasks,
  llmFor,
  MODEL,
  OWNER,
  recordingMetrics,
  recordingTasks,
  startLoop,
  useExecutorFixture,
  waitUntil,
} from "./harness";

/** The executor loop runs each built-in task type to completion and keeps its result. */

const ctx = useExecutorFixture();

describe("runExecutor", () => {
  it("completes a task of each type with its result, usage and duration stored", async () => {
    // Prepare
    ctx.server.respondWith((call) => {
      if (call.format && typeof call.format === "object") {
        return { title: "Tide Pools", content: "## Tide pools\n\nSmall worlds left by the sea." };
      }
      if (call.format === "json") return { verdict: "calm", score: 7 };
      return `Answer about: ${call.lastUserMessage.slice(0, 40)}`;
    });
    const generated = await createTask(ctx.store, {
      type: "generate_content",
      input: { topic: "tide pools", wordCount: 100 },
    });
    const summarized = await createTask(ctx.store, {
      type: "summarize",
      input: { text: "The sea rose and fell all day long." },
    });
    const prompted = await createTask(ctx.store, {
      type: "prompt",
      input: { prompt: "Rate the sea today", format: "json" },
    });
    const metrics = recordingMetrics();
    const tasks = recordingTasks(ctx.store);
    const loop = startLoop({ tasks, llm: llmFor(ctx.server.url), workerId: "types-1", metrics });

    // Act
    await waitUntil(
      async () => {
        const rows = await Promise.all(
          [generated, summarized, prompted].map((t) => ctx.store.get(OWNER, t.id)),
        );
        return rows.every((row) => row.status === "completed");
      },
      30_000,
      "all three tasks to complete",
    );
    loop.stop();
    const summary = await loop.done;

    // Assess
    const envelope = {
      model: MODEL,
      usage: { promptTokens: expect.any(Number), completionTokens: expect.any(Number) },
      durationMs: expect.any(Number),
    };
    const g = await ctx.store.get(OWNER, generated.id);
    expect(g.result).toEqual({
      title: "Tide Pools",
      content: "## Tide pools\n\nSmall worlds left by the sea.",
      wordCount: expect.any(Number),
      ...envelope,
    });
    const s = await ctx.store.get(OWNER, summarized.id);
    expect(s.result).toEqual({
      summary: expect.stringContaining("Answer about"),
      chunks: 1,
      ...envelope,
    });
    const p = await ctx.store.get(OWNER, prompted.id);
    expect(p.result).toEqual({ response: { verdict: "calm", score: 7 }, ...envelope });
    for (const row of [g, s, p]) {
      expect(row).toMatchObject({
        attempts: 1,
        error: null,
        leaseOwner: null,
        completedAt: expect.any(Date),
      });
    }
    expect(ctx.server.stats.totalCalls).toBe(3);
    expect(summary).toMatchObject({
      workerId: "types-1",
      claimed: 3,
      completed: 3,
      failed: 0,
      retried: 0,
    });
    expect(summary.syncs).toBe(tasks.syncs.length);
    expect(metrics.sum(METRICS.tasksClaimed.name)).toBe(3);
    expect(metrics.sum(METRICS.tasksCompleted.name)).toBe(3);
    expect(metrics.points.filter((m) => m.name === METRICS.pickupLatency.name)).toHaveLength(3);
    expect(metrics.points.filter((m) => m.name === METRICS.runDuration.name)).toHaveLength(3);
    const usage = [g, s, p].map(
      (row) => (row.result as { usage: { promptTokens: number; completionTokens: number } }).usage,
    );
    expect(metrics.sum(METRICS.promptTokens.name)).toBe(
      usage.reduce((n, u) => n + u.promptTokens, 0),
    );
    expect(metrics.sum(METRICS.completionTokens.name)).toBe(
      usage.reduce((n, u) => n + u.completionTokens, 0),
    );
    expect(metrics.points.some((m) => m.name === METRICS.queueDepth.name)).toBe(true);
    expect(metrics.flushes).toBeGreaterThan(0);
  });

  it("heartbeats running tasks and never sends an id both as an outcome and as a heartbeat", async () => {
    // Prepare: slow enough calls that heartbeats fall due while others finish.
    ctx.server.setLatency(() => 300 + Math.floor(Math.random() * 1_200));
    await createTasks(ctx.store, 24);
    const tasks = recordingTasks(ctx.store);
    const loop = startLoop({
      tasks,
      llm: llmFor(ctx.server.url),
      workerId: "batching-1",
      settings: { LEASE_SECONDS: 2, MAX_CONCURRENCY: 6 },
    });

    // Act
    await waitUntil(
      async () => (await statusCountsOf(ctx.store)).completed === 24,
      60_000,
      "24 completions",
    );
    loop.stop();
    const summary = await loop.done;

    // Assess
    for (const { request } of tasks.syncs) {
      const settling = new Set(request.outcomes.map((o) => o.id));
      expect(request.heartbeatIds.filter((id) => settling.has(id))).toEqual([]);
      expect(request.claimLimit).toBeLessThanOrEqual(6);
    }
    const heartbeats = tasks.syncs.reduce((n, s) => n + s.request.heartbeatIds.length, 0);
    expect(heartbeats).toBeGreaterThan(0);
    expect(summary).toMatchObject({ claimed: 24, completed: 24, leaseLost: 0 });
    expect(ctx.server.stats.maxActive).toBeLessThanOrEqual(6);
  });
});

async function statusCountsOf(store: TaskStore): Promise<Record<string, number>> {
  const stats = await store.stats(OWNER, 60);
  return stats.counts;
}
