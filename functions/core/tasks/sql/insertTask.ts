/**
 * Creates a task: the settable columns of ../taskRow.ts from a NewTask, plus the request's
 * fingerprint. With an idempotency key already used by this owner, inserts nothing and
 * returns no row (the caller then reads the existing task): ON CONFLICT waits for a
 * concurrent insert of the same key to commit, so exactly one of N racing creates wins.
 */
import { json, type SqlPort, type SqlValue } from "../../sql/port";
import type { NewTask, Task } from "../model";
import { rowToTask, SETTABLE_COLUMNS, sqlTypeOf, taskColumns } from "../taskRow";

/** Each settable column's value; null takes the column's insertDefault when it has one. */
const VALUES = SETTABLE_COLUMNS.map(([, c]) => {
  const value = `cast(:${c.sql} AS ${sqlTypeOf(c)})`;
  return c.insertDefault ? `coalesce(${value}, ${c.insertDefault})` : value;
});

export const INSERT_TASK = `
INSERT INTO tasks (${SETTABLE_COLUMNS.map(([, c]) => c.sql).join(", ")}, request_hash)
VALUES (${VALUES.join(", ")}, cast(:request_hash AS text))
ON CONFLICT (owner, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING ${taskColumns()}`;

export async function insertTask(
  sql: SqlPort,
  task: NewTask,
  requestHash: string | null,
): Promise<Task | undefined> {
  const params: Record<string, SqlValue> = { request_hash: requestHash };
  for (const [field, c] of SETTABLE_COLUMNS) {
    // jsonb values go as json(): a bare object or string would be sent as text.
    params[c.sql] = c.kind === "json" ? json(task[field]) : (task[field] as SqlValue);
  }
  const rows = await sql.query(INSERT_TASK, params);
  return rows[0] ? rowToTask(rows[0]) : undefined;
}
