import { randomUUID } from "node:crypto";
import type { MiddlewareObj } from "@middy/core";
import { z } from "zod";
import type { LogFields, Logger } from "../../core/telemetry/ports";
import { type ApiContext, type ApiEvent, type ApiResult, methodOf, pathOf } from "../http";
import { middlewareOptions } from "./options";

const OptionsSchema = z.object({
  logger: z.custom<Logger>(
    (value) => typeof value === "object" && value !== null && "info" in value && "error" in value,
    { error: "must be a Logger" },
  ),
  now: z.custom<() => number>((value) => typeof value === "function").default(() => Date.now),
});

/**
 * First in the chain: gives the request its id (API Gateway's, so a log line and the
 * answer a user reports match up) and a logger that stamps it on every line, answers it as
 * `X-Request-Id`, and writes one access line per request.
 *
 * The context is copied rather than mutated: the local runtime may hand several
 * concurrent requests the same context object, and one request's id must not leak into
 * another's logs.
 */
export function requestContext(options: {
  logger: Logger;
  now?: () => number;
}): MiddlewareObj<ApiEvent, ApiResult, Error, ApiContext> {
  const { logger, now } = middlewareOptions("requestContext", OptionsSchema, options);
  const started = new WeakMap<object, number>();

  const finish = (request: {
    event: ApiEvent;
    context: ApiContext;
    response: ApiResult | null;
  }) => {
    const { response, context } = request;
    if (!response) return;
    response.headers = { ...response.headers, "x-request-id": context.requestId };
    const begin = started.get(request.event);
    context.logger?.info("request", {
      status: response.statusCode,
      durationMs: begin === undefined ? undefined : now() - begin,
    });
  };

  return {
    before(request) {
      const { event } = request;
      started.set(event, now());
      const requestId =
        event.requestContext?.requestId || request.context?.awsRequestId || randomUUID();
      const fields: LogFields = {
        requestId,
        method: methodOf(event),
        path: pathOf(event),
        ...(request.context?.awsRequestId ? { awsRequestId: request.context.awsRequestId } : {}),
      };
      request.context = Object.assign(Object.create(request.context ?? null), {
        requestId,
        logger: withFields(logger, fields),
      });
    },
    after: finish,
    onError: finish,
  };
}

/** A logger that adds `fields` to every line (Powertools prints them as JSON keys). */
export function withFields(base: Logger, fields: LogFields): Logger {
  return {
    debug: (message, extra) => base.debug(message, { ...fields, ...extra }),
    info: (message, extra) => base.info(message, { ...fields, ...extra }),
    warn: (message, extra) => base.warn(message, { ...fields, ...extra }),
    error: (message, extra) => base.error(message, { ...fields, ...extra }),
  };
}
