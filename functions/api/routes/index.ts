import type { TaskTypeCatalog } from "../deps";
import { buildOpenApiDocument } from "../openapi";
import type { Route } from "../router";
import { cancelTaskRoute } from "./cancelTask";
import { createTaskRoute } from "./createTask";
import { getTaskRoute } from "./getTask";
import { healthRoute } from "./health";
import { listTasksRoute } from "./listTasks";
import { metricsRoute } from "./metrics";
import { openApiRoute } from "./openapi";
import { retryTaskRoute } from "./retryTask";

/** The route table: every route of DESIGN.md's "HTTP API", plus the OpenAPI document. */
export function createRoutes(taskTypes: TaskTypeCatalog): Route[] {
  const routes: Route[] = [
    createTaskRoute,
    listTasksRoute,
    getTaskRoute,
    cancelTaskRoute,
    retryTaskRoute,
    healthRoute,
    metricsRoute,
  ];
  // The document describes the whole table, itself included.
  routes.push(openApiRoute(() => buildOpenApiDocument({ routes, taskTypes })));
  return routes;
}
