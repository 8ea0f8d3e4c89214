import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDataApiSqlPort } from "../../../functions/core/sql/dataApiAdapter";
import { type DataApiServer, startDataApiServer } from "../../support/dataApiServer";
import { useTestDatabase } from "../../support/database";
import { createTestApi, type TestApi } from "../api/testApi";

/**
 * The API over the RDS Data API (the real SDK client against the Data API-compatible
 * endpoint): AWS errors after which a retry helps are a 503 with Retry-After, the others
 * a plain 500.
 */

const ALICE = "user-alice";

describe("the API over the Data API, when AWS refuses a statement", () => {
  const db = useTestDatabase();
  let server: DataApiServer;
  let api: TestApi;

  beforeAll(async () => {
    server = await startDataApiServer({ databaseUrl: db.current.url });
    const sql = createDataApiSqlPort({
      client: server.createClient(),
      resourceArn: server.resourceArn,
      secretArn: server.secretArn,
      database: server.database,
    });
    api = createTestApi(sql);
  });
  afterEach(() => server.clearFailures());
  afterAll(() => server.close());

  it.each([
    // A server fault: the SDK retries it itself before giving up, hence several.
    { name: "DatabaseUnavailableException", message: "writer unavailable", times: 5 },
    { name: "StatementTimeoutException", message: "statement timed out", times: 1 },
    {
      name: "DatabaseErrorException",
      message: "ERROR: could not serialize access; SQLState: 40001",
      times: 1,
    },
  ])("answers $name with 503 and Retry-After, naming nothing of it", async (failure) => {
    // Prepare
    server.failNext({ operation: "Execute", ...failure });

    // Act
    const answer = await api.call({ method: "GET", path: "/api/tasks", sub: ALICE });

    // Assess
    expect(answer.status).toBe(503);
    expect(answer.headers["retry-after"]).toBe("5");
    expect(answer.body).toMatchObject({ error: { code: "database_unavailable" } });
    expect(answer.text).not.toContain(failure.message);
  });

  it("answers a SQL error a retry would hit again with a plain 500", async () => {
    // Prepare
    server.failNext({
      operation: "Execute",
      name: "DatabaseErrorException",
      message: 'ERROR: relation "tasks" does not exist; SQLState: 42P01',
    });

    // Act
    const answer = await api.call({ method: "GET", path: "/api/tasks", sub: ALICE });

    // Assess
    expect(answer.status).toBe(500);
    expect(answer.headers["retry-after"]).toBeUndefined();
    expect(answer.body).toMatchObject({ error: { code: "internal_error" } });
  });
});
