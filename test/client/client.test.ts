import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  createTaskPipelineClient,
  TaskPipelineError,
  type WatchEvent,
} from "../../client/src/index";
import { FINAL_STATUSES } from "../../client/src/watch";
import { TASK_STATUSES } from "../../functions/core/tasks/model";
import { useInProcessRuntime } from "../support/inProcessRuntime";

/** The client library (client/) against the local runtime over HTTP, executor included. */

const runtime = useInProcessRuntime();

async function clientFor(owner = `client-${randomUUID()}`, fetchImpl?: typeof fetch) {
  const token = await runtime.token(owner);
  return createTaskPipelineClient({
    baseUrl: runtime.url,
    token: () => token,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
}

async function collect(events: AsyncIterable<WatchEvent>): Promise<WatchEvent[]> {
  const seen: WatchEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

describe("the client", () => {
  it("creates a task and watches it through each status to its result", async () => {
    // Prepare: each answer takes a while, so the watch sees the task running.
    runtime.ollama.setLatency(3_000);
    const client = await clientFor();

    // Act
    const task = await client.createTask({
      type: "summarize",
      input: { text: "The client library follows a task to its end." },
    });
    const events = await collect(client.watchTask(task.id, { minIntervalMs: 100 }));
    runtime.ollama.setLatency(0);

    // Assess
    expect(task.status).toBe("pending");
    const statuses = events.map((e) => (e.type === "status" ? e.task.status : e.type));
    // The create wakes an executor at once, so the first look may find it running already.
    expect(statuses.filter((status) => status !== "pending")).toEqual(["in_progress", "completed"]);
    expect(["pending", "in_progress"]).toContain(statuses[0]);
    const last = events.at(-1);
    if (last?.type !== "status" || last.task.type !== "summarize") throw new Error("no summary");
    expect(last.task.result?.summary).toEqual(expect.any(String));
    expect(await client.getTask(task.id)).toMatchObject({ id: task.id, status: "completed" });
  });

  it("pages through the caller's tasks, newest first", async () => {
    // Prepare
    const client = await clientFor();
    const created = [];
    for (let i = 0; i < 5; i++) {
      created.push(
        await client.createTask({
          type: "prompt",
          input: { prompt: `page ${i}` },
          runAt: new Date(Date.now() + 3_600_000).toISOString(),
        }),
      );
    }

    // Act
    const pages = [];
    for await (const page of client.listTasks({ limit: 2, status: "pending" })) pages.push(page);

    // Assess
    expect(pages.map((p) => p.items.length)).toEqual([2, 2, 1]);
    expect(pages.flatMap((p) => p.items.map((t) => t.id))).toEqual(
      created.map((t) => t.id).reverse(),
    );
  });

  it("cancels and retries, and replays an idempotent create", async () => {
    // Prepare
    const client = await clientFor();
    const body = {
      type: "generate_content" as const,
      input: { topic: "idempotency" },
      runAt: new Date(Date.now() + 3_600_000).toISOString(),
    };
    const key = randomUUID();

    // Act
    const first = await client.createTask(body, { idempotencyKey: key });
    const replay = await client.createTask(body, { idempotencyKey: key });
    const cancelled = await client.cancelTask(first.id);
    const retried = await client.retryTask(first.id);

    // Assess
    expect(replay.id).toBe(first.id);
    expect(cancelled.status).toBe("cancelled");
    expect(retried.status).toBe("pending");
  });

  it("throws the API's error with its code, details and request id", async () => {
    // Prepare
    const client = await clientFor();

    // Act
    const invalid = await client
      .createTask({ type: "generate_content", input: { topic: "" } })
      .catch((error: unknown) => error);
    const missing = await client.getTask(randomUUID()).catch((error: unknown) => error);

    // Assess
    expect(invalid).toBeInstanceOf(TaskPipelineError);
    expect(invalid).toMatchObject({ status: 400, code: "validation_failed" });
    expect((invalid as TaskPipelineError).details).toEqual([
      expect.objectContaining({ path: "input.topic" }),
    ]);
    expect((invalid as TaskPipelineError).requestId).toEqual(expect.any(String));
    expect(missing).toMatchObject({ status: 404, code: "not_found" });
  });

  it("throws API Gateway's own 401 as a gateway error", async () => {
    // Prepare
    const client = createTaskPipelineClient({ baseUrl: runtime.url, token: "not-a-jwt" });

    // Act
    const error = await client.getMetrics().catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(TaskPipelineError);
    expect(error).toMatchObject({ status: 401, code: "gateway_error", message: "Unauthorized" });
  });

  it("waits as long as a 503's Retry-After asks before polling again", async () => {
    // Prepare: the first poll is answered 503 with Retry-After: 1, as the API does when its
    // database is away; the calls' start times are kept.
    const starts: number[] = [];
    let refused = false;
    const flaky: typeof fetch = async (input, init) => {
      starts.push(Date.now());
      if (!refused && init?.method === "GET") {
        refused = true;
        return new Response(
          JSON.stringify({
            error: { code: "database_unavailable", message: "try again" },
            requestId: "r1",
          }),
          { status: 503, headers: { "retry-after": "1", "content-type": "application/json" } },
        );
      }
      return fetch(input, init);
    };
    const client = await clientFor(undefined, flaky);
    const task = await client.createTask({ type: "prompt", input: { prompt: "Retry-After" } });
    starts.length = 0;

    // Act
    const events = await collect(client.watchTask(task.id, { minIntervalMs: 50 }));

    // Assess: the second poll came no sooner than the second asked for.
    expect(events.at(-1)).toMatchObject({ type: "status", task: { status: "completed" } });
    expect((starts[1] ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(1_000);
  });

  it("ends a watch quietly when its signal aborts", async () => {
    // Prepare: a task due in an hour never changes while watched.
    const client = await clientFor();
    const task = await client.createTask({
      type: "prompt",
      input: { prompt: "later" },
      runAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const controller = new AbortController();

    // Act
    const watching = collect(client.watchTask(task.id, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 300);
    const events = await watching;

    // Assess
    expect(events).toEqual([{ type: "status", task: expect.objectContaining({ id: task.id }) }]);
  });

  it("knows the API's final statuses", () => {
    expect(TASK_STATUSES).toEqual(expect.arrayContaining([...FINAL_STATUSES]));
    expect(TASK_STATUSES.filter((s) => !(FINAL_STATUSES as readonly string[]).includes(s))).toEqual(
      ["pending", "in_progress"],
    );
  });
});
