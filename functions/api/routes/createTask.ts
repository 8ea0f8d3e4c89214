import { type FieldIssue, toFieldIssues } from "../../core/fieldIssues";
import { resolveModel } from "../../core/llm";
import { header, jsonResponse } from "../http";
import type { CallerHandler } from "../router";
import {
  CreateTaskBodySchema,
  IdempotencyKeySchema,
  TASK_LIMITS,
  TaskViewSchema,
} from "../schemas";
import { toTaskView } from "../taskView";
import { collectIssues, parseOrThrow, validationError } from "../validation";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

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
    errors: [400, 401, 409, 413, 415, 503],
  },

  async handle({ event, caller }, deps) {
    const rawKey = header(event, "idempotency-key");
    const idempotencyKey =
      rawKey === undefined
        ? null
        : parseOrThrow(IdempotencyKeySchema, rawKey, "Idempotency-Key header", "Idempotency-Key");
    if (event.jsonBody === undefined) {
      throw validationError([{ path: "(root)", message: "a JSON body is required" }], "task");
    }

    const issues: FieldIssue[] = [];
    const parsed = CreateTaskBodySchema.safeParse(event.jsonBody);
    if (!parsed.success) issues.push(...toFieldIssues(parsed.error));

    // Type, input and model are checked even when other fields failed, so one answer
    // names every problem; each check runs once its own field is usable.
    const raw = isObject(event.jsonBody) ? event.jsonBody : {};
    let input: unknown;
    if (typeof raw.type === "string") {
      const type = raw.type;
      if (!deps.taskTypes.get(type)) {
        issues.push(
          ...collectIssues(() => deps.taskTypes.parseInput(type, raw.input), "type").issues,
        );
      } else if (isObject(raw.input)) {
        const checked = collectIssues(() => deps.taskTypes.parseInput(type, raw.input), "input");
        input = checked.value;
        issues.push(...checked.issues);
      }
    }
    const requestedModel = typeof raw.model === "string" ? raw.model : undefined;
    const model = collectIssues(() => resolveModel(requestedModel, deps.settings.models), "model");
    issues.push(...model.issues);

    const now = deps.now?.() ?? Date.now();
    let runAt: Date | null = null;
    if (parsed.success && parsed.data.runAt !== undefined) {
      runAt = new Date(parsed.data.runAt);
      if (runAt.getTime() > now + TASK_LIMITS.runAtMaxDaysAhead * DAY_MS) {
        issues.push({
          path: "runAt",
          message: `must be at most ${TASK_LIMITS.runAtMaxDaysAhead} days ahead`,
        });
      } else if (runAt.getTime() < now - TASK_LIMITS.runAtMaxHoursBehind * HOUR_MS) {
        issues.push({
          path: "runAt",
          message: `must be at most ${TASK_LIMITS.runAtMaxHoursBehind} hours in the past`,
        });
      }
    }

    if (issues.length > 0 || !parsed.success || model.value === undefined) {
      throw validationError(issues, "task");
    }
    const body = parsed.data;

    const { task, created } = await deps.tasks.create({
      owner: caller,
      type: body.type,
      title: body.title ?? null,
      input,
      priority: body.priority,
      runAt,
      maxAttempts: body.maxAttempts,
      model: model.value,
      idempotencyKey,
    });
    return created
      ? jsonResponse(201, toTaskView(task), { location: `/api/tasks/${task.id}` })
      : jsonResponse(200, toTaskView(task));
  },
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
