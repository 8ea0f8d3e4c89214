import { json, type SqlPort } from "../../sql/port";
import type { Task, TaskOutcome } from "../model";
import { rowToTask } from "../rows";
import { HELD_BY_WORKER } from "./lease";
import { SLIM_COLUMNS, someTaskColumns, taskColumns } from "./taskColumns";

/**
 * Settle, as CTEs (`outcome`, `settled`) shared with syncTasks: writes each outcome in
 * `:outcomes` (a JSON array of {id, status, result, error, run_at}) to its task, fenced by
 * this worker's lease, and ends the lease. The CASEs read the row as it is when locked, so
 * a cancel requested while the attempt ran still wins over a retry, and a retry asked for
 * with no attempts left ends failed: the statuses mean the same whatever the caller sent.
 *   completed → result kept, error cleared;  failed → error kept;
 *   cancelled → error (default 'cancelled while running');
 *   pending   → error kept as the last error, due again at run_at (the backoff);
 *               cancelled instead if cancel was requested; failed if out of attempts.
 * Final statuses get completed_at; pending keeps started_at (its last attempt's start).
 */
const RETRIES = "o.status = 'pending' AND NOT t.cancel_requested AND t.attempts < t.max_attempts";

export const SETTLE_CTES = `
outcome AS (
  SELECT o.id, o.status, o.result, o.error, o.run_at
  FROM jsonb_to_recordset(cast(:outcomes AS jsonb))
       AS o(id uuid, status text, result jsonb, error text, run_at timestamptz)
),
settled AS (
  UPDATE tasks AS t SET
    status           = CASE
      WHEN o.status <> 'pending' THEN o.status
      WHEN t.cancel_requested THEN 'cancelled'
      WHEN t.attempts >= t.max_attempts THEN 'failed'
      ELSE 'pending' END,
    result           = CASE WHEN o.status = 'completed' THEN o.result END,
    error            = CASE
      WHEN o.status = 'completed' THEN NULL
      WHEN o.status = 'cancelled' THEN coalesce(o.error, 'cancelled while running')
      WHEN o.status = 'failed' THEN o.error
      WHEN t.cancel_requested THEN 'cancelled while running; its last attempt failed: ' || o.error
      WHEN t.attempts >= t.max_attempts THEN
        format('%s (no attempts left: %s of %s)', o.error, t.attempts, t.max_attempts)
      ELSE o.error END,
    run_at           = CASE WHEN ${RETRIES} THEN o.run_at ELSE t.run_at END,
    completed_at     = CASE WHEN ${RETRIES} THEN NULL ELSE now() END,
    lease_owner      = NULL,
    lease_expires_at = NULL,
    updated_at       = now()
  FROM outcome AS o
  WHERE t.id = o.id AND ${HELD_BY_WORKER}
  RETURNING ${taskColumns("t", SLIM_COLUMNS)}
)`;

/** Rows back without input and result (see SLIM_COLUMNS): the executor holds both. */
export const SETTLE_TASKS = `
WITH ${SETTLE_CTES}
SELECT ${someTaskColumns(SLIM_COLUMNS)} FROM settled ORDER BY id`;

/** The `:outcomes` parameter: one JSON object per outcome, keys as the recordset names them. */
export function outcomesParam(outcomes: readonly TaskOutcome[]) {
  return json(
    outcomes.map((o) => ({
      id: o.id,
      status: o.status,
      result: o.status === "completed" ? (o.result ?? null) : null,
      error: o.status === "completed" ? null : (o.error ?? null),
      run_at: o.status === "pending" ? o.runAt.toISOString() : null,
    })),
  );
}

export async function settleTasks(
  sql: SqlPort,
  params: { workerId: string; outcomes: readonly TaskOutcome[] },
): Promise<Task[]> {
  const rows = await sql.query(SETTLE_TASKS, {
    worker_id: params.workerId,
    outcomes: outcomesParam(params.outcomes),
  });
  return rows.map(rowToTask);
}
