import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../support/database";
import { createTestApi } from "./testApi";

/** POST /api/tasks/batch and the per-owner cap, through the api handler on PostgreSQL. */

const db = useTestDatabase();
const item = (i: number) => ({ type: "prompt", input: { prompt: `n${i}` } });
const items = (n: number) => Array.from({ length: n }, (_, i) => item(i));
const count = async (owner: string) =>
  Number(
    (
      await db.current.sql.query<{ n: number }>(
        "SELECT count(*) AS n FROM tasks WHERE owner = :owner",
        {
          owner,
        },
      )
    )[0]?.n,
  );

describe("POST /api/tasks/batch", () => {
  it("creates 100 tasks at once, answered in the request's order", async () => {
    // Prepare
    const api = createTestApi(db.current.sql);

    // Act
    const answer = await api.call({
      method: "POST",
      path: "/api/tasks/batch",
      sub: "batcher",
      body: { tasks: items(100) },
    });

    // Assess
    expect(answer.status).toBe(201);
    const created = (answer.body as { items: { input: { prompt: string } }[] }).items;
    expect(created.map((t) => t.input.prompt)).toEqual(items(100).map((t) => t.input.prompt));
    expect(await count("batcher")).toBe(100);
  });

  it("refuses a batch whose item 51 is bad, naming it, and creates none", async () => {
    // Prepare
    const api = createTestApi(db.current.sql);
    const tasks: unknown[] = items(60);
    tasks[51] = { type: "generate_content", input: { topic: "" } };

    // Act
    const answer = await api.call({
      method: "POST",
      path: "/api/tasks/batch",
      sub: "bad-item",
      body: { tasks },
    });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      error: {
        code: "validation_failed",
        details: [expect.objectContaining({ path: "tasks.51.input.topic" })],
      },
    });
    expect(await count("bad-item")).toBe(0);
  });

  it.each([0, 101])("refuses a batch of %i tasks naming `tasks`", async (n) => {
    // Prepare
    const api = createTestApi(db.current.sql);

    // Act
    const answer = await api.call({
      method: "POST",
      path: "/api/tasks/batch",
      sub: `size-${n}`,
      body: { tasks: items(n) },
    });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      error: { code: "validation_failed", details: [expect.objectContaining({ path: "tasks" })] },
    });
    expect(await count(`size-${n}`)).toBe(0);
  });

  it("replays a batch with the same Idempotency-Key and body, and refuses another body", async () => {
    // Prepare
    const api = createTestApi(db.current.sql);
    const send = (tasks: unknown[]) =>
      api.call({
        method: "POST",
        path: "/api/tasks/batch",
        sub: "replayer",
        body: { tasks },
        headers: { "idempotency-key": "batch-1" },
      });

    // Act
    const first = await send(items(3));
    const again = await send(items(3));
    const other = await send(items(4));

    // Assess
    const ids = (answer: typeof first) =>
      (answer.body as { items: { id: string }[] }).items.map((t) => t.id);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(ids(again)).toEqual(ids(first));
    expect(other.status).toBe(409);
    expect(await count("replayer")).toBe(3);
  });

  it("answers 429 with Retry-After past the caller's cap, for a batch and a single create", async () => {
    // Prepare
    const api = createTestApi(db.current.sql, { env: { MAX_PENDING_PER_OWNER: "5" } });
    await api.call({
      method: "POST",
      path: "/api/tasks/batch",
      sub: "full",
      body: { tasks: items(4) },
    });

    // Act
    const batch = await api.call({
      method: "POST",
      path: "/api/tasks/batch",
      sub: "full",
      body: { tasks: items(2) },
    });
    const single = await api.call({
      method: "POST",
      path: "/api/tasks",
      sub: "full",
      body: item(9),
    });
    const beyond = await api.call({
      method: "POST",
      path: "/api/tasks",
      sub: "full",
      body: item(10),
    });

    // Assess
    expect(batch.status).toBe(429);
    expect(batch.headers["retry-after"]).toBe("30");
    expect(batch.body).toMatchObject({
      error: { code: "too_many_tasks", details: { limit: 5, unfinished: 4 } },
    });
    expect(single.status).toBe(201);
    expect(beyond.status).toBe(429);
    expect(await count("full")).toBe(5);
  });
});
