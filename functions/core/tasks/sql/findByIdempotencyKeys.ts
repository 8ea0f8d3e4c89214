/**
 * The tasks an owner created with these idempotency keys, with their requests' hashes (a
 * replayed create or batch is told apart from another request reusing the key by them).
 * `:keys` is a JSON array.
 */
import { json, type SqlPort } from "../../sql/port";
import type { Task } from "../model";
import { rowToTask, taskColumns } from "../taskRow";

export const FIND_BY_IDEMPOTENCY_KEYS = `
SELECT ${taskColumns()}, request_hash
FROM tasks
WHERE owner = cast(:owner AS text)
  AND idempotency_key IN (SELECT value FROM jsonb_array_elements_text(cast(:keys AS jsonb)))`;

export async function findByIdempotencyKeys(
  sql: SqlPort,
  owner: string,
  keys: readonly string[],
): Promise<Map<string, { task: Task; requestHash: string | null }>> {
  const rows = await sql.query<{ request_hash: string | null }>(FIND_BY_IDEMPOTENCY_KEYS, {
    owner,
    keys: json(keys),
  });
  const found = new Map<string, { task: Task; requestHash: string | null }>();
  for (const row of rows) {
    const task = rowToTask(row);
    if (task.idempotencyKey !== null) {
      found.set(task.idempotencyKey, { task, requestHash: row.request_hash });
    }
  }
  return found;
}
