import { z } from "zod";
import type { LlmMessage } from "../llm/types";
import { fields, text, wholeNumber } from "./inputFields";
import { parseStructuredAnswer, withEnvelope } from "./modelOutput";
import type { TaskType } from "./types";
import { countWords } from "./wordCount";

/** Writes an article in Markdown about a topic. */

/** Articles run from a short post to a long read; longer ones outlast a sane LLM timeout. */
export const MIN_WORD_COUNT = 50;
export const MAX_WORD_COUNT = 5_000;
/** The length asked for when the task does not say. */
export const DEFAULT_WORD_COUNT = 500;

export const GenerateContentInputSchema = fields("input", {
  topic: text("topic", 500),
  keywords: z
    .array(text("keyword", 60), { error: "keywords must be a list of words or phrases" })
    .max(20, { error: "keywords must list at most 20 entries" })
    .optional(),
  audience: text("audience", 200).optional(),
  tone: text("tone", 100).optional(),
  wordCount: wholeNumber("wordCount", MIN_WORD_COUNT, MAX_WORD_COUNT).optional(),
});
export type GenerateContentInput = z.infer<typeof GenerateContentInputSchema>;

export const GenerateContentOutputSchema = z.object({
  title: z.string(),
  /** Markdown. */
  content: z.string(),
  /** Counted from `content`, not taken from the model. */
  wordCount: z.number().int(),
});
export type GenerateContentOutput = z.infer<typeof GenerateContentOutputSchema>;

/** What the model must answer; sent to Ollama as the structured-output format. */
const ArticleAnswerSchema = z.object({
  title: z.string().trim().min(1),
  content: z.string().trim().min(1),
});
const { $schema: _dialect, ...articleFormat } = z.toJSONSchema(ArticleAnswerSchema);

export const generateContentType: TaskType<GenerateContentInput, GenerateContentOutput> = {
  name: "generate_content",
  description: "Writes an article in Markdown about a topic, for an audience, in a tone.",
  input: GenerateContentInputSchema,
  output: GenerateContentOutputSchema,

  async run(input, { model, signal, llm, onOutput, contextTokens }) {
    const wordCount = input.wordCount ?? DEFAULT_WORD_COUNT;
    const reply = await llm.chat({
      model,
      messages: articleMessages(input, wordCount),
      format: articleFormat,
      options: {
        // The model's context window, as every type sends it: a num_ctx that differs from
        // the loaded model's makes Ollama reload it between tasks of different types.
        num_ctx: contextTokens,
        // A word is ~1.3 tokens in English; 3 per word plus room for the JSON and title
        // leaves a long article whole while stopping a model that never closes its JSON.
        num_predict: wordCount * 3 + 512,
      },
      signal,
      onDelta: onOutput,
    });
    const article = parseStructuredAnswer(reply, ArticleAnswerSchema);
    return withEnvelope(
      { title: article.title, content: article.content, wordCount: countWords(article.content) },
      reply,
    );
  },
};

function articleMessages(input: GenerateContentInput, wordCount: number): LlmMessage[] {
  const brief = [
    `Topic: ${input.topic}`,
    input.audience && `Audience: ${input.audience}`,
    input.tone && `Tone: ${input.tone}`,
    input.keywords?.length && `Keywords to use: ${input.keywords.join(", ")}`,
    `Length: about ${wordCount} words`,
  ].filter(Boolean);
  return [
    {
      role: "system",
      content:
        "You are a skilled writer. Write original, well-structured articles in Markdown " +
        "(headings, short paragraphs, lists where they help). Answer with a JSON object " +
        'holding "title" (plain text, no Markdown) and "content" (the article body in Markdown, ' +
        "without repeating the title).",
    },
    { role: "user", content: `Write an article.\n${brief.join("\n")}` },
  ];
}
