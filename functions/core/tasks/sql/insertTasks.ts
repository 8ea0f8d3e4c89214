/**
 * Creates one or more tasks of one owner in ONE statement, all or none, under the owner's
 * cap on unfinished tasks. The count is `owner_unfinished_locked` (migrations/0007): it
 * locks the owner, then counts from a fresh snapshot, so concurrent creates of one owner
 * cannot both pass the cap. `:tasks` is a JSON array (the Data API has no array
 * parameters), one object per task with the settable columns of ../taskRow.ts, its request
 * fingerprint and its position; rows come back in that order.
 *
 * Idempotency keys: with one already used by this owner the row is not inserted (ON
 * CONFLICT waits for a concurrent insert of the key to commit, so exactly one of N racing
 * creates wins), and when any of `:keys` exists, nothing is (a batch is all or none): the
 * caller then reads the existing tasks. Nothing back means: a key was used, or the cap
 * refused the create (the caller tells which).
 */
import { json, type SqlPort, type SqlValue } from "../../sql/port";
import type { NewTask, Task } from "../model";
import { rowToTask, SETTABLE_COLUMNS, sqlTypeOf, taskColumns } from "../taskRow";

const RECORD = [
  ...SETTABLE_COLUMNS.map(([, c]) => `${c.sql} ${sqlTypeOf(c)}`),
  "request_hash text",
  "position integer",
].join(", ");

/** Each settable column's value; null takes the column's insertDefault when it has one. */
const VALUES = SETTABLE_COLUMNS.map(([, c]) =>
  c.insertDefault ? `coalesce(r.${c.sql}, ${c.insertDefault})` : `r.${c.sql}`,
);

export const INSERT_TASKS = `
WITH allowed AS MATERIALIZED (
  SELECT owner_unfinished_locked(cast(:owner AS text)) + cast(:count AS integer)
         <= cast(:cap AS integer) AS ok
)
INSERT INTO tasks (${SETTABLE_COLUMNS.map(([, c]) => c.sql).join(", ")}, request_hash)
SELECT ${VALUES.join(", ")}, r.request_hash
FROM jsonb_to_recordset(cast(:tasks AS jsonb)) AS r(${RECORD}), allowed
WHERE allowed.ok
  AND NOT EXISTS (SELECT 1 FROM tasks AS t
                  WHERE t.owner = cast(:owner AS text)
                    AND t.idempotency_key IN
                        (SELECT value FROM jsonb_array_elements_text(cast(:keys AS jsonb))))
ORDER BY r.position
ON CONFLICT (owner, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING ${taskColumns()}`;

/** The owner's unfinished tasks now (for a refusal's message), counted as the cap counts. */
export const COUNT_UNFINISHED = `SELECT owner_unfinished(cast(:owner AS text)) AS unfinished`;

export async function insertTasks(
  sql: SqlPort,
  tasks: readonly { task: NewTask; requestHash: string | null }[],
  cap: number,
): Promise<Task[]> {
  const owner = tasks[0]?.task.owner ?? "";
  const records = tasks.map(({ task, requestHash }, position) => {
    const record: Record<string, unknown> = { request_hash: requestHash, position };
    for (const [field, c] of SETTABLE_COLUMNS) {
      const value = task[field];
      record[c.sql] = value instanceof Date ? value.toISOString() : value;
    }
    return record;
  });
  const params: Record<string, SqlValue> = {
    owner,
    count: tasks.length,
    cap,
    keys: json(tasks.flatMap(({ task }) => (task.idempotencyKey ? [task.idempotencyKey] : []))),
    tasks: json(records),
  };
  const rows = await sql.query(INSERT_TASKS, params);
  return rows.map(rowToTask);
}

export async function countUnfinished(sql: SqlPort, owner: string): Promise<number> {
  const [row] = await sql.query<{ unfinished: number | string }>(COUNT_UNFINISHED, { owner });
  return Number(row?.unfinished ?? 0);
}
