/**
 * The api Lambda's routes: each entry of the route list (../routeTable.ts) joined with its
 * handler by id. `satisfies RouteHandlers` makes a route without a handler, a handler
 * without a route, or a public handler on a guarded route a compile error.
 */
import type { TaskTypeCatalog } from "../deps";
import { buildOpenApiDocument } from "../openapi";
import type { Route, RouteHandlers } from "../router";
import { API_ROUTES } from "../routeTable";
import { cancelTaskRoute } from "./cancelTask";
import { createTaskRoute } from "./createTask";
import { createTasksRoute } from "./createTasks";
import { getTaskRoute } from "./getTask";
import { healthRoute } from "./health";
import { listTasksRoute } from "./listTasks";
import { metricsRoute } from "./metrics";
import { openApiRoute } from "./openapi";
import { retryTaskRoute } from "./retryTask";

export function createRoutes(taskTypes: TaskTypeCatalog): Route[] {
  const handlers = {
    getHealth: healthRoute,
    // The document describes the whole list, itself included.
    getOpenApiDocument: openApiRoute(() => buildOpenApiDocument({ routes, taskTypes })),
    getMetrics: metricsRoute,
    listTasks: listTasksRoute,
    createTask: createTaskRoute,
    createTasks: createTasksRoute,
    getTask: getTaskRoute,
    cancelTask: cancelTaskRoute,
    retryTask: retryTaskRoute,
  } satisfies RouteHandlers;
  const routes: Route[] = API_ROUTES.map((definition) => {
    const { id, method, path } = definition;
    return definition.authorized
      ? { id, method, path, auth: "jwt", ...(handlers[id] as RouteHandlers["getTask"]) }
      : { id, method, path, auth: "none", ...(handlers[id] as RouteHandlers["getHealth"]) };
  });
  return routes;
}
