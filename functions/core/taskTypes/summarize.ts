import { createHash } from "node:crypto";
import { z } from "zod";
import type { LlmChatResult, LlmMessage, LlmUsage } from "../llm/types";
import { MAX_INPUT_BYTES } from "../tasks/byteBudgets";
import { fields, text, wholeNumber } from "./inputFields";
import { textAnswer } from "./modelOutput";
import { CHARS_PER_TOKEN, estimateTokens, splitText } from "./textChunks";
import type { TaskRunContext, TaskType } from "./types";

/**
 * Summarizes a text of any length. One that fits the model's context window is one call.
 * A longer one is map-reduced: split into chunks that fit, each chunk summarized (map),
 * then the partial summaries combined into one (reduce; again in rounds while they do not
 * fit together). Every call sends `num_ctx`, so Ollama never silently drops the start of
 * a text. The map step reports progress per chunk and keeps the chunks' summaries in the
 * task's checkpoint: a failed call retries the task's attempt, which resumes after the last
 * finished chunk. Only the final call streams its text (partial summaries would be noise).
 */

/**
 * As long as a task's input may be (MAX_INPUT_BYTES, kept outside the row when big): a
 * report, a transcript or a contract. The whole input is capped in bytes too.
 */
export const MAX_SUMMARIZE_TEXT = MAX_INPUT_BYTES;

export const SummarizeInputSchema = fields("input", {
  text: text("text", MAX_SUMMARIZE_TEXT, { trim: false }),
  maxWords: wholeNumber("maxWords", 10, 2_000).optional(),
});
export type SummarizeInput = z.infer<typeof SummarizeInputSchema>;

export const SummarizeOutputSchema = z.object({
  summary: z.string(),
  chunks: z
    .int()
    .min(1)
    .describe("How many pieces the text was read in: 1 when it fit the model's context."),
});
export type SummarizeOutput = z.infer<typeof SummarizeOutputSchema>;

/** Tokens kept for the instructions around a text (the system and user prompts: ~80). */
const PROMPT_TOKENS = 200;
/** What a partial summary may take (num_predict): ~300 words, enough to carry a chunk's points. */
const PARTIAL_SUMMARY_TOKENS = 400;
/** What the final summary may take without maxWords; with it, ~2 tokens a word. */
const FINAL_SUMMARY_TOKENS = 1_024;
/** Reduce rounds at most: each divides the text by (context / partial summary) at least. */
const MAX_REDUCE_ROUNDS = 6;

export const summarizeType: TaskType<SummarizeInput, SummarizeOutput> = {
  name: "summarize",
  description:
    "Summarizes a text of any length, optionally within a number of words; a text longer than the model's context is read in chunks (map-reduce).",
  input: SummarizeInputSchema,
  output: SummarizeOutputSchema,

  async run(input, context) {
    const startedAt = Date.now();
    const calls = new CallLog(context);
    const finalTokens = input.maxWords ? input.maxWords * 2 + 50 : FINAL_SUMMARY_TOKENS;
    const room = textRoom(context, finalTokens);

    if (estimateTokens(input.text) <= room) {
      const reply = await calls.chat(
        summaryMessages(input.text, input.maxWords),
        finalTokens,
        true,
      );
      return calls.result({ summary: textAnswer(reply, "summary"), chunks: 1 }, startedAt);
    }

    const mapRoom = textRoom(context, PARTIAL_SUMMARY_TOKENS);
    const chunks = splitText(input.text, mapRoom * CHARS_PER_TOKEN);
    const partials = await mapChunks(chunks, input, context, calls);
    const summary = await reduce(partials, input.maxWords, context, calls, finalTokens);
    return calls.result({ summary, chunks: chunks.length }, startedAt);
  },
};

/** Tokens of text a call may carry: the context, less the prompt and the answer's room. */
function textRoom(context: TaskRunContext, answerTokens: number): number {
  return Math.max(256, context.contextTokens - PROMPT_TOKENS - answerTokens);
}

const CheckpointSchema = z.object({
  fingerprint: z.string(),
  partials: z.array(z.string()),
  usage: z.object({ promptTokens: z.int(), completionTokens: z.int() }),
});

/** Summarizes each chunk, resuming after the chunks a checkpoint holds. */
async function mapChunks(
  chunks: readonly string[],
  input: SummarizeInput,
  context: TaskRunContext,
  calls: CallLog,
): Promise<string[]> {
  // The same text, model and split, or the checkpoint is someone else's work.
  const fingerprint = createHash("sha256")
    .update(JSON.stringify([context.model, chunks.length, chunks.map((c) => c.length)]))
    .update(input.text)
    .digest("hex");
  const saved = CheckpointSchema.safeParse(await context.checkpoint?.load());
  const partials =
    saved.success && saved.data.fingerprint === fingerprint ? [...saved.data.partials] : [];
  if (partials.length > 0 && saved.success) calls.carry(saved.data.usage);
  for (let index = partials.length; index < chunks.length; index++) {
    context.onProgress?.({ step: "map", done: index, total: chunks.length });
    const reply = await calls.chat(
      partMessages(chunks[index] as string, index, chunks.length),
      PARTIAL_SUMMARY_TOKENS,
      false,
    );
    partials.push(textAnswer(reply, "summary"));
    await context.checkpoint?.save({ fingerprint, partials, usage: calls.usage });
  }
  context.onProgress?.({ step: "map", done: chunks.length, total: chunks.length });
  return partials;
}

/** Combines partial summaries into one, in rounds while they do not fit one call. */
async function reduce(
  partials: readonly string[],
  maxWords: number | undefined,
  context: TaskRunContext,
  calls: CallLog,
  finalTokens: number,
): Promise<string> {
  let level = [...partials];
  for (let round = 1; round <= MAX_REDUCE_ROUNDS; round++) {
    const joined = level.map((p, i) => `Part ${i + 1}:\n${p}`).join("\n\n");
    if (estimateTokens(joined) <= textRoom(context, finalTokens)) {
      context.onProgress?.({ step: "reduce", done: 0, total: 1 });
      const reply = await calls.chat(combineMessages(joined, maxWords), finalTokens, true);
      context.onProgress?.({ step: "reduce", done: 1, total: 1 });
      return textAnswer(reply, "summary");
    }
    const groups = splitText(joined, textRoom(context, PARTIAL_SUMMARY_TOKENS) * CHARS_PER_TOKEN);
    const next: string[] = [];
    for (const [index, group] of groups.entries()) {
      context.onProgress?.({ step: "reduce", done: index, total: groups.length });
      const reply = await calls.chat(
        combineMessages(group, undefined),
        PARTIAL_SUMMARY_TOKENS,
        false,
      );
      next.push(textAnswer(reply, "summary"));
    }
    level = next;
  }
  // Unreachable with sane settings: each round shrinks the text by the context's ratio to
  // a partial summary (≥ 4× at the least context).
  throw new Error(`summarize: the partial summaries did not fit after ${MAX_REDUCE_ROUNDS} rounds`);
}

/** The calls of one run: each with num_ctx and num_predict, usage summed over all. */
class CallLog {
  readonly usage: LlmUsage = { promptTokens: 0, completionTokens: 0 };
  private lastModel: string;

  constructor(private readonly context: TaskRunContext) {
    this.lastModel = context.model;
  }

  /** Usage of calls made by an earlier attempt whose work is reused. */
  carry(usage: LlmUsage): void {
    this.usage.promptTokens += usage.promptTokens;
    this.usage.completionTokens += usage.completionTokens;
  }

  async chat(
    messages: LlmMessage[],
    answerTokens: number,
    stream: boolean,
  ): Promise<LlmChatResult> {
    const { context } = this;
    const reply = await context.llm.chat({
      model: context.model,
      messages,
      signal: context.signal,
      options: {
        num_ctx: context.contextTokens,
        num_predict: answerTokens,
      },
      ...(stream ? { onDelta: context.onOutput } : {}),
    });
    this.carry(reply.usage);
    this.lastModel = reply.model;
    return reply;
  }

  result(output: SummarizeOutput, startedAt: number) {
    return {
      ...output,
      model: this.lastModel,
      usage: { ...this.usage },
      durationMs: Date.now() - startedAt,
    };
  }
}

const SYSTEM =
  "You summarize texts faithfully: keep the main points, add nothing that is not in " +
  "the text. Answer with the summary only, no preamble.";

function summaryMessages(body: string, maxWords: number | undefined): LlmMessage[] {
  const limit = maxWords ? ` in at most ${maxWords} words` : "";
  return [
    { role: "system", content: SYSTEM },
    {
      role: "user",
      content: `Summarize the text between the markers${limit}.\n<<<TEXT\n${body}\nTEXT>>>`,
    },
  ];
}

function partMessages(chunk: string, index: number, total: number): LlmMessage[] {
  return [
    { role: "system", content: SYSTEM },
    {
      role: "user",
      content:
        `This is part ${index + 1} of ${total} of a longer text. Summarize this part, keeping ` +
        `every point a summary of the whole may need.\n<<<TEXT\n${chunk}\nTEXT>>>`,
    },
  ];
}

function combineMessages(parts: string, maxWords: number | undefined): LlmMessage[] {
  const limit = maxWords ? ` in at most ${maxWords} words` : "";
  return [
    { role: "system", content: SYSTEM },
    {
      role: "user",
      content:
        `These are summaries of consecutive parts of one text. Combine them into one summary ` +
        `of the whole text${limit}.\n<<<TEXT\n${parts}\nTEXT>>>`,
    },
  ];
}
