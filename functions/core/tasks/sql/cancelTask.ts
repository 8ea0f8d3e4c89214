/**
 * Cancels an owner's task: pending → cancelled at once; in_progress → cancel_requested
 * (its executor sees the flag on its next heartbeat, aborts, and settles it cancelled).
 * The CASEs read the row's own status, which PostgreSQL re-reads after waiting for a
 * concurrent writer (a claim that just took the row), so a task claimed at the same
 * moment gets the request instead of a status flip under its worker. No row back: the
 * task is absent or already final.
 */
import { type SqlPort, uuid } from "../../sql/port";
import type { Task } from "../model";
import { rowToTask, taskColumns } from "../taskRow";

export const CANCEL_TASK = `
UPDATE tasks SET
  status           = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END,
  cancel_requested = (status = 'in_progress'),
  completed_at     = CASE WHEN status = 'pending' THEN now() ELSE completed_at END,
  updated_at       = now()
WHERE owner = cast(:owner AS text) AND id = cast(:id AS uuid)
  AND status IN ('pending', 'in_progress')
RETURNING ${taskColumns()}`;

export async function cancelTask(
  sql: SqlPort,
  owner: string,
  id: string,
): Promise<Task | undefined> {
  const [row] = await sql.query(CANCEL_TASK, { owner, id: uuid(id) });
  return row ? rowToTask(row) : undefined;
}
