import { SLIM_COLUMNS, taskColumns } from "./taskColumns";

/**
 * Lease recovery, as CTEs (`expired`, `recovered`) that claimTasks and syncTasks put in
 * front of their claim. A lease that expired means its worker died (Lambda timeout,
 * crash): the task goes back to pending, due now, when attempts remain; else it fails
 * with the reason; a task whose cancel was requested ends cancelled instead of running
 * again. SKIP LOCKED leaves rows a live worker is writing (its heartbeat or settle) alone;
 * FOR UPDATE re-checks the expiry on the row's latest version, so a lease extended since
 * this statement's snapshot is not taken. At most RECOVERY_BATCH rows per call keep the
 * statement short; the rest go in the next calls (every executor loop makes one).
 *
 * `excludedIds` (a SQL query of ids) keeps out rows another CTE of the same statement
 * writes (sync's own outcomes and heartbeats): PostgreSQL must never update one row twice
 * in one statement.
 */
export const RECOVERY_BATCH = 100;

export function recoverLeasesCtes(excludedIds?: string): string {
  return `
expired AS (
  SELECT id,
         CASE WHEN cancel_requested THEN 'cancelled'
              WHEN attempts < max_attempts THEN 'pending'
              ELSE 'failed' END AS fate
  FROM tasks
  WHERE status = 'in_progress' AND lease_expires_at < now()${
    excludedIds ? `\n    AND id NOT IN (${excludedIds})` : ""
  }
  ORDER BY lease_expires_at
  LIMIT ${RECOVERY_BATCH}
  FOR UPDATE SKIP LOCKED
),
recovered AS (
  UPDATE tasks AS t SET
    status           = e.fate,
    run_at           = CASE WHEN e.fate = 'pending' THEN now() ELSE t.run_at END,
    completed_at     = CASE WHEN e.fate = 'pending' THEN NULL ELSE now() END,
    error            = CASE e.fate
      WHEN 'pending' THEN format(
        'lease expired on attempt %s of %s: the worker stopped heartbeating (last lease owner: %s); retrying',
        t.attempts, t.max_attempts, t.lease_owner)
      WHEN 'failed' THEN format(
        'lease expired after %s of %s attempts: the worker stopped heartbeating (last lease owner: %s)',
        t.attempts, t.max_attempts, t.lease_owner)
      ELSE format(
        'cancelled while running: the worker stopped heartbeating before it could stop (last lease owner: %s)',
        t.lease_owner)
    END,
    lease_owner      = NULL,
    lease_expires_at = NULL,
    updated_at       = now()
  FROM expired AS e
  WHERE t.id = e.id
  RETURNING ${taskColumns("t", SLIM_COLUMNS)}
)`;
}
