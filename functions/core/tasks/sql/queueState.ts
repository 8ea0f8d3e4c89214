/**
 * How far behind the whole queue is: due pending tasks and the oldest one's wait. Every
 * executor reads it once a minute for its QueueDepth and OldestPendingAge metrics, so it
 * must cost what the backlog costs, not what the table holds: both predicates match
 * the partial indexes on pending rows (tasks_fair_claim_idx, tasks_due_idx), so finished
 * rows, however many millions, are never read. (taskStats, which counts every status, is for the API's
 * per-owner metrics.)
 */
import type { SqlPort } from "../../sql/port";
import type { QueueState } from "../model";

export const QUEUE_STATE = `
SELECT count(*) AS queue_depth,
       cast(extract(epoch FROM now() - min(run_at)) AS double precision) AS oldest_pending_age_seconds
FROM tasks
WHERE status = 'pending' AND run_at <= now()`;

export async function queueState(sql: SqlPort): Promise<QueueState> {
  const [row] = await sql.query<{
    queue_depth: number;
    oldest_pending_age_seconds: number | null;
  }>(QUEUE_STATE);
  const oldest = row?.oldest_pending_age_seconds;
  return {
    queueDepth: Number(row?.queue_depth ?? 0),
    oldestPendingAgeSeconds: oldest === null || oldest === undefined ? null : Number(oldest),
  };
}
