import { z } from "zod";
import { TASK_STATUSES, type TaskStatus, TaskStatusSchema } from "../core/tasks/model";
import { API_ERROR_CODES, API_ERRORS, type ApiErrorCode } from "./errorCodes";
import { taskViewShape } from "./taskView";

/**
 * Every shape the HTTP API reads or writes, as zod schemas: the routes parse with them and
 * the OpenAPI document (openapi.ts) is generated from them, so the two cannot drift.
 * Schemas with a `meta({ id })` become named components in the document.
 */

/** Printable ASCII without spaces: what an opaque token (cursor, idempotency key) is made of. */
const TOKEN = /^[\x21-\x7e]+$/;

const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

// ---------------------------------------------------------------- path parameters

/** A task id; anything else names no task (404, like an unknown or foreign id). */
export const TaskIdSchema = z.guid().describe("The task's id (a UUID).");

export const TaskPathParamsSchema = z.strictObject({ id: TaskIdSchema });

// ---------------------------------------------------------------- request headers

export const IdempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(TOKEN, { error: "must be printable ASCII without spaces (a UUID is a good key)" })
  .describe(
    "Makes the create safe to retry: the same key with the same body answers 200 with the " +
      "task the first request made; the same key with a different body is a 409.",
  );

// ---------------------------------------------------------------- request bodies

export const TASK_LIMITS = {
  titleMaxLength: 200,
  priority: { min: -1000, max: 1000 },
  maxAttempts: { min: 1, max: 10 },
  /** How far ahead `runAt` may be: a task scheduled further out is almost surely a mistake. */
  runAtMaxDaysAhead: 365,
  /**
   * How far back `runAt` may be: a little in the past is clock skew or a form left open (the
   * task is due at once); days back is a mistake (a zeroed date, year 1) that would read as
   * a pickup latency of centuries and trip the oldest-pending alarm.
   */
  runAtMaxHoursBehind: 24,
} as const;

export const CreateTaskBodySchema = z
  .strictObject({
    type: z.string().min(1).max(100).describe("The task type, e.g. `summarize`."),
    input: z
      .custom<Record<string, unknown>>(isJsonObject, { error: "input must be a JSON object" })
      .meta({ type: "object", description: "The task type's input (see its schema)." }),
    title: z
      .string()
      .min(1)
      .max(TASK_LIMITS.titleMaxLength)
      .nullable()
      .optional()
      .describe("A label for people; not used by the task."),
    priority: z
      .int()
      .min(TASK_LIMITS.priority.min)
      .max(TASK_LIMITS.priority.max)
      .default(0)
      .describe("Higher runs first."),
    runAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe(
        `Not before this time (ISO 8601 with an offset); default: at once. At most ${TASK_LIMITS.runAtMaxHoursBehind} hours in the past (due at once) and ${TASK_LIMITS.runAtMaxDaysAhead} days ahead.`,
      ),
    maxAttempts: z
      .int()
      .min(TASK_LIMITS.maxAttempts.min)
      .max(TASK_LIMITS.maxAttempts.max)
      .default(3)
      .describe("Attempts before the task fails for good."),
    model: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe(
        "The LLM to use; must be in the deployment's allowlist. Default: its default model.",
      ),
  })
  .describe("A new task. (The OpenAPI document refines `input` per `type`.)");
export type CreateTaskBody = z.infer<typeof CreateTaskBodySchema>;

export const BATCH_LIMITS = { min: 1, max: 100 } as const;

/** POST /api/tasks/batch: each item is checked as POST /api/tasks checks its body. */
export const CreateTaskBatchBodySchema = z
  .strictObject({
    tasks: z
      .array(z.unknown().meta({ $ref: "#/components/schemas/CreateTaskRequest" }))
      .min(BATCH_LIMITS.min)
      .max(BATCH_LIMITS.max)
      .describe(
        `${BATCH_LIMITS.min} to ${BATCH_LIMITS.max} tasks, each as POST /api/tasks takes it; created all or none.`,
      ),
  })
  .describe("Tasks to create together.");

// ---------------------------------------------------------------- queries

export const LIST_LIMITS = { default: 50, max: 100 } as const;

export const ListTasksQuerySchema = z.strictObject({
  status: TaskStatusSchema.optional().describe("Only tasks in this status."),
  type: z.string().min(1).max(100).regex(TOKEN).optional().describe("Only tasks of this type."),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(LIST_LIMITS.max)
    .default(LIST_LIMITS.default)
    .describe("Page size."),
  cursor: z
    .string()
    .min(1)
    .max(1024)
    .regex(TOKEN)
    .optional()
    .describe("The previous page's `nextCursor`."),
});
export type ListTasksQueryInput = z.infer<typeof ListTasksQuerySchema>;

// ---------------------------------------------------------------- answers

/** The task as callers see it: its fields are derived from the task row's definition. */
export const TaskViewSchema = z.object(taskViewShape()).meta({ id: "Task" });
export type TaskView = z.infer<typeof TaskViewSchema>;

export const TaskPageSchema = z
  .object({
    items: z.array(TaskViewSchema).describe("Newest first."),
    nextCursor: z
      .string()
      .nullable()
      .describe("Pass as `cursor` for the next page; null on the last."),
  })
  .meta({ id: "TaskPage" });
export type TaskPageView = z.infer<typeof TaskPageSchema>;

export const TaskBatchSchema = z
  .object({ items: z.array(TaskViewSchema).describe("In the request's order.") })
  .meta({ id: "TaskBatch" });

/**
 * The API's error body. `error` is a union over the codes (errorCodes.ts), each with the
 * `details` it really carries, so a typed client narrows `details` by checking `code`.
 */
function errorVariant(code: ApiErrorCode) {
  const { description, details } = API_ERRORS[code] as { description: string; details?: z.ZodType };
  return z
    .object({
      code: z.literal(code),
      message: z.string().describe("For people: what went wrong and what to do."),
      ...(details ? { details } : {}),
    })
    .describe(description);
}

export const ErrorDetailSchema = z
  .discriminatedUnion(
    "code",
    API_ERROR_CODES.map(errorVariant) as unknown as [
      ReturnType<typeof errorVariant>,
      ...ReturnType<typeof errorVariant>[],
    ],
  )
  .meta({ id: "ErrorDetail" });

export const ErrorBodySchema = z
  .object({
    error: ErrorDetailSchema,
    requestId: z.string().describe("Also the X-Request-Id header; the logs carry it."),
  })
  .meta({ id: "Error" });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/**
 * What API Gateway answers by itself, before (or instead of) the api Lambda: its JWT
 * authorizer's 401, its throttling's 429, a body over its 10 MB limit (413), a Lambda that
 * crashed or timed out (500, 503). HTTP APIs cannot reshape these (gateway responses are a
 * REST API feature: docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vs-rest.html);
 * the 401's body is documented at .../http-api-troubleshooting-jwt.html. The local gateway
 * answers the same bodies.
 */
export const GatewayErrorSchema = z
  .object({ message: z.string().describe("e.g. `Unauthorized`, `Too Many Requests`.") })
  .meta({ id: "GatewayError" });
export type GatewayError = z.infer<typeof GatewayErrorSchema>;

type StatusCounts = Record<TaskStatus, z.ZodInt>;

const PercentilesSchema = z
  .object({
    p50: z.number(),
    p95: z.number(),
    p99: z.number(),
    max: z.number(),
    count: z.int(),
  })
  .meta({ id: "Percentiles" });

export const MetricsViewSchema = z
  .object({
    counts: z
      .object(Object.fromEntries(TASK_STATUSES.map((status) => [status, z.int()])) as StatusCounts)
      .describe("The caller's tasks by status."),
    queueDepth: z.int().describe("The caller's pending tasks that are due now."),
    oldestPendingAgeSeconds: z.number().nullable(),
    windowSeconds: z.int(),
    pickupLatencyMs: PercentilesSchema.nullable().describe("From due to started, in the window."),
    runDurationMs: PercentilesSchema.nullable().describe(
      "From started to completed, in the window.",
    ),
  })
  .meta({ id: "Metrics" });
export type MetricsView = z.infer<typeof MetricsViewSchema>;

export const HealthViewSchema = z
  .object({
    status: z.enum(["ok", "unavailable"]),
    database: z.enum(["ok", "unavailable"]),
    /** Only on a 503, so clients that read `error` on any non-2xx find it. */
    error: ErrorBodySchema.shape.error.optional(),
    requestId: z.string(),
  })
  .meta({ id: "Health" });
export type HealthView = z.infer<typeof HealthViewSchema>;
