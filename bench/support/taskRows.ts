import pg from "pg";

/**
 * What the benchmarks read back from the tasks table, straight over `pg` and apart from
 * the ports under test, so reading progress is never counted as the executor's work.
 * Seeding is one bulk INSERT, pg-boss's `insert()` counterpart: how tasks arrive is not
 * what the queue benchmarks measure (the API benchmark measures creating them).
 */
export class TaskRows {
  private constructor(private readonly client: pg.Client) {}

  static async open(url: string): Promise<TaskRows> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new TaskRows(client);
  }

  async seed(count: number, type: string, model: string): Promise<void> {
    await this.client.query(
      `INSERT INTO tasks (owner, type, input, model)
       SELECT 'bench', $1, '{}'::jsonb, $2 FROM generate_series(1, $3)`,
      [type, model, count],
    );
    // Planner statistics, as a table in use has them (both queues get the same).
    await this.client.query("ANALYZE tasks");
  }

  async countByStatus(): Promise<Record<string, number>> {
    const { rows } = await this.client.query<{ status: string; n: number }>(
      "SELECT status, count(*)::int AS n FROM tasks GROUP BY status",
    );
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  async completedCount(): Promise<number> {
    const { rows } = await this.client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM tasks WHERE status = 'completed'",
    );
    return rows[0]?.n ?? 0;
  }

  /** First claim to last completion of the completed tasks, in ms. */
  async drainWindow(): Promise<{ completed: number; elapsedMs: number }> {
    const { rows } = await this.client.query<{ completed: number; elapsed_ms: string | null }>(
      `SELECT count(*)::int AS completed,
              extract(epoch FROM max(completed_at) - min(started_at)) * 1000 AS elapsed_ms
         FROM tasks WHERE status = 'completed'`,
    );
    return { completed: rows[0]?.completed ?? 0, elapsedMs: Number(rows[0]?.elapsed_ms ?? 0) };
  }

  /** `started_at - created_at` of every task picked up, in ms, and how many were not. */
  async pickupLatencies(): Promise<{ latenciesMs: number[]; notPickedUp: number }> {
    const { rows } = await this.client.query<{ ms: string | null }>(
      // Pickup latency as the pipeline defines it (migrations/0002_pickup.sql), the same
      // two columns /api/metrics and the PickupLatency metric read.
      "SELECT extract(epoch FROM first_started_at - first_due_at) * 1000 AS ms FROM tasks",
    );
    const latenciesMs = rows.filter((row) => row.ms !== null).map((row) => Number(row.ms));
    return { latenciesMs, notPickedUp: rows.length - latenciesMs.length };
  }

  close(): Promise<void> {
    return this.client.end();
  }
}

/** Polls `check` every `everyMs` until it is true or `timeoutMs` passes; says which. */
export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 200,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
