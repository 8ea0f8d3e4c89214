/**
 * The real-time port: what the API and the executor tell subscribers. Fire and forget:
 * the calls never throw and never wait; `flush` waits (bounded) for what was queued, and
 * is called before an invocation ends (a Lambda is frozen once it returns).
 */
import type { TaskProgress } from "../tasks/model";
import type { Task } from "../tasks/taskRow";

export type OutputTask = Pick<Task, "id" | "owner" | "attempts">;

export interface TaskEvents {
  /** The tasks' rows as they now are (one status event each). */
  statusChanged(tasks: readonly Task[]): void;
  /** The next piece of a running task's LLM output. */
  output(task: OutputTask, delta: string): void;
  /** How far a running task is (sent in order with its output). */
  progress(task: OutputTask, progress: TaskProgress): void;
  /** Sends everything queued; resolves (never rejects) within `timeoutMs`. */
  flush(timeoutMs?: number): Promise<void>;
}

/** When no real-time endpoint is configured. */
export const noTaskEvents: TaskEvents = {
  statusChanged() {},
  output() {},
  progress() {},
  async flush() {},
};
