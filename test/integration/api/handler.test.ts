import { afterEach, describe, expect, it, vi } from "vitest";
import { callApi } from "../../support/apiEvents";
import { useTestDatabase } from "../../support/database";

/**
 * functions/api/handler.ts as Lambda (and the local runtime) load it: settings from the
 * environment on the first request, the real store, registry, logger and metrics.
 */

const db = useTestDatabase();

afterEach(async () => {
  const module = await import("../../../functions/api/handler");
  await module.closeApiContainer();
  vi.unstubAllEnvs();
  vi.resetModules();
});

function stubEnvironment(env: Record<string, string>) {
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
}

describe("the api Lambda entry", () => {
  it("reads its settings on the first request and serves every route with them", async () => {
    // Prepare: the module is imported first, the environment set afterwards
    const { handler } = await import("../../../functions/api/handler");
    stubEnvironment({
      DATABASE_URL: db.current.url,
      CORS_ORIGINS: "https://frontend.example.com",
      OLLAMA_MODEL: "llama3.2",
      OLLAMA_MODELS: "llama3.2,mistral",
      POWERTOOLS_LOG_LEVEL: "ERROR",
    });

    // Act
    const health = await callApi(handler, { method: "GET", path: "/api/health" });
    const created = await callApi(handler, {
      method: "POST",
      path: "/api/tasks",
      sub: "entry-user",
      body: { type: "summarize", input: { text: "Some text." }, model: "mistral" },
    });
    const refused = await callApi(handler, {
      method: "POST",
      path: "/api/tasks",
      sub: "entry-user",
      body: { type: "summarize", input: { text: "Some text." }, model: "gpt-4o" },
    });

    // Assess
    expect(health.status).toBe(200);
    expect(created.status).toBe(201);
    expect(created.body.model).toBe("mistral");
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([expect.objectContaining({ path: "model" })]);
    const rows = await db.current.sql.query(
      "SELECT owner FROM tasks WHERE id = cast(:id AS uuid)",
      {
        id: created.body.id,
      },
    );
    expect(rows).toEqual([{ owner: "entry-user" }]);
  });

  it("fails with the bad setting's name", async () => {
    // Prepare
    const { handler } = await import("../../../functions/api/handler");
    stubEnvironment({ DATABASE_URL: db.current.url, MAX_BODY_BYTES: "12" });

    // Act
    const call = callApi(handler, { method: "GET", path: "/api/health" });

    // Assess
    // (By name: resetModules gives each test its own copy of the error classes.)
    await expect(call).rejects.toMatchObject({ name: "SettingsError" });
    await expect(call).rejects.toThrow(/MAX_BODY_BYTES must be at least 1024/);
  });
});
