import type { MiddlewareObj } from "@middy/core";
import { z } from "zod";
import { type ApiContext, type ApiEvent, type ApiResult, header, methodOf } from "../http";
import { middlewareOptions } from "./options";

const Origin = z.string().refine(
  (value) => {
    if (value === "*") return true;
    try {
      return new URL(value).origin === value.replace(/\/$/, "");
    } catch {
      return false;
    }
  },
  { error: "must be * or an origin such as https://app.example.com (scheme, host, port; no path)" },
);

const OptionsSchema = z.object({
  /** Allowed origins; `*` allows any (development only). */
  origins: z.array(Origin).min(1),
  allowMethods: z.array(z.string().regex(/^[A-Z]+$/)).min(1),
  allowHeaders: z.array(z.string().regex(/^[A-Za-z0-9-]+$/)).min(1),
  /** Response headers a browser script may read. */
  exposeHeaders: z.array(z.string().regex(/^[A-Za-z0-9-]+$/)).default([]),
  /** How long a browser may cache a preflight answer. */
  maxAgeSeconds: z.int().min(0).max(86_400).default(600),
});
type CorsOptions = z.input<typeof OptionsSchema>;

/**
 * CORS for the configured origins only: an allowed Origin gets
 * `Access-Control-Allow-Origin` echoing it; any other gets no CORS header at all (the
 * browser then refuses to hand the answer to the page). Every answer says
 * `Vary: Origin`, so a cache never serves one origin's answer to another.
 *
 * In AWS, API Gateway answers preflights itself from the same origins (its corsPreflight
 * setting); this covers the local runtime and answers that pass through the Lambda.
 */
export function cors(options: CorsOptions): MiddlewareObj<ApiEvent, ApiResult, Error, ApiContext> {
  const settings = middlewareOptions("cors", OptionsSchema, options);
  const anyOrigin = settings.origins.includes("*");
  const allowed = new Set(
    settings.origins.map((origin) => origin.replace(/\/$/, "").toLowerCase()),
  );

  const addHeaders = (request: { event: ApiEvent; response: ApiResult | null }) => {
    const { event, response } = request;
    if (!response) return;
    const headers: Record<string, string> = { ...response.headers, vary: "Origin" };
    const origin = header(event, "origin");
    if (origin && origin !== "null" && (anyOrigin || allowed.has(origin.toLowerCase()))) {
      headers["access-control-allow-origin"] = origin;
      if (settings.exposeHeaders.length > 0) {
        headers["access-control-expose-headers"] = settings.exposeHeaders.join(", ");
      }
      if (methodOf(event) === "OPTIONS") {
        headers["access-control-allow-methods"] = settings.allowMethods.join(", ");
        headers["access-control-allow-headers"] = settings.allowHeaders.join(", ");
        headers["access-control-max-age"] = String(settings.maxAgeSeconds);
      }
    }
    response.headers = headers;
  };

  return { after: addHeaders, onError: addHeaders };
}
