import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ValidationError } from "../../../functions/core/errors";
import {
  builtInTaskTypes,
  createTaskTypeRegistry,
} from "../../../functions/core/taskTypes/registry";
import type { TaskType } from "../../../functions/core/taskTypes/types";

const noop: TaskType<{ n: number }, { n: number }> = {
  name: "noop",
  description: "Answers its input without an LLM (benchmarks).",
  input: z.strictObject({ n: z.number() }),
  output: z.object({ n: z.number() }),
  async run(input, { model }) {
    return { n: input.n, model, usage: { promptTokens: 0, completionTokens: 0 }, durationMs: 0 };
  },
};

function validationErrorOf(act: () => unknown): ValidationError {
  try {
    act();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error("expected a ValidationError");
}

describe("task type registry", () => {
  it("holds the built-in types by default", () => {
    // Act
    const registry = createTaskTypeRegistry();

    // Assess
    expect(registry.names()).toEqual(["generate_content", "prompt", "summarize"]);
    expect(registry.get("summarize")).toBe(builtInTaskTypes.find((t) => t.name === "summarize"));
    expect(registry.get("translate")).toBeUndefined();
  });

  it("registers an extra type, which then parses and runs", async () => {
    // Prepare
    const registry = createTaskTypeRegistry();

    // Act
    registry.register(noop);
    const result = await registry.run(
      "noop",
      { n: 3 },
      {
        model: "m",
        signal: new AbortController().signal,
        contextTokens: 8_192,
        llm: undefined as never,
      },
    );

    // Assess
    expect(registry.names()).toContain("noop");
    expect(registry.parseInput("noop", { n: 3 })).toEqual({ n: 3 });
    expect(result).toMatchObject({ n: 3, model: "m" });
  });

  it("refuses a second type under a taken name, and a malformed name", () => {
    // Prepare
    const registry = createTaskTypeRegistry([noop]);

    // Act / Assess
    expect(() => registry.register(noop)).toThrow('task type "noop" is already registered');
    expect(() => registry.register({ ...noop, name: "Bad Name" })).toThrow(/snake_case/);
    expect(registry.names()).toEqual(["noop"]);
  });

  it("names `type` and the known types for an unknown type", () => {
    // Prepare
    const registry = createTaskTypeRegistry();

    // Act
    const error = validationErrorOf(() => registry.parseInput("translate", {}));

    // Assess
    expect(error.message).toBe(
      'unknown task type "translate"; known types: generate_content, prompt, summarize',
    );
    expect(error.details).toEqual([{ path: "type", message: error.message }]);
  });

  it("lists each failing field of the input, prefixed input.", () => {
    // Prepare
    const registry = createTaskTypeRegistry();

    // Act
    const error = validationErrorOf(() =>
      registry.parseInput("generate_content", { topic: "", wordCount: 1, extra: true }),
    );

    // Assess
    expect(error.code).toBe("validation_failed");
    expect(error.details).toEqual([
      { path: "input.topic", message: "topic must not be empty" },
      { path: "input.wordCount", message: "wordCount must be at least 50" },
      { path: "input.extra", message: 'unknown field "extra"' },
    ]);
    expect(error.message).toBe(
      'invalid input for task type "generate_content": input.topic: topic must not be empty; ' +
        'input.wordCount: wordCount must be at least 50; input.extra: unknown field "extra"',
    );
  });

  it("returns the parsed (trimmed) input", () => {
    const registry = createTaskTypeRegistry();
    expect(registry.parseInput("generate_content", { topic: "  tides  " })).toEqual({
      topic: "tides",
    });
  });
});
