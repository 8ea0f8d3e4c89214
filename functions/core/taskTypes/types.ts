import type { z } from "zod";
import type { LlmClient, LlmUsage } from "../llm/types";
import type { TaskProgress } from "../tasks/model";

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
  /**
   * The model's context window in tokens (OLLAMA_CONTEXT_LENGTH(S)): every call sends it as
   * `num_ctx`, and what does not fit is split (summarize) or refused (prompt).
   */
  contextTokens: number;
  /** Receives the answer's text as it streams; a type passes it as its chat's `onDelta`. */
  onOutput?: (delta: string) => void;
  /**
   * Reports how far a long task is (each chunk of a long summarize): published as a
   * progress event at once, and stored in the task's `progress` with the next heartbeat.
   */
  onProgress?: (progress: TaskProgress) => void;
  /** Finished partial work, kept across attempts (see Checkpoint). */
  checkpoint?: Checkpoint;
}

/**
 * Partial work of one task that survives a failed attempt, so a retry does not redo it
 * (the map step of a long summarize). Kept outside the row (the payload store,
 * `checkpoints/<task id>.json`), because partial results can pass the row's budget; deleted
 * with the task. A type must check what it loads (it may be from an older attempt with
 * other parameters, or unreadable): `load` gives undefined when there is none.
 */
export interface Checkpoint {
  load(): Promise<unknown | undefined>;
  save(state: unknown): Promise<void>;
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
