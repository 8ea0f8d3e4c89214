import { jsonResponse } from "../http";
import type { CallerHandler } from "../router";
import { TaskPathParamsSchema, TaskViewSchema } from "../schemas";
import { afterTasksDue, beforeTasksDue } from "../taskSignals";
import { toTaskView } from "../taskView";
import { taskIdParam } from "./taskIdParam";

/** POST /api/tasks/{id}/retry: a failed or cancelled task runs again from scratch. */
export const retryTaskRoute: CallerHandler = {
  docs: {
    summary: "Retry one of your failed or cancelled tasks",
    description: "failed or cancelled → pending, attempts reset; any other status → 409.",
    tags: ["tasks"],
    pathParams: TaskPathParamsSchema,
    responses: { 200: { description: "The task, pending again.", schema: TaskViewSchema } },
    errors: [401, 404, 409, 503],
  },

  async handle({ params, caller, context }, deps) {
    const id = taskIdParam(params);
    const now = deps.now?.() ?? Date.now();
    await beforeTasksDue(deps, context, now);
    const task = await deps.tasks.retry(caller, id);
    await afterTasksDue(deps, context, [task]);
    return jsonResponse(200, toTaskView(task));
  },
};
