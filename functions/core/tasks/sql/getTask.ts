/** One task, only if this owner's. `id` must already be a well-formed UUID. */
import { type SqlPort, uuid } from "../../sql/port";
import type { Task } from "../model";
import { rowToTask, taskColumns } from "../taskRow";

export const GET_TASK = `
SELECT ${taskColumns()}
FROM tasks
WHERE owner = cast(:owner AS text) AND id = cast(:id AS uuid)`;

export async function getTask(sql: SqlPort, owner: string, id: string): Promise<Task | undefined> {
  const [row] = await sql.query(GET_TASK, { owner, id: uuid(id) });
  return row ? rowToTask(row) : undefined;
}
