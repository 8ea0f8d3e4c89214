/**
 * Retention: deletes up to `:batch` tasks that finished (completed, failed, cancelled) more
 * than `:retention_seconds` ago, oldest first, through tasks_retention_idx
 * (migrations/0003_fair_claim.sql), so a batch costs its own rows, not the table's size.
 * `pending` and `in_progress` rows are never touched: the candidates are locked with
 * SKIP LOCKED, and FOR UPDATE re-checks the status on the latest row version, so a task a
 * caller retried since the snapshot (back to pending) stays.
 *
 * RETURNING the deleted ids on purpose: whatever is stored for a task outside its row
 * (e.g. big payloads in object storage) must be deleted with it, and these ids are the hook.
 */
import type { SqlPort } from "../../sql/port";

export const DELETE_EXPIRED_TASKS = `
WITH expired AS (
  SELECT id
  FROM tasks
  WHERE status IN ('completed', 'failed', 'cancelled')
    AND completed_at < now() - cast(:retention_seconds AS integer) * interval '1 second'
  ORDER BY completed_at
  LIMIT cast(:batch AS integer)
  FOR UPDATE SKIP LOCKED
)
DELETE FROM tasks AS t
USING expired AS e
WHERE t.id = e.id
RETURNING t.id`;

/** The ids of the tasks deleted. */
export async function deleteExpiredTasks(
  sql: SqlPort,
  params: { retentionSeconds: number; batch: number },
): Promise<string[]> {
  const rows = await sql.query<{ id: string }>(DELETE_EXPIRED_TASKS, {
    retention_seconds: params.retentionSeconds,
    batch: params.batch,
  });
  return rows.map((row) => String(row.id));
}
