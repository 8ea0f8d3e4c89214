/**
 * When the executor may next have work: the earliest of the pending tasks' due times and
 * the running tasks' lease expiries (a lease that expires is a worker that died: its task
 * must be recovered then). NULL when there is neither. An executor that finds nothing to
 * claim asks this before it stops, and leaves the answer in the due marker
 * (functions/core/wake/) so the schedule's next ticks need not touch the database.
 * Two index lookups: tasks_due_idx and the lease index, one entry each.
 */
import type { SqlPort } from "../../sql/port";

export const NEXT_DUE_AT = `
SELECT least(
  (SELECT min(run_at) FROM tasks WHERE status = 'pending'),
  (SELECT min(lease_expires_at) FROM tasks WHERE status = 'in_progress')
) AS next_due_at`;

export async function nextDueAt(sql: SqlPort): Promise<Date | null> {
  const [row] = await sql.query<{ next_due_at: unknown }>(NEXT_DUE_AT);
  const value = row?.next_due_at ?? null;
  if (value === null || value instanceof Date) return value;
  // Both adapters decode timestamptz to Date (see ../taskRow.ts); anything else is a bug.
  throw new Error(`next due time is not a timestamp: ${JSON.stringify(value)}`);
}
