import { randomUUID } from "node:crypto";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TaskPageSchema, TaskViewSchema } from "../../../functions/api/schemas";
import { useTestDatabase } from "../../support/database";
import { claimTasks, settleTasks } from "../../support/taskStates";
import { createTestApi, DEFAULT_MODEL, OTHER_MODEL, type TestApi, validBodies } from "./testApi";

/** The task routes on the real PostgreSQL, through API Gateway v2 events. */

const db = useTestDatabase();
let api: TestApi;
const ALICE = "user-alice";
const BOB = "user-bob";

beforeAll(() => {
  api = createTestApi(db.current.sql);
});
beforeEach(async () => {
  await db.current.truncate();
});

const create = (body: unknown, sub = ALICE, headers: Record<string, string> = {}) =>
  api.call({ method: "POST", path: "/api/tasks", sub, body, headers });

async function createTask(body: unknown = validBodies.summarize, sub = ALICE) {
  const answer = await create(body, sub);
  expect(answer.status).toBe(201);
  return TaskViewSchema.parse(answer.body);
}

/** Moves a task to a final status the way an executor does: claim it, then settle it. */
async function finishTask(id: string, outcome: "completed" | "failed") {
  const { claimed } = await claimTasks(api.store, "test-worker", 100, 60);
  expect(claimed.map((task) => task.id)).toContain(id);
  const settled = await settleTasks(
    api.store,
    "test-worker",
    claimed.map((task) =>
      task.id === id && outcome === "completed"
        ? { id: task.id, status: "completed" as const, result: { summary: "done" } }
        : { id: task.id, status: "failed" as const, error: "ollama unreachable" },
    ),
  );
  expect(settled.find((task) => task.id === id)?.status).toBe(outcome);
}

function pathsOf(answer: { body: { error: { details?: Array<{ path: string }> } } }) {
  return (answer.body.error.details ?? []).map((issue) => issue.path);
}

describe("POST /api/tasks", () => {
  it("creates a task and answers 201 with its public view", async () => {
    // Prepare: due in an hour, written with an offset (stored and answered in UTC)
    const due = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3_600_000);
    const withOffset = new Date(due.getTime() + 2 * 3_600_000).toISOString().replace("Z", "+02:00");
    const body = {
      type: "generate_content",
      input: { topic: "  Queues in PostgreSQL  ", keywords: ["SKIP LOCKED"], wordCount: 300 },
      title: "Blog post",
      priority: 7,
      runAt: withOffset,
      maxAttempts: 5,
      model: OTHER_MODEL,
    };

    // Act
    const answer = await create(body);

    // Assess
    expect(answer.status).toBe(201);
    const task = TaskViewSchema.parse(answer.body);
    expect(answer.headers.location).toBe(`/api/tasks/${task.id}`);
    expect(task).toMatchObject({
      type: "generate_content",
      // The type's schema trimmed the topic: what is stored is what the executor will read.
      input: { topic: "Queues in PostgreSQL", keywords: ["SKIP LOCKED"], wordCount: 300 },
      title: "Blog post",
      status: "pending",
      priority: 7,
      runAt: due.toISOString(),
      attempts: 0,
      maxAttempts: 5,
      cancelRequested: false,
      model: OTHER_MODEL,
      result: null,
      error: null,
      idempotencyKey: null,
      startedAt: null,
      completedAt: null,
    });
    // Lease internals and the owner stay inside.
    expect(Object.keys(answer.body)).not.toEqual(
      expect.arrayContaining(["owner", "leaseOwner", "leaseExpiresAt", "requestHash"]),
    );
    expect(Object.keys(answer.body)).not.toEqual(
      expect.arrayContaining(["firstDueAt", "firstStartedAt"]),
    );
    const stored = await api.store.get(ALICE, task.id);
    expect(stored.owner).toBe(ALICE);
  });

  it("accepts a runAt a little in the past (clock skew): the task is due at once", async () => {
    // Prepare
    const anHourAgo = new Date(Date.now() - 3_600_000).toISOString();

    // Act
    const answer = await create({ ...validBodies.summarize, runAt: anHourAgo });

    // Assess
    expect(answer.status).toBe(201);
    expect(TaskViewSchema.parse(answer.body).runAt).toBe(anHourAgo);
  });

  it("applies the defaults: priority 0, 3 attempts, the default model, due at once", async () => {
    // Prepare
    const before = Date.now();

    // Act
    const task = await createTask(validBodies.prompt);

    // Assess
    expect(task).toMatchObject({ priority: 0, maxAttempts: 3, model: DEFAULT_MODEL, title: null });
    expect(Date.parse(task.runAt)).toBeGreaterThanOrEqual(before - 5_000);
    expect(Date.parse(task.runAt)).toBeLessThanOrEqual(Date.now() + 5_000);
  });

  it("accepts an allowed model however Ollama would spell it", async () => {
    // Act
    const task = await createTask({ ...validBodies.summarize, model: "Llama3.2:latest" });

    // Assess
    expect(task.model).toBe(DEFAULT_MODEL);
  });

  it("answers 400 naming each failing field, all in one answer", async () => {
    // Act
    const answer = await create({
      type: "generate_content",
      input: { wordCount: 10 },
      priority: 5000,
      maxAttempts: 0,
      title: "x".repeat(201),
      runAt: "next tuesday",
      extra: true,
    });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("validation_failed");
    expect(pathsOf(answer)).toEqual(
      expect.arrayContaining([
        "input.topic",
        "input.wordCount",
        "priority",
        "maxAttempts",
        "title",
        "runAt",
        "extra",
      ]),
    );
    expect(answer.body.error.message).toContain("input.topic");
  });

  it.each([
    ["a missing input", { type: "summarize" }, "input"],
    ["an input that is not an object", { type: "summarize", input: "text" }, "input"],
    ["a wrong-typed priority", { ...validBodies.summarize, priority: "high" }, "priority"],
    ["a fractional priority", { ...validBodies.summarize, priority: 1.5 }, "priority"],
    ["a huge priority", { ...validBodies.summarize, priority: 1e300 }, "priority"],
    ["too many attempts", { ...validBodies.summarize, maxAttempts: 11 }, "maxAttempts"],
    ["a runAt years ahead", { ...validBodies.summarize, runAt: "2999-01-01T00:00:00Z" }, "runAt"],
    ["a runAt in year 1", { ...validBodies.summarize, runAt: "0001-01-01T00:00:00Z" }, "runAt"],
    [
      "a runAt two days back",
      { ...validBodies.summarize, runAt: new Date(Date.now() - 2 * 86_400_000).toISOString() },
      "runAt",
    ],
    ["a missing type", { input: {} }, "type"],
    [
      "an unknown input field",
      { type: "summarize", input: { text: "t", max_words: 5 } },
      "input.max_words",
    ],
    [
      "a prototype key",
      JSON.parse('{"type":"summarize","input":{"text":"t"},"__proto__":{"x":1}}'),
      "__proto__",
    ],
  ])("answers 400 for %s, naming %s", async (_, body, path) => {
    // Act
    const answer = await create(body);

    // Assess
    expect(answer.status).toBe(400);
    expect(pathsOf(answer)).toContain(path);
  });

  it("answers 400 naming `type` for an unknown type, listing the known ones", async () => {
    // Act
    const answer = await create({ type: "translate", input: { text: "hola" } });

    // Assess
    expect(answer.status).toBe(400);
    expect(pathsOf(answer)).toEqual(["type"]);
    expect(answer.body.error.message).toMatch(/generate_content.*prompt.*summarize/);
  });

  it("answers 400 naming `model` for a model outside the allowlist", async () => {
    // Act
    const answer = await create({ ...validBodies.summarize, model: "gpt-4o" });

    // Assess
    expect(answer.status).toBe(400);
    expect(pathsOf(answer)).toEqual(["model"]);
    expect(answer.body.error.message).toContain(OTHER_MODEL);
    expect(await api.store.list(ALICE, { limit: 10 })).toMatchObject({ items: [] });
  });

  it.each([
    ["no body", undefined],
    ["null", "null"],
    ["an array", "[1,2]"],
    ["a number", "42"],
  ])("answers 400 for %s", async (_, body) => {
    // Act
    const answer = await api.postJsonText(body, ALICE);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("validation_failed");
  });

  it("answers 401 without a caller", async () => {
    // Act
    const answer = await api.call({ method: "POST", path: "/api/tasks", body: validBodies.prompt });

    // Assess
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe("unauthorized");
    expect(answer.headers["www-authenticate"]).toMatch(/^Bearer/);
    expect(await api.store.list(ALICE, { limit: 10 })).toMatchObject({ items: [] });
  });
});

describe("POST /api/tasks with an Idempotency-Key", () => {
  it("answers 200 with the same task when the same request comes again", async () => {
    // Prepare
    const key = randomUUID();
    const first = await create(validBodies.generate_content, ALICE, { "Idempotency-Key": key });

    // Act
    const again = await create(validBodies.generate_content, ALICE, { "Idempotency-Key": key });

    // Assess
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.body.idempotencyKey).toBe(key);
  });

  it("answers 409 when the key comes again with a different body", async () => {
    // Prepare
    const key = randomUUID();
    await create(validBodies.summarize, ALICE, { "Idempotency-Key": key });

    // Act
    const answer = await create({ ...validBodies.summarize, priority: 1 }, ALICE, {
      "Idempotency-Key": key,
    });

    // Assess
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe("idempotency_conflict");
    expect((await api.store.list(ALICE, { limit: 10 })).items).toHaveLength(1);
  });

  it("keeps keys per caller: another caller's same key makes its own task", async () => {
    // Prepare
    const key = randomUUID();
    const alices = await create(validBodies.summarize, ALICE, { "Idempotency-Key": key });

    // Act
    const bobs = await create(validBodies.summarize, BOB, { "Idempotency-Key": key });

    // Assess
    expect(bobs.status).toBe(201);
    expect(bobs.body.id).not.toBe(alices.body.id);
  });

  it("makes exactly one task from ten concurrent creates, and all ten answers name it", async () => {
    // Prepare
    const key = randomUUID();

    // Act
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        create(validBodies.generate_content, ALICE, { "Idempotency-Key": key }),
      ),
    );

    // Assess
    expect(answers.map((answer) => answer.status).sort()).toEqual([
      200, 200, 200, 200, 200, 200, 200, 200, 200, 201,
    ]);
    const ids = new Set(answers.map((answer) => answer.body.id));
    expect(ids.size).toBe(1);
    const rows = await db.current.sql.query<{ count: number }>(
      "SELECT count(*) AS count FROM tasks WHERE owner = :owner",
      { owner: ALICE },
    );
    expect(rows[0]?.count).toBe(1);
  });

  it.each([
    ["a key with spaces", "my key"],
    ["a key over 255 characters", "k".repeat(256)],
  ])("answers 400 naming the header for %s", async (_, key) => {
    // Act
    const answer = await create(validBodies.summarize, ALICE, { "Idempotency-Key": key });

    // Assess
    expect(answer.status).toBe(400);
    expect(pathsOf(answer)).toEqual(["Idempotency-Key"]);
  });
});

describe("GET /api/tasks/{id}", () => {
  it("answers 200 with the caller's task", async () => {
    // Prepare
    const task = await createTask();

    // Act
    const answer = await api.call({ method: "GET", path: `/api/tasks/${task.id}`, sub: ALICE });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(task);
  });

  it.each([
    ["an unknown id", randomUUID()],
    ["a malformed id", "not-a-uuid"],
    ["an id with SQL in it", "1'%20OR%20'1'='1"],
  ])("answers 404 for %s", async (_, id) => {
    // Act
    const answer = await api.call({ method: "GET", path: `/api/tasks/${id}`, sub: ALICE });

    // Assess
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe("not_found");
  });

  it("answers 401 without a caller", async () => {
    // Prepare
    const task = await createTask();

    // Act
    const answer = await api.call({ method: "GET", path: `/api/tasks/${task.id}` });

    // Assess
    expect(answer.status).toBe(401);
  });
});

describe("GET /api/tasks", () => {
  it("lists the caller's tasks newest first, filtered by status and type", async () => {
    // Prepare
    const summary = await createTask(validBodies.summarize);
    const article = await createTask(validBodies.generate_content);
    const prompt = await createTask(validBodies.prompt);
    await api.call({ method: "POST", path: `/api/tasks/${summary.id}/cancel`, sub: ALICE });

    // Act
    const all = await api.call({ method: "GET", path: "/api/tasks", sub: ALICE });
    const pending = await api.call({
      method: "GET",
      path: "/api/tasks?status=pending",
      sub: ALICE,
    });
    const prompts = await api.call({ method: "GET", path: "/api/tasks?type=prompt", sub: ALICE });
    const cancelledSummaries = await api.call({
      method: "GET",
      path: "/api/tasks",
      query: { status: "cancelled", type: "summarize" },
      sub: ALICE,
    });

    // Assess
    expect(all.status).toBe(200);
    const page = TaskPageSchema.parse(all.body);
    expect(page.items.map((task) => task.id)).toEqual([prompt.id, article.id, summary.id]);
    expect(page.nextCursor).toBeNull();
    expect(pending.body.items.map((task: { id: string }) => task.id)).toEqual([
      prompt.id,
      article.id,
    ]);
    expect(prompts.body.items.map((task: { id: string }) => task.id)).toEqual([prompt.id]);
    expect(cancelledSummaries.body.items.map((task: { id: string }) => task.id)).toEqual([
      summary.id,
    ]);
  });

  it.each([
    ["an unknown status", { status: "done" }, "status"],
    ["a limit of 0", { limit: "0" }, "limit"],
    ["a limit over 100", { limit: "101" }, "limit"],
    ["a limit that is not a number", { limit: "ten" }, "limit"],
    ["a malformed cursor", { cursor: "not-a-cursor" }, "cursor"],
    ["an unknown parameter", { sort: "asc" }, "sort"],
  ])("answers 400 for %s, naming %s", async (_, query, path) => {
    // Act
    const answer = await api.call({ method: "GET", path: "/api/tasks", query, sub: ALICE });

    // Assess
    expect(answer.status).toBe(400);
    expect(pathsOf(answer)).toContain(path);
  });

  it("answers 400 for another caller's cursor", async () => {
    // Prepare
    await createTask(validBodies.summarize, BOB);
    await createTask(validBodies.summarize, BOB);
    const bobs = await api.call({ method: "GET", path: "/api/tasks?limit=1", sub: BOB });
    expect(bobs.body.nextCursor).toEqual(expect.any(String));

    // Act
    const answer = await api.call({
      method: "GET",
      path: "/api/tasks",
      query: { cursor: bobs.body.nextCursor },
      sub: ALICE,
    });

    // Assess
    expect(answer.status).toBe(400);
    expect(pathsOf(answer)).toEqual(["cursor"]);
  });

  it("answers 401 without a caller", async () => {
    // Act
    const answer = await api.call({ method: "GET", path: "/api/tasks" });

    // Assess
    expect(answer.status).toBe(401);
  });

  it("pages through 120 tasks 50 at a time while new ones arrive: each of the 120 once", async () => {
    // Prepare
    const original: string[] = [];
    for (let batch = 0; batch < 12; batch++) {
      const created = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          createTask({ ...validBodies.summarize, title: `task ${batch * 10 + i}` }),
        ),
      );
      original.push(...created.map((task) => task.id));
    }

    // Act: between every page, more tasks are created (newer than anything paged so far).
    const seen: string[] = [];
    const arrivals: string[] = [];
    let cursor: string | null | undefined;
    let pages = 0;
    do {
      const answer = await api.call({
        method: "GET",
        path: "/api/tasks",
        query: { limit: "50", ...(cursor ? { cursor } : {}) },
        sub: ALICE,
      });
      expect(answer.status).toBe(200);
      const page = TaskPageSchema.parse(answer.body);
      seen.push(...page.items.map((task) => task.id));
      cursor = page.nextCursor;
      pages++;
      const newcomers = await Promise.all(
        Array.from({ length: 7 }, () => createTask({ ...validBodies.prompt, title: "newcomer" })),
      );
      arrivals.push(...newcomers.map((task) => task.id));
    } while (cursor);

    // Assess
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...original].sort());
    expect(seen.some((id) => arrivals.includes(id))).toBe(false);
  });
});

describe("POST /api/tasks/{id}/cancel", () => {
  it("cancels a pending task at once", async () => {
    // Prepare
    const task = await createTask();

    // Act
    const answer = await api.call({
      method: "POST",
      path: `/api/tasks/${task.id}/cancel`,
      sub: ALICE,
    });

    // Assess
    expect(answer.status).toBe(200);
    expect(TaskViewSchema.parse(answer.body)).toMatchObject({ id: task.id, status: "cancelled" });
    expect(answer.body.completedAt).not.toBeNull();
  });

  it("asks a running task to stop", async () => {
    // Prepare
    const task = await createTask();
    await claimTasks(api.store, "test-worker", 10, 60);

    // Act
    const answer = await api.call({
      method: "POST",
      path: `/api/tasks/${task.id}/cancel`,
      sub: ALICE,
    });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      status: "in_progress",
      cancelRequested: true,
      attempts: 1,
    });
  });

  it.each(["completed", "failed"] as const)("answers 409 for a %s task", async (outcome) => {
    // Prepare
    const task = await createTask();
    await finishTask(task.id, outcome);

    // Act
    const answer = await api.call({
      method: "POST",
      path: `/api/tasks/${task.id}/cancel`,
      sub: ALICE,
    });

    // Assess
    expect(answer.status).toBe(409);
    expect(answer.body.error).toMatchObject({ code: "conflict", details: { status: outcome } });
  });

  it("answers 409 for a task cancelled already", async () => {
    // Prepare
    const task = await createTask();
    await api.call({ method: "POST", path: `/api/tasks/${task.id}/cancel`, sub: ALICE });

    // Act
    const answer = await api.call({
      method: "POST",
      path: `/api/tasks/${task.id}/cancel`,
      sub: ALICE,
    });

    // Assess
    expect(answer.status).toBe(409);
  });

  it("answers 404 for an unknown or malformed id, and 401 without a caller", async () => {
    // Prepare
    const task = await createTask();

    // Act
    const unknown = await api.call({
      method: "POST",
      path: `/api/tasks/${randomUUID()}/cancel`,
      sub: ALICE,
    });
    const malformed = await api.call({ method: "POST", path: "/api/tasks/42/cancel", sub: ALICE });
    const anonymous = await api.call({ method: "POST", path: `/api/tasks/${task.id}/cancel` });

    // Assess
    expect(unknown.status).toBe(404);
    expect(malformed.status).toBe(404);
    expect(anonymous.status).toBe(401);
    expect((await api.store.get(ALICE, task.id)).status).toBe("pending");
  });
});

describe("POST /api/tasks/{id}/retry", () => {
  it("puts a failed task back to pending with its attempts reset", async () => {
    // Prepare
    const task = await createTask();
    await finishTask(task.id, "failed");

    // Act
    const answer = await api.call({
      method: "POST",
      path: `/api/tasks/${task.id}/retry`,
      sub: ALICE,
    });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: task.id, status: "pending", attempts: 0 });
  });

  it("puts a cancelled task back to pending", async () => {
    // Prepare
    const task = await createTask();
    await api.call({ method: "POST", path: `/api/tasks/${task.id}/cancel`, sub: ALICE });

    // Act
    const answer = await api.call({
      method: "POST",
      path: `/api/tasks/${task.id}/retry`,
      sub: ALICE,
    });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: "pending", cancelRequested: false });
  });

  it.each(["pending", "completed"] as const)("answers 409 for a %s task", async (status) => {
    // Prepare
    const task = await createTask();
    if (status === "completed") await finishTask(task.id, "completed");

    // Act
    const answer = await api.call({
      method: "POST",
      path: `/api/tasks/${task.id}/retry`,
      sub: ALICE,
    });

    // Assess
    expect(answer.status).toBe(409);
    expect(answer.body.error).toMatchObject({ code: "conflict", details: { status } });
  });

  it("answers 404 for an unknown id and 401 without a caller", async () => {
    // Act
    const unknown = await api.call({
      method: "POST",
      path: `/api/tasks/${randomUUID()}/retry`,
      sub: ALICE,
    });
    const anonymous = await api.call({ method: "POST", path: `/api/tasks/${randomUUID()}/retry` });

    // Assess
    expect(unknown.status).toBe(404);
    expect(anonymous.status).toBe(401);
  });
});

describe("another caller's task", () => {
  it("is a 404 for get, cancel and retry, and never in a list", async () => {
    // Prepare
    const failed = await createTask();
    await finishTask(failed.id, "failed");
    const alices = await createTask();
    await createTask(validBodies.prompt, BOB);

    // Act
    const get = await api.call({ method: "GET", path: `/api/tasks/${alices.id}`, sub: BOB });
    const cancel = await api.call({
      method: "POST",
      path: `/api/tasks/${alices.id}/cancel`,
      sub: BOB,
    });
    const retry = await api.call({
      method: "POST",
      path: `/api/tasks/${failed.id}/retry`,
      sub: BOB,
    });
    const list = await api.call({ method: "GET", path: "/api/tasks?limit=100", sub: BOB });
    const filtered = await api.call({ method: "GET", path: "/api/tasks?status=failed", sub: BOB });

    // Assess
    for (const answer of [get, cancel, retry]) {
      expect(answer.status).toBe(404);
      expect(answer.body.error.code).toBe("not_found");
    }
    // Nothing changed for the owner.
    expect((await api.store.get(ALICE, alices.id)).status).toBe("pending");
    expect((await api.store.get(ALICE, failed.id)).status).toBe("failed");
    const listed = list.body.items.map((task: { id: string }) => task.id);
    expect(listed).toHaveLength(1);
    expect(listed).not.toContain(alices.id);
    expect(filtered.body.items).toEqual([]);
  });
});
