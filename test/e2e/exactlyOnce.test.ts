import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signLocalToken } from "../../functions/local/token";
import { FAST_RUNTIME_ENV, startRuntime, stopAllRuntimes } from "../../testkit/localRuntime";
import { type OllamaTestServer, startOllamaServer } from "../../testkit/ollamaServer";
import { waitFor } from "../../testkit/waitFor";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { E2E_MODELS, REMOTE } from "../support/e2eTarget";
import { ApiClient } from "../support/http";

/**
 * Two local runtimes on one database, as two executors overlap in AWS: 200 tasks created
 * through either API, each completed exactly once, with exactly one LLM call each.
 */

const TASKS = 200;
let database: TestDatabase & { drop(): Promise<void> };
let ollama: OllamaTestServer;

beforeAll(async () => {
  if (REMOTE) return;
  database = await createTestDatabase();
  // A little latency so both runtimes have calls in flight at once.
  ollama = await startOllamaServer({ models: E2E_MODELS, latency: 20 });
});
afterAll(async () => {
  if (REMOTE) return;
  await stopAllRuntimes();
  await ollama?.stop();
  await database?.drop();
});

describe.skipIf(REMOTE)("two runtimes sharing one database", () => {
  it(`complete ${TASKS} tasks exactly once`, { timeout: 300_000 }, async () => {
    // Prepare
    const env = {
      DATABASE_URL: database.url,
      OLLAMA_HOST: ollama.url,
      OLLAMA_MODELS: E2E_MODELS.join(","),
      MAX_CONCURRENCY: "4",
    };
    const [first, second] = await Promise.all([startRuntime(env), startRuntime(env)]);
    if (!first || !second) throw new Error("runtimes did not start");
    const apis = [new ApiClient(first.url), new ApiClient(second.url)];
    const token = await signLocalToken({
      sub: `many-${randomUUID()}`,
      secret: FAST_RUNTIME_ENV.LOCAL_JWT_SECRET as string,
    });

    // Act: half the tasks through each runtime's API, a few at a time.
    const ids: string[] = [];
    for (let i = 0; i < TASKS; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(10, TASKS - i) }, (_, j) =>
          (apis[(i + j) % 2] as ApiClient).createTask(token, {
            type: "summarize",
            input: { text: `task number ${i + j}` },
          }),
        ),
      );
      for (const answer of batch) {
        expect(answer.status).toBe(201);
        ids.push(answer.body.id);
      }
    }
    const finished = await waitFor(
      async () => {
        const tasks = await (apis[0] as ApiClient).listAll(token);
        return tasks.length === TASKS && tasks.every((task) => task.status === "completed")
          ? tasks
          : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 1_000, what: `${TASKS} tasks completed` },
    );

    // Assess
    expect(new Set(finished.map((task) => task.id))).toEqual(new Set(ids));
    // Claimed once each: no task ran twice.
    expect(finished.filter((task) => task.attempts !== 1)).toEqual([]);
    // And the LLM server saw one call per task, every one answered.
    expect(ollama.stats.totalCalls).toBe(TASKS);
    expect(ollama.stats.completed).toBe(TASKS);
    const prompts = ollama
      .calls()
      .map((call) => /task number (\d+)/.exec(call.lastUserMessage ?? "")?.[1]);
    expect(new Set(prompts).size).toBe(TASKS);
    // Both did a share of the work, and their claims add up to one per task: each
    // invocation logs its summary when it returns (a stop makes them all return).
    const exits = await Promise.all([first.interrupt(), second.interrupt()]);
    expect(exits).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
    const claimedBy = [first, second].map((runtime) => claimedIn(runtime.output()));
    expect(claimedBy[0]).toBeGreaterThan(0);
    expect(claimedBy[1]).toBeGreaterThan(0);
    expect((claimedBy[0] ?? 0) + (claimedBy[1] ?? 0)).toBe(TASKS);
  });
});

/** Sums `claimed` over the executor summaries a runtime logged ("executor finished" lines). */
function claimedIn(output: string): number {
  let claimed = 0;
  for (const line of output.split("\n")) {
    if (!line.includes('"executor finished"')) continue;
    claimed += (JSON.parse(line) as { summary: { claimed: number } }).summary.claimed;
  }
  return claimed;
}
