/**
 * The router: method + path pattern → route, over the one route list (./routeTable.ts) and
 * its one path matcher. A route is an entry of that list joined with its handler (the
 * docs and the function of a file in ./routes), by id.
 */
import type { z } from "zod";
import type { ApiDeps } from "./deps";
import type { ApiContext, ApiEvent, ApiResult } from "./http";
import { type HttpMethod, matchPath, type ROUTES, type RouteId } from "./routeTable";

export type { HttpMethod };

export interface RouteRequest {
  event: ApiEvent;
  context: ApiContext;
  /** Decoded `{name}` segments of the path. */
  params: Record<string, string>;
}

export interface CallerRequest extends RouteRequest {
  /** The JWT's `sub`: whose tasks these are. */
  caller: string;
}

/** What the OpenAPI document says about a route; the schemas are the ones the route parses with. */
export interface RouteDocs {
  summary: string;
  description?: string;
  tags: string[];
  pathParams?: z.ZodObject;
  query?: z.ZodObject;
  /** Request headers the route reads (name → schema). */
  headers?: Record<string, { schema: z.ZodType; description: string }>;
  /** A schema, or the name of a component the document builds itself (the per-type create body). */
  body?: z.ZodType | { component: string };
  /** Success answers. */
  responses: Record<number, { description: string; schema: z.ZodType }>;
  /** Error statuses the route answers (all in the one error shape); 500 is added to every route. */
  errors: number[];
}

/** The handler of a route anyone may call (health, the OpenAPI document). */
export interface PublicHandler {
  docs: RouteDocs;
  handle(request: RouteRequest, deps: ApiDeps): Promise<ApiResult>;
}

/** The handler of a route that needs the JWT authorizer's caller; answered 401 without one. */
export interface CallerHandler {
  docs: RouteDocs;
  handle(request: CallerRequest, deps: ApiDeps): Promise<ApiResult>;
}

/** One handler per route id, of the kind its entry's `authorized` calls for. */
export type RouteHandlers = {
  [K in RouteId]: (typeof ROUTES)[K]["authorized"] extends true ? CallerHandler : PublicHandler;
};

interface RouteBase {
  /** The entry's id, also the OpenAPI operationId. */
  id: RouteId;
  method: HttpMethod;
  /** e.g. `/api/tasks/{id}/cancel` */
  path: string;
}

export interface PublicRoute extends RouteBase, PublicHandler {
  auth: "none";
}

export interface CallerRoute extends RouteBase, CallerHandler {
  auth: "jwt";
}

export type Route = PublicRoute | CallerRoute;

export type RouteMatch =
  | { kind: "route"; route: Route; params: Record<string, string> }
  /** The path exists but not with this method; `allowed` lists the methods it has. */
  | { kind: "method_not_allowed"; allowed: HttpMethod[] }
  | { kind: "not_found" };

export interface Router {
  readonly routes: readonly Route[];
  match(method: string, path: string): RouteMatch;
}

export function createRouter(routes: readonly Route[]): Router {
  const seen = new Set<string>();
  for (const route of routes) {
    const key = `${route.method} ${route.path.replace(/\{[^}]+\}/g, "{}")}`;
    if (seen.has(key)) throw new Error(`router: two routes for ${route.method} ${route.path}`);
    seen.add(key);
  }

  return {
    routes,
    match(method, path) {
      const allowed: HttpMethod[] = [];
      for (const route of routes) {
        const params = matchPath(route.path, path);
        if (!params) continue;
        if (route.method === method) return { kind: "route", route, params };
        allowed.push(route.method);
      }
      return allowed.length > 0
        ? { kind: "method_not_allowed", allowed: [...new Set(allowed)].sort() }
        : { kind: "not_found" };
    },
  };
}
