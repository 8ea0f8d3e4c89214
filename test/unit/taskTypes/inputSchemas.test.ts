import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { toFieldIssues } from "../../../functions/core/fieldIssues";
import {
  GenerateContentInputSchema,
  MAX_WORD_COUNT,
} from "../../../functions/core/taskTypes/generateContent";
import { PromptInputSchema } from "../../../functions/core/taskTypes/prompt";
import {
  MAX_SUMMARIZE_TEXT,
  SummarizeInputSchema,
} from "../../../functions/core/taskTypes/summarize";

/** The failing fields of `input` under `schema`, as the API's 400 would list them. */
function issuesOf(schema: z.ZodType, input: unknown) {
  const parsed = schema.safeParse(input);
  return parsed.success ? [] : toFieldIssues(parsed.error, "input");
}

describe("generate_content input", () => {
  it("accepts a topic alone and a full brief, trimming text", () => {
    // Act
    const minimal = GenerateContentInputSchema.parse({ topic: "  Tide pools " });
    const full = GenerateContentInputSchema.parse({
      topic: "Tide pools",
      keywords: ["anemone"],
      audience: "children",
      tone: "playful",
      wordCount: 800,
    });

    // Assess
    expect(minimal).toEqual({ topic: "Tide pools" });
    expect(full.wordCount).toBe(800);
  });

  it.each(
    [
      [{}, "input.topic", "topic is required"],
      [{ topic: "   " }, "input.topic", "topic must not be empty"],
      [{ topic: 42 }, "input.topic", "topic must be text"],
      [{ topic: "x".repeat(501) }, "input.topic", "topic must be at most 500 characters"],
      [{ topic: "x", wordCount: 10 }, "input.wordCount", "wordCount must be at least 50"],
      [
        { topic: "x", wordCount: MAX_WORD_COUNT + 1 },
        "input.wordCount",
        "wordCount must be at most 5000",
      ],
      [{ topic: "x", wordCount: 120.5 }, "input.wordCount", "wordCount must be a whole number"],
      [{ topic: "x", wordCount: "300" }, "input.wordCount", "wordCount must be a number"],
      [
        { topic: "x", keywords: "a,b" },
        "input.keywords",
        "keywords must be a list of words or phrases",
      ],
      [{ topic: "x", keywords: ["ok", ""] }, "input.keywords.1", "keyword must not be empty"],
      [
        { topic: "x", keywords: Array(21).fill("k") },
        "input.keywords",
        "keywords must list at most 20 entries",
      ],
      [{ topic: "x", tone: "t".repeat(101) }, "input.tone", "tone must be at most 100 characters"],
      [{ topic: "x", title: "no such field" }, "input.title", 'unknown field "title"'],
      ["just a topic", "input", "input must be an object"],
    ].map(([input, path, message]) => ({ input, path, message })),
  )("rejects at $path: $message", ({ input, path, message }) => {
    // Act
    const issues = issuesOf(GenerateContentInputSchema, input);

    // Assess
    expect(issues).toContainEqual({ path, message });
  });
});

describe("summarize input", () => {
  it("accepts text with or without maxWords", () => {
    expect(SummarizeInputSchema.parse({ text: "Long text." })).toEqual({ text: "Long text." });
    expect(SummarizeInputSchema.parse({ text: "Long text.", maxWords: 50 }).maxWords).toBe(50);
  });

  it.each(
    [
      [{}, "input.text", "text is required"],
      [
        { text: "x".repeat(MAX_SUMMARIZE_TEXT + 1) },
        "input.text",
        `text must be at most ${MAX_SUMMARIZE_TEXT} characters`,
      ],
      [{ text: "x", maxWords: 5 }, "input.maxWords", "maxWords must be at least 10"],
      [{ text: "x", maxWords: 2_001 }, "input.maxWords", "maxWords must be at most 2000"],
      [{ text: "x", max_words: 50 }, "input.max_words", 'unknown field "max_words"'],
    ].map(([input, path, message]) => ({ input, path, message })),
  )("rejects at $path: $message", ({ input, path, message }) => {
    expect(issuesOf(SummarizeInputSchema, input)).toContainEqual({ path, message });
  });
});

describe("prompt input", () => {
  it("accepts a prompt with system, a json or schema format, and sampling options", () => {
    // Act
    const parsed = PromptInputSchema.parse({
      prompt: "List three colors",
      system: "Answer in JSON.",
      format: { type: "object", properties: { colors: { type: "array" } } },
      options: { temperature: 0.2, seed: 1, num_predict: 200, stop: ["\n\n"] },
    });

    // Assess: text sent to the model is kept as written
    expect(parsed.options?.stop).toEqual(["\n\n"]);
    expect(PromptInputSchema.parse({ prompt: "  indented\n" }).prompt).toBe("  indented\n");
    expect(parsed.format).toEqual({ type: "object", properties: { colors: { type: "array" } } });
    expect(PromptInputSchema.parse({ prompt: "x", format: "json" }).format).toBe("json");
  });

  it.each(
    [
      [{}, "input.prompt", "prompt is required"],
      [{ prompt: " \n " }, "input.prompt", "prompt must not be empty"],
      [
        { prompt: "x", options: { stop: [""] } },
        "input.options.stop.0",
        "options.stop entries must not be empty",
      ],
      [
        { prompt: "x", format: "xml" },
        "input.format",
        'format must be "json" or a JSON schema object',
      ],
      [
        { prompt: "x", format: ["json"] },
        "input.format",
        'format must be "json" or a JSON schema object',
      ],
      [{ prompt: "x", format: {} }, "input.format", "format must not be an empty schema"],
      [{ prompt: "x", options: "hot" }, "input.options", "options must be an object"],
      [
        { prompt: "x", options: { temperature: 3 } },
        "input.options.temperature",
        "options.temperature must be at most 2",
      ],
      [
        { prompt: "x", options: { num_gpu: 99 } },
        "input.options.num_gpu",
        'unknown field "num_gpu"',
      ],
      [
        { prompt: "x", options: { num_ctx: 1_000_000 } },
        "input.options.num_ctx",
        "options.num_ctx must be at most 131072",
      ],
      [{ prompt: "x", system: "" }, "input.system", "system must not be empty"],
    ].map(([input, path, message]) => ({ input, path, message })),
  )("rejects at $path: $message", ({ input, path, message }) => {
    expect(issuesOf(PromptInputSchema, input)).toContainEqual({ path, message });
  });
});
