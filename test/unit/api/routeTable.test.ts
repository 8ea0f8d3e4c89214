import { describe, expect, it } from "vitest";
import { createRoutes } from "../../../functions/api/routes";
import { API_ROUTES } from "../../../functions/api/routeTable";
import { createTaskTypeRegistry } from "../../../functions/core/taskTypes/registry";

describe("the shared route table", () => {
  it("lists exactly the routes the api Lambda serves, with the same auth", () => {
    // Prepare
    const served = createRoutes(createTaskTypeRegistry()).map((route) => ({
      method: route.method,
      path: route.path,
      authorized: route.auth === "jwt",
    }));

    // Act
    const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

    // Assess
    expect([...served].sort((a, b) => key(a).localeCompare(key(b)))).toEqual(
      [...API_ROUTES].sort((a, b) => key(a).localeCompare(key(b))),
    );
  });

  it("guards every route but health and the API's own description", () => {
    const open = API_ROUTES.filter((route) => !route.authorized).map((route) => route.path);
    expect(open.sort()).toEqual(["/api/health", "/api/openapi.json"]);
  });
});
