import { TaskCancelledError, TaskExecutionError } from "../errors";
import { allowedModel } from "../llm/models";
import type { Task } from "../tasks/model";
import type { TaskTypeRegistry } from "../taskTypes/registry";
import type { ResultEnvelope, TaskRunContext } from "../taskTypes/types";

/**
 * One attempt at one claimed task: check its model against the allowlist, run it through
 * the registry (which checks its type and input again), and say how it ended. Never throws: every way an attempt can end is an `AttemptEnd`, so
 * the loop cannot lose a task to an unexpected exception.
 */

/** Why the executor aborted a running attempt (the AbortController's reason). */
export type AbortCause =
  /** The API asked for it (cancel_requested seen on a heartbeat). */
  | "cancel"
  /** A heartbeat came back without the task: the lease is gone, another worker owns it now. */
  | "lease_lost"
  /** This invocation's time budget is ending (or it is shut down): give the task back. */
  | "deadline";

export type AttemptEnd =
  | { kind: "completed"; result: Record<string, unknown> & ResultEnvelope }
  | { kind: "failed"; error: string; retryable: boolean }
  | { kind: "cancelled" }
  /** Lease lost: there is nothing this worker may write. */
  | { kind: "abandoned" }
  /** Aborted at the deadline: due again at once, not after a backoff (not the task's fault). */
  | { kind: "interrupted"; error: string };

export interface AttemptContext {
  registry: Pick<TaskTypeRegistry, "run">;
  llm: TaskRunContext["llm"];
  /** OLLAMA_MODELS: checked again here, the allowlist may have shrunk since the task was made. */
  allowedModels: readonly string[];
  signal: AbortSignal;
  /** The answer's text as it streams (published as output events). */
  onOutput?: (delta: string) => void;
  /** The task's model's context window in tokens. */
  contextTokens: number;
  /** Progress reports (published, and stored with the next heartbeat). */
  onProgress?: TaskRunContext["onProgress"];
  /** This task's checkpoint, when the executor has somewhere to keep one. */
  checkpoint?: TaskRunContext["checkpoint"];
}

export async function runAttempt(task: Task, context: AttemptContext): Promise<AttemptEnd> {
  if (task.cancelRequested) return { kind: "cancelled" };

  if (allowedModel(task.model, context.allowedModels) === undefined) {
    return {
      kind: "failed",
      error: `model "${task.model}" is not allowed (OLLAMA_MODELS: ${context.allowedModels.join(", ")})`,
      retryable: false,
    };
  }

  try {
    // The registry parses the input again: an unknown type or input that no longer fits
    // its schema is a final TaskExecutionError.
    const result = await context.registry.run(task.type, task.input, {
      model: task.model,
      signal: context.signal,
      llm: context.llm,
      onOutput: context.onOutput,
      contextTokens: context.contextTokens,
      onProgress: context.onProgress,
      checkpoint: context.checkpoint,
    });
    // A result that arrived is kept unless the task was cancelled or is no longer ours.
    const aborted = abortedEnd(context.signal);
    if (aborted && aborted.kind !== "interrupted") return aborted;
    return { kind: "completed", result };
  } catch (error) {
    const aborted = abortedEnd(context.signal);
    if (aborted) return aborted;
    if (error instanceof TaskCancelledError) return { kind: "cancelled" };
    if (error instanceof TaskExecutionError) {
      return { kind: "failed", error: error.message, retryable: error.retryable };
    }
    // Not a failure the task type foresaw (a bug, or a transient it did not wrap): retry,
    // bounded by max_attempts, rather than lose a task to what may be a one-off.
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { kind: "failed", error: `unexpected error: ${message}`, retryable: true };
  }
}

/** When the executor aborted the attempt, its reason decides the end, whatever run() did. */
function abortedEnd(signal: AbortSignal): AttemptEnd | undefined {
  if (!signal.aborted) return undefined;
  const cause = signal.reason as AbortCause | undefined;
  if (cause === "cancel") return { kind: "cancelled" };
  if (cause === "lease_lost") return { kind: "abandoned" };
  return {
    kind: "interrupted",
    error:
      "interrupted: the executor stopped (time budget ended or shut down) before the task finished",
  };
}
