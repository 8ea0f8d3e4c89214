import { json, type SqlPort } from "../../sql/port";
import type { NewTask, Task } from "../model";
import { rowToTask } from "../rows";
import { taskColumns } from "./taskColumns";

/**
 * Creates a task. With an idempotency key already used by this owner, inserts nothing and
 * returns no row (the caller then reads the existing task): ON CONFLICT waits for a
 * concurrent insert of the same key to commit, so exactly one of N racing creates wins.
 */
export const INSERT_TASK = `
INSERT INTO tasks (owner, type, title, input, priority, run_at, max_attempts, model,
                   idempotency_key, request_hash)
VALUES (cast(:owner AS text), cast(:type AS text), cast(:title AS text), cast(:input AS jsonb),
        cast(:priority AS integer), coalesce(cast(:run_at AS timestamptz), now()),
        cast(:max_attempts AS integer), cast(:model AS text),
        cast(:idempotency_key AS text), cast(:request_hash AS text))
ON CONFLICT (owner, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING ${taskColumns()}`;

export async function insertTask(
  sql: SqlPort,
  task: NewTask,
  requestHash: string | null,
): Promise<Task | undefined> {
  const rows = await sql.query(INSERT_TASK, {
    owner: task.owner,
    type: task.type,
    title: task.title,
    input: json(task.input),
    priority: task.priority,
    run_at: task.runAt,
    max_attempts: task.maxAttempts,
    model: task.model,
    idempotency_key: task.idempotencyKey,
    request_hash: requestHash,
  });
  return rows[0] ? rowToTask(rows[0]) : undefined;
}
