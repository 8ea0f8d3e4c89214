import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createPgSqlPort } from "../../../functions/core/sql/pgAdapter";
import type { SqlPort } from "../../../functions/core/sql/port";
import type { SettledTask, Task, TaskOutcome } from "../../../functions/core/tasks/model";
import { TaskStore } from "../../../functions/core/tasks/store";
import { useTestDatabase } from "../../support/database";
import { claimTasks, settleTasks } from "../../support/taskStates";

/**
 * Many workers on one queue, each with its own connection pool, so their claims really
 * race inside PostgreSQL (node-postgres only: this is about the database, not an adapter).
 */
const WORKERS = 8;
const TASKS = 2_000;
const BATCH = 25;

describe("TaskStore under concurrent workers", () => {
  const db = useTestDatabase();
  const pools: SqlPort[] = [];

  beforeAll(() => {
    for (let i = 0; i < WORKERS; i++) {
      pools.push(createPgSqlPort({ connectionString: db.current.url, max: 2 }));
    }
  });
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.close()));
  });
  beforeEach(async () => {
    await db.current.truncate();
  });

  /** Bulk-inserts `n` due pending tasks with mixed priorities. */
  const seed = async (n: number) => {
    await db.current.sql.query(
      `INSERT INTO tasks (owner, type, input, model, priority, run_at)
       SELECT 'owner-' || (i % 7), 'prompt', jsonb_build_object('n', i), 'm', i % 5,
              now() - (i % 13) * interval '1 second'
       FROM generate_series(1, cast(:n AS integer)) AS i`,
      { n },
    );
  };
  const statusCounts = async () => {
    const rows = await db.current.sql.query<{ status: string; n: number }>(
      "SELECT status, count(*) AS n FROM tasks GROUP BY status",
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  };

  it("8 workers finish 2,000 tasks, each claimed and completed exactly once", {
    timeout: 180_000,
  }, async () => {
    // Prepare
    await seed(TASKS);
    const claims: Array<{ id: string; worker: string; attempts: number }> = [];
    const completions: Array<{ id: string; worker: string }> = [];

    // Act: half the workers use one round trip per batch (sync: settle the last batch and
    // claim the next), half two round trips (settle the last batch, then claim the next)
    const work = async (index: number) => {
      const store = new TaskStore(pools[index] as SqlPort);
      const worker = `worker-${index}`;
      const useSync = index % 2 === 0;
      let inHand: Task[] = [];
      for (;;) {
        const outcomes: TaskOutcome[] = inHand.map((task) => ({
          id: task.id,
          status: "completed",
          result: { by: worker },
        }));
        let claimed: Task[];
        let settled: SettledTask[];
        if (useSync) {
          const result = await store.sync({
            workerId: worker,
            leaseSeconds: 300,
            outcomes,
            heartbeatIds: [],
            claimLimit: BATCH,
          });
          settled = result.settled;
          claimed = result.claimed;
        } else {
          settled = await settleTasks(store, worker, outcomes);
          claimed = (await claimTasks(store, worker, BATCH, 300)).claimed;
        }
        for (const task of settled) completions.push({ id: task.id, worker });
        for (const task of claimed) claims.push({ id: task.id, worker, attempts: task.attempts });
        // Nothing left to claim (SKIP LOCKED only skips rows another claim is taking).
        if (claimed.length === 0) break;
        inHand = claimed;
        await new Promise((resolve) => setImmediate(resolve)); // let the others interleave
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, i) => work(i)));

    // Assess
    const claimedIds = claims.map((c) => c.id);
    expect(claims).toHaveLength(TASKS);
    expect(new Set(claimedIds).size).toBe(TASKS);
    expect(claims.every((c) => c.attempts === 1)).toBe(true);
    expect(completions).toHaveLength(TASKS);
    expect(new Set(completions.map((c) => c.id)).size).toBe(TASKS);
    // Each task was completed by the worker that claimed it.
    const claimer = new Map(claims.map((c) => [c.id, c.worker]));
    expect(completions.every((c) => claimer.get(c.id) === c.worker)).toBe(true);
    expect(await statusCounts()).toEqual({ completed: TASKS });
    const [mismatch] = await db.current.sql.query<{ n: number }>(
      `SELECT count(*) AS n FROM tasks
         WHERE attempts <> 1 OR lease_owner IS NOT NULL OR result->>'by' IS NULL`,
    );
    expect(Number(mismatch?.n)).toBe(0);
    // The work was shared: more than one worker claimed.
    expect(new Set(claims.map((c) => c.worker)).size).toBeGreaterThan(1);
  });

  it("8 workers recovering 300 expired leases at once recover each exactly once", {
    timeout: 120_000,
  }, async () => {
    // Prepare: 300 tasks claimed by a worker that then died (leases already expired)
    await seed(300);
    await db.current.sql.query(
      `UPDATE tasks SET status = 'in_progress', attempts = 1, lease_owner = 'dead',
                          started_at = now() - interval '2 minutes',
                          lease_expires_at = now() - interval '1 minute'`,
    );
    const recovered: string[] = [];
    const claimed: string[] = [];

    // Act: every worker keeps claiming until a call recovers and claims nothing
    const work = async (index: number) => {
      const store = new TaskStore(pools[index] as SqlPort);
      for (;;) {
        const result = await claimTasks(store, `worker-${index}`, 20, 300);
        recovered.push(...result.recovered.map((t) => t.id));
        claimed.push(...result.claimed.map((t) => t.id));
        if (result.recovered.length === 0 && result.claimed.length === 0) break;
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, i) => work(i)));
    // A worker may stop while another's recovery is still committing: one last sweep.
    const last = await claimTasks(new TaskStore(pools[0] as SqlPort), "sweeper", 300, 300);
    claimed.push(...last.claimed.map((t) => t.id));

    // Assess
    expect(recovered).toHaveLength(300);
    expect(new Set(recovered).size).toBe(300);
    expect(last.recovered).toEqual([]);
    expect(claimed).toHaveLength(300);
    expect(new Set(claimed).size).toBe(300);
    expect(await statusCounts()).toEqual({ in_progress: 300 });
    const [wrong] = await db.current.sql.query<{ n: number }>(
      "SELECT count(*) AS n FROM tasks WHERE attempts <> 2 OR lease_owner = 'dead'",
    );
    expect(Number(wrong?.n)).toBe(0);
  });
});
