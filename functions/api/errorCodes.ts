/**
 * Every `error.code` the HTTP API answers, once: its status, what it means, and the shape
 * of its `details` when it has one. The error handler maps errors to answers by this
 * table, HttpError takes its status from it, and the OpenAPI document's `Error` schema is a
 * union over it (schemas.ts), so a typed client gets an enum of codes and, for each code,
 * the details it really carries. A code the table lacks cannot be answered (a 500 instead).
 *
 * Adding an error: a PipelineError in core/errors.ts (or an HttpError here at the HTTP
 * layer) and an entry below.
 */
import { z } from "zod";
import { TaskStatusSchema } from "../core/tasks/model";

/** One failing field (the core's FieldIssue). */
export const ValidationIssueSchema = z
  .object({
    path: z.string().describe("The failing field, e.g. `input.topic` or `priority`."),
    message: z.string(),
  })
  .meta({ id: "ValidationIssue" });
export type ValidationIssue = z.infer<typeof ValidationIssueSchema>;

interface ApiErrorDefinition {
  status: number;
  description: string;
  /** Answered with `Retry-After` (seconds): when the same request may well succeed. */
  retryAfterSeconds?: number;
  /** The `details` this code always carries; none when absent. */
  details?: z.ZodType;
}

export const API_ERRORS = {
  validation_failed: {
    status: 400,
    description: "A field does not fit: `details` lists each failing field by path.",
    details: z.array(ValidationIssueSchema),
  },
  invalid_json: { status: 400, description: "The body is not JSON (or not UTF-8 text)." },
  unauthorized: {
    status: 401,
    description: "The token has no subject (`sub`) naming the caller.",
  },
  not_found: {
    status: 404,
    description: "No such task for this caller (another caller's task too), or no such path.",
  },
  method_not_allowed: {
    status: 405,
    description: "The path exists, but not with this method; `Allow` lists its methods.",
  },
  conflict: {
    status: 409,
    description: "The task's status does not allow this; `details.status` is its status.",
    details: z.object({ status: TaskStatusSchema }),
  },
  idempotency_conflict: {
    status: 409,
    description: "The Idempotency-Key was used before with another body.",
  },
  payload_too_large: {
    status: 413,
    description:
      "The body, or the field `details.field` names (e.g. `input`, `tasks.3.input`), is over its size limit, `details.maxBytes`.",
    details: z.object({ maxBytes: z.int(), field: z.string().optional() }),
  },
  unsupported_media_type: { status: 415, description: "The body is not JSON." },
  too_many_tasks: {
    status: 429,
    description:
      "The caller has MAX_PENDING_PER_OWNER unfinished tasks (`details.limit`); retry after Retry-After.",
    details: z.object({ limit: z.int(), unfinished: z.int() }),
    // Tasks take seconds to minutes; half a minute frees some without hammering the API.
    retryAfterSeconds: 30,
  },
  internal_error: {
    status: 500,
    description:
      "A bug; the answer says nothing more, the logs say everything under the same requestId.",
  },
  database_unavailable: {
    status: 503,
    description: "The database is unavailable; retry after the Retry-After seconds.",
  },
} as const satisfies Record<string, ApiErrorDefinition>;

export type ApiErrorCode = keyof typeof API_ERRORS;

export const API_ERROR_CODES = Object.keys(API_ERRORS) as ApiErrorCode[];

export function isApiErrorCode(code: string): code is ApiErrorCode {
  return Object.hasOwn(API_ERRORS, code);
}

/** The codes answered with `status`, in the table's order. */
export function errorCodesFor(status: number): ApiErrorCode[] {
  return API_ERROR_CODES.filter((code) => API_ERRORS[code].status === status);
}
