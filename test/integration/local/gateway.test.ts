import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiHandler } from "../../../functions/api/app";
import { depsFromEnvironment } from "../../../functions/api/handler";
import { silentLogger } from "../../../functions/core/telemetry/ports";
import { corsConfig } from "../../../functions/local/cors";
import { createApiServer } from "../../../functions/local/httpServer";
import { createJwtAuthorizer } from "../../../functions/local/jwtAuthorizer";
import { signLocalToken } from "../../../functions/local/token";
import { createTestDatabase, type TestDatabase } from "../../support/database";

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
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
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
