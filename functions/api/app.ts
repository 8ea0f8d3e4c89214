import middy from "@middy/core";
import type { APIGatewayProxyEventV2WithJWTAuthorizer, Context } from "aws-lambda";
import type { ApiDeps } from "./deps";
import {
  type ApiContext,
  type ApiEvent,
  type ApiResult,
  emptyResponse,
  HttpError,
  methodOf,
  pathOf,
} from "./http";
import { bodyLimit } from "./middlewares/bodyLimit";
import { errorHandler } from "./middlewares/errorHandler";
import { jsonBody } from "./middlewares/jsonBody";
import { jsonContentType } from "./middlewares/jsonContentType";
import { largeResponses } from "./middlewares/largeResponses";
import { requestContext } from "./middlewares/requestContext";
import { securityHeaders } from "./middlewares/securityHeaders";
import { createRouter, type Router } from "./router";
import { createRoutes } from "./routes";
import { isStorableText } from "./text";

export type { ApiDeps, TaskTypeCatalog } from "./deps";
export type { ApiResult } from "./http";

/** The api Lambda's handler: an HTTP API payload v2 event in, a structured result out. */
export type ApiHandler = (
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
  context: Context,
) => Promise<ApiResult>;

/**
 * Builds the handler: the middy chain around the router. `deps` may be a function, called
 * once on the first request, so a module can export the handler before its environment is
 * read (the local runtime sets process.env, then imports; tests set it per file).
 *
 * Middleware order matters. `before` runs top to bottom; `after` and `onError` bottom to
 * top. So the error handler turns any error into an answer first, and only then do the
 * security headers and the request id get added: every answer, error or not,
 * carries them.
 */
export function createApiHandler(deps: ApiDeps | (() => ApiDeps)): ApiHandler {
  let handler: ApiHandler | undefined = typeof deps === "function" ? undefined : buildHandler(deps);
  return (event, context) => {
    handler ??= buildHandler(typeof deps === "function" ? deps() : deps);
    return handler(event, context);
  };
}

function buildHandler(deps: ApiDeps): ApiHandler {
  const router = createRouter(createRoutes(deps.taskTypes));
  const chain = middy<ApiEvent, ApiResult, Error, ApiContext>()
    .use(requestContext({ logger: deps.logger, now: deps.now }))
    .use(securityHeaders())
    .use(errorHandler({ metrics: deps.metrics }))
    .use(largeResponses())
    .use(bodyLimit({ maxBytes: deps.settings.api.MAX_BODY_BYTES }))
    .use(jsonContentType())
    .use(jsonBody())
    .handler((event: ApiEvent, context: ApiContext) => dispatch(router, deps, event, context));
  return chain as unknown as ApiHandler;
}

async function dispatch(
  router: Router,
  deps: ApiDeps,
  event: ApiEvent,
  context: ApiContext,
): Promise<ApiResult> {
  const method = methodOf(event);
  const match = router.match(method, pathOf(event));
  if (match.kind === "not_found") {
    throw new HttpError("not_found", "no route matches this path");
  }
  if (match.kind === "method_not_allowed") {
    const allow = [...match.allowed, "OPTIONS"].join(", ");
    // CORS preflights are answered by API Gateway (and the local gateway) before they get
    // here; one that reaches the handler anyway learns the methods the path has.
    if (method === "OPTIONS") return emptyResponse(204, { allow });
    throw new HttpError("method_not_allowed", `${method} is not allowed here; use ${allow}`, {
      headers: { allow },
    });
  }

  const { route, params } = match;
  if (route.auth === "none") return route.handle({ event, context, params }, deps);
  return route.handle({ event, context, params, caller: callerOf(event) }, deps);
}

/**
 * The caller: the `sub` claim API Gateway's JWT authorizer verified. A route that needs
 * one and has none is a 401 (the authorizer normally stops such a request first; this is
 * the handler's own guard, and the local runtime's).
 */
function callerOf(event: ApiEvent): string {
  const sub = event.requestContext?.authorizer?.jwt?.claims?.sub;
  // 255: what the store keeps as an owner; text the database cannot hold names nobody.
  if (typeof sub === "string" && sub.trim() !== "" && sub.length <= 255 && isStorableText(sub)) {
    return sub;
  }
  throw new HttpError(
    "unauthorized",
    "a bearer token whose subject (sub) names the caller is required",
    {
      headers: { "www-authenticate": 'Bearer realm="task-pipeline"' },
    },
  );
}
