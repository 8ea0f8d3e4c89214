import { CORS_RULES } from "../api/routeTable";
import type { Logger } from "../core/telemetry/ports";

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
  /** Called for each request whose origin is not allowed (the browser then blocks it). */
  onRejectedOrigin?: (origin: string) => void;
}

/** The same configuration as the stack's `corsPreflight` (lib/api.ts), from CORS_ORIGINS. */
export function corsConfig(allowOrigins: readonly string[], logger?: Logger): CorsConfig {
  return {
    ...(logger ? { onRejectedOrigin: warnOncePerOrigin(allowOrigins, logger) } : {}),
    allowOrigins,
    allowMethods: CORS_RULES.allowMethods,
    allowHeaders: CORS_RULES.allowHeaders,
    exposeHeaders: CORS_RULES.exposeHeaders,
    maxAgeSeconds: CORS_RULES.maxAgeSeconds,
  };
}

/**
 * A browser reports a CORS rejection to the page only as `TypeError: Failed to fetch`, so
 * the server says which origin it refused and what it allows. Once per origin: a page
 * retries, and every request of it would repeat the same line.
 */
function warnOncePerOrigin(allowOrigins: readonly string[], logger: Logger) {
  const reported = new Set<string>();
  return (origin: string) => {
    if (reported.has(origin)) return;
    reported.add(origin);
    logger.warn(
      `CORS: origin ${origin} is not allowed, the browser blocks its requests; allowed: ${allowOrigins.join(", ")} (set CORS_ORIGINS)`,
      { origin, allowedOrigins: allowOrigins },
    );
  };
}

function allowedOrigin(config: CorsConfig, origin: string | undefined): string | undefined {
  if (!origin) return undefined;
  if (config.allowOrigins.includes("*")) return "*";
  if (config.allowOrigins.includes(origin)) return origin;
  config.onRejectedOrigin?.(origin);
  return undefined;
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
