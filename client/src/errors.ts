/**
 * The one error the client throws for an answer that is not a success. It keeps what the
 * API said (code, message, details, request id) or, for API Gateway's own answers, its
 * message, and the Retry-After the answer carried.
 */
import type { ApiErrorBody, ApiErrorCode, GatewayErrorBody } from "./types.js";

export class TaskPipelineError extends Error {
  override readonly name = "TaskPipelineError";
  /** The HTTP status. */
  readonly status: number;
  /** The API's error code; `gateway_error` when API Gateway answered by itself. */
  readonly code: ApiErrorCode | "gateway_error";
  /** The API's `details` (narrow with `code`: see ApiErrorBody). */
  readonly details: unknown;
  /** The request's id, to quote when asking about it (absent on API Gateway's answers). */
  readonly requestId: string | undefined;
  /** Seconds the answer asked to wait before retrying, if it did. */
  readonly retryAfterSeconds: number | undefined;
  /** The body as received. */
  readonly body: ApiErrorBody | GatewayErrorBody | undefined;

  constructor(status: number, body: unknown, headers: Headers) {
    const api = isApiError(body) ? body : undefined;
    const gateway = !api && isGatewayError(body) ? body : undefined;
    super(api?.error.message ?? gateway?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = api?.error.code ?? "gateway_error";
    this.details = api && "details" in api.error ? api.error.details : undefined;
    this.requestId = api?.requestId ?? headers.get("x-request-id") ?? undefined;
    this.retryAfterSeconds = retryAfter(headers.get("retry-after"));
    this.body = api ?? gateway;
  }
}

function isApiError(body: unknown): body is ApiErrorBody {
  const error = (body as { error?: { code?: unknown } } | null)?.error;
  return typeof error === "object" && error !== null && typeof error.code === "string";
}

function isGatewayError(body: unknown): body is GatewayErrorBody {
  return typeof (body as { message?: unknown } | null)?.message === "string";
}

/** Retry-After as seconds (RFC 9110: a number of seconds or an HTTP date). */
export function retryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
