import { API_ROUTES, DEFAULT_ROUTE_KEY, matchPath, type RouteDefinition } from "../api/routeTable";

/**
 * API Gateway's route matching over the shared route list (functions/api/routeTable.ts,
 * which the stack also builds its routes from), with the same path matcher as the api
 * router: which requests reach the api Lambda at all, with which `routeKey` and
 * `pathParameters`, and which need a token. A request matching no route goes to the api
 * Lambda through the `$default` route, without a token, as in AWS (lib/api.ts): the
 * handler answers it 404, or 405 with `Allow`, in the API's error shape.
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
): RouteMatch {
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
  return { routeKey: DEFAULT_ROUTE_KEY, pathParameters: undefined, authorized: false };
}
