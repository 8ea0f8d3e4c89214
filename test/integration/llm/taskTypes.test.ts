import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TaskExecutionError } from "../../../functions/core/errors";
import { createLlmClient, type LlmClient } from "../../../functions/core/llm";
import { createTaskTypeRegistry } from "../../../functions/core/taskTypes/registry";
import type { TaskRunContext } from "../../../functions/core/taskTypes/types";
import { type OllamaTestServer, startOllamaServer } from "../../../testkit/ollamaServer";

/** Each built-in task type run through the registry, the real client and the test server. */

let server: OllamaTestServer;
let llm: LlmClient;
const registry = createTaskTypeRegistry();

beforeAll(async () => {
  server = await startOllamaServer();
  llm = createLlmClient({ host: server.url, timeoutMs: 30_000 });
});
afterEach(() => server.reset());
afterAll(() => server.stop());

function context(): TaskRunContext {
  return { model: "llama3.2", signal: new AbortController().signal, llm, contextTokens: 8_192 };
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the task to fail");
}

const envelope = {
  model: "llama3.2",
  usage: { promptTokens: expect.any(Number), completionTokens: expect.any(Number) },
  durationMs: expect.any(Number),
};

describe("generate_content", () => {
  it("asks for structured JSON and returns title, markdown content and its word count", async () => {
    // Prepare
    server.respondWith(() => ({
      title: "Tide Pools",
      content: "## What they are\n\n- Small **worlds** left by the sea.\n- Don't touch.",
    }));
    const input = {
      topic: "  tide pools  ",
      keywords: ["anemone", "low tide"],
      audience: "children",
      tone: "playful",
      wordCount: 300,
    };

    // Act
    const result = await registry.run("generate_content", input, context());

    // Assess
    expect(result).toEqual({
      title: "Tide Pools",
      content: "## What they are\n\n- Small **worlds** left by the sea.\n- Don't touch.",
      wordCount: 11,
      ...envelope,
    });
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    const [call] = server.calls();
    expect(call?.format).toMatchObject({
      type: "object",
      required: ["title", "content"],
      properties: { title: { type: "string" }, content: { type: "string" } },
    });
    expect(call?.lastUserMessage).toContain("Topic: tide pools");
    expect(call?.lastUserMessage).toContain("Keywords to use: anemone, low tide");
    expect(call?.lastUserMessage).toContain("about 300 words");
    expect(call?.options).toMatchObject({ num_predict: expect.any(Number) });
  });

  it("fails retryably when the model's JSON lacks a field", async () => {
    // Prepare
    server.respondWith(() => ({ title: "Only a title" }));

    // Act
    const error = await failureOf(registry.run("generate_content", { topic: "x" }, context()));

    // Assess
    expect(error).toBeInstanceOf(TaskExecutionError);
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).message).toMatch(/expected fields: content/);
  });
});

describe("summarize", () => {
  it("returns the trimmed summary and asks for the word limit", async () => {
    // Prepare
    server.respondWith(() => "\n  Cats sleep a lot.  \n");

    // Act
    const result = await registry.run(
      "summarize",
      { text: "Cats sleep up to sixteen hours a day.", maxWords: 20 },
      context(),
    );

    // Assess
    expect(result).toEqual({ summary: "Cats sleep a lot.", chunks: 1, ...envelope });
    expect(server.calls()[0]?.options).toMatchObject({ num_ctx: 8192 });
    expect(server.calls()[0]?.lastUserMessage).toContain("in at most 20 words");
    expect(server.calls()[0]?.lastUserMessage).toContain("Cats sleep up to sixteen hours a day.");
  });

  it("fails retryably on an empty answer", async () => {
    // Prepare
    server.respondWith(() => "   ");

    // Act
    const error = await failureOf(registry.run("summarize", { text: "Some text." }, context()));

    // Assess
    expect(error).toMatchObject({ retryable: true, message: "model returned an empty summary" });
  });
});

describe("summarize, a text longer than the context (map-reduce)", () => {
  /** ~60 KB of prose: 20,000 budgeted tokens, many chunks at a 2,048-token context. */
  const longText = Array.from(
    { length: 400 },
    (_, i) => `Section ${i} reports that revenue grew and costs fell in region ${i % 7}.`,
  ).join("\n\n");

  /** A checkpoint kept in memory, as the executor keeps one in the payload store. */
  function memoryCheckpoint() {
    let state: unknown;
    return {
      saves: 0,
      load: async () => (state === undefined ? undefined : structuredClone(state)),
      async save(value: unknown) {
        this.saves += 1;
        state = structuredClone(value);
      },
    };
  }

  it("summarizes each chunk and combines them: every call within num_ctx, usage summed", async () => {
    // Prepare
    server.respondWith((call) =>
      (call.lastUserMessage ?? "").startsWith("These are summaries")
        ? "The whole report: revenue up, costs down."
        : `Part summary ${call.lastUserMessage.length}.`,
    );
    const progress: { step: string; done: number; total: number }[] = [];
    const streamed: string[] = [];

    // Act
    const result = (await registry.run(
      "summarize",
      { text: longText, maxWords: 50 },
      {
        ...context(),
        contextTokens: 2_048,
        onProgress: (p) => progress.push(p),
        onOutput: (delta) => streamed.push(delta),
      },
    )) as Record<string, unknown> & { usage: { promptTokens: number; completionTokens: number } };

    // Assess
    const calls = server.calls();
    const chunks = result.chunks as number;
    expect(chunks).toBeGreaterThan(5);
    expect(calls).toHaveLength(chunks + 1);
    expect(result.summary).toBe("The whole report: revenue up, costs down.");
    for (const call of calls) {
      expect(call.options).toMatchObject({ num_ctx: 2_048 });
      // The text a call carries, budgeted at 3 characters a token, fits the context.
      expect(
        Math.ceil(((call.lastUserMessage ?? "").length + (call.system?.length ?? 0)) / 3),
      ).toBeLessThan(2_048);
    }
    // Each chunk's text appears in exactly one map call, in order.
    const mapped = calls.slice(0, chunks).map((c) => c.lastUserMessage);
    expect(mapped.every((m, i) => m?.startsWith(`This is part ${i + 1} of ${chunks}`))).toBe(true);
    const texts = mapped.map((m) => /<<<TEXT\n([\s\S]*)\nTEXT>>>$/.exec(m ?? "")?.[1]);
    expect(texts.join("")).toBe(longText);
    expect(result.usage).toEqual({
      promptTokens: calls.reduce((sum, c) => sum + (c.promptTokens ?? 0), 0),
      completionTokens: calls.reduce((sum, c) => sum + (c.completionTokens ?? 0), 0),
    });
    expect(progress.at(0)).toEqual({ step: "map", done: 0, total: chunks });
    expect(progress.filter((p) => p.step === "map").map((p) => p.done)).toEqual(
      Array.from({ length: chunks + 1 }, (_, i) => i),
    );
    expect(progress.at(-1)).toEqual({ step: "reduce", done: 1, total: 1 });
    // Only the final summary streams.
    expect(streamed.join("")).toBe("The whole report: revenue up, costs down.");
  });

  it("keeps finished chunks across attempts: a retry after a failed chunk makes only the rest", async () => {
    // Prepare: the 4th call fails with a 500 (retryable), every other answers
    let served = 0;
    server.respondWith(() => {
      served += 1;
      if (served === 4) throw new Error("model runner crashed (test)");
      return "A part.";
    });
    const checkpoint = memoryCheckpoint();
    const run = () =>
      registry.run(
        "summarize",
        { text: longText },
        { ...context(), contextTokens: 2_048, checkpoint },
      );

    // Act
    const failure = await failureOf(run());
    const firstAttemptCalls = server.calls().length;
    const second = (await run()) as Record<string, unknown>;
    const secondAttemptCalls = server.calls().length - firstAttemptCalls;

    // Assess
    expect(failure).toMatchObject({ retryable: true });
    expect(firstAttemptCalls).toBe(4);
    const chunks = second.chunks as number;
    // Attempt 1 finished 3 chunks; attempt 2 maps the other chunks - 3, then reduces.
    expect(secondAttemptCalls).toBe(chunks - 3 + 1);
    expect(checkpoint.saves).toBe(chunks);
  });

  it("ignores a checkpoint made for another text", async () => {
    // Prepare
    server.respondWith(() => "A part.");
    const checkpoint = memoryCheckpoint();
    await checkpoint.save({
      fingerprint: "another text",
      partials: ["x", "y"],
      usage: { promptTokens: 1, completionTokens: 1 },
    });
    // Act
    const result = (await registry.run(
      "summarize",
      { text: longText },
      { ...context(), contextTokens: 2_048, checkpoint },
    )) as Record<string, unknown>;
    // Assess
    expect(server.calls()).toHaveLength((result.chunks as number) + 1);
  });
});

describe("prompt", () => {
  it("sends the model's context window as num_ctx, and refuses a prompt that cannot fit it without calling", async () => {
    // Prepare
    server.respondWith(() => "ok");
    // Act
    await registry.run(
      "prompt",
      { prompt: "x".repeat(30_000) },
      { ...context(), contextTokens: 8_192 },
    );
    const sent = server.calls()[0]?.options;
    const tooLong = await failureOf(
      registry.run(
        "prompt",
        { prompt: "x".repeat(40_000) },
        { ...context(), contextTokens: 8_192 },
      ),
    );
    // Assess
    expect(sent).toMatchObject({ num_ctx: 8_192 });
    expect(tooLong).toMatchObject({ retryable: false });
    expect((tooLong as Error).message).toMatch(
      /about 10000 tokens or more, over the 8192-token context of llama3.2/,
    );
    expect(server.calls()).toHaveLength(1);
  });

  it("returns the text answer, sending system prompt and options", async () => {
    // Prepare
    server.respondWith((call) => `You said: ${call.lastUserMessage}`);

    // Act
    const result = await registry.run(
      "prompt",
      { prompt: "ping", system: "Be brief.", options: { temperature: 0.2 } },
      context(),
    );

    // Assess
    expect(result).toEqual({ response: "You said: ping", ...envelope });
    expect(server.calls()[0]).toMatchObject({ system: "Be brief.", options: { temperature: 0.2 } });
  });

  it.each([
    { format: "json" as const },
    { format: { type: "object", properties: { colors: { type: "array" } } } },
  ])("parses the answer when a format is given ($format)", async ({ format }) => {
    // Prepare
    server.respondWith(() => '{"colors": ["red", "green"]}');

    // Act
    const result = await registry.run("prompt", { prompt: "List colors", format }, context());

    // Assess
    expect(result.response).toEqual({ colors: ["red", "green"] });
    expect(server.calls()[0]?.format).toEqual(format);
  });

  it("fails retryably when a formatted answer does not parse", async () => {
    // Prepare
    server.respondWith(() => "Sure! Here are some colors: red, green");

    // Act
    const error = await failureOf(
      registry.run("prompt", { prompt: "List colors", format: "json" }, context()),
    );

    // Assess
    expect(error).toBeInstanceOf(TaskExecutionError);
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).message).toMatch(/^model output is not valid JSON: "Sure! Here are/);
  });

  it("passes LLM failures through: an unknown model is final", async () => {
    // Prepare
    server.setModels(["other"]);

    // Act
    const error = await failureOf(registry.run("prompt", { prompt: "hi" }, context()));

    // Assess
    expect(error).toMatchObject({
      retryable: false,
      message: 'model "llama3.2" is not available on the LLM server',
    });
  });
});

describe("registry.run", () => {
  it("fails for good, without calling the LLM, when stored input no longer fits", async () => {
    // Act
    const badInput = await failureOf(registry.run("summarize", { txt: "typo" }, context()));
    const unknownType = await failureOf(registry.run("translate", { text: "x" }, context()));

    // Assess
    expect(badInput).toBeInstanceOf(TaskExecutionError);
    expect(badInput).toMatchObject({ retryable: false });
    expect((badInput as Error).message).toContain("input.text: text is required");
    expect(unknownType).toMatchObject({ retryable: false });
    expect((unknownType as Error).message).toContain('unknown task type "translate"');
    expect(server.stats.totalCalls).toBe(0);
  });
});
