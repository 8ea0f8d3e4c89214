import { jsonResponse } from "../http";
import type { CallerHandler } from "../router";
import { TaskPathParamsSchema, TaskViewSchema } from "../schemas";
import { publishStatus } from "../taskSignals";
import { toTaskView } from "../taskView";
import { taskIdParam } from "./taskIdParam";

/**
 * POST /api/tasks/{id}/cancel: a pending task is cancelled at once; a running one gets
 * `cancelRequested` and its executor aborts the LLM call; a finished one is a 409.
 */
export const cancelTaskRoute: CallerHandler = {
  docs: {
    summary: "Cancel one of your tasks",
    description:
      "pending → cancelled at once; in_progress → cancelRequested (the executor aborts it); " +
      "completed, failed or cancelled → 409.",
    tags: ["tasks"],
    pathParams: TaskPathParamsSchema,
    responses: { 200: { description: "The task as it now is.", schema: TaskViewSchema } },
    errors: [401, 404, 409, 503],
  },

  async handle({ params, caller }, deps) {
    const task = await deps.tasks.cancel(caller, taskIdParam(params));
    await publishStatus(deps, [task]);
    return jsonResponse(200, toTaskView(task));
  },
};
