import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createRouter } from "../../../functions/api/router";
import { createRoutes } from "../../../functions/api/routes";
import { createTaskTypeRegistry } from "../../../functions/core/taskTypes/registry";
import { useTestDatabase } from "../../support/database";
import { createTestApi, type TestApi } from "./testApi";

/** GET /api/openapi.json: generated from the routes' own zod schemas, and `npm run openapi`'s file. */

const db = useTestDatabase();
let api: TestApi;
// biome-ignore lint/suspicious/noExplicitAny: the document is walked as plain JSON
let document: any;

beforeAll(async () => {
  api = createTestApi(db.current.sql);
  const answer = await api.call({ method: "GET", path: "/api/openapi.json" });
  expect(answer.status).toBe(200);
  document = answer.body;
});

const taskTypes = createTaskTypeRegistry();
const routes = createRoutes(taskTypes);

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1, served without a token", () => {
    expect(document.openapi).toBe("3.1.0");
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
  });

  it("describes every route the router serves, and no other", () => {
    // Prepare
    const served = routes.map((route) => `${route.method} ${route.path}`).sort();

    // Act
    const described = Object.entries(document.paths)
      .flatMap(([path, operations]) =>
        Object.keys(operations as object).map((method) => `${method.toUpperCase()} ${path}`),
      )
      .sort();

    // Assess
    expect(described).toEqual(served);
    expect(served).toEqual(
      expect.arrayContaining([
        "POST /api/tasks",
        "GET /api/tasks",
        "GET /api/tasks/{id}",
        "POST /api/tasks/{id}/cancel",
        "POST /api/tasks/{id}/retry",
        "GET /api/health",
        "GET /api/metrics",
        "GET /api/openapi.json",
      ]),
    );
  });

  it("requires the bearer JWT everywhere but health and the document itself", () => {
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({
      type: "http",
      scheme: "bearer",
      bearerFormat: "JWT",
    });
    for (const route of routes) {
      const operation = document.paths[route.path][route.method.toLowerCase()];
      expect(operation.security, `${route.method} ${route.path}`).toEqual(
        route.auth === "jwt" ? [{ bearerAuth: [] }] : [],
      );
      if (route.auth === "jwt") expect(operation.responses["401"]).toBeDefined();
    }
  });

  it("gives every error answer the one error shape", () => {
    expect(document.components.schemas.Error).toMatchObject({
      type: "object",
      required: ["error", "requestId"],
      properties: { error: { required: ["code", "message"] } },
    });
    const create = document.paths["/api/tasks"].post;
    for (const status of ["400", "401", "409", "413", "415", "500"]) {
      expect(create.responses[status].content["application/json"].schema).toEqual({
        $ref: "#/components/schemas/Error",
      });
    }
  });

  it("has each task type's input, from the registry's own schema, in the create body", () => {
    // Prepare
    const names = taskTypes.names();

    // Act
    const createBody = document.components.schemas.CreateTaskRequest;

    // Assess
    expect(Object.keys(createBody.discriminator.mapping).sort()).toEqual(names);
    expect(createBody.oneOf).toHaveLength(names.length);
    const summarize = document.components.schemas.CreateSummarizeTaskRequest;
    expect(summarize.properties.type).toMatchObject({ const: "summarize" });
    expect(summarize.properties.input).toEqual({ $ref: "#/components/schemas/SummarizeInput" });
    expect(summarize.additionalProperties).toBe(false);
    const fromRegistry = z.toJSONSchema(taskTypes.get("generate_content")?.input as z.ZodType, {
      io: "input",
    }) as { required: string[]; properties: object };
    const input = document.components.schemas.GenerateContentInput;
    expect(input.required).toEqual(fromRegistry.required);
    expect(Object.keys(input.properties)).toEqual(Object.keys(fromRegistry.properties));
    expect(document.components.schemas.SummarizeResult.required).toEqual(
      expect.arrayContaining(["summary", "model", "usage", "durationMs"]),
    );
  });

  it("documents the list query and the task id as parameters", () => {
    const list = document.paths["/api/tasks"].get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual([
      "status",
      "type",
      "limit",
      "cursor",
    ]);
    expect(list.parameters.find((p: { name: string }) => p.name === "limit").schema).toMatchObject({
      type: "integer",
      minimum: 1,
      maximum: 100,
    });
    const get = document.paths["/api/tasks/{id}"].get;
    expect(get.parameters).toEqual([
      expect.objectContaining({ name: "id", in: "path", required: true }),
    ]);
  });

  it("has no dangling references", () => {
    // Act
    const refs = JSON.stringify(document).match(/"\$ref":"[^"]+"/g) ?? [];

    // Assess
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      const name = ref.replace(/^"\$ref":"#\/components\/schemas\//, "").replace(/"$/, "");
      expect(document.components.schemas[name], ref).toBeDefined();
    }
  });

  it("is what `npm run openapi` wrote to openapi.json (run it after changing the API)", async () => {
    // Act
    const committed = JSON.parse(
      await readFile(join(import.meta.dirname, "../../../openapi.json"), "utf8"),
    );

    // Assess
    expect(committed).toEqual(document);
  });

  it("answers requests with a router that matches the documented paths", () => {
    // Prepare
    const router = createRouter(routes);

    // Act
    const match = router.match("POST", "/api/tasks/6f1c6c0e-0000-4000-8000-000000000000/retry");

    // Assess
    expect(match).toMatchObject({
      kind: "route",
      params: { id: "6f1c6c0e-0000-4000-8000-000000000000" },
    });
  });
});
