/**
 * Retention: deletes up to `:batch` tasks that finished (completed, failed, cancelled) more
 * than `:retention_seconds` ago, oldest first, through tasks_retention_idx
 * (migrations/0003_fair_claim.sql), so a batch costs its own rows, not the table's size.
 * `pending` and `in_progress` rows are never touched: the candidates are locked with
 * SKIP LOCKED, and FOR UPDATE re-checks the status on the latest row version, so a task a
 * caller retried since the snapshot (back to pending) stays.
 *
 * RETURNING the deleted ids and the payload keys their rows refer to: what is stored for a
 * task outside its row (big inputs and results, its checkpoint; ../../payloads) is deleted
 * with it. A key counts only when the jsonb is an object of `$ref` and no key a reference
 * lacks; the claim check stores every such value behind a real reference, so a caller's
 * own JSON can never name an object here.
 */
import type { SqlPort } from "../../sql/port";
import type { ExpiredTask } from "../model";

const refOf = (column: string) =>
  `CASE WHEN jsonb_typeof(${column}) = 'object'
         AND (${column} - '$ref' - 'bytes' - 'sha256') = cast('{}' AS jsonb)
       THEN ${column} ->> '$ref' END`;

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
RETURNING t.id, ${refOf("t.input")} AS input_ref, ${refOf("t.result")} AS result_ref`;

/** The tasks deleted, each with the payload keys its row referred to. */
export async function deleteExpiredTasks(
  sql: SqlPort,
  params: { retentionSeconds: number; batch: number },
): Promise<ExpiredTask[]> {
  const rows = await sql.query<{
    id: string;
    input_ref: string | null;
    result_ref: string | null;
  }>(DELETE_EXPIRED_TASKS, {
    retention_seconds: params.retentionSeconds,
    batch: params.batch,
  });
  return rows.map((row) => ({
    id: String(row.id),
    payloadKeys: [row.input_ref, row.result_ref].filter((key): key is string => key !== null),
  }));
}
