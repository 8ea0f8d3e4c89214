import { createServer, type Socket } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HealthViewSchema, MetricsViewSchema } from "../../../functions/api/schemas";
import { createPgSqlPort } from "../../../functions/core/sql/pgAdapter";
import { freePort } from "../../../functions/local/embeddedPostgres";
import { useTestDatabase } from "../../support/database";
import { claimTasks, settleTasks } from "../../support/taskStates";
import { createTestApi, type TestApi, validBodies } from "./testApi";

/** GET /api/health (public, short database timeout) and GET /api/metrics (the caller's). */

const db = useTestDatabase();
let api: TestApi;

beforeAll(() => {
  api = createTestApi(db.current.sql);
});
beforeEach(async () => {
  await db.current.truncate();
});

describe("GET /api/health", () => {
  it("answers 200 without a token when the database answers", async () => {
    // Act
    const answer = await api.call({ method: "GET", path: "/api/health" });

    // Assess
    expect(answer.status).toBe(200);
    expect(HealthViewSchema.parse(answer.body)).toEqual({
      status: "ok",
      database: "ok",
      requestId: answer.headers["x-request-id"],
    });
  });

  it("answers 503 when nothing listens on the database's port", async () => {
    // Prepare
    const port = await freePort();
    const closed = createPgSqlPort({ connectionString: `postgres://u:p@127.0.0.1:${port}/tasks` });
    const offline = createTestApi(db.current.sql, { healthSql: closed });

    try {
      // Act
      const answer = await offline.call({ method: "GET", path: "/api/health" });

      // Assess
      expect(answer.status).toBe(503);
      expect(answer.headers["retry-after"]).toBe("5");
      expect(HealthViewSchema.parse(answer.body)).toMatchObject({
        status: "unavailable",
        database: "unavailable",
        error: { code: "database_unavailable", message: "the database is unavailable" },
      });
      expect(answer.text).not.toContain(String(port));
      expect(offline.logs.some((line) => line.message.includes("database unavailable"))).toBe(true);
    } finally {
      await closed.close();
    }
  });

  describe("with a database that accepts connections and never answers", () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    let port = 0;

    beforeAll(async () => {
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      port = (silent.address() as { port: number }).port;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it("answers 503 once HEALTH_TIMEOUT_MS has passed, not when the driver gives up", async () => {
      // Prepare: the driver itself would wait 30 s for the connection
      const hanging = createPgSqlPort({
        connectionString: `postgres://u:p@127.0.0.1:${port}/tasks`,
        connectionTimeoutMs: 30_000,
      });
      const stuck = createTestApi(db.current.sql, {
        healthSql: hanging,
        env: { HEALTH_TIMEOUT_MS: "200" },
      });

      try {
        // Act
        const answered = await Promise.race([
          stuck.call({ method: "GET", path: "/api/health" }),
          new Promise<"still waiting">((resolve) =>
            setTimeout(() => resolve("still waiting"), 20_000),
          ),
        ]);

        // Assess
        expect(answered).not.toBe("still waiting");
        const answer = answered as Exclude<typeof answered, string>;
        expect(answer.status).toBe(503);
        expect(answer.body.status).toBe("unavailable");
        expect(sockets.size).toBeGreaterThan(0);
      } finally {
        for (const socket of sockets) socket.destroy();
        await hanging.close().catch(() => {});
      }
    });
  });
});

describe("GET /api/metrics", () => {
  it("answers 200 with the caller's own counts, not anyone else's", async () => {
    // Prepare: Alice has 2 pending, 1 cancelled, 1 completed, 1 failed; Bob 3 pending
    const create = async (sub: string) => {
      const answer = await api.call({
        method: "POST",
        path: "/api/tasks",
        sub,
        body: validBodies.summarize,
      });
      expect(answer.status).toBe(201);
      return answer.body.id as string;
    };
    const done = await create("alice");
    const broken = await create("alice");
    const { claimed } = await claimTasks(api.store, "test-worker", 10, 60);
    expect(claimed).toHaveLength(2);
    await settleTasks(api.store, "test-worker", [
      { id: done, status: "completed", result: { summary: "s" } },
      { id: broken, status: "failed", error: "model not found" },
    ]);
    const dropped = await create("alice");
    await api.call({ method: "POST", path: `/api/tasks/${dropped}/cancel`, sub: "alice" });
    await create("alice");
    await create("alice");
    for (let i = 0; i < 3; i++) await create("bob");

    // Act
    const answer = await api.call({ method: "GET", path: "/api/metrics", sub: "alice" });

    // Assess
    expect(answer.status).toBe(200);
    const metrics = MetricsViewSchema.parse(answer.body);
    expect(metrics.counts).toEqual({
      pending: 2,
      in_progress: 0,
      completed: 1,
      failed: 1,
      cancelled: 1,
    });
    expect(metrics.queueDepth).toBe(2);
    expect(metrics.windowSeconds).toBe(3600);
    expect(metrics.oldestPendingAgeSeconds).toEqual(expect.any(Number));
    expect(metrics.pickupLatencyMs?.count).toBe(2);
    expect(metrics.runDurationMs?.count).toBe(1);
  });

  it("answers 401 without a caller", async () => {
    // Act
    const answer = await api.call({ method: "GET", path: "/api/metrics" });

    // Assess
    expect(answer.status).toBe(401);
  });
});
