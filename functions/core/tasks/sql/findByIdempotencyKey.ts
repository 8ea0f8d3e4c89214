/** The task an owner created with this idempotency key, with its request's hash. */
import type { SqlPort } from "../../sql/port";
import type { Task } from "../model";
import { rowToTask, taskColumns } from "../taskRow";

export const FIND_BY_IDEMPOTENCY_KEY = `
SELECT ${taskColumns()}, request_hash
FROM tasks
WHERE owner = cast(:owner AS text) AND idempotency_key = cast(:idempotency_key AS text)`;

export async function findByIdempotencyKey(
  sql: SqlPort,
  owner: string,
  idempotencyKey: string,
): Promise<{ task: Task; requestHash: string | null } | undefined> {
  const [row] = await sql.query<{ request_hash: string | null }>(FIND_BY_IDEMPOTENCY_KEY, {
    owner,
    idempotency_key: idempotencyKey,
  });
  return row ? { task: rowToTask(row), requestHash: row.request_hash } : undefined;
}
