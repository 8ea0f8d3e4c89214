import { jsonResponse } from "../http";
import type { CallerHandler } from "../router";
import { TaskPathParamsSchema, TaskViewSchema } from "../schemas";
import { toTaskView } from "../taskView";
import { taskIdParam } from "./taskIdParam";

/** GET /api/tasks/{id}: one of the caller's tasks; anyone else's is a 404. */
export const getTaskRoute: CallerHandler = {
  docs: {
    summary: "Get one of your tasks",
    tags: ["tasks"],
    pathParams: TaskPathParamsSchema,
    responses: { 200: { description: "The task.", schema: TaskViewSchema } },
    errors: [401, 404, 503],
  },

  async handle({ params, caller }, deps) {
    const task = await deps.tasks.get(caller, taskIdParam(params));
    return jsonResponse(200, toTaskView(task));
  },
};
