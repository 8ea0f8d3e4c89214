import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import { PipelineError } from "../core/errors";
import type { Logger } from "../core/telemetry/ports";
import { API_ERRORS, type ApiErrorCode } from "./errorCodes";

/**
 * The HTTP shapes of the api Lambda: API Gateway HTTP API payload v2 in, a structured
 * result out. Only `functions/api` sees these; the core never does.
 */

/** The event, plus the body once the JSON body middleware has parsed it. */
export type ApiEvent = APIGatewayProxyEventV2WithJWTAuthorizer & {
  /** The parsed JSON body; undefined when the request had none. */
  jsonBody?: unknown;
};

export type ApiResult = APIGatewayProxyStructuredResultV2 & {
  statusCode: number;
  headers: Record<string, string>;
};

/** The Lambda context, plus what the request context middleware adds for this request. */
export interface ApiContext extends Context {
  /** API Gateway's request id (also answered as `X-Request-Id` and in error bodies). */
  requestId: string;
  /** A logger whose every line carries this request's id, method and path. */
  logger: Logger;
}

export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** A JSON answer. Headers common to every answer (CORS, security) are added by middlewares. */
export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): ApiResult {
  return {
    statusCode,
    headers: { "content-type": JSON_CONTENT_TYPE, ...headers },
    body: JSON.stringify(body),
  };
}

/** An answer without a body (CORS preflight). */
export function emptyResponse(statusCode: number, headers: Record<string, string> = {}): ApiResult {
  return { statusCode, headers };
}

/**
 * An error that exists only at the HTTP layer (no route, no caller, body too large, not
 * JSON). Its status comes from its code's entry in errorCodes.ts; errors from the core are
 * mapped the same way, by code.
 */
export class HttpError extends PipelineError {
  readonly statusCode: number;
  readonly headers: Record<string, string>;

  constructor(
    code: ApiErrorCode,
    message: string,
    options?: { details?: unknown; headers?: Record<string, string> },
  ) {
    super(code, message, { details: options?.details });
    this.statusCode = API_ERRORS[code].status;
    this.headers = options?.headers ?? {};
  }
}

/** Lowercased header lookup (HTTP API v2 lowercases names already; tests and proxies may not). */
export function header(event: ApiEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  const wanted = name.toLowerCase();
  if (headers[wanted] !== undefined) return headers[wanted];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

export function methodOf(event: ApiEvent): string {
  return (event.requestContext?.http?.method ?? "").toUpperCase();
}

export function pathOf(event: ApiEvent): string {
  return event.rawPath ?? event.requestContext?.http?.path ?? "/";
}
