import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDataApiSqlPort } from "../../../functions/core/sql/dataApiAdapter";
import { TaskStore } from "../../../functions/core/tasks/store";
import { type DataApiServer, startDataApiServer } from "../../support/dataApiServer";
import { useTestDatabase } from "../../support/database";
import { claimTasks } from "../../support/taskStates";
import { createTestApi, type TestApi } from "../api/testApi";

/**
 * Aurora Serverless v2 paused at 0 ACU: the first statements get DatabaseResumingException
 * for up to ~15 s (AWS: "Auto-pause and resume for Aurora Serverless v2"; the Data API
 * error in @aws-sdk/client-rds-data). Injected through the Data API endpoint, a create and
 * a claim wait for the resume and lose nothing: one task made, one claim of it.
 */

const ALICE = "user-alice";

describe("a cluster resuming from a pause", () => {
  const db = useTestDatabase();
  let server: DataApiServer;
  let store: TaskStore;
  let api: TestApi;

  beforeAll(async () => {
    server = await startDataApiServer({ databaseUrl: db.current.url });
    const sql = createDataApiSqlPort({
      client: server.createClient(),
      resourceArn: server.resourceArn,
      secretArn: server.secretArn,
      database: server.database,
      // The adapter's backoff, shortened: the waiting is the same, only quicker.
      resume: { maxWaitMs: 20_000, baseDelayMs: 20, maxDelayMs: 100 },
    });
    store = new TaskStore(sql);
    api = createTestApi(sql);
  });
  afterEach(async () => {
    server.clearFailures();
    await db.current.truncate();
  });
  afterAll(() => server.close());

  it("answers a create once it has resumed, with exactly one task made", async () => {
    // Prepare: the next 4 calls find the cluster resuming.
    server.failNext({
      name: "DatabaseResumingException",
      message: "The Aurora DB instance db-1 is resuming after being auto-paused.",
      times: 4,
    });

    // Act
    const answer = await api.call({
      method: "POST",
      path: "/api/tasks",
      sub: ALICE,
      body: { type: "generate_content", input: { topic: "resuming" } },
    });

    // Assess
    expect(answer.status).toBe(201);
    const rows = await db.current.sql.query<{ id: string }>("SELECT id FROM tasks");
    expect(rows.map((r) => r.id)).toEqual([(answer.body as { id: string }).id]);
  });

  it("claims after the resume, once: the task is leased to the executor that waited", async () => {
    // Prepare
    const { task } = await store.create({
      owner: ALICE,
      type: "generate_content",
      title: null,
      input: { topic: "claim while resuming" },
      priority: 0,
      runAt: null,
      maxAttempts: 3,
      model: "llama3.2",
      idempotencyKey: null,
    });
    server.failNext({ name: "DatabaseResumingException", times: 3 });

    // Act
    const { claimed } = await claimTasks(store, "resume-worker", 5, 60);

    // Assess
    expect(claimed.map((t) => t.id)).toEqual([task.id]);
    expect(await store.get(ALICE, task.id)).toMatchObject({
      status: "in_progress",
      attempts: 1,
      leaseOwner: "resume-worker",
    });
  });
});
