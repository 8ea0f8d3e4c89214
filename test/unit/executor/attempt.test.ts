import { describe, expect, it } from "vitest";
import { runAttempt } from "../../../functions/core/executor/attempt";
import type { Task } from "../../../functions/core/tasks/model";

const task = (model: string) =>
  ({ id: "t1", type: "summarize", input: { text: "x" }, model, cancelRequested: false }) as Task;

const result = {
  summary: "s",
  model: "m",
  usage: { promptTokens: 1, completionTokens: 1 },
  durationMs: 1,
};

describe("runAttempt's allowlist check", () => {
  const context = (allowedModels: string[]) => ({
    registry: { run: async () => result },
    llm: {} as never,
    allowedModels,
    signal: new AbortController().signal,
    contextTokens: 8_192,
  });

  it("matches models as the API does: Ollama's implicit :latest tag and any case", async () => {
    // Act: the allowlist was rewritten to the explicit tag after the task was created
    const end = await runAttempt(task("llama3.2"), context(["llama3.2:latest"]));

    // Assess
    expect(end).toEqual({ kind: "completed", result });
  });

  it("fails a task whose model left the allowlist, for good", async () => {
    const end = await runAttempt(task("retired"), context(["llama3.2"]));
    expect(end).toMatchObject({
      kind: "failed",
      retryable: false,
      error: expect.stringContaining('model "retired" is not allowed'),
    });
  });
});
