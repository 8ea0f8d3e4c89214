import type { z } from "zod";
import type { LlmClient, LlmUsage } from "../llm/types";

/**
 * A task type: how a task's `input` is checked (at create time, so bad input is a 400, not
 * a failed task later) and how it becomes an LLM call and a result. Adding a type is one
 * file and one line in the registry.
 */

/** Every result carries these besides the type's own fields. */
export interface ResultEnvelope {
  model: string;
  /** Token counts from the LLM server (Ollama's prompt_eval_count and eval_count). */
  usage: LlmUsage;
  durationMs: number;
}

export interface TaskRunContext {
  /** The model to use: the task's own, already checked against the allowlist. */
  model: string;
  /** Aborted when the task is cancelled, its lease is lost, or the executor shuts down. */
  signal: AbortSignal;
  /** The LLM client (see functions/core/llm). */
  llm: LlmClient;
  /** Receives the answer's text as it streams; a type passes it as its chat's `onDelta`. */
  onOutput?: (delta: string) => void;
}

export interface TaskType<
  Input = unknown,
  Output extends Record<string, unknown> = Record<string, unknown>,
> {
  /** The `type` a task names, e.g. `summarize`. */
  readonly name: string;
  readonly description: string;
  /** Checks `input` at create time; the executor parses with it again before running. */
  readonly input: z.ZodType<Input>;
  /** The type's own result fields (without the envelope), for the OpenAPI document. */
  readonly output: z.ZodType<Output>;
  /** Does the work. Throws TaskExecutionError (retryable or not) when it cannot. */
  run(input: Input, context: TaskRunContext): Promise<Output & ResultEnvelope>;
}
