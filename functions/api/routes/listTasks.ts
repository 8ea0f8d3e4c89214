import { jsonResponse } from "../http";
import type { CallerHandler } from "../router";
import { ListTasksQuerySchema, TaskPageSchema, type TaskPageView } from "../schemas";
import { toTaskView } from "../taskView";
import { parseOrThrow } from "../validation";

/**
 * GET /api/tasks: the caller's tasks, newest first, a page at a time. The cursor is the
 * store's keyset position (created_at, id), so tasks created while a client pages are
 * never shifted into a page it already has: no duplicates, no gaps.
 */
export const listTasksRoute: CallerHandler = {
  docs: {
    summary: "List your tasks, newest first",
    tags: ["tasks"],
    query: ListTasksQuerySchema,
    responses: { 200: { description: "A page of tasks.", schema: TaskPageSchema } },
    errors: [400, 401, 503],
  },

  async handle({ event, caller }, deps) {
    const query = parseOrThrow(ListTasksQuerySchema, event.queryStringParameters ?? {}, "query");
    const page = await deps.tasks.list(caller, query);
    const body: TaskPageView = { items: page.items.map(toTaskView), nextCursor: page.nextCursor };
    return jsonResponse(200, body);
  },
};
