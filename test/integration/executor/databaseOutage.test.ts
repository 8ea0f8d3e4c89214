import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPgSqlPort } from "../../../functions/core/sql/pgAdapter";
import { TaskStore } from "../../../functions/core/tasks/store";
import { METRICS } from "../../../functions/core/telemetry/metricNames";
import { type OllamaTestServer, startOllamaServer } from "../../../testkit/ollamaServer";
import { useTestDatabase } from "../../support/database";
import {
  createTasks,
  llmFor,
  MODEL,
  recordingLogger,
  recordingMetrics,
  severableSql,
  startLoop,
  statusCounts,
  waitUntil,
} from "./harness";

/** The executor survives its database going away mid-loop and loses no task. */

const db = useTestDatabase();
let server: OllamaTestServer;

beforeAll(async () => {
  server = await startOllamaServer({ models: [MODEL] });
});
afterAll(() => server.stop());

describe("database outage mid-loop", () => {
  it("logs, backs off, continues, and completes every task once the database is back", async () => {
    // Prepare: the loop's own connections, named so the test can kill them.
    const appName = "executor_outage_test";
    const separator = db.current.url.includes("?") ? "&" : "?";
    const pool = createPgSqlPort({
      connectionString: `${db.current.url}${separator}application_name=${appName}`,
      max: 3,
      onIdleError: () => {},
    });
    const sql = severableSql(pool);
    const count = 40;
    await createTasks(new TaskStore(db.current.sql), count);
    server.setLatency(() => 100 + Math.floor(Math.random() * 200));
    const logger = recordingLogger();
    const metrics = recordingMetrics();
    const loop = startLoop({
      tasks: new TaskStore(sql),
      llm: llmFor(server.url),
      workerId: "outage-1",
      logger,
      metrics,
      settings: { LEASE_SECONDS: 2, MAX_CONCURRENCY: 4 },
    });
    await waitUntil(
      async () => ((await statusCounts(db.current.sql)).completed ?? 0) >= 8,
      30_000,
      "some completions",
    );

    // Act 1: kill the loop's connections on the server, a few times over.
    for (let round = 0; round < 5; round++) {
      await db.current.sql.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :appName",
        { appName },
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Act 2: then no database at all for longer than a lease (2 s).
    sql.down = true;
    const completedDuringOutage = (await statusCounts(db.current.sql)).completed ?? 0;
    await waitUntil(() => sql.failures >= 3, 30_000, "the loop to keep trying");
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    sql.down = false;
    await waitUntil(
      async () => (await statusCounts(db.current.sql)).completed === count,
      60_000,
      "every task",
    );
    loop.stop();
    const summary = await loop.done;
    await pool.close();

    // Assess: nothing lost, nothing failed.
    const counts = await statusCounts(db.current.sql);
    expect(counts).toEqual({ completed: count });
    expect(completedDuringOutage).toBeLessThan(count);
    expect(summary.databaseErrors).toBeGreaterThanOrEqual(3);
    expect(metrics.sum(METRICS.databaseErrors.name)).toBe(summary.databaseErrors);
    expect(
      logger.entries.filter((e) => e.message === "sync with the database failed; backing off")
        .length,
    ).toBeGreaterThanOrEqual(3);
    expect(logger.entries.some((e) => e.message === "database reachable again")).toBe(true);
    expect(summary).toMatchObject({ completed: count, failed: 0 });
    // The retries backed off: within an outage, the second wait is never shorter than the
    // first (250 ms doubling, equal jitter: 125-250 ms, then 250-500 ms, ...).
    const waits = logger.entries
      .filter((e) => e.message === "sync with the database failed; backing off")
      .map((e) => ({
        failure: e.fields?.consecutiveFailures as number,
        ms: e.fields?.retryInMs as number,
      }));
    const firsts = waits.filter((w) => w.failure === 1).map((w) => w.ms);
    const seconds = waits.filter((w) => w.failure === 2).map((w) => w.ms);
    expect(seconds.length).toBeGreaterThan(0);
    expect(Math.max(...firsts)).toBeLessThanOrEqual(Math.min(...seconds));
  });
});
