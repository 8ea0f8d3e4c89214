import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { FAST_RUNTIME_ENV } from "../../testkit/localRuntime";
import { REMOTE, useE2eTarget } from "../support/e2eTarget";
import { type ErrorBody, isFinal, type TaskView } from "../support/http";

/**
 * The HTTP contract as the frontend uses it (docs/design.md "The HTTP API"), end to end: a running
 * pipeline (the local runtime this suite starts, or E2E_BASE_URL), tasks watched until the
 * executor has run them. Parts that need control over the LLM server run locally only.
 */

const target = useE2eTarget();
const marker = () => `m-${randomUUID()}`;
/** Completing takes a schedule tick, a claim and an LLM call: generous for a busy machine. */
const COMPLETE_MS = 90_000;

// Tests wait up to COMPLETE_MS for the executor, twice at most: above vitest's 60 s default.
describe("the API as the frontend uses it", { timeout: 3 * COMPLETE_MS }, () => {
  it("answers the health check without a token", async () => {
    // Act
    const answer = await target.current.api.request<{ status: string }>("GET", "/api/health");

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe("ok");
  });

  it("refuses requests without a valid token as API Gateway does, and unknown routes in the API's error shape", async () => {
    // Prepare
    const { api, tokenA } = target.current;

    // Act
    const noToken = await api.request("GET", "/api/tasks");
    const badToken = await api.request("GET", "/api/tasks", { token: `${tokenA}x` });
    const unknown = await api.request("GET", "/api/nothing-here", { token: tokenA });

    // Assess
    expect(noToken.status).toBe(401);
    expect(noToken.body).toEqual({ message: "Unauthorized" });
    expect(badToken.status).toBe(401);
    expect(unknown.status).toBe(404);
    // API Gateway's $default route hands it to the api Lambda (lib/api.ts).
    expect(unknown.body).toMatchObject({
      error: { code: "not_found", message: expect.any(String) },
      requestId: expect.any(String),
    });
  });

  it("runs a task of each type to completion, with its result", async () => {
    // Prepare
    const { api, tokenA, local } = target.current;
    const tag = marker();
    const requests = [
      {
        type: "generate_content",
        title: "article",
        input: { topic: `tea ${tag}`, wordCount: 120 },
      },
      {
        type: "summarize",
        input: { text: `Tea is a drink made from leaves. ${tag}`, maxWords: 20 },
      },
      { type: "prompt", input: { prompt: `Answer in JSON: what is tea? ${tag}`, format: "json" } },
    ];

    // Act
    const created = await Promise.all(requests.map((request) => api.createTask(tokenA, request)));
    const finished = await Promise.all(
      created.map((answer) => api.waitForTask(tokenA, answer.body.id, isFinal, COMPLETE_MS)),
    );

    // Assess
    for (const answer of created) expect(answer.status).toBe(201);
    for (const task of finished) {
      expect(task.status, `${task.type}: ${task.error}`).toBe("completed");
      expect(task.result).toMatchObject({
        model: expect.any(String),
        usage: { promptTokens: expect.any(Number), completionTokens: expect.any(Number) },
        durationMs: expect.any(Number),
      });
      expect(task.completedAt).not.toBeNull();
    }
    const [article, summary, prompt] = finished;
    expect(article?.result).toMatchObject({
      title: expect.any(String),
      content: expect.any(String),
      wordCount: expect.any(Number),
    });
    expect(summary?.result).toMatchObject({ summary: expect.any(String) });
    // A format was given: the response is parsed JSON, not text.
    expect(typeof prompt?.result?.response).toBe("object");
    if (local) {
      // One LLM call per task, no more.
      const calls = local.ollama.calls().filter((call) => call.lastUserMessage?.includes(tag));
      expect(calls).toHaveLength(3);
    }
  });

  it("lists the caller's tasks newest first, filters them, and gets one", async () => {
    // Prepare
    const { api, tokenA } = target.current;
    const ids: string[] = [];
    for (const text of ["first", "second", "third"]) {
      // One after the other, so their creation order is certain.
      const answer = await api.createTask(tokenA, {
        type: "summarize",
        input: { text: `${text} ${marker()}` },
        runAt: inAnHour(),
      });
      ids.push(answer.body.id);
    }

    // Act
    const all = await api.listAll(tokenA);
    const pendingSummaries = await api.listAll(tokenA, { status: "pending", type: "summarize" });
    const firstPage = await api.listTasks(tokenA, { limit: "2" });
    const one = await api.getTask(tokenA, ids[1] as string);

    // Assess
    const listed = all.map((task) => task.id).filter((id) => ids.includes(id));
    expect(listed).toEqual([...ids].reverse());
    expect(pendingSummaries.map((task) => task.id)).toEqual(expect.arrayContaining(ids));
    expect(
      pendingSummaries.every((task) => task.status === "pending" && task.type === "summarize"),
    ).toBe(true);
    expect(firstPage.body.items).toHaveLength(2);
    expect(firstPage.body.nextCursor).toEqual(expect.any(String));
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: ids[1], status: "pending", type: "summarize" });
  });

  it("keeps one caller's tasks out of another's sight and reach", async () => {
    // Prepare
    const { api, tokenA, tokenB } = target.current;
    const mine = await api.createTask(tokenA, {
      type: "summarize",
      input: { text: marker() },
      runAt: inAnHour(),
    });
    const id = mine.body.id;

    // Act
    const get = await api.getTask(tokenB, id);
    const cancel = await api.request("POST", `/api/tasks/${id}/cancel`, { token: tokenB });
    const retry = await api.request("POST", `/api/tasks/${id}/retry`, { token: tokenB });
    const theirs = await api.listAll(tokenB);

    // Assess
    expect(get.status).toBe(404);
    expect(cancel.status).toBe(404);
    expect(retry.status).toBe(404);
    expect(theirs.map((task) => task.id)).not.toContain(id);
    expect((await api.getTask(tokenA, id)).body.status).toBe("pending");
  });

  it("cancels a pending task at once, and refuses to cancel it twice", async () => {
    // Prepare
    const { api, tokenA } = target.current;
    const created = await api.createTask(tokenA, {
      type: "summarize",
      input: { text: marker() },
      runAt: inAnHour(),
    });

    // Act
    const cancel = await api.request<TaskView>("POST", `/api/tasks/${created.body.id}/cancel`, {
      token: tokenA,
    });
    const again = await api.request<ErrorBody>("POST", `/api/tasks/${created.body.id}/cancel`, {
      token: tokenA,
    });

    // Assess
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe("cancelled");
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("conflict");
  });

  it.skipIf(REMOTE)(
    "cancels a running task: its LLM call is aborted and no result is kept",
    async () => {
      // Prepare
      const { api, tokenA, local } = target.current;
      const ollama = local?.ollama;
      if (!ollama) throw new Error("local only");
      const tag = marker();
      ollama.setLatency((call) => (call.lastUserMessage.includes(tag) ? 25_000 : 0));
      const created = await api.createTask(tokenA, {
        type: "prompt",
        input: { prompt: `slow ${tag}` },
      });
      await api.waitForTask(
        tokenA,
        created.body.id,
        (task) => task.status === "in_progress",
        COMPLETE_MS,
      );
      await ollama.waitFor(
        () => ollama.calls().some((call) => call.lastUserMessage?.includes(tag)),
        COMPLETE_MS,
      );

      // Act
      const cancel = await api.request<TaskView>("POST", `/api/tasks/${created.body.id}/cancel`, {
        token: tokenA,
      });
      const final = await api.waitForTask(tokenA, created.body.id, isFinal, COMPLETE_MS);

      // Assess
      expect(cancel.status).toBe(200);
      expect(cancel.body.cancelRequested).toBe(true);
      expect(final.status).toBe("cancelled");
      expect(final.result).toBeNull();
      const call = ollama.calls().find((c) => c.lastUserMessage?.includes(tag));
      await ollama.waitFor(() => call?.outcome === "aborted", 30_000);
      ollama.setLatency(0);
    },
  );

  it("retries a failed task: it runs again and completes; a completed one cannot be retried", async () => {
    // Prepare: locally a task fails for real (the LLM refuses its model); remotely a
    // cancelled task stands in for it (retry accepts both).
    const { api, tokenA, local } = target.current;
    const tag = marker();
    let id: string;
    if (local) {
      local.ollama.fail({
        status: 400,
        error: "model is overloaded with nonsense",
        model: "qwen2.5:0.5b",
      });
      const created = await api.createTask(tokenA, {
        type: "prompt",
        model: "qwen2.5:0.5b",
        input: { prompt: tag },
      });
      id = created.body.id;
      const failed = await api.waitForTask(tokenA, id, isFinal, COMPLETE_MS);
      expect(failed.status).toBe("failed");
      expect(failed.error).toContain("nonsense");
      local.ollama.clearFailures();
    } else {
      const created = await api.createTask(tokenA, {
        type: "prompt",
        input: { prompt: tag },
        runAt: inAnHour(),
      });
      id = created.body.id;
      await api.request("POST", `/api/tasks/${id}/cancel`, { token: tokenA });
    }

    // Act
    const retry = await api.request<TaskView>("POST", `/api/tasks/${id}/retry`, { token: tokenA });
    const final = await api.waitForTask(tokenA, id, isFinal, COMPLETE_MS);
    const again = await api.request<ErrorBody>("POST", `/api/tasks/${id}/retry`, { token: tokenA });

    // Assess
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ status: "pending", attempts: 0 });
    expect(final.status).toBe("completed");
    expect(again.status).toBe(409);
  });

  it("creates once per Idempotency-Key: the same request again is the same task, another is a 409", async () => {
    // Prepare
    const { api, tokenA } = target.current;
    const key = `key-${randomUUID()}`;
    const body = { type: "summarize", input: { text: marker() }, runAt: inAnHour() };

    // Act
    const first = await api.createTask(tokenA, body, key);
    const repeat = await api.createTask(tokenA, body, key);
    const different = await api.request<ErrorBody>("POST", "/api/tasks", {
      token: tokenA,
      body: { ...body, input: { text: "something else" } },
      headers: { "idempotency-key": key },
    });

    // Assess
    expect(first.status).toBe(201);
    expect(repeat.status).toBe(200);
    expect(repeat.body.id).toBe(first.body.id);
    expect(different.status).toBe(409);
    expect(different.body.error.code).toBe("idempotency_conflict");
  });

  it("answers bad requests with a 4xx naming the problem, and stores nothing", async () => {
    // Prepare
    const { api, tokenA } = target.current;
    const before = (await api.listAll(tokenA)).length;
    const post = (body: unknown) =>
      api.request<ErrorBody>("POST", "/api/tasks", { token: tokenA, body });

    // Act
    const unknownType = await post({ type: "translate", input: { text: "x" } });
    const missingField = await post({ type: "generate_content", input: { audience: "kids" } });
    const badFields = await post({
      type: "summarize",
      input: { text: "x" },
      priority: "high",
      maxAttempts: 0,
    });
    const badModel = await post({ type: "summarize", input: { text: "x" }, model: "gpt-9" });
    const malformed = await api.request<ErrorBody>("POST", "/api/tasks", {
      token: tokenA,
      rawBody: '{"type": "summarize",',
      headers: { "content-type": "application/json" },
    });
    const notJson = await api.request<ErrorBody>("POST", "/api/tasks", {
      token: tokenA,
      rawBody: "type=summarize",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    // Over MAX_BODY_BYTES (5 MiB), under Lambda's 6 MB: the handler's own 413.
    const tooLarge = await post({ type: "summarize", input: { text: "x".repeat(5_300_000) } });
    const badStatus = await api.request<ErrorBody>("GET", "/api/tasks?status=done", {
      token: tokenA,
    });
    const noSuchTask = await api.getTask(tokenA, randomUUID());

    // Assess
    const paths = (answer: { body: ErrorBody }) =>
      answer.body.error.details?.map((d) => d.path) ?? [];
    expect(unknownType.status).toBe(400);
    expect(paths(unknownType)).toContain("type");
    expect(missingField.status).toBe(400);
    expect(paths(missingField)).toContain("input.topic");
    expect(badFields.status).toBe(400);
    expect(paths(badFields)).toEqual(expect.arrayContaining(["priority", "maxAttempts"]));
    expect(badModel.status).toBe(400);
    expect(paths(badModel)).toContain("model");
    expect(malformed.status).toBe(400);
    expect(notJson.status).toBe(415);
    expect(tooLarge.status).toBe(413);
    expect(badStatus.status).toBe(400);
    expect(noSuchTask.status).toBe(404);
    for (const answer of [
      unknownType,
      missingField,
      badFields,
      badModel,
      malformed,
      notJson,
      tooLarge,
    ]) {
      expect(answer.body.error).toMatchObject({
        code: expect.any(String),
        message: expect.any(String),
      });
      expect(answer.text).not.toMatch(/\bat .+\.ts:\d+|SELECT|INSERT/);
    }
    expect((await api.listAll(tokenA)).length).toBe(before);
  });

  it("reports the caller's statistics", async () => {
    // Act
    const answer = await target.current.api.request<{ counts: Record<string, number> }>(
      "GET",
      "/api/metrics",
      {
        token: target.current.tokenA,
      },
    );

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body.counts.completed).toBeGreaterThanOrEqual(1);
  });

  it.skipIf(REMOTE)("accepts a token made by `npm run token`", async () => {
    // Prepare
    const { api } = target.current;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "bin/token.ts", "carol"],
      {
        cwd: resolve(import.meta.dirname, "../.."),
        env: { ...process.env, LOCAL_JWT_SECRET: FAST_RUNTIME_ENV.LOCAL_JWT_SECRET },
      },
    );

    // Act
    const answer = await api.listTasks(stdout.trim());

    // Assess
    expect(answer.status).toBe(200);
  });
});

function inAnHour(): string {
  return new Date(Date.now() + 3_600_000).toISOString();
}
