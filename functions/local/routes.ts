import { API_ROUTES, type RouteDefinition } from "../api/routeTable";

/**
 * API Gateway's route matching over the shared route table (functions/api/routeTable.ts,
 * which the stack also builds its routes from): which requests reach the api Lambda at
 * all, with which `routeKey` and `pathParameters`, and which need a token. A request
 * matching no route is API Gateway's own 404, never the handler's.
 */

export type { RouteDefinition };
export { API_ROUTES };

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
