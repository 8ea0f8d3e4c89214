import { z } from "zod";
import type { LlmMessage } from "../llm/types";
import { MAX_INPUT_BYTES } from "../tasks/byteBudgets";
import { fields, text, wholeNumber } from "./inputFields";
import { textAnswer, withEnvelope } from "./modelOutput";
import type { TaskType } from "./types";

/** Summarizes a text. */

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

export const SummarizeOutputSchema = z.object({ summary: z.string() });
export type SummarizeOutput = z.infer<typeof SummarizeOutputSchema>;

export const summarizeType: TaskType<SummarizeInput, SummarizeOutput> = {
  name: "summarize",
  description: "Summarizes a text, optionally within a number of words.",
  input: SummarizeInputSchema,
  output: SummarizeOutputSchema,

  async run(input, { model, signal, llm, onOutput }) {
    const reply = await llm.chat({
      model,
      messages: summaryMessages(input),
      signal,
      onDelta: onOutput,
    });
    return withEnvelope({ summary: textAnswer(reply, "summary") }, reply);
  },
};

function summaryMessages(input: SummarizeInput): LlmMessage[] {
  const limit = input.maxWords ? ` in at most ${input.maxWords} words` : "";
  return [
    {
      role: "system",
      content:
        "You summarize texts faithfully: keep the main points, add nothing that is not in " +
        "the text. Answer with the summary only, no preamble.",
    },
    {
      role: "user",
      content: `Summarize the text between the markers${limit}.\n<<<TEXT\n${input.text}\nTEXT>>>`,
    },
  ];
}
