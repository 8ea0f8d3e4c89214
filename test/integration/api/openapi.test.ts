import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { API_ERROR_CODES } from "../../../functions/api/errorCodes";
import { createRouter } from "../../../functions/api/router";
import { createRoutes } from "../../../functions/api/routes";
import { createTaskTypeRegistry } from "../../../functions/core/taskTypes/registry";
import packageJson from "../../../package.json" with { type: "json" };
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

  it("gives every error answer the one error shape, or API Gateway's own where it may answer", () => {
    expect(document.components.schemas.Error).toMatchObject({
      type: "object",
      required: ["error", "requestId"],
      properties: { error: { $ref: "#/components/schemas/ErrorDetail" } },
    });
    expect(document.components.schemas.GatewayError).toMatchObject({
      required: ["message"],
    });
    const create = document.paths["/api/tasks"].post;
    const schemaOf = (status: string) =>
      create.responses[status].content["application/json"].schema;
    const handlerOnly = { $ref: "#/components/schemas/Error" };
    const either = {
      oneOf: [
        { $ref: "#/components/schemas/Error" },
        { $ref: "#/components/schemas/GatewayError" },
      ],
    };
    for (const status of ["400", "409", "415"]) expect(schemaOf(status)).toEqual(handlerOnly);
    // 429: the caller's cap (too_many_tasks) or API Gateway's throttling.
    for (const status of ["401", "413", "429", "500", "503"]) {
      expect(schemaOf(status)).toEqual(either);
    }
    const list = document.paths["/api/tasks"].get;
    expect(list.responses["429"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/GatewayError",
    });
    expect(create.responses["409"].headers["X-Request-Id"].required).toBe(true);
  });

  it("lists every error code the API answers as an enum with its details", () => {
    // Act
    const variants = document.components.schemas.ErrorDetail.oneOf as {
      properties: { code: { const: string }; details?: unknown };
      required: string[];
    }[];

    // Assess
    expect(variants.map((v) => v.properties.code.const)).toEqual(API_ERROR_CODES);
    const validation = variants.find((v) => v.properties.code.const === "validation_failed");
    expect(validation?.properties.details).toEqual({
      type: "array",
      items: { $ref: "#/components/schemas/ValidationIssue" },
    });
    expect(validation?.required).toContain("details");
  });

  it("makes the task a union over the task types, each with its own input and result", () => {
    // Act
    const task = document.components.schemas.Task;
    const summarize = document.components.schemas.SummarizeTask;

    // Assess
    expect(Object.keys(task.discriminator.mapping)).toEqual(taskTypes.names());
    expect(summarize.properties.type).toMatchObject({ const: "summarize" });
    expect(summarize.properties.input).toMatchObject({
      $ref: "#/components/schemas/SummarizeInput",
    });
    expect(summarize.properties.result.anyOf).toEqual([
      { $ref: "#/components/schemas/SummarizeResult" },
      { type: "null" },
    ]);
    expect(document.components.schemas.TaskPage.properties.items.items).toEqual({
      $ref: "#/components/schemas/Task",
    });
  });

  it("carries the package's license and a server", () => {
    expect(document.info.license.identifier).toBe(packageJson.license);
    expect(document.servers[0].variables.origin.default).toMatch(/^http:\/\/localhost:\d+$/);
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
