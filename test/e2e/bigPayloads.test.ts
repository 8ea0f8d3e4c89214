import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MAX_INPUT_BYTES } from "../../functions/core/tasks/byteBudgets";
import { useE2eTarget } from "../support/e2eTarget";
import { type ErrorBody, isFinal, type TaskView } from "../support/http";

/**
 * Real documents (docs/design.md "Big inputs and results"), over HTTP through the local
 * runtime: inputs far beyond a row's inline budget are kept in the payload store (here a
 * directory, in AWS S3) and come back whole; the limits answer 413 naming what is over.
 */

// A 200 KB prompt needs a model with a large context: the largest Ollama takes.
const target = useE2eTarget({ OLLAMA_CONTEXT_LENGTH: "131072" });
const COMPLETE_MS = 90_000;

/** Prose of `bytes` ASCII bytes, with a marker so no two tests share a text. */
function prose(bytes: number): string {
  const sentence = `The committee reviewed the quarterly figures and agreed on next steps ${randomUUID()}. `;
  return sentence.repeat(Math.ceil(bytes / sentence.length)).slice(0, bytes);
}

describe("big inputs over HTTP", { timeout: 3 * COMPLETE_MS }, () => {
  it("runs a prompt task with a 200 KB prompt and returns the input byte for byte", async () => {
    // Prepare
    const { api, tokenA } = target.current;
    const prompt = `${prose(200_000)} "quoted" \\ é 🎉`;

    // Act
    const created = await api.createTask(tokenA, { type: "prompt", input: { prompt } });
    const finished = await api.waitForTask(tokenA, created.body.id, isFinal, COMPLETE_MS);
    const read = await api.getTask(tokenA, created.body.id);

    // Assess
    expect(created.status).toBe(201);
    expect(finished.status, finished.error ?? "").toBe("completed");
    expect((read.body.input as { prompt: string }).prompt).toBe(prompt);
    expect(JSON.stringify(read.body.input)).toBe(JSON.stringify({ prompt }));
  });

  it("summarizes a 1 MB text whole: several LLM calls, each within the context, usage their sum", async () => {
    // Prepare
    const { api, tokenA, local } = target.current;
    if (!local) throw new Error("this test counts the LLM calls: it needs the local target");
    const { ollama } = local;
    const text = prose(1_000_000);
    const callsBefore = ollama.calls().length;

    // Act
    const created = await api.createTask(tokenA, { type: "summarize", input: { text } });
    const finished = await api.waitForTask(tokenA, created.body.id, isFinal, COMPLETE_MS);
    const read = await api.getTask(tokenA, created.body.id);
    const calls = ollama.calls().slice(callsBefore);

    // Assess
    expect(created.status).toBe(201);
    expect(finished.status, finished.error ?? "").toBe("completed");
    const result = finished.result as {
      chunks: number;
      usage: { promptTokens: number; completionTokens: number };
    };
    expect(result.chunks).toBeGreaterThan(1);
    expect(calls).toHaveLength(result.chunks + 1);
    for (const call of calls) expect(call.options).toMatchObject({ num_ctx: 131_072 });
    expect(result.usage).toEqual({
      promptTokens: calls.reduce((sum, c) => sum + (c.promptTokens ?? 0), 0),
      completionTokens: calls.reduce((sum, c) => sum + (c.completionTokens ?? 0), 0),
    });
    expect((read.body.input as { text: string }).text).toBe(text);
  });

  it("answers a task of megabytes gzip-encoded, whole", async () => {
    // Prepare
    const { api, tokenA } = target.current;
    const text = prose(2_500_000);

    // Act
    const created = await api.createTask(tokenA, { type: "summarize", input: { text } });
    const read = await api.request<TaskView>("GET", `/api/tasks/${created.body.id}`, {
      token: tokenA,
      headers: { "accept-encoding": "gzip" },
    });
    const listed = await api.listTasks(tokenA, { limit: "5" });

    // Assess
    expect(created.status).toBe(201);
    expect(read.status).toBe(200);
    expect(read.headers.get("content-encoding")).toBe("gzip");
    expect((read.body.input as { text: string }).text).toBe(text);
    expect(listed.body.items.find((t) => t.id === created.body.id)?.input).toEqual({ text });
  });

  it("refuses an input over MAX_INPUT_BYTES with a 413 naming it, and a 7 MB body with a 413", async () => {
    // Prepare
    const { api, tokenA } = target.current;
    const overInput = { type: "summarize", input: { text: "a".repeat(MAX_INPUT_BYTES) } };
    const sevenMegabytes = JSON.stringify({
      type: "prompt",
      input: { prompt: "a".repeat(7_000_000) },
    });

    // Act
    const tooBigInput = await api.createTask(tokenA, overInput);
    const tooBigBody = await api.request<ErrorBody>("POST", "/api/tasks", {
      token: tokenA,
      rawBody: sevenMegabytes,
      headers: { "content-type": "application/json" },
    });
    const before = await api.listTasks(tokenA, { limit: "100" });

    // Assess
    expect(tooBigInput.status).toBe(413);
    expect(tooBigInput.body).toMatchObject({
      error: { code: "payload_too_large", details: { field: "input", maxBytes: MAX_INPUT_BYTES } },
    });
    expect(tooBigBody.status).toBe(413);
    expect(before.body.items.some((t) => JSON.stringify(t.input).length > MAX_INPUT_BYTES)).toBe(
      false,
    );
  });
});
