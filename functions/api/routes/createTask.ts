import { jsonResponse } from "../http";
import type { CallerHandler } from "../router";
import { IdempotencyKeySchema, TaskViewSchema } from "../schemas";
import { afterTasksDue, beforeTasksDue } from "../taskSignals";
import { toTaskView } from "../taskView";
import { validationError } from "../validation";
import { idempotencyKeyOf, newTaskFromBody, requireJsonBody } from "./newTaskFromBody";

/**
 * POST /api/tasks: checks the body, the type's input, and the model against the
 * allowlist, all before anything is stored (one 400 lists every problem), then creates
 * the task. With an Idempotency-Key, a repeat of the same request answers 200 with the
 * task the first one made; the store decides, atomically, so concurrent repeats agree.
 */
export const createTaskRoute: CallerHandler = {
  docs: {
    summary: "Create a task",
    description:
      "The task's `input` must fit its type's schema and its `model` (if any) must be allowed; " +
      "both are checked now, so a task that is created can run.",
    tags: ["tasks"],
    headers: {
      "Idempotency-Key": {
        schema: IdempotencyKeySchema,
        description:
          "Optional. Makes the create safe to retry: the same key with the same body answers " +
          "200 with the task the first request made; with a different body, 409. A key is " +
          "remembered as long as its task is kept: once the task is deleted by retention " +
          "(RETENTION_SECONDS after it finished, 30 days by default) the key may be reused.",
      },
    },
    body: { component: "CreateTaskRequest" },
    responses: {
      201: { description: "Created.", schema: TaskViewSchema },
      200: {
        description: "The same Idempotency-Key and body as an earlier create: the task it made.",
        schema: TaskViewSchema,
      },
    },
    errors: [400, 401, 409, 413, 415, 429, 503],
  },

  async handle({ event, caller, context }, deps) {
    const idempotencyKey = idempotencyKeyOf(event);
    const json = requireJsonBody(event, "task");

    const now = deps.now?.() ?? Date.now();
    const checked = newTaskFromBody(json, { caller, deps, now });
    if (!checked.task) throw validationError(checked.issues, "task");
    const newTask = { ...checked.task, idempotencyKey };
    await beforeTasksDue(deps, context, newTask.runAt?.getTime() ?? now);

    const { task, created } = await deps.tasks.create(newTask);
    if (created) await afterTasksDue(deps, context, [task]);
    return created
      ? jsonResponse(201, toTaskView(task), { location: `/api/tasks/${task.id}` })
      : jsonResponse(200, toTaskView(task));
  },
};
