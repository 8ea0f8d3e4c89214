import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signLocalToken } from "../../functions/local/token";
import { E2E_MODELS, REMOTE } from "../support/e2eTarget";
import { ApiClient, isFinal } from "../support/http";
import {
  FAST_RUNTIME_ENV,
  startRuntime,
  stopAllRuntimes,
  stopLeftoverPostgres,
} from "../support/localRuntime";
import { type OllamaTestServer, startOllamaServer } from "../support/ollamaServer";

/**
 * `kill -9` in the middle of a task, then `npm start` again on the same data directory:
 * the restart stops the PostgreSQL the dead runtime left running, the task's lease
 * expires, and the task is run again and completed, once.
 */

let dataDir: string;
let ollama: OllamaTestServer;

beforeAll(async () => {
  if (REMOTE) return;
  // Made by the runtime itself, as on a fresh clone (and readable by the `postgres` user
  // PostgreSQL runs as when this is root, which a 0700 mkdtemp directory is not).
  dataDir = join(tmpdir(), `task-pipeline-e2e-crash-${randomUUID()}`);
  ollama = await startOllamaServer({ models: E2E_MODELS });
});
afterAll(async () => {
  if (REMOTE) return;
  await stopAllRuntimes();
  stopLeftoverPostgres(dataDir);
  await ollama?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe.skipIf(REMOTE)("a runtime killed mid-task", () => {
  it("completes the task once after a restart", { timeout: 300_000 }, async () => {
    // Prepare: a task whose LLM call is still running when the runtime dies.
    const env = { DATA_DIR: dataDir, OLLAMA_HOST: ollama.url, OLLAMA_MODELS: E2E_MODELS.join(",") };
    const token = await signLocalToken({
      sub: `crash-${randomUUID()}`,
      secret: FAST_RUNTIME_ENV.LOCAL_JWT_SECRET as string,
    });
    const tag = `crash-${randomUUID()}`;
    ollama.setLatency((call) => (call.lastUserMessage.includes(tag) ? 25_000 : 0));
    const first = await startRuntime(env);
    const created = await new ApiClient(first.url).createTask(token, {
      type: "prompt",
      input: { prompt: tag },
    });
    expect(created.status).toBe(201);
    const callsFor = () => ollama.calls().filter((call) => call.lastUserMessage?.includes(tag));
    await ollama.waitFor(() => callsFor().length === 1, 90_000);

    // Act
    const killed = await first.kill();
    ollama.setLatency(0);
    const second = await startRuntime(env);
    const api = new ApiClient(second.url);
    const final = await api.waitForTask(token, created.body.id, isFinal, 120_000);

    // Assess
    expect(killed.signal).toBe("SIGKILL");
    expect(final.status).toBe("completed");
    expect(final.attempts).toBe(2);
    expect(final.result).not.toBeNull();
    // The dead runtime's call went unanswered; the second one completed the task.
    await ollama.waitFor(() => callsFor().every((call) => call.outcome !== "pending"), 30_000);
    expect(
      callsFor()
        .map((call) => call.outcome)
        .sort(),
    ).toEqual(["aborted", "completed"]);
    expect(second.output()).toContain("stopping the PostgreSQL a previous run left behind");
    const stopped = await second.interrupt();
    expect(stopped.code).toBe(0);
  });
});
