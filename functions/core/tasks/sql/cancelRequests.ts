/**
 * Which of these running tasks a caller asked to cancel. The executor asks once a second
 * while attempts run (read only: no lease is touched, no row written), so a Cancel button
 * stops the LLM call within about a second instead of at the next heartbeat (a third of
 * the lease, 20 s). `:ids` is a JSON array (the Data API has no array parameters).
 */
import { json, type SqlPort } from "../../sql/port";

export const CANCEL_REQUESTS = `
SELECT t.id
FROM tasks AS t
WHERE t.id IN (SELECT cast(value AS uuid) FROM jsonb_array_elements_text(cast(:ids AS jsonb)))
  AND t.status = 'in_progress' AND t.cancel_requested`;

export async function cancelRequests(sql: SqlPort, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await sql.query<{ id: string }>(CANCEL_REQUESTS, { ids: json(ids) });
  return rows.map((row) => String(row.id));
}
