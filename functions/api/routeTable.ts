/**
 * The HTTP API's routes as plain data: the CDK stack creates one API Gateway route per
 * entry (with or without the JWT authorizer) and the local runtime's gateway emulation
 * matches requests against it; the api Lambda's own route objects are held to it by
 * test/unit/api/routeTable.test.ts. Importable from CDK code: no middy, no AWS SDK, no
 * handlers here.
 */
export interface RouteDefinition {
  method: "GET" | "POST";
  /** API Gateway's (and OpenAPI's) path template: `{name}` is one whole path segment. */
  path: string;
  /** Whether the JWT authorizer guards the route (the caller is the token's `sub`). */
  authorized: boolean;
}

export const API_ROUTES: readonly RouteDefinition[] = [
  // Liveness for load balancers and uptime checks: no token, by DESIGN.md.
  { method: "GET", path: "/api/health", authorized: false },
  // The API's description, for generating a typed client: it holds no one's data.
  { method: "GET", path: "/api/openapi.json", authorized: false },
  { method: "GET", path: "/api/metrics", authorized: true },
  { method: "GET", path: "/api/tasks", authorized: true },
  { method: "POST", path: "/api/tasks", authorized: true },
  { method: "GET", path: "/api/tasks/{id}", authorized: true },
  { method: "POST", path: "/api/tasks/{id}/cancel", authorized: true },
  { method: "POST", path: "/api/tasks/{id}/retry", authorized: true },
];

/**
 * CORS as API Gateway's `corsPreflight` is configured (origins come from settings). In AWS
 * the gateway answers CORS itself and replaces the Lambda's CORS headers, so what the
 * browser may send and read is decided here, once, for the stack, the api's own CORS
 * middleware and the local gateway emulation.
 */
export const CORS_RULES = {
  allowMethods: ["GET", "POST", "OPTIONS"],
  allowHeaders: ["authorization", "content-type", "idempotency-key"],
  // Without these a browser could not read the request id, a created task's location or
  // Retry-After.
  exposeHeaders: ["x-request-id", "location", "retry-after"],
  maxAgeSeconds: 3600,
} as const;
