import { API_ROUTES, matchPath, type RouteDefinition } from "../api/routeTable";

/**
 * API Gateway's route matching over the shared route list (functions/api/routeTable.ts,
 * which the stack also builds its routes from), with the same path matcher as the api
 * router: which requests reach the api Lambda at all, with which `routeKey` and
 * `pathParameters`, and which need a token. A request matching no route is API Gateway's
 * own 404, never the handler's.
 */

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
  for (const route of routes) {
    if (route.method !== method.toUpperCase()) continue;
    const parameters = matchPath(route.path, rawPath);
    if (!parameters) continue;
    return {
      routeKey: `${route.method} ${route.path}`,
      pathParameters: Object.keys(parameters).length > 0 ? parameters : undefined,
      authorized: route.authorized,
    };
  }
  return undefined;
}
