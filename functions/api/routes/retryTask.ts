import { prepareTaskDue, signalTaskDue } from "../../core/wake/taskDue";
import { jsonResponse } from "../http";
import { publishStatus } from "../publishStatus";
import type { CallerHandler } from "../router";
import { TaskPathParamsSchema, TaskViewSchema } from "../schemas";
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
    const signals = deps.wake && { ...deps.wake, logger: context.logger, now: deps.now };
    if (signals) await prepareTaskDue(signals, now);
    const task = await deps.tasks.retry(caller, id);
    if (signals) await signalTaskDue(signals, task.id, task.runAt.getTime());
    await publishStatus(deps, task);
    return jsonResponse(200, toTaskView(task));
  },
};
