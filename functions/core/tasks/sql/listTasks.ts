/**
 * A page of an owner's tasks, newest first: keyset pagination on (created_at DESC, id DESC),
 * which the index tasks_owner_created_idx serves. After a cursor, the position is the
 * cursor row's own (created_at, id), read here under the same owner: rows inserted between
 * pages sort before it and never shift the page, and a cursor naming another owner's task
 * (or none) matches nothing.
 *
 * `:fetch` rows (the page size plus one) are read; of those, the page is the first
 * `:page_size` whose input, result and error total at most `:max_bytes` (always at least
 * one), cut here in SQL so an oversized page never leaves the database: the Data API
 * refuses a response over 1 MiB. `fetched` (on every row) tells the caller whether rows
 * were left out, i.e. whether there is a next page.
 */
import { type SqlPort, uuid } from "../../sql/port";
import type { Task, TaskStatus } from "../model";
import { rowToTask, taskColumns } from "../taskRow";

const NEWEST_FIRST = "created_at DESC, id DESC";

export const LIST_TASKS = `
SELECT ${taskColumns()}, fetched
FROM (
  SELECT page.*,
         count(*) OVER () AS fetched,
         row_number() OVER running AS position,
         sum(octet_length(input::text) + coalesce(octet_length(result::text), 0)
             + coalesce(octet_length(error), 0)) OVER running AS running_bytes
  FROM (
    SELECT ${taskColumns("t")}
    FROM tasks AS t
    WHERE t.owner = cast(:owner AS text)
      AND (cast(:status AS text) IS NULL OR t.status = cast(:status AS text))
      AND (cast(:type AS text) IS NULL OR t.type = cast(:type AS text))
      AND (cast(:cursor_id AS uuid) IS NULL OR (t.created_at, t.id) < (
            SELECT c.created_at, c.id FROM tasks AS c
            WHERE c.owner = cast(:owner AS text) AND c.id = cast(:cursor_id AS uuid)))
    ORDER BY t.created_at DESC, t.id DESC
    LIMIT cast(:fetch AS integer)
  ) AS page
  WINDOW running AS (ORDER BY ${NEWEST_FIRST} ROWS UNBOUNDED PRECEDING)
) AS sized
WHERE position <= cast(:page_size AS integer)
  AND (position = 1 OR running_bytes <= cast(:max_bytes AS bigint))
ORDER BY ${NEWEST_FIRST}`;

/** Whether a cursor's task is this owner's (asked only when a page after it came back empty). */
export const CURSOR_EXISTS = `
SELECT count(*) AS found
FROM tasks
WHERE owner = cast(:owner AS text) AND id = cast(:cursor_id AS uuid)`;

export interface ListTasksParams {
  owner: string;
  status: TaskStatus | null;
  type: string | null;
  cursorId: string | null;
  pageSize: number;
  maxBytes: number;
}

/** The page, and whether more rows follow it. */
export async function listTasks(
  sql: SqlPort,
  params: ListTasksParams,
): Promise<{ items: Task[]; more: boolean }> {
  const rows = await sql.query<{ fetched: number }>(LIST_TASKS, {
    owner: params.owner,
    status: params.status,
    type: params.type,
    cursor_id: params.cursorId === null ? null : uuid(params.cursorId),
    fetch: params.pageSize + 1,
    page_size: params.pageSize,
    max_bytes: params.maxBytes,
  });
  const fetched = Number(rows[0]?.fetched ?? 0);
  return { items: rows.map(rowToTask), more: fetched > rows.length };
}

export async function cursorExists(sql: SqlPort, owner: string, cursorId: string) {
  const [row] = await sql.query<{ found: number }>(CURSOR_EXISTS, {
    owner,
    cursor_id: uuid(cursorId),
  });
  return Number(row?.found ?? 0) > 0;
}
