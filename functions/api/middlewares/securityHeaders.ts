import type { MiddlewareObj } from "@middy/core";
import { z } from "zod";
import type { ApiContext, ApiEvent, ApiResult } from "../http";
import { middlewareOptions } from "./options";

const OptionsSchema = z.object({
  /** HSTS lifetime: two years, the preload list's expectation. */
  hstsMaxAgeSeconds: z.int().min(0).default(63_072_000),
});

/**
 * Headers every API answer carries. The answers are JSON for scripts, never pages, so the
 * policy is as strict as it gets: nothing may load, nothing may frame it, nothing may be
 * sniffed into HTML, and nothing is cached (answers are per caller).
 */
export function securityHeaders(
  options: z.input<typeof OptionsSchema> = {},
): MiddlewareObj<ApiEvent, ApiResult, Error, ApiContext> {
  const fixed = securityHeaderValues(options);

  const addHeaders = (request: { response: ApiResult | null }) => {
    if (!request.response) return;
    // A route's own value wins (none sets these today; the OpenAPI document could be cached).
    request.response.headers = { ...fixed, ...request.response.headers };
  };

  return { after: addHeaders, onError: addHeaders };
}

/**
 * The headers themselves, also for answers that never reach the handler (the local
 * gateway's own 401, 404, 413 and 500).
 */
export function securityHeaderValues(
  options: z.input<typeof OptionsSchema> = {},
): Record<string, string> {
  const { hstsMaxAgeSeconds } = middlewareOptions("securityHeaders", OptionsSchema, options);
  return {
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "strict-transport-security": `max-age=${hstsMaxAgeSeconds}; includeSubDomains`,
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
    "referrer-policy": "no-referrer",
  };
}
