/**
 * Queue statistics in one statement, for one owner or (`:owner` NULL) the whole queue.
 * Pickup latency is first_started_at - first_due_at (see migrations/0002_pickup.sql: from
 * when the task became due for its first attempt to when that attempt started; never
 * negative) of first attempts started in the window; run duration is completed_at - started_at of tasks completed in the window.
 * Only a task's latest attempt is on its row, so a retried task counts once, for that
 * attempt. Values outside the window are NULL and the aggregates skip them.
 */
import type { SqlPort } from "../../sql/port";
import { type Percentiles, TASK_STATUSES, type TaskStats } from "../model";

const percentiles = (column: string) =>
  [
    `percentile_cont(0.50) WITHIN GROUP (ORDER BY ${column}) AS ${column}_p50`,
    `percentile_cont(0.95) WITHIN GROUP (ORDER BY ${column}) AS ${column}_p95`,
    `percentile_cont(0.99) WITHIN GROUP (ORDER BY ${column}) AS ${column}_p99`,
    `cast(max(${column}) AS double precision) AS ${column}_max`,
    `count(${column}) AS ${column}_count`,
  ].join(",\n  ");

export const TASK_STATS = `
SELECT
  ${TASK_STATUSES.map((s) => `count(*) FILTER (WHERE status = '${s}') AS count_${s}`).join(",\n  ")},
  count(*) FILTER (WHERE status = 'pending' AND run_at <= now()) AS queue_depth,
  cast(extract(epoch FROM now() - min(run_at) FILTER (WHERE status = 'pending' AND run_at <= now()))
       AS double precision) AS oldest_pending_age_seconds,
  ${percentiles("pickup_ms")},
  ${percentiles("run_ms")}
FROM (
  SELECT status, run_at,
         CASE WHEN first_started_at >= window_start
              THEN cast(extract(epoch FROM first_started_at - first_due_at) * 1000 AS double precision) END
           AS pickup_ms,
         CASE WHEN status = 'completed' AND completed_at >= window_start
              THEN cast(extract(epoch FROM completed_at - started_at) * 1000 AS double precision) END
           AS run_ms
  FROM tasks,
       LATERAL (SELECT now() - cast(:window_seconds AS integer) * interval '1 second' AS window_start) AS w
  WHERE cast(:owner AS text) IS NULL OR owner = cast(:owner AS text)
) AS scoped`;

type StatsRow = Record<string, number | null>;

export async function taskStats(
  sql: SqlPort,
  params: { owner: string | null; windowSeconds: number },
): Promise<TaskStats> {
  const [row = {}] = await sql.query<StatsRow>(TASK_STATS, {
    owner: params.owner,
    window_seconds: params.windowSeconds,
  });
  const num = (name: string) => Number(row[name] ?? 0);
  const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, num(`count_${s}`)])) as Record<
    (typeof TASK_STATUSES)[number],
    number
  >;
  const oldest = row.oldest_pending_age_seconds;
  return {
    counts,
    queueDepth: num("queue_depth"),
    oldestPendingAgeSeconds: oldest === null || oldest === undefined ? null : Number(oldest),
    windowSeconds: params.windowSeconds,
    pickupLatencyMs: percentilesOf(row, "pickup_ms"),
    runDurationMs: percentilesOf(row, "run_ms"),
  };
}

function percentilesOf(row: StatsRow, column: string): Percentiles | null {
  const count = Number(row[`${column}_count`] ?? 0);
  if (count === 0) return null;
  const value = (suffix: string) => Number(row[`${column}_${suffix}`]);
  return {
    p50: value("p50"),
    p95: value("p95"),
    p99: value("p99"),
    max: value("max"),
    count,
  };
}
