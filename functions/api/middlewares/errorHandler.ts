import type { MiddlewareObj } from "@middy/core";
import { z } from "zod";
import { DatabaseUnavailableError, PipelineError } from "../../core/errors";
import { METRICS } from "../../core/telemetry/metricNames";
import type { Metrics } from "../../core/telemetry/ports";
import { API_ERRORS, isApiErrorCode } from "../errorCodes";
import { type ApiContext, type ApiEvent, type ApiResult, HttpError, jsonResponse } from "../http";
import type { ErrorBody } from "../schemas";
import { middlewareOptions } from "./options";

const OptionsSchema = z.object({
  metrics: z.custom<Metrics>(
    (value) => typeof value === "object" && value !== null && "add" in value && "flush" in value,
    { error: "must be a Metrics" },
  ),
  /** Seconds a client should wait before retrying after a 503. */
  retryAfterSeconds: z.int().min(1).default(5),
});

/**
 * The one error handler. Errors the code raises on purpose (HttpError, and the core's
 * named errors) whose code the API answers (errorCodes.ts) become 4xx answers with their
 * status, code, message and details; a named error whose code is not in that table is a
 * bug like any other. A
 * database that cannot be reached is a 503 the client may retry. Everything else is a
 * bug, answered with a plain 500 that says nothing about it: the error, its stack and any
 * SQL go to the log only, under the same request id the answer carries.
 */
export function errorHandler(
  options: z.input<typeof OptionsSchema>,
): MiddlewareObj<ApiEvent, ApiResult, Error, ApiContext> {
  const { metrics, retryAfterSeconds } = middlewareOptions("errorHandler", OptionsSchema, options);

  return {
    onError(request) {
      const { error, context } = request;
      const requestId = context.requestId ?? context.awsRequestId ?? "unknown";
      const answer = (
        status: number,
        body: ErrorBody["error"],
        headers?: Record<string, string>,
      ) => {
        request.response = jsonResponse(status, { error: body, requestId }, headers);
      };

      if (
        error instanceof PipelineError &&
        !(error instanceof DatabaseUnavailableError) &&
        isApiErrorCode(error.code)
      ) {
        const definition: { status: number; retryAfterSeconds?: number } = API_ERRORS[error.code];
        const { status } = definition;
        const retryAfter: Record<string, string> =
          definition.retryAfterSeconds === undefined
            ? {}
            : { "retry-after": String(definition.retryAfterSeconds) };
        context.logger?.info("request refused", {
          status,
          code: error.code,
          reason: error.message,
        });
        answer(
          status,
          {
            code: error.code,
            message: error.message,
            ...(error.details === undefined ? {} : { details: error.details }),
          } as ErrorBody["error"],
          { ...retryAfter, ...(error instanceof HttpError ? error.headers : {}) },
        );
        return;
      }

      if (error instanceof DatabaseUnavailableError) {
        context.logger?.warn("database unavailable", describe(error));
        answer(
          503,
          {
            code: "database_unavailable",
            message: "the database is unavailable; try again shortly",
          },
          { "retry-after": String(retryAfterSeconds) },
        );
        return;
      }

      context.logger?.error("unhandled error", describe(error));
      metrics.add(METRICS.apiServerErrors.name, METRICS.apiServerErrors.unit, 1);
      metrics.flush();
      answer(500, { code: "internal_error", message: "internal error" });
    },
  };
}

function describe(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  return {
    error: { name: error.name, message: error.message, stack: error.stack },
    ...(error.cause instanceof Error
      ? { cause: { name: error.cause.name, message: error.cause.message } }
      : {}),
  };
}
