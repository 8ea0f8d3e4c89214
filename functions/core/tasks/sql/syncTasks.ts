import { json, type SqlPort } from "../../sql/port";
import type { SyncResult, TaskOutcome } from "../model";
import { rowToTask } from "../rows";
import { CLAIM_CTES, CLAIM_ORDER } from "./claimTasks";
import { HEARTBEAT_CTES, toLeaseState } from "./heartbeatTasks";
import { recoverLeasesCtes } from "./recoverLeases";
import { outcomesParam, SETTLE_CTES } from "./settleTasks";
import { kindBranch, SLIM_COLUMNS } from "./taskColumns";

/**
 * The executor's one round trip per loop: settle, heartbeat, recover expired leases and
 * claim, in ONE statement built from the same CTEs as the single-purpose statements.
 * The CTEs touch disjoint rows, because PostgreSQL leaves it unpredictable which write
 * wins when one statement updates a row twice: outcomes and heartbeats are this worker's
 * in_progress rows (the store makes their ids disjoint), recovery excludes both id lists,
 * and the claim takes only pending rows (rows recovered here are pending only after this
 * statement's snapshot, so the next sync claims them).
 *
 * One row back per affected task, tagged by `kind`: settled | lease | claimed | recovered.
 * Only claimed rows carry input (the executor needs it); settled and recovered rows come
 * without input and result, lease rows with just id, cancel_requested and
 * lease_expires_at (typed NULLs elsewhere), so the response stays under the Data API's
 * 1 MiB cap.
 */
export const SYNC_TASKS = `
WITH ${SETTLE_CTES},
${HEARTBEAT_CTES},
${recoverLeasesCtes("SELECT id FROM outcome UNION ALL SELECT id FROM heartbeat_id")},
${CLAIM_CTES}
${kindBranch("settled", "settled", SLIM_COLUMNS)}
UNION ALL
${kindBranch("lease", "extended", ["id", "cancel_requested", "lease_expires_at"])}
UNION ALL
${kindBranch("recovered", "recovered", SLIM_COLUMNS)}
UNION ALL
${kindBranch("claimed", "claimed")}
${CLAIM_ORDER}`;

export async function syncTasks(
  sql: SqlPort,
  params: {
    workerId: string;
    leaseSeconds: number;
    outcomes: readonly TaskOutcome[];
    heartbeatIds: readonly string[];
    claimLimit: number;
    claimBytes: number;
  },
): Promise<SyncResult> {
  const rows = await sql.query<{ kind: string }>(SYNC_TASKS, {
    worker_id: params.workerId,
    lease_seconds: params.leaseSeconds,
    outcomes: outcomesParam(params.outcomes),
    heartbeat_ids: json(params.heartbeatIds),
    claim_limit: params.claimLimit,
    claim_bytes: params.claimBytes,
  });
  const result: SyncResult = { settled: [], leases: [], claimed: [], recovered: [] };
  for (const row of rows) {
    if (row.kind === "lease") {
      result.leases.push(toLeaseState(row));
    } else if (row.kind === "settled" || row.kind === "claimed" || row.kind === "recovered") {
      result[row.kind].push(rowToTask(row));
    } else {
      throw new Error(`sync returned a row of unknown kind ${JSON.stringify(row.kind)}`);
    }
  }
  return result;
}
