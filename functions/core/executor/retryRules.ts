import { type BackoffPolicy, backoffDelay } from "../backoff";
import type { Task, TaskOutcome } from "../tasks/model";
import type { AttemptEnd } from "./attempt";

/**
 * How a finished attempt is written: the retry rules of docs/design.md "Retries and cancel". Undefined for
 * an attempt whose lease was lost: another worker owns the task's fate now.
 */
export function decideOutcome(
  task: Task,
  end: AttemptEnd,
  nowMs: number,
  retryPolicy: BackoffPolicy,
  random: () => number,
): TaskOutcome | undefined {
  const attemptsLeft = task.attempts < task.maxAttempts;
  switch (end.kind) {
    case "completed":
      return { id: task.id, status: "completed", result: end.result };
    case "cancelled":
      return { id: task.id, status: "cancelled" };
    case "abandoned":
      return undefined;
    case "interrupted":
      // Not the task's fault: due again at once. Out of attempts it fails, as an expired
      // lease would (attempts bound the work a task can cause, whatever ended it).
      return attemptsLeft
        ? { id: task.id, status: "pending", error: end.error, runAt: new Date(nowMs) }
        : {
            id: task.id,
            status: "failed",
            error: `${end.error} (attempt ${task.attempts} of ${task.maxAttempts})`,
          };
    case "failed":
      if (end.retryable && attemptsLeft) {
        const delayMs = backoffDelay(retryPolicy, task.attempts, random);
        return {
          id: task.id,
          status: "pending",
          error: end.error,
          runAt: new Date(nowMs + delayMs),
        };
      }
      return {
        id: task.id,
        status: "failed",
        error: end.retryable ? `${end.error} (gave up after ${task.attempts} attempts)` : end.error,
      };
  }
}
