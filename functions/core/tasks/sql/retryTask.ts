/**
 * Sends a failed or cancelled task back to the queue as if new: due now, attempts reset,
 * the previous outcome cleared. No row back: the task is absent or not failed/cancelled.
 */
import { type SqlPort, uuid } from "../../sql/port";
import type { Task } from "../model";
import { rowToTask, taskColumns } from "../taskRow";

export const RETRY_TASK = `
UPDATE tasks SET
  status           = 'pending',
  attempts         = 0,
  run_at           = now(),
  cancel_requested = false,
  result           = NULL,
  error            = NULL,
  started_at       = NULL,
  completed_at     = NULL,
  first_due_at     = NULL,
  first_started_at = NULL,
  updated_at       = now()
WHERE owner = cast(:owner AS text) AND id = cast(:id AS uuid)
  AND status IN ('failed', 'cancelled')
RETURNING ${taskColumns()}`;

export async function retryTask(
  sql: SqlPort,
  owner: string,
  id: string,
): Promise<Task | undefined> {
  const [row] = await sql.query(RETRY_TASK, { owner, id: uuid(id) });
  return row ? rowToTask(row) : undefined;
}
