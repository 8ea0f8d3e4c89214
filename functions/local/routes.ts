/**
 * The HTTP API's routes as API Gateway holds them (DESIGN.md "HTTP API", and the stack's
 * `API_ROUTES` in lib/api.ts, which this mirrors without importing CDK): which requests
 * reach the api Lambda at all, with which `routeKey` and `pathParameters`, and which need a
 * token. A request matching no route is API Gateway's own 404, never the handler's.
 */

export interface RouteDefinition {
  method: "GET" | "POST";
  /** API Gateway's path template: `{name}` matches one non-empty path segment. */
  path: string;
  /** Whether the JWT authorizer guards the route. */
  authorized: boolean;
}

export const API_ROUTES: readonly RouteDefinition[] = [
  { method: "GET", path: "/api/health", authorized: false },
  // "Every route but /api/health requires a token": the document too, as in the stack.
  { method: "GET", path: "/api/openapi.json", authorized: true },
  { method: "GET", path: "/api/metrics", authorized: true },
  { method: "GET", path: "/api/tasks", authorized: true },
  { method: "POST", path: "/api/tasks", authorized: true },
  { method: "GET", path: "/api/tasks/{id}", authorized: true },
  { method: "POST", path: "/api/tasks/{id}/cancel", authorized: true },
  { method: "POST", path: "/api/tasks/{id}/retry", authorized: true },
];

export interface RouteMatch {
  /** `GET /api/tasks/{id}`: the event's `routeKey`. */
  routeKey: string;
  /** Decoded values; undefined when the route has no parameters (as API Gateway sends). */
  pathParameters: Record<string, string> | undefined;
  authorized: boolean;
}

export function matchRoute(
  method: string,
  rawPath: string,
  routes: readonly RouteDefinition[] = API_ROUTES,
): RouteMatch | undefined {
  const segments = rawPath.split("/");
  for (const route of routes) {
    if (route.method !== method.toUpperCase()) continue;
    const parameters = matchPath(route.path.split("/"), segments);
    if (!parameters) continue;
    return {
      routeKey: `${route.method} ${route.path}`,
      pathParameters: Object.keys(parameters).length > 0 ? parameters : undefined,
      authorized: route.authorized,
    };
  }
  return undefined;
}

function matchPath(template: string[], segments: string[]): Record<string, string> | undefined {
  if (template.length !== segments.length) return undefined;
  const parameters: Record<string, string> = {};
  for (const [i, part] of template.entries()) {
    const segment = segments[i] ?? "";
    const name = /^\{([A-Za-z0-9_]+)\}$/.exec(part)?.[1];
    if (name) {
      if (segment === "") return undefined;
      parameters[name] = safeDecode(segment);
    } else if (part !== segment) {
      return undefined;
    }
  }
  return parameters;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // A malformed escape (`%zz`) reaches the handler as sent; its validation answers 400/404.
    return segment;
  }
}
