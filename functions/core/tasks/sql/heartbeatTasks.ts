import { json, type SqlPort } from "../../sql/port";
import type { LeaseState } from "../model";
import { HELD_BY_WORKER, LEASE_EXPIRES_AT } from "./lease";

/**
 * Heartbeat, as CTEs (`heartbeat_id`, `extended`) shared with syncTasks: extends the
 * leases this worker still holds among `:heartbeat_ids` (a JSON array: the Data API cannot
 * send array parameters) and reads their cancel flags. An id missing from the result was
 * lost: recovered after its lease expired, or never this worker's.
 */
export const HEARTBEAT_CTES = `
heartbeat_id AS (
  SELECT DISTINCT cast(h.value AS uuid) AS id
  FROM jsonb_array_elements_text(cast(:heartbeat_ids AS jsonb)) AS h(value)
),
extended AS (
  UPDATE tasks AS t SET
    lease_expires_at = ${LEASE_EXPIRES_AT},
    updated_at       = now()
  FROM heartbeat_id AS h
  WHERE t.id = h.id AND ${HELD_BY_WORKER}
  RETURNING t.id, t.cancel_requested, t.lease_expires_at
)`;

export const HEARTBEAT_TASKS = `
WITH ${HEARTBEAT_CTES}
SELECT id, cancel_requested FROM extended ORDER BY id`;

export async function heartbeatTasks(
  sql: SqlPort,
  params: { workerId: string; ids: readonly string[]; leaseSeconds: number },
): Promise<LeaseState[]> {
  const rows = await sql.query<{ id: string; cancel_requested: boolean }>(HEARTBEAT_TASKS, {
    worker_id: params.workerId,
    heartbeat_ids: json(params.ids),
    lease_seconds: params.leaseSeconds,
  });
  return rows.map(toLeaseState);
}

export function toLeaseState(row: Record<string, unknown>): LeaseState {
  return { id: String(row.id), cancelRequested: row.cancel_requested === true };
}
