import { z } from "zod";
import { TaskExecutionError } from "../errors";
import type { LlmMessage } from "../llm/types";
import { decimal, fields, text, wholeNumber } from "./inputFields";
import { parseJsonAnswer, withEnvelope } from "./modelOutput";
import type { TaskType } from "./types";

/** Sends a prompt as it is; with a `format`, the answer is parsed JSON. */

/**
 * 1,000,000 characters is ~250,000 tokens, past the largest context an Ollama model takes
 * (128k-256k): a longer prompt could never be read whole. Stored outside the row when big
 * (the claim check); the whole input is also capped at MAX_INPUT_BYTES.
 */
export const MAX_PROMPT_TEXT = 1_000_000;

/**
 * The Ollama options a task may set: sampling and length. Hardware options (num_gpu,
 * num_thread, use_mmap...) belong to the server's operator, not to a task. num_ctx is
 * capped: the context costs server memory in every parallel slot, and a num_ctx that
 * differs from the loaded one makes Ollama reload the model.
 */
export const PromptOptionsSchema = fields("options", {
  temperature: decimal("options.temperature", 0, 2).optional(),
  top_p: decimal("options.top_p", 0, 1).optional(),
  top_k: wholeNumber("options.top_k", 1, 1_000).optional(),
  min_p: decimal("options.min_p", 0, 1).optional(),
  typical_p: decimal("options.typical_p", 0, 1).optional(),
  repeat_penalty: decimal("options.repeat_penalty", 0, 10).optional(),
  repeat_last_n: wholeNumber("options.repeat_last_n", -1, 32_768).optional(),
  presence_penalty: decimal("options.presence_penalty", -2, 2).optional(),
  frequency_penalty: decimal("options.frequency_penalty", -2, 2).optional(),
  seed: wholeNumber("options.seed", 0, 2 ** 31 - 1).optional(),
  num_predict: wholeNumber("options.num_predict", 1, 32_768).optional(),
  num_ctx: wholeNumber("options.num_ctx", 256, 131_072).optional(),
  stop: z
    .array(
      z
        .string({ error: "options.stop must be a list of strings" })
        .min(1, { error: "options.stop entries must not be empty" })
        .max(100, { error: "options.stop entries must be at most 100 characters" }),
      { error: "options.stop must be a list of strings" },
    )
    .max(8, { error: "options.stop must list at most 8 strings" })
    .optional(),
});

/** `"json"` or a JSON schema (an object such as `{"type": "object", "properties": {...}}`). */
export const PromptFormatSchema = z.union([z.literal("json"), z.record(z.string(), z.unknown())], {
  error: 'format must be "json" or a JSON schema object',
});

export const PromptInputSchema = fields("input", {
  prompt: text("prompt", MAX_PROMPT_TEXT, { trim: false }),
  system: text("system", 20_000, { trim: false }).optional(),
  format: PromptFormatSchema.refine(
    (format) => format === "json" || Object.keys(format).length > 0,
    {
      error: "format must not be an empty schema",
    },
  ).optional(),
  options: PromptOptionsSchema.optional(),
});
export type PromptInput = z.infer<typeof PromptInputSchema>;

export const PromptOutputSchema = z.object({
  /** Text, or the parsed JSON value when the input had a format. */
  response: z.unknown(),
});
export type PromptOutput = z.infer<typeof PromptOutputSchema>;

export const promptType: TaskType<PromptInput, PromptOutput> = {
  name: "prompt",
  description:
    "Sends a prompt (and optional system prompt) as is; with a format, returns parsed JSON.",
  input: PromptInputSchema,
  output: PromptOutputSchema,

  async run(input, { model, signal, llm, onOutput, contextTokens }) {
    const messages: LlmMessage[] = [];
    if (input.system) messages.push({ role: "system", content: input.system });
    messages.push({ role: "user", content: input.prompt });
    // The task's num_ctx, else the model's context window: Ollama would otherwise cut a
    // long prompt to its server default and answer a question it never fully read.
    const numCtx = input.options?.num_ctx ?? contextTokens;
    // ~4 characters a token on English text, fewer elsewhere: a prompt past this surely
    // does not fit, and a retry would not change that.
    const atLeastTokens = Math.ceil((input.prompt.length + (input.system?.length ?? 0)) / 4);
    if (atLeastTokens > numCtx) {
      throw new TaskExecutionError(
        `the prompt is about ${atLeastTokens} tokens or more, over the ${numCtx}-token context of ${model} (num_ctx); shorten it, use summarize for long texts, or a model with a larger context (OLLAMA_CONTEXT_LENGTHS)`,
        false,
      );
    }
    const reply = await llm.chat({
      model,
      messages,
      format: input.format,
      options: { ...input.options, num_ctx: numCtx },
      signal,
      onDelta: onOutput,
    });
    const response = input.format === undefined ? reply.content : parseJsonAnswer(reply);
    return withEnvelope({ response }, reply);
  },
};
