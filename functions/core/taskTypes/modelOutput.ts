import type { z } from "zod";
import { TaskExecutionError } from "../errors";
import { describeFieldIssues, toFieldIssues } from "../fieldIssues";
import type { LlmChatResult } from "../llm/types";
import type { ResultEnvelope } from "./types";

/**
 * What every type does with a model's answer: parse it (a model can answer badly, and
 * asking again usually helps, so a bad answer is a retryable failure) and wrap the
 * type's fields with the envelope every result carries.
 */

/** The answer as JSON; unparsable (or cut off by num_predict) → retryable TaskExecutionError. */
export function parseJsonAnswer(reply: LlmChatResult): unknown {
  try {
    return JSON.parse(reply.content);
  } catch (error) {
    const cutOff =
      reply.doneReason === "length" ? " (the answer was cut off at its token limit)" : "";
    throw new TaskExecutionError(
      `model output is not valid JSON${cutOff}: ${preview(reply.content)}`,
      true,
      error,
    );
  }
}

/** The answer as JSON of the given shape; anything else → retryable TaskExecutionError. */
export function parseStructuredAnswer<T>(reply: LlmChatResult, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(parseJsonAnswer(reply));
  if (parsed.success) return parsed.data;
  const problems = describeFieldIssues(toFieldIssues(parsed.error));
  throw new TaskExecutionError(`model output does not have the expected fields: ${problems}`, true);
}

/** The answer as plain text; an empty answer → retryable TaskExecutionError. */
export function textAnswer(reply: LlmChatResult, what: string): string {
  const content = reply.content.trim();
  if (content === "") throw new TaskExecutionError(`model returned an empty ${what}`, true);
  return content;
}

export function withEnvelope<T extends Record<string, unknown>>(
  fields: T,
  reply: LlmChatResult,
): T & ResultEnvelope {
  return { ...fields, model: reply.model, usage: reply.usage, durationMs: reply.durationMs };
}

function preview(content: string): string {
  const flat = content.replace(/\s+/g, " ").trim();
  if (flat === "") return "(empty answer)";
  return flat.length > 120 ? `${JSON.stringify(flat.slice(0, 120))}…` : JSON.stringify(flat);
}
