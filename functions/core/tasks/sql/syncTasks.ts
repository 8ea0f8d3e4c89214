/**
 * The executor's one round trip per loop, as ONE statement: settle this worker's finished
 * tasks, extend the leases it still holds, recover leases that expired (their worker
 * died), and claim due tasks. The whole statement is written out below, CTE by CTE.
 *
 * The CTEs touch disjoint rows, because PostgreSQL leaves it unpredictable which write
 * wins when one statement updates a row twice: outcomes and heartbeats are this worker's
 * in_progress rows (the store makes their ids disjoint), recovery excludes both id lists,
 * the claim takes only pending rows (rows recovered here are pending only after this
 * statement's snapshot, so the next sync claims them).
 *
 * One row back per affected task, tagged by `kind`: settled | lease | recovered | claimed,
 * claimed ones in claim order. Only claimed rows are whole (the executor needs them);
 * recovered rows come without input and result; settled rows carry the id and the columns
 * that can have changed since the claim (the executor holds the rest); lease rows just id,
 * cancel_requested and lease_expires_at (typed NULLs elsewhere, so the branches of the
 * UNION ALL line up). So the response stays under the Data API's 1 MiB cap, and a settle
 * of 1,000 outcomes sends back, and the executor decodes, 10 columns a row instead of 22.
 *
 * Parameters: `:worker_id`, `:lease_seconds`; `:outcomes`, a JSON array of
 * {id, status, result, error, run_at}; `:heartbeat_ids`, a JSON array of ids (the Data API
 * cannot send array parameters); `:claim_limit`; `:claim_bytes`; `:response_bytes`, what the
 * settled, recovered and claimed rows together may print (../byteBudgets.ts); `:max_running`
 * (the per-owner running cap, NULL for none).
 *
 * The claim (fair across owners, the running cap, the byte budget, where its locks go and
 * how it scales) is the CTEs of ./fairClaim.ts, spliced in before `claimed`; rows come back
 * claimed in that fair order (`claim_position`).
 */
import { json, type SqlPort } from "../../sql/port";
import type { LeaseState, SyncResult, TaskOutcome } from "../model";
import {
  rowToSettledTask,
  rowToTask,
  settledColumnsOnly,
  settledTaskColumns,
  slimColumnsOnly,
  slimTaskColumns,
  taskColumns,
} from "../taskRow";
import { FAIR_CLAIM_CTES, OWNER_CLAIMS_BUMP_CTE } from "./fairClaim";

/** A lease runs `:lease_seconds` from the statement's time. */
const LEASE_EXPIRES_AT = "now() + cast(:lease_seconds AS integer) * interval '1 second'";

/**
 * The fence on every write of this worker (`t` is the tasks row). A worker whose lease was
 * recovered (status no longer in_progress) or taken over (another lease_owner) matches
 * nothing, so it cannot overwrite the task's newer fate. A lease that expired but was not
 * recovered yet still counts as held: nobody else has the task.
 */
const HELD_BY_WORKER = "t.lease_owner = cast(:worker_id AS text) AND t.status = 'in_progress'";

/**
 * The select lists of the four row kinds, every task column in the task row's order (see
 * ../taskRow.ts) so the branches of the UNION ALL line up: claimed rows whole, recovered
 * rows with input and result as typed NULLs, settled rows with the id and the columns that
 * change after a claim, lease rows with only id, cancel_requested and lease_expires_at.
 */
const FULL_ROW = taskColumns();
const SLIM_ROW = slimTaskColumns();
const SETTLED_ROW = settledTaskColumns();
const LEASE_COLUMNS = ["id", "cancel_requested", "lease_expires_at"];
const LEASE_ROW = taskColumns(undefined, (c) => LEASE_COLUMNS.includes(c.sql));

/** Expired leases recovered per call: keeps the statement short; every loop makes one. */
export const RECOVERY_BATCH = 100;

/** The printed size of a settled or recovered row (`r`), and of a whole claimed row (`d`). */

/** A retry that stays a retry: not cancelled meanwhile, attempts left. */
const RETRIES = "o.status = 'pending' AND NOT t.cancel_requested AND t.attempts < t.max_attempts";

export const SYNC_TASKS = `
WITH RECURSIVE
-- Settle: each outcome, written only under the lease of this worker, which it ends. The CASEs
-- read the row as locked, so a cancel requested while the attempt ran still wins over a
-- retry, and a retry with no attempts left ends failed: statuses mean the same whatever
-- the caller sent. completed: result kept, error cleared; failed: error kept; cancelled:
-- error (by default: cancelled while running); pending: error kept as the last error, due
-- again at run_at (the backoff). Final statuses get completed_at; pending keeps started_at.
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
  RETURNING ${settledColumnsOnly("t")}
),
-- Heartbeat: extends the leases this worker still holds and reads their cancel flags. An
-- id missing from the result was lost: recovered after its lease expired, or never ours.
heartbeat_id AS (
  SELECT DISTINCT cast(h.value AS uuid) AS id
  FROM jsonb_array_elements_text(cast(:heartbeat_ids AS jsonb)) AS h(value)
),
extended AS (
  UPDATE tasks AS t SET
    lease_expires_at = ${LEASE_EXPIRES_AT},
    progress         = coalesce(cast(:progress AS jsonb) -> cast(t.id AS text), t.progress),
    updated_at       = now()
  FROM heartbeat_id AS h
  WHERE t.id = h.id AND ${HELD_BY_WORKER}
  RETURNING t.id, t.cancel_requested, t.lease_expires_at
),
-- Recovery: an expired lease means its worker died (Lambda timeout, crash): the task goes
-- back to pending, due now, when attempts remain; else it fails with the reason; a task
-- whose cancel was requested ends cancelled instead of running again. SKIP LOCKED leaves
-- rows a live worker is writing alone; FOR UPDATE re-checks the expiry on the latest
-- row version, so a lease extended since the snapshot of this statement is not taken. The
-- outcomes and heartbeats of this worker are left out (no row is updated twice).
expired AS (
  SELECT id,
         CASE WHEN cancel_requested THEN 'cancelled'
              WHEN attempts < max_attempts THEN 'pending'
              ELSE 'failed' END AS fate
  FROM tasks
  WHERE status = 'in_progress' AND lease_expires_at < now()
    AND id NOT IN (SELECT id FROM outcome UNION ALL SELECT id FROM heartbeat_id)
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
  RETURNING ${slimColumnsOnly("t")}
),
${FAIR_CLAIM_CTES}
-- Claim: the fitting rows, leased to this worker. Every claim is an attempt: attempts + 1,
-- started_at = now.
claimed AS (
  UPDATE tasks AS t SET
    status           = 'in_progress',
    attempts         = t.attempts + 1,
    lease_owner      = cast(:worker_id AS text),
    lease_expires_at = ${LEASE_EXPIRES_AT},
    started_at       = now(),
    progress         = NULL,
    -- The first attempt records pickup latency's two ends (migrations/0002_pickup.sql).
    first_due_at     = CASE WHEN t.attempts = 0 THEN greatest(t.created_at, t.run_at) ELSE t.first_due_at END,
    first_started_at = CASE WHEN t.attempts = 0 THEN now() ELSE t.first_started_at END,
    updated_at       = now()
  FROM fitting
  WHERE t.id = fitting.id
  RETURNING ${taskColumns("t")}, fitting.claim_position
),
${OWNER_CLAIMS_BUMP_CTE}
SELECT 'settled' AS kind, ${SETTLED_ROW}, NULL::bigint AS claim_position FROM settled
UNION ALL
SELECT 'lease' AS kind, ${LEASE_ROW}, NULL::bigint FROM extended
UNION ALL
SELECT 'recovered' AS kind, ${SLIM_ROW}, NULL::bigint FROM recovered
UNION ALL
SELECT 'claimed' AS kind, ${FULL_ROW}, claim_position FROM claimed
ORDER BY kind, claim_position, id`;

/** The `:outcomes` parameter: one JSON object per outcome, keys as the recordset names them. */
function outcomesParam(outcomes: readonly TaskOutcome[]) {
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

function toLeaseState(row: Record<string, unknown>): LeaseState {
  return { id: String(row.id), cancelRequested: row.cancel_requested === true };
}

export async function syncTasks(
  sql: SqlPort,
  params: {
    workerId: string;
    leaseSeconds: number;
    outcomes: readonly TaskOutcome[];
    heartbeatIds: readonly string[];
    /** Progress to record with the heartbeats, by id (checked by the store). */
    progress: Readonly<Record<string, unknown>>;
    claimLimit: number;
    claimBytes: number;
    responseBytes: number;
    /** At most this many of an owner's tasks in progress at once; undefined: no limit. */
    maxRunningPerOwner: number | undefined;
  },
): Promise<SyncResult> {
  const rows = await sql.query<{ kind: string }>(
    SYNC_TASKS,
    {
      worker_id: params.workerId,
      lease_seconds: params.leaseSeconds,
      outcomes: outcomesParam(params.outcomes),
      heartbeat_ids: json(params.heartbeatIds),
      progress: json(params.progress),
      claim_limit: params.claimLimit,
      claim_bytes: params.claimBytes,
      response_bytes: params.responseBytes,
      max_running: params.maxRunningPerOwner ?? null,
    },
    // Run by every loop of every executor: parsed once per connection.
    { prepareAs: "sync_tasks" },
  );
  const result: SyncResult = { settled: [], leases: [], claimed: [], recovered: [] };
  for (const row of rows) {
    if (row.kind === "lease") {
      result.leases.push(toLeaseState(row));
    } else if (row.kind === "settled") {
      result.settled.push(rowToSettledTask(row));
    } else if (row.kind === "claimed" || row.kind === "recovered") {
      result[row.kind].push(rowToTask(row));
    } else {
      throw new Error(`sync returned a row of unknown kind ${JSON.stringify(row.kind)}`);
    }
  }
  return result;
}
