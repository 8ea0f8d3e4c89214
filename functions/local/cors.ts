import { CORS_RULES } from "../api/routeTable";

/**
 * API Gateway's CORS, as an HTTP API with `corsPreflight` does it: it answers preflight
 * `OPTIONS` requests itself (no route, no token, the Lambda never sees them) and, on other
 * answers, sets the CORS headers from its configuration in place of any the Lambda sent.
 */

export interface CorsConfig {
  /** Allowed origins; `*` allows any. */
  allowOrigins: readonly string[];
  allowMethods: readonly string[];
  allowHeaders: readonly string[];
  exposeHeaders: readonly string[];
  maxAgeSeconds: number;
}

/** The same configuration as the stack's `corsPreflight` (lib/api.ts), from CORS_ORIGINS. */
export function corsConfig(allowOrigins: readonly string[]): CorsConfig {
  return {
    allowOrigins,
    allowMethods: CORS_RULES.allowMethods,
    allowHeaders: CORS_RULES.allowHeaders,
    exposeHeaders: CORS_RULES.exposeHeaders,
    maxAgeSeconds: CORS_RULES.maxAgeSeconds,
  };
}

function allowedOrigin(config: CorsConfig, origin: string | undefined): string | undefined {
  if (!origin) return undefined;
  if (config.allowOrigins.includes("*")) return "*";
  return config.allowOrigins.includes(origin) ? origin : undefined;
}

/** The headers of API Gateway's 204 answer to a preflight. */
export function preflightHeaders(
  config: CorsConfig,
  origin: string | undefined,
): Record<string, string> {
  const allowed = allowedOrigin(config, origin);
  if (!allowed) return {};
  return {
    "access-control-allow-origin": allowed,
    "access-control-allow-methods": config.allowMethods.join(","),
    "access-control-allow-headers": config.allowHeaders.join(","),
    "access-control-max-age": String(config.maxAgeSeconds),
    vary: "origin",
  };
}

/** Replaces the CORS headers of an answer with the configured ones for `origin`. */
export function applyCorsHeaders(
  config: CorsConfig,
  origin: string | undefined,
  headers: Record<string, string[]>,
): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(headers)) {
    if (!name.startsWith("access-control-")) result[name] = values;
  }
  const allowed = allowedOrigin(config, origin);
  if (allowed) {
    result["access-control-allow-origin"] = [allowed];
    if (config.exposeHeaders.length > 0) {
      result["access-control-expose-headers"] = [config.exposeHeaders.join(",")];
    }
    const vary = result.vary?.join(",") ?? "";
    if (!/\borigin\b/i.test(vary)) result.vary = [vary ? `${vary},origin` : "origin"];
  }
  return result;
}
