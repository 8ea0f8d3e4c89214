/**
 * A create body (POST /api/tasks, or one item of POST /api/tasks/batch) checked whole and
 * turned into a NewTask: the body's shape, the type's input, the model against the
 * allowlist and `runAt`'s bounds, each problem named by its path (under `prefix` for a
 * batch item: `tasks.3.input.topic`), so one 400 lists every problem.
 */
import { type FieldIssue, toFieldIssues } from "../../core/fieldIssues";
import { resolveModel } from "../../core/llm";
import type { NewTask } from "../../core/tasks/model";
import type { ApiDeps } from "../deps";
import { type ApiEvent, header } from "../http";
import { CreateTaskBodySchema, IdempotencyKeySchema, TASK_LIMITS } from "../schemas";
import { collectIssues, parseOrThrow, validationError } from "../validation";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export function newTaskFromBody(
  body: unknown,
  context: { caller: string; deps: ApiDeps; now: number; prefix?: string },
): { task: NewTask; issues: [] } | { task: undefined; issues: FieldIssue[] } {
  const { deps, now } = context;
  const issues: FieldIssue[] = [];
  const parsed = CreateTaskBodySchema.safeParse(body);
  if (!parsed.success) issues.push(...toFieldIssues(parsed.error));

  // Type, input and model are checked even when other fields failed, so one answer
  // names every problem; each check runs once its own field is usable.
  const raw = isObject(body) ? body : {};
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
    const prefix = context.prefix;
    return {
      task: undefined,
      issues: prefix ? issues.map((i) => ({ ...i, path: `${prefix}.${i.path}` })) : issues,
    };
  }
  const data = parsed.data;
  return {
    task: {
      owner: context.caller,
      type: data.type,
      title: data.title ?? null,
      input,
      priority: data.priority,
      runAt,
      maxAttempts: data.maxAttempts,
      model: model.value,
      idempotencyKey: null,
    },
    issues: [],
  };
}

/** A create's Idempotency-Key header, checked (400 naming it), or null without one. */
export function idempotencyKeyOf(event: ApiEvent): string | null {
  const raw = header(event, "idempotency-key");
  return raw === undefined
    ? null
    : parseOrThrow(IdempotencyKeySchema, raw, "Idempotency-Key header", "Idempotency-Key");
}

/** A create's JSON body, or a 400 saying one is required (`what`: "task", "batch"). */
export function requireJsonBody(event: ApiEvent, what: string): unknown {
  if (event.jsonBody === undefined) {
    throw validationError([{ path: "(root)", message: "a JSON body is required" }], what);
  }
  return event.jsonBody;
}
