import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../functions/core/errors";
import { allowedModel, resolveModel } from "../../../functions/core/llm/models";

const settings = { OLLAMA_MODEL: "llama3.2", OLLAMA_MODELS: ["llama3.2", "qwen2.5:0.5b"] };

describe("resolveModel", () => {
  it("uses the default model when the task names none", () => {
    expect(resolveModel(undefined, settings)).toBe("llama3.2");
  });

  it("accepts an allowed model, with Ollama's implicit :latest tag and any case", () => {
    expect(resolveModel("qwen2.5:0.5b", settings)).toBe("qwen2.5:0.5b");
    expect(resolveModel("llama3.2:latest", settings)).toBe("llama3.2");
    expect(resolveModel("Llama3.2", settings)).toBe("llama3.2");
  });

  it("rejects another model, naming the field and the allowed ones", () => {
    // Act
    let error: unknown;
    try {
      resolveModel("qwen2.5:7b", settings);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe(
      'model "qwen2.5:7b" is not allowed; allowed models: llama3.2, qwen2.5:0.5b',
    );
    expect((error as ValidationError).details).toEqual([
      { path: "model", message: (error as ValidationError).message },
    ]);
  });
});

describe("allowedModel", () => {
  it("returns the allowlist's spelling, or undefined when not allowed", () => {
    expect(allowedModel("LLAMA3.2", ["llama3.2:latest"])).toBe("llama3.2:latest");
    expect(allowedModel("llama3.2:1b", ["llama3.2"])).toBeUndefined();
  });
});
