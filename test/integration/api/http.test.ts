import { randomUUID } from "node:crypto";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ErrorBodySchema } from "../../../functions/api/schemas";
import type { TaskRepository } from "../../../functions/core/tasks/model";
import { TaskStore } from "../../../functions/core/tasks/store";
import { METRICS } from "../../../functions/core/telemetry/metricNames";
import { useTestDatabase } from "../../support/database";
import { createTestApi, MAX_BODY_BYTES, type TestApi, validBodies } from "./testApi";

/**
 * What every route shares, through the middy chain: body limit, content type, JSON
 * parsing, CORS, security headers, routing, the caller, and the one error handler.
 */

const db = useTestDatabase();
let api: TestApi;
const ALICE = "user-alice";

beforeAll(() => {
  api = createTestApi(db.current.sql);
});
beforeEach(async () => {
  await db.current.truncate();
});

const countTasks = async () =>
  (await db.current.sql.query<{ n: number }>("SELECT count(*) AS n FROM tasks"))[0]?.n;

describe("request bodies", () => {
  it("answers 413 for a body over MAX_BODY_BYTES, before storing anything", async () => {
    // Prepare
    const text = "a".repeat(MAX_BODY_BYTES);

    // Act
    const answer = await api.call({
      method: "POST",
      path: "/api/tasks",
      sub: ALICE,
      body: { type: "summarize", input: { text } },
    });

    // Assess
    expect(answer.status).toBe(413);
    expect(answer.body.error).toMatchObject({
      code: "payload_too_large",
      details: { maxBytes: MAX_BODY_BYTES },
    });
    expect(await countTasks()).toBe(0);
  });

  it("counts a base64 body by its decoded size", async () => {
    // Prepare: 6.5 KB of JSON is 8.7 KB as base64: over the limit as sent, not as bytes
    const body = { type: "summarize", input: { text: "b".repeat(6_500) } };
    expect(Buffer.from(JSON.stringify(body)).toString("base64").length).toBeGreaterThan(
      MAX_BODY_BYTES,
    );

    // Act
    const answer = await api.call({
      method: "POST",
      path: "/api/tasks",
      sub: ALICE,
      body,
      base64: true,
    });

    // Assess
    expect(answer.status).toBe(201);
    expect(answer.body.input.text).toHaveLength(6_500);
  });

  it.each([
    ["text/plain", "text/plain"],
    ["a form", "application/x-www-form-urlencoded"],
    ["JSON in Latin-1", "application/json; charset=iso-8859-1"],
    ["no content type", undefined],
  ])("answers 415 for %s", async (_, contentType) => {
    // Prepare
    const headers: Record<string, string> = contentType ? { "Content-Type": contentType } : {};
    const event = {
      method: "POST",
      path: "/api/tasks",
      sub: ALICE,
      body: JSON.stringify(validBodies.summarize),
      headers,
    };

    // Act
    const answer = await api.call(event);

    // Assess
    expect(answer.status).toBe(415);
    expect(answer.body.error.code).toBe("unsupported_media_type");
    expect(await countTasks()).toBe(0);
  });

  it.each([["application/json; charset=UTF-8"], ["application/merge-patch+json"]])(
    "accepts %s",
    async (contentType) => {
      // Act
      const answer = await api.call({
        method: "POST",
        path: "/api/tasks",
        sub: ALICE,
        body: JSON.stringify(validBodies.summarize),
        headers: { "content-type": contentType },
      });

      // Assess
      expect(answer.status).toBe(201);
    },
  );

  it.each([
    ["a cut-off object", '{"type": "summarize", "input": {'],
    ["single quotes", "{'type': 'summarize'}"],
    ["a trailing comma", '{"type": "summarize",}'],
  ])("answers 400 invalid_json for %s", async (_, body) => {
    // Act
    const answer = await api.postJsonText(body, ALICE);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error).toEqual({
      code: "invalid_json",
      message: "request body is not valid JSON",
    });
  });

  it.each([
    [
      "nesting 65 levels deep",
      `{"type":"prompt","input":{"prompt":"x","format":${"[".repeat(63)}${"]".repeat(63)}}}`,
      /nested deeper than 64 levels/,
    ],
    [
      "a number beyond double range",
      '{"type":"summarize","input":{"text":"t"},"priority":1e400}',
      /priority: number out of range/,
    ],
    ["a NUL character", '{"type":"summarize","input":{"text":"a\\u0000b"}}', /NUL/],
    ["an unpaired surrogate", '{"type":"summarize","input":{"text":"\\ud800"}}', /surrogate/],
  ])("answers 400 for JSON PostgreSQL could not store as sent: %s", async (_, body, message) => {
    // Act
    const answer = await api.postJsonText(body, ALICE);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("validation_failed");
    expect(answer.body.error.message).toMatch(message);
    expect(await countTasks()).toBe(0);
  });

  it("names where unstorable text was", async () => {
    // Act
    const answer = await api.postJsonText(
      '{"type":"summarize","input":{"text":"a\\u0000b"}}',
      ALICE,
    );

    // Assess
    expect(answer.body.error.details).toEqual([
      { path: "input.text", message: "text contains NUL or an unpaired surrogate" },
    ]);
  });

  it("answers 400 for a base64 body that is not UTF-8", async () => {
    // Prepare: 0xff never occurs in UTF-8
    const event = {
      method: "POST",
      path: "/api/tasks",
      sub: ALICE,
      body: Buffer.from([0x7b, 0xff, 0x7d]).toString("latin1"),
      base64: true,
      headers: { "content-type": "application/json" },
    };

    // Act
    const answer = await api.call(event);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("invalid_json");
  });
});

describe("the caller", () => {
  it.each([
    ["an empty sub", ""],
    ["a blank sub", "   "],
    ["a sub with NUL", "user\u0000x"],
    ["a sub longer than 255 characters", "u".repeat(256)],
  ])("answers 401 for %s", async (_, sub) => {
    // Act
    const answer = await api.call({ method: "GET", path: "/api/tasks", sub });

    // Assess
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe("unauthorized");
  });
});

describe("routing", () => {
  it.each([
    ["an unknown path", "GET", "/api/nothing"],
    ["a trailing slash", "GET", "/api/tasks/"],
    ["a path outside /api", "GET", "/tasks"],
    ["a malformed escape", "GET", "/api/tasks/%zz"],
  ])("answers 404 for %s", async (_, method, path) => {
    // Act
    const answer = await api.call({ method, path, sub: ALICE });

    // Assess
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe("not_found");
  });

  it("answers 405 with Allow for a known path and another method", async () => {
    // Act
    const answer = await api.call({
      method: "DELETE",
      path: `/api/tasks/${randomUUID()}`,
      sub: ALICE,
    });

    // Assess
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe("GET, OPTIONS");
    expect(answer.body.error.code).toBe("method_not_allowed");
  });

  it("answers with the request id it was given, in the header and the error body", async () => {
    // Act
    const answer = await api.call({ method: "GET", path: "/api/nothing" });

    // Assess
    expect(answer.headers["x-request-id"]).toMatch(/\S/);
    expect(answer.body.requestId).toBe(answer.headers["x-request-id"]);
    expect(ErrorBodySchema.parse(answer.body)).toEqual(answer.body);
  });
});

describe("security headers", () => {
  it.each([
    ["a success", { method: "GET", path: "/api/tasks", sub: ALICE }],
    ["an error", { method: "GET", path: "/api/tasks" }],
    ["a public route", { method: "GET", path: "/api/health" }],
  ])("are on %s", async (_, request) => {
    // Act
    const answer = await api.call(request);

    // Assess
    expect(answer.headers).toMatchObject({
      "content-type": "application/json; charset=utf-8",
      "x-content-type-options": "nosniff",
      "cache-control": "no-store",
      "strict-transport-security": expect.stringMatching(/^max-age=\d+; includeSubDomains$/),
      "x-frame-options": "DENY",
      "content-security-policy": expect.stringContaining("default-src 'none'"),
    });
  });
});

describe("an unexpected error", () => {
  it("is a plain 500: the error, its SQL and stack only in the logs", async () => {
    // Prepare: a store whose list runs a broken statement on the real database
    const store = new TaskStore(db.current.sql);
    const broken: TaskRepository = Object.assign(Object.create(store), {
      list: () => db.current.sql.query("SELECT secret_column FROM no_such_table"),
    });
    const failing = createTestApi(db.current.sql, { tasks: broken });

    // Act
    const answer = await failing.call({ method: "GET", path: "/api/tasks", sub: ALICE });

    // Assess
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({
      error: { code: "internal_error", message: "internal error" },
      requestId: answer.headers["x-request-id"],
    });
    expect(answer.text).not.toMatch(/no_such_table|secret_column|SELECT|relation|\bat\b/);
    const logged = failing.logs.find((line) => line.level === "error");
    expect(JSON.stringify(logged?.fields)).toContain("no_such_table");
    expect(logged?.fields.requestId).toBe(answer.headers["x-request-id"]);
    expect(failing.metrics).toEqual([
      { name: METRICS.apiServerErrors.name, unit: "Count", value: 1 },
    ]);
  });

  it("is a 503 with Retry-After when the database is unreachable, without its address", async () => {
    // Prepare: a store on a port where nothing listens
    const { createPgSqlPort } = await import("../../../functions/core/sql/pgAdapter");
    const { freePort } = await import("../../../functions/local/embeddedPostgres");
    const port = await freePort();
    const unreachable = createPgSqlPort({ connectionString: `postgres://u:p@127.0.0.1:${port}/x` });
    const offline = createTestApi(unreachable);

    try {
      // Act
      const answer = await offline.call({ method: "GET", path: "/api/tasks", sub: ALICE });

      // Assess
      expect(answer.status).toBe(503);
      expect(answer.headers["retry-after"]).toBe("5");
      expect(answer.body.error.code).toBe("database_unavailable");
      expect(answer.text).not.toContain(String(port));
    } finally {
      await unreachable.close();
    }
  });
});
