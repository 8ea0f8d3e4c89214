import type { z } from "zod";
import type { ApiDeps } from "./deps";
import type { ApiContext, ApiEvent, ApiResult } from "./http";

/**
 * The router: method + path pattern → route. Patterns are literal segments and `{name}`
 * placeholders (one whole segment each), the notation API Gateway and OpenAPI use, so a
 * route's `path` is also its OpenAPI path.
 */

export type HttpMethod = "GET" | "POST";

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
  operationId: string;
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

interface RouteBase {
  method: HttpMethod;
  /** e.g. `/api/tasks/{id}/cancel` */
  path: string;
  docs: RouteDocs;
}

/** A route anyone may call (health, the OpenAPI document). */
export interface PublicRoute extends RouteBase {
  auth: "none";
  handle(request: RouteRequest, deps: ApiDeps): Promise<ApiResult>;
}

/** A route that needs the JWT authorizer's caller; answered 401 without one. */
export interface CallerRoute extends RouteBase {
  auth: "jwt";
  handle(request: CallerRequest, deps: ApiDeps): Promise<ApiResult>;
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
  const compiled = routes.map((route) => ({ route, segments: splitPath(route.path) }));
  const seen = new Set<string>();
  for (const { route } of compiled) {
    const key = `${route.method} ${route.path.replace(/\{[^}]+\}/g, "{}")}`;
    if (seen.has(key)) throw new Error(`router: two routes for ${route.method} ${route.path}`);
    seen.add(key);
  }

  return {
    routes,
    match(method, path) {
      const segments = splitPath(path);
      const allowed: HttpMethod[] = [];
      for (const { route, segments: pattern } of compiled) {
        const params = matchSegments(pattern, segments);
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

function splitPath(path: string): string[] {
  // "/api/tasks" → ["api", "tasks"]; "/api/tasks/" keeps its empty last segment, so it is
  // not the same resource as "/api/tasks" (no silent aliasing).
  return path.split("/").slice(1);
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i] as string;
    const actual = segments[i] as string;
    const placeholder = /^\{(\w+)\}$/.exec(expected);
    if (placeholder) {
      if (actual === "") return null;
      const decoded = decodeSegment(actual);
      if (decoded === null) return null;
      params[placeholder[1] as string] = decoded;
    } else if (expected !== actual) {
      return null;
    }
  }
  return params;
}

function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    // A malformed escape such as "%zz" names no resource.
    return null;
  }
}
