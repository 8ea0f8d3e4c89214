/**
 * The HTTP API's routes, listed once, as plain data. Four readers derive from this list:
 * the CDK stack makes one API Gateway route per entry (with or without the JWT
 * authorizer), the local runtime's gateway emulation matches requests against it, the api
 * Lambda's router attaches each entry's handler by id (routes/index.ts: a route without a
 * handler, or a handler without a route, does not compile), and the OpenAPI document
 * describes each entry. Importable from CDK code: no middy, no AWS SDK, no handlers here.
 *
 * Adding a route: an entry here, its handler file in routes/, one line in routes/index.ts.
 */

export const HTTP_METHODS = ["GET", "POST"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface RouteDefinition {
  method: HttpMethod;
  /** API Gateway's (and OpenAPI's) path template: `{name}` is one whole path segment. */
  path: string;
  /** Whether the JWT authorizer guards the route (the caller is the token's `sub`). */
  authorized: boolean;
}

/** Keyed by the OpenAPI operationId. */
export const ROUTES = {
  // Liveness for load balancers and uptime checks: no token (docs/design.md "The HTTP API").
  getHealth: { method: "GET", path: "/api/health", authorized: false },
  // The API's description, for generating a typed client: it holds no one's data.
  getOpenApiDocument: { method: "GET", path: "/api/openapi.json", authorized: false },
  getMetrics: { method: "GET", path: "/api/metrics", authorized: true },
  listTasks: { method: "GET", path: "/api/tasks", authorized: true },
  createTask: { method: "POST", path: "/api/tasks", authorized: true },
  createTasks: { method: "POST", path: "/api/tasks/batch", authorized: true },
  getTask: { method: "GET", path: "/api/tasks/{id}", authorized: true },
  cancelTask: { method: "POST", path: "/api/tasks/{id}/cancel", authorized: true },
  retryTask: { method: "POST", path: "/api/tasks/{id}/retry", authorized: true },
} as const satisfies Record<string, RouteDefinition>;

export type RouteId = keyof typeof ROUTES;

/**
 * API Gateway's catch-all route: a request no route above matches reaches the api Lambda
 * through it, without the JWT authorizer, so the handler answers it (404, or 405 with
 * `Allow`) in the API's error shape with a request id, instead of API Gateway's bare
 * `{"message":"Not Found"}`. The local gateway does the same.
 */
export const DEFAULT_ROUTE_KEY = "$default";

/** The routes as a list, each with its id, in the order above. */
export const API_ROUTES: readonly (RouteDefinition & { id: RouteId })[] = (
  Object.entries(ROUTES) as [RouteId, RouteDefinition][]
).map(([id, route]) => ({ id, ...route }));

/**
 * CORS as API Gateway's `corsPreflight` is configured (origins come from settings). CORS is
 * answered where it really is: by API Gateway in AWS (lib/api.ts) and by the local gateway
 * emulation locally (functions/local/cors.ts); the api Lambda sets no CORS headers, since
 * API Gateway would replace them. What the browser may send and read is decided here, once.
 */
export const CORS_RULES = {
  allowMethods: [...HTTP_METHODS, "OPTIONS"] as const,
  allowHeaders: ["authorization", "content-type", "idempotency-key"],
  // Without these a browser could not read the request id, a created task's location or
  // Retry-After.
  exposeHeaders: ["x-request-id", "location", "retry-after"],
  maxAgeSeconds: 3600,
} as const;

/**
 * Matches a request path against a route's path template: the decoded `{name}` segments,
 * or null when it does not match. The one matcher of the api router and the local gateway.
 * A trailing slash is another path (no silent aliasing). A malformed escape (`%zz`) is
 * passed on as sent: the route's own validation answers it (a 404 for a task id), in the
 * API's error shape.
 */
export function matchPath(template: string, path: string): Record<string, string> | null {
  const pattern = template.split("/");
  const segments = path.split("/");
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of pattern.entries()) {
    const segment = segments[i] as string;
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (name) {
      if (segment === "") return null;
      params[name] = decodeSegment(segment);
    } else if (part !== segment) {
      return null;
    }
  }
  return params;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
