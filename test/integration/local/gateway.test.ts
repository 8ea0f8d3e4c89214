import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiHandler } from "../../../functions/api/app";
import { depsFromEnvironment } from "../../../functions/api/handler";
import { silentLogger } from "../../../functions/core/telemetry/ports";
import { corsConfig } from "../../../functions/local/cors";
import { createApiServer } from "../../../functions/local/httpServer";
import { createJwtAuthorizer } from "../../../functions/local/jwtAuthorizer";
import { signLocalToken } from "../../../functions/local/token";
import { createTestDatabase, type TestDatabase } from "../../support/database";
import { closeServer, listenOnLoopback } from "../../support/listen";

/**
 * The local API Gateway in front of the real api handler on the test database: what a
 * caller of `npm start` gets for requests the gateway and the handler must agree on.
 */

const SECRET = "gateway-integration-secret";
let database: TestDatabase & { drop(): Promise<void> };
let server: ReturnType<typeof createApiServer>;
let baseUrl = "";

beforeAll(async () => {
  database = await createTestDatabase();
  const deps = depsFromEnvironment({ DATABASE_URL: database.url, PIPELINE_ENV: "test" });
  server = createApiServer({
    handler: createApiHandler({ ...deps, logger: silentLogger }),
    authorizer: createJwtAuthorizer({ secret: SECRET }),
    cors: corsConfig(["http://app.example"]),
    logger: silentLogger,
  });
  baseUrl = `http://${await listenOnLoopback(server)}`;
  afterAll(async () => {
    await closeServer(server);
    await deps.sql.close();
    await database.drop();
  });
});

describe("a JSON body that is not UTF-8", () => {
  it("is refused with a 400 naming the body, and nothing is stored", async () => {
    // Prepare: 0xe9 alone (latin-1 "é") is never UTF-8.
    const bytes = Buffer.concat([
      Buffer.from('{"type":"summarize","input":{"text":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('"}}'),
    ]);
    const token = await signLocalToken({ sub: "latin1-caller", secret: SECRET });

    // Act
    const response = await fetch(`${baseUrl}/api/tasks`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: bytes,
    });
    const answer = (await response.json()) as { error: { code: string; message: string } };

    // Assess
    expect(response.status).toBe(400);
    expect(answer.error.code).toBe("invalid_json");
    expect(answer.error.message).toMatch(/request body is not UTF-8/);
    expect(await database.sql.query("SELECT id FROM tasks")).toEqual([]);
  });
});

/**
 * CORS is answered by the gateway (API Gateway in AWS, this emulation locally), never by
 * the api handler: these run the real handler behind it.
 */
describe("CORS", () => {
  const ALLOWED = "http://app.example";
  const get = async (path: string, headers: Record<string, string>) => {
    const token = await signLocalToken({ sub: "cors-caller", secret: SECRET });
    return fetch(`${baseUrl}${path}`, {
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
  };

  it("allows a configured origin, says the answer varies by origin, and exposes the request id", async () => {
    // Act
    const answer = await get("/api/tasks", { origin: ALLOWED });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(answer.headers.get("vary")?.toLowerCase()).toContain("origin");
    expect(answer.headers.get("access-control-expose-headers")).toContain("x-request-id");
  });

  it.each([
    ["another origin", "http://evil.example"],
    ["a look-alike", "http://app.example.evil.example"],
    ["another scheme", "https://app.example"],
    ["the null origin", "null"],
  ])("gives %s no CORS headers", async (_, origin) => {
    // Act
    const answer = await get("/api/tasks", { origin });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("adds CORS headers to the handler's error answers too, so the page can read them", async () => {
    // Act
    const answer = await get("/api/tasks/not-a-task", { origin: ALLOWED });

    // Assess
    expect(answer.status).toBe(404);
    expect(answer.headers.get("access-control-allow-origin")).toBe(ALLOWED);
  });

  it("answers a preflight from an allowed origin with the methods and headers it may use", async () => {
    // Act
    const preflight = (origin: string) =>
      fetch(`${baseUrl}/api/tasks`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type, idempotency-key",
        },
      });
    const answer = await preflight(ALLOWED);
    const refused = await preflight("http://evil.example");

    // Assess
    expect(answer.status).toBe(204);
    expect(answer.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    const list = (name: string) => answer.headers.get(name)?.split(/,\s*/);
    expect(list("access-control-allow-methods")).toEqual(["GET", "POST", "OPTIONS"]);
    expect(list("access-control-allow-headers")).toEqual([
      "authorization",
      "content-type",
      "idempotency-key",
    ]);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    expect(refused.headers.get("access-control-allow-methods")).toBeNull();
  });
});
