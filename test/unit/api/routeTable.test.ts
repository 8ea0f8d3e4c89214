import { describe, expect, it } from "vitest";
import { createRoutes } from "../../../functions/api/routes";
import { API_ROUTES, matchPath, ROUTES } from "../../../functions/api/routeTable";
import { createTaskTypeRegistry } from "../../../functions/core/taskTypes/registry";
import { matchRoute } from "../../../functions/local/routes";

describe("the one route list", () => {
  it("is what the api Lambda serves, with the same auth (the handlers are attached by id)", () => {
    // Act
    const served = createRoutes(createTaskTypeRegistry()).map((route) => ({
      id: route.id,
      method: route.method,
      path: route.path,
      authorized: route.auth === "jwt",
    }));

    // Assess
    expect(served).toEqual([...API_ROUTES]);
    expect(API_ROUTES.map((route) => route.id)).toEqual(Object.keys(ROUTES));
  });

  it("guards every route but health and the API's own description", () => {
    const open = API_ROUTES.filter((route) => !route.authorized).map((route) => route.path);
    expect(open.sort()).toEqual(["/api/health", "/api/openapi.json"]);
  });
});

describe("the one path matcher", () => {
  it.each([
    ["/api/tasks/{id}", "/api/tasks/abc", { id: "abc" }],
    ["/api/tasks/{id}", "/api/tasks/a%20b", { id: "a b" }],
    // A malformed escape is passed on as sent: the route's validation answers it.
    ["/api/tasks/{id}", "/api/tasks/%zz", { id: "%zz" }],
    ["/api/tasks/{id}/cancel", "/api/tasks/x/cancel", { id: "x" }],
    ["/api/tasks", "/api/tasks", {}],
  ])("matches %s against %s", (template, path, expected) => {
    expect(matchPath(template, path)).toEqual(expected);
  });

  it.each([
    ["/api/tasks", "/api/tasks/"],
    ["/api/tasks/{id}", "/api/tasks/"],
    ["/api/tasks/{id}", "/api/tasks/x/y"],
    ["/api/tasks/{id}/cancel", "/api/tasks/x/retry"],
  ])("does not match %s against %s", (template, path) => {
    expect(matchPath(template, path)).toBeNull();
  });

  it("serves the local gateway and the api router alike for a malformed escape", async () => {
    // Act
    const gateway = matchRoute("GET", "/api/tasks/%zz");
    const router = createRoutes(createTaskTypeRegistry());

    // Assess
    expect(gateway).toEqual({
      routeKey: "GET /api/tasks/{id}",
      pathParameters: { id: "%zz" },
      authorized: true,
    });
    expect(router.find((route) => route.id === "getTask")?.path).toBe("/api/tasks/{id}");
  });
});
