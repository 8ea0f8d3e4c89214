import type { SqlPort } from "../../sql/port";
import type { Task } from "../model";
import { rowToTask } from "../rows";
import { LEASE_EXPIRES_AT } from "./lease";
import { recoverLeasesCtes } from "./recoverLeases";
import { kindBranch, SLIM_COLUMNS, taskColumns } from "./taskColumns";

/**
 * The claim, as CTEs (`due`, `fitting`, `claimed`) shared with syncTasks: up to
 * `:claim_limit` due pending rows in claim order (served by tasks_claim_idx), locked with
 * SKIP LOCKED so concurrent workers split the queue instead of queueing on each other,
 * then leased to `:worker_id`. Every claim is an attempt: attempts + 1, started_at = now.
 * `fitting` keeps the claim order's prefix whose inputs (and last errors) total at most
 * `:claim_bytes` (always the first row): claimed rows carry their input back, and the Data API refuses
 * a response over 1 MiB. The rows it leaves out stay pending for the next claim.
 */
const CLAIM_ORDER_BY = "priority DESC, run_at, id";

export const CLAIM_CTES = `
due AS (
  SELECT id, priority, run_at,
         octet_length(input::text) + coalesce(octet_length(error), 0) AS row_bytes
  FROM tasks
  WHERE status = 'pending' AND run_at <= now()
  ORDER BY ${CLAIM_ORDER_BY}
  LIMIT cast(:claim_limit AS integer)
  FOR UPDATE SKIP LOCKED
),
fitting AS (
  SELECT id
  FROM (SELECT id,
               row_number() OVER (ORDER BY ${CLAIM_ORDER_BY}) AS position,
               sum(row_bytes) OVER (ORDER BY ${CLAIM_ORDER_BY} ROWS UNBOUNDED PRECEDING) AS bytes
        FROM due) AS d
  WHERE position = 1 OR bytes <= cast(:claim_bytes AS bigint)
),
claimed AS (
  UPDATE tasks AS t SET
    status           = 'in_progress',
    attempts         = t.attempts + 1,
    lease_owner      = cast(:worker_id AS text),
    lease_expires_at = ${LEASE_EXPIRES_AT},
    started_at       = now(),
    updated_at       = now()
  FROM fitting
  WHERE t.id = fitting.id
  RETURNING ${taskColumns("t")}
)`;

/**
 * Rows back, tagged by `kind`, claimed ones in claim order; recovered ones without input
 * and result (see SLIM_COLUMNS). Rows this statement recovers became pending after its
 * snapshot, so the next claim (not this one) takes them.
 */
export const CLAIM_ORDER = `ORDER BY kind, ${CLAIM_ORDER_BY}`;

export const CLAIM_TASKS = `
WITH ${recoverLeasesCtes()},
${CLAIM_CTES}
${kindBranch("recovered", "recovered", SLIM_COLUMNS)}
UNION ALL
${kindBranch("claimed", "claimed")}
${CLAIM_ORDER}`;

export async function claimTasks(
  sql: SqlPort,
  params: { workerId: string; limit: number; leaseSeconds: number; maxBytes: number },
): Promise<{ claimed: Task[]; recovered: Task[] }> {
  const rows = await sql.query<{ kind: string }>(CLAIM_TASKS, {
    worker_id: params.workerId,
    claim_limit: params.limit,
    claim_bytes: params.maxBytes,
    lease_seconds: params.leaseSeconds,
  });
  const claimed: Task[] = [];
  const recovered: Task[] = [];
  for (const row of rows) (row.kind === "claimed" ? claimed : recovered).push(rowToTask(row));
  return { claimed, recovered };
}
