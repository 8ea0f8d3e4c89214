import { describe, expect, it } from "vitest";
import { uuid } from "../../../functions/core/sql/port";
import { METRICS } from "../../../functions/core/telemetry/metricNames";
import {
  createTask,
  llmFor,
  recordingMetrics,
  startLoop,
  useExecutorFixture,
  waitUntil,
} from "./harness";

/**
 * Retention through the executor: with RETENTION_SECONDS short, the executor's own sweep
 * deletes tasks that finished longer ago, and nothing else (pending, running, recent).
 */

const ctx = useExecutorFixture();

describe("runExecutor's retention", () => {
  it("deletes finished tasks once they expire, keeping pending, running and recent ones", async () => {
    // Prepare
    const { sql } = ctx.db.current;
    const finishedAgo = async (id: string, status: string, seconds: number) => {
      await sql.query(
        `UPDATE tasks SET status = '${status}', completed_at = now() - cast(:s AS integer) * interval '1 second'
         WHERE id = cast(:id AS uuid)`,
        { id: uuid(id), s: seconds },
      );
    };
    const inAnHour = new Date(Date.now() + 3_600_000);
    const expired = await createTask(ctx.store, { runAt: inAnHour });
    const expiring = await createTask(ctx.store, { runAt: inAnHour });
    const recent = await createTask(ctx.store, { runAt: inAnHour });
    const pending = await createTask(ctx.store, { runAt: inAnHour });
    const running = await createTask(ctx.store);
    await ctx.store.sync({
      workerId: "another-worker",
      leaseSeconds: 600,
      outcomes: [],
      heartbeatIds: [],
      claimLimit: 1,
    });
    await finishedAgo(expired.id, "completed", 3_600);
    // Expires 3 s from now.
    await finishedAgo(expiring.id, "failed", 57);
    await finishedAgo(recent.id, "cancelled", 0);
    const metrics = recordingMetrics();
    const loop = startLoop({
      tasks: ctx.store,
      llm: llmFor(ctx.server.url),
      workerId: "retention-1",
      metrics,
      settings: { RETENTION_SECONDS: 60 },
      tuning: { retentionIntervalMs: 1_000 },
    });
    const exists = async (id: string) =>
      (await sql.query("SELECT id FROM tasks WHERE id = cast(:id AS uuid)", { id: uuid(id) }))
        .length > 0;

    // Act
    await waitUntil(async () => !(await exists(expired.id)), 10_000, "the expired task gone");
    const expiringStillThere = await exists(expiring.id);
    await waitUntil(async () => !(await exists(expiring.id)), 30_000, "the expiring task gone");
    loop.stop();
    const summary = await loop.done;

    // Assess
    expect(expiringStillThere).toBe(true);
    const left = await sql.query<{ id: string; status: string }>(
      "SELECT id, status FROM tasks ORDER BY status",
    );
    expect(Object.fromEntries(left.map((r) => [r.id, r.status]))).toEqual({
      [recent.id]: "cancelled",
      [running.id]: "in_progress",
      [pending.id]: "pending",
    });
    expect(summary.expired).toBe(2);
    expect(metrics.sum(METRICS.tasksExpired.name)).toBe(2);
  });
});
