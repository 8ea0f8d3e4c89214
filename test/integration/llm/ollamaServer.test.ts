import { Ollama } from "ollama";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type OllamaTestServer, startOllamaServer } from "../../../testkit/ollamaServer";

/** The test server itself, through the real `ollama` client: it must behave like Ollama. */

let server: OllamaTestServer;
let ollama: Ollama;

beforeAll(async () => {
  server = await startOllamaServer();
  ollama = new Ollama({ host: server.url });
});
afterEach(() => server.reset());
afterAll(() => server.stop());

describe("Ollama-compatible test server", () => {
  it("answers /api/generate streamed and not, with Ollama's final fields", async () => {
    // Prepare
    server.respondWith((call) => `echo ${call.lastUserMessage}`);

    // Act
    const whole = await ollama.generate({ model: "llama3.2", prompt: "one two", stream: false });
    const parts: string[] = [];
    let last: Awaited<ReturnType<typeof ollama.generate>> | undefined;
    for await (const part of await ollama.generate({
      model: "llama3.2",
      prompt: "three",
      stream: true,
    })) {
      parts.push(part.response ?? "");
      last = part;
    }

    // Assess
    expect(whole).toMatchObject({ response: "echo one two", done: true, done_reason: "stop" });
    expect(whole.prompt_eval_count).toBeGreaterThan(0);
    expect(whole.eval_count).toBeGreaterThan(0);
    expect(whole.total_duration).toBeGreaterThan(0);
    expect(parts.join("")).toBe("echo three");
    expect(parts.length).toBeGreaterThan(2);
    expect(last).toMatchObject({ done: true, eval_count: expect.any(Number) });
  });

  it("streams by default when the request does not say, as Ollama does", async () => {
    // Act
    const response = await fetch(`${server.url}/api/chat`, {
      method: "POST",
      body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] }),
    });
    const lines = (await response.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));

    // Assess
    expect(response.headers.get("content-type")).toBe("application/x-ndjson");
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.at(-1)).toMatchObject({ done: true, prompt_eval_count: expect.any(Number) });
  });

  it("answers an unknown model with Ollama's 404", async () => {
    // Act
    const response = await fetch(`${server.url}/api/chat`, {
      method: "POST",
      body: JSON.stringify({ model: "mistral", messages: [], stream: false }),
    });

    // Assess
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: 'model "mistral" not found, try pulling it first',
    });
  });

  it("fails the given number of calls, then answers again", async () => {
    // Prepare
    server.fail({ status: 503, times: 2 });

    // Act
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${server.url}/api/chat`, {
        method: "POST",
        body: JSON.stringify({ model: "llama3.2", messages: [], stream: false }),
      });
      statuses.push(response.status);
      await response.body?.cancel();
    }

    // Assess
    expect(statuses).toEqual([503, 503, 200]);
    expect(server.stats).toMatchObject({ totalCalls: 3, failed: 2, completed: 1 });
  });

  it("queues calls beyond its capacity and counts them", async () => {
    // Prepare
    server.setCapacity(2);
    server.setLatency(1_000);

    // Act
    const answers = Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        ollama.chat({
          model: i % 2 ? "llama3.2" : "llama3.2:latest",
          messages: [{ role: "user", content: `task-${i}` }],
        }),
      ),
    );
    await server.waitFor(() => server.stats.queued === 4, 30_000);
    const whileBusy = server.stats;

    // Assess
    expect(whileBusy).toMatchObject({ active: 2, inFlight: 6 });
    expect(await answers).toHaveLength(6);
    const stats = server.stats;
    expect(stats.totalCalls).toBe(6);
    expect(stats.maxActive).toBe(2);
    expect(stats.maxConcurrent).toBe(6);
    expect(stats).toMatchObject({ inFlight: 0, queued: 0, active: 0, completed: 6 });
    expect(stats.callsByModel).toEqual({ "llama3.2": 3, "llama3.2:latest": 3 });
    expect(
      server
        .calls()
        .map((c) => c.lastUserMessage)
        .sort(),
    ).toEqual(["task-0", "task-1", "task-2", "task-3", "task-4", "task-5"]);
  });

  it("counts a queued call whose client left as aborted, and frees its place", async () => {
    // Prepare
    server.setCapacity(1);
    server.setLatency(300);
    const first = ollama.chat({ model: "llama3.2", messages: [{ role: "user", content: "a" }] });
    await server.waitFor(() => server.stats.active === 1);
    const leaving = new AbortController();
    const queued = fetch(`${server.url}/api/chat`, {
      method: "POST",
      body: JSON.stringify({ model: "llama3.2", messages: [], stream: false }),
      signal: leaving.signal,
    }).catch((error: unknown) => error);
    await server.waitFor(() => server.stats.queued === 1);

    // Act
    leaving.abort();
    await queued;

    // Assess
    await server.waitFor(() => server.stats.aborted === 1);
    await expect(first).resolves.toMatchObject({ done: true });
    expect(server.stats).toMatchObject({ queued: 0, completed: 1, aborted: 1 });
  });

  it("lists its models and its version", async () => {
    // Prepare
    server.setModels(["llama3.2", "qwen2.5:0.5b"]);

    // Act
    const tags = await ollama.list();
    const version = await ollama.version();

    // Assess
    expect(tags.models.map((m) => m.name)).toEqual(["llama3.2:latest", "qwen2.5:0.5b"]);
    expect(version.version).toBe("0.0.0-test");
    expect(server.requests.map((r) => r.endpoint)).toEqual(["tags", "version"]);
    expect(server.stats.totalCalls).toBe(0);
  });
});
