import { MAX_BATCH } from "../../core/tasks/store";
import { jsonResponse } from "../http";
import type { CallerHandler } from "../router";
import { CreateTaskBatchBodySchema, IdempotencyKeySchema, TaskBatchSchema } from "../schemas";
import { afterTasksDue, beforeTasksDue } from "../taskSignals";
import { toTaskView } from "../taskView";
import { parseOrThrow, validationError } from "../validation";
import { idempotencyKeyOf, newTaskFromBody, requireJsonBody } from "./newTaskFromBody";

/**
 * POST /api/tasks/batch: up to 100 tasks in one request and one statement, all or none.
 * Every item is checked as POST /api/tasks checks its body, and one 400 names every
 * problem by its path (`tasks.3.input.topic`). An Idempotency-Key covers the whole batch.
 */
export const createTasksRoute: CallerHandler = {
  docs: {
    summary: "Create up to 100 tasks at once",
    description:
      `All of them or none, in one statement (at most ${MAX_BATCH}); the answer lists them in ` +
      "the request's order. The caller's cap on unfinished tasks counts the whole batch.",
    tags: ["tasks"],
    headers: {
      "Idempotency-Key": {
        schema: IdempotencyKeySchema,
        description:
          "Optional. Covers the whole batch: the same key with the same body answers 200 with " +
          "the tasks the first request made; with a different body, 409.",
      },
    },
    body: CreateTaskBatchBodySchema,
    responses: {
      201: { description: "Created, in the request's order.", schema: TaskBatchSchema },
      200: {
        description: "The same Idempotency-Key and body as an earlier batch: the tasks it made.",
        schema: TaskBatchSchema,
      },
    },
    errors: [400, 401, 409, 413, 415, 429, 503],
  },

  async handle({ event, caller, context }, deps) {
    const idempotencyKey = idempotencyKeyOf(event);
    const json = requireJsonBody(event, "batch");
    const body = parseOrThrow(CreateTaskBatchBodySchema, json, "batch");

    const now = deps.now?.() ?? Date.now();
    const checked = body.tasks.map((item, i) =>
      newTaskFromBody(item, { caller, deps, now, prefix: `tasks.${i}` }),
    );
    const issues = checked.flatMap((c) => c.issues);
    if (issues.length > 0) throw validationError(issues, "batch");
    const newTasks = checked.flatMap((c) => (c.task ? [c.task] : []));
    const firstDue = Math.min(...newTasks.map((t) => t.runAt?.getTime() ?? now));
    await beforeTasksDue(deps, context, firstDue);

    const { tasks, created } = await deps.tasks.createBatch(newTasks, idempotencyKey);
    if (created) await afterTasksDue(deps, context, tasks);
    return jsonResponse(created ? 201 : 200, { items: tasks.map(toTaskView) });
  },
};
