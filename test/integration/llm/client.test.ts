import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  SettingsError,
  TaskCancelledError,
  TaskExecutionError,
} from "../../../functions/core/errors";
import { createLlmClient } from "../../../functions/core/llm";
import { MAX_RESULT_BYTES } from "../../../functions/core/tasks/byteBudgets";
import {
  type OllamaTestServer,
  RepeatedAnswer,
  startOllamaServer,
} from "../../../testkit/ollamaServer";

/** The real `ollama` client over HTTP against the Ollama-compatible test server. */

let server: OllamaTestServer;

beforeAll(async () => {
  server = await startOllamaServer({ models: ["llama3.2", "qwen2.5:0.5b"] });
});
afterEach(() => server.reset());
afterAll(() => server.stop());

const hello = [{ role: "user" as const, content: "Say hello" }];

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

describe("LlmClient.chat", () => {
  it("returns the whole streamed answer with usage and duration", async () => {
    // Prepare
    server.respondWith(() => "Hello there, general reader. Nice to meet you.");
    const llm = createLlmClient({ host: server.url, timeoutMs: 30_000 });

    // Act
    const reply = await llm.chat({ model: "llama3.2", messages: hello });

    // Assess
    expect(reply.content).toBe("Hello there, general reader. Nice to meet you.");
    expect(reply.model).toBe("llama3.2");
    expect(reply.usage.promptTokens).toBeGreaterThan(0);
    expect(reply.usage.completionTokens).toBeGreaterThan(0);
    expect(reply.durationMs).toBeGreaterThanOrEqual(0);
    expect(reply.doneReason).toBe("stop");
    const [call] = server.calls();
    expect(call).toMatchObject({ endpoint: "chat", stream: true, lastUserMessage: "Say hello" });
  });

  it("tells onDelta each streamed piece, in order, and a throwing listener fails nothing", async () => {
    // Prepare
    server.respondWith(() => "one two three four");
    const llm = createLlmClient({ host: server.url, timeoutMs: 30_000 });
    const pieces: string[] = [];

    // Act
    const reply = await llm.chat({
      model: "llama3.2",
      messages: hello,
      onDelta: (delta) => pieces.push(delta),
    });
    const again = await llm.chat({
      model: "llama3.2",
      messages: hello,
      onDelta: () => {
        throw new Error("listener bug");
      },
    });

    // Assess
    expect(pieces.length).toBe(4);
    expect(pieces.join("")).toBe(reply.content);
    expect(again.content).toBe("one two three four");
  });

  it("sends format and options as given", async () => {
    // Prepare
    const llm = createLlmClient({ host: server.url, timeoutMs: 30_000 });
    const format = { type: "object", properties: { n: { type: "number" } } };

    // Act
    const reply = await llm.chat({
      model: "qwen2.5:0.5b",
      messages: hello,
      format,
      options: { temperature: 0, seed: 7 },
    });

    // Assess
    expect(JSON.parse(reply.content)).toEqual({ n: 1 });
    expect(server.calls()[0]).toMatchObject({ format, options: { temperature: 0, seed: 7 } });
    expect(server.stats.callsByModel).toEqual({ "qwen2.5:0.5b": 1 });
  });

  it("fails with a retryable timeout and the server sees the request dropped", async () => {
    // Prepare
    server.setLatency(30_000);
    const llm = createLlmClient({ host: server.url, timeoutMs: 300 });

    // Act
    const error = await failureOf(llm.chat({ model: "llama3.2", messages: hello }));

    // Assess
    expect(error).toBeInstanceOf(TaskExecutionError);
    expect(error).toMatchObject({
      retryable: true,
      message: "Ollama call timed out after 300 ms",
    });
    await server.waitFor(() => server.stats.aborted === 1);
  });

  it("lets one call override the client's timeout", async () => {
    // Prepare
    server.setLatency(30_000);
    const llm = createLlmClient({ host: server.url, timeoutMs: 120_000 });

    // Act
    const error = await failureOf(llm.chat({ model: "llama3.2", messages: hello, timeoutMs: 200 }));

    // Assess
    expect(error).toMatchObject({ retryable: true, message: "Ollama call timed out after 200 ms" });
  });

  it("names the host when the server is down, and the failure is retryable", async () => {
    // Prepare: a port that was just closed
    const gone = await startOllamaServer();
    await gone.stop();
    const llm = createLlmClient({ host: gone.url, timeoutMs: 30_000 });

    // Act
    const error = await failureOf(llm.chat({ model: "llama3.2", messages: hello }));

    // Assess
    expect(error).toBeInstanceOf(TaskExecutionError);
    expect((error as TaskExecutionError).retryable).toBe(true);
    expect((error as Error).message).toMatch(
      new RegExp(`^Ollama unreachable at ${gone.url}: connect ECONNREFUSED`),
    );
  });

  it("names an unresolvable host", async () => {
    // Prepare: .invalid never resolves (RFC 2606)
    const llm = createLlmClient({ host: "http://ollama.invalid:11434", timeoutMs: 30_000 });

    // Act
    const error = await failureOf(llm.version());

    // Assess
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).message).toMatch(
      /^Ollama unreachable at http:\/\/ollama\.invalid:11434: .*ollama\.invalid/,
    );
  });

  it.each([500, 502, 503])("treats a %i answer as retryable", async (status) => {
    // Prepare
    server.fail({ status, error: "llama runner process has terminated", times: 1 });
    const llm = createLlmClient({ host: server.url, timeoutMs: 30_000 });

    // Act
    const error = await failureOf(llm.chat({ model: "llama3.2", messages: hello }));

    // Assess
    expect(error).toBeInstanceOf(TaskExecutionError);
    expect(error).toMatchObject({
      retryable: true,
      message: `Ollama at ${server.url} answered ${status}: llama runner process has terminated`,
    });
    // the rule was for one call only: the next one succeeds
    await expect(llm.chat({ model: "llama3.2", messages: hello })).resolves.toBeDefined();
  });

  it("treats an error in the middle of a stream as retryable", async () => {
    // Prepare
    server.fail({ midStream: true, error: "an error was encountered while running the model" });
    server.respondWith(() => "one two three");
    const llm = createLlmClient({ host: server.url, timeoutMs: 30_000 });

    // Act
    const error = await failureOf(llm.chat({ model: "llama3.2", messages: hello }));

    // Assess
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).message).toContain("an error was encountered while running the model");
  });

  it("fails an unknown model at once, not retryable", async () => {
    // Prepare
    const llm = createLlmClient({ host: server.url, timeoutMs: 30_000 });

    // Act
    const error = await failureOf(llm.chat({ model: "mistral", messages: hello }));

    // Assess
    expect(error).toBeInstanceOf(TaskExecutionError);
    expect(error).toMatchObject({
      retryable: false,
      message: 'model "mistral" is not available on the LLM server',
    });
    expect(server.calls()[0]).toMatchObject({ status: 404, outcome: "failed" });
  });

  it("treats other 4xx as final, but 429 as retryable", async () => {
    // Prepare
    const llm = createLlmClient({ host: server.url, timeoutMs: 30_000 });
    server.fail({ status: 400, error: "invalid format schema", times: 1 });

    // Act
    const badRequest = await failureOf(llm.chat({ model: "llama3.2", messages: hello }));
    server.fail({ status: 429, error: "too many requests", times: 1 });
    const throttled = await failureOf(llm.chat({ model: "llama3.2", messages: hello }));

    // Assess
    expect(badRequest).toMatchObject({ retryable: false });
    expect((badRequest as Error).message).toContain("answered 400: invalid format schema");
    expect(throttled).toMatchObject({ retryable: true });
  });

  it.each([
    { chunkDelayMs: 0, latency: 30_000, label: "while the server thinks" },
    { chunkDelayMs: 500, latency: 0, label: "in the middle of a stream" },
  ])("aborts $label when the caller's signal fires", async ({ chunkDelayMs, latency }) => {
    // Prepare
    server.setLatency(latency);
    server.setChunkDelay(chunkDelayMs);
    server.respondWith(() => "a long answer that takes its time to arrive word by word");
    const llm = createLlmClient({ host: server.url, timeoutMs: 60_000 });
    const cancel = new AbortController();
    const call = failureOf(llm.chat({ model: "llama3.2", messages: hello, signal: cancel.signal }));
    await server.waitFor(() => server.stats.active === 1);

    // Act
    cancel.abort();
    const error = await call;

    // Assess
    expect(error).toBeInstanceOf(TaskCancelledError);
    await server.waitFor(() => server.stats.aborted === 1);
    expect(server.calls()[0]?.outcome).toBe("aborted");
    expect(server.stats.inFlight).toBe(0);
  });

  it("stops reading a 60 MB answer at the result limit, fails it for good, and drops the call", async () => {
    // Prepare: 4 KiB chunks, so 60 MB is 15,000 of them
    server.respondWith(() => new RepeatedAnswer("word ".repeat(820), 60 * 1024 * 1024));
    const llm = createLlmClient({ host: server.url, timeoutMs: 60_000 });
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 1);

    // Act
    const error = await failureOf(llm.chat({ model: "llama3.2", messages: hello }));
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);

    // Assess
    expect(error).toBeInstanceOf(TaskExecutionError);
    expect(error).toMatchObject({ retryable: false });
    expect((error as Error).message).toMatch(
      new RegExp(
        `^the model's answer is over the ${MAX_RESULT_BYTES}-byte result limit; stopped reading it after \\d+ bytes$`,
      ),
    );
    await server.waitFor(() => server.stats.aborted === 1);
    const [call] = server.calls();
    expect(call?.outcome).toBe("aborted");
    // What the sockets' buffers held when the client went away, far from 60 MB.
    expect(call?.contentBytes).toBeLessThan(8 * 1024 * 1024);
    // Reading it whole grew this process by more than the answer's 60 MB.
    expect(peak - before).toBeLessThan(40 * 1024 * 1024);
  });

  it("takes an answer exactly at its byte limit, counting UTF-8 bytes, and refuses one byte more", async () => {
    // Prepare: "é" is two bytes
    const llm = createLlmClient({ host: server.url, timeoutMs: 30_000, maxAnswerBytes: 10 });

    // Act
    server.respondWith(() => "héllo wor");
    const atLimit = await llm.chat({ model: "llama3.2", messages: hello });
    server.respondWith(() => "héllo word");
    const overLimit = await failureOf(llm.chat({ model: "llama3.2", messages: hello }));

    // Assess
    expect(atLimit.content).toBe("héllo wor");
    expect(overLimit).toMatchObject({
      retryable: false,
      message:
        "the model's answer is over the 10-byte result limit; stopped reading it after 11 bytes",
    });
  });

  it("refuses an answer limit that is not a whole number of bytes above 0", () => {
    // Act
    const make = (maxAnswerBytes: number) => () =>
      createLlmClient({ host: server.url, timeoutMs: 30_000, maxAnswerBytes });

    // Assess
    expect(make(0)).toThrow(SettingsError);
    expect(make(1.5)).toThrow("Ollama maxAnswerBytes must be a whole number of bytes above 0");
  });

  it("makes no call when the signal is already aborted", async () => {
    // Prepare
    const llm = createLlmClient({ host: server.url, timeoutMs: 30_000 });

    // Act
    const error = await failureOf(
      llm.chat({ model: "llama3.2", messages: hello, signal: AbortSignal.abort() }),
    );

    // Assess
    expect(error).toBeInstanceOf(TaskCancelledError);
    expect(server.stats.totalCalls).toBe(0);
  });
});

describe("LlmClient.listModels and version", () => {
  it("lists the server's models and its version", async () => {
    // Prepare
    const llm = createLlmClient({ host: `${server.url}/`, timeoutMs: 30_000 });

    // Act
    const models = await llm.listModels();
    const version = await llm.version();

    // Assess
    expect(models.map((m) => m.name).sort()).toEqual(["llama3.2:latest", "qwen2.5:0.5b"]);
    expect(models[0]?.sizeBytes).toBeGreaterThan(0);
    expect(version).toBe("0.0.0-test");
    expect(llm.host).toBe(server.url);
  });
});
