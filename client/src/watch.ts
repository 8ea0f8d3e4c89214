/**
 * Following one task until it ends. Without a real-time channel this polls `GET
 * /api/tasks/{id}`: at once, then every `minIntervalMs` while the task changes, backing off
 * by half again per unchanged answer up to `maxIntervalMs`, and waiting as long as an
 * answer's Retry-After asks (503, 429) before trying again.
 */
import { TaskPipelineError } from "./errors.js";
import type { Task, TaskStatus } from "./types.js";

/** What a watch yields: the task at each status change, and its output as it is written. */
export type WatchEvent =
  | { type: "status"; task: Task }
  | { type: "output"; taskId: string; seq: number; delta: string };

export interface WatchOptions {
  /** Ends the watch quietly (the loop just finishes). */
  signal?: AbortSignal;
  /** Polling's first and fastest interval (default 500 ms). */
  minIntervalMs?: number;
  /** Polling's slowest interval (default 5 s). */
  maxIntervalMs?: number;
}

/** Statuses a task never leaves by itself (a retry can still start it again). */
export const FINAL_STATUSES = [
  "completed",
  "failed",
  "cancelled",
] as const satisfies readonly TaskStatus[];

export function isFinal(status: TaskStatus): boolean {
  return (FINAL_STATUSES as readonly TaskStatus[]).includes(status);
}

/** Statuses worth retrying the poll after (the API or API Gateway asked to wait). */
const TRANSIENT = new Set([429, 500, 502, 503, 504]);

export async function* pollTask(
  getTask: (id: string, options: { signal?: AbortSignal }) => Promise<Task>,
  id: string,
  options: WatchOptions = {},
): AsyncGenerator<WatchEvent, void> {
  const { signal } = options;
  const minMs = options.minIntervalMs ?? 500;
  const maxMs = options.maxIntervalMs ?? 5_000;
  let interval = minMs;
  let last: string | undefined;
  while (!signal?.aborted) {
    let task: Task;
    try {
      task = await getTask(id, signal ? { signal } : {});
    } catch (error) {
      if (signal?.aborted) return;
      if (!(error instanceof TaskPipelineError) || !TRANSIENT.has(error.status)) throw error;
      interval = Math.min(interval * 2, maxMs);
      await sleep((error.retryAfterSeconds ?? 0) * 1000 || interval, signal);
      continue;
    }
    // A retry passes through pending again, so attempts tell two in_progress spells apart.
    const key = `${task.status}/${task.attempts}`;
    if (key !== last) {
      last = key;
      interval = minMs;
      yield { type: "status", task };
    } else {
      interval = Math.min(interval * 1.5, maxMs);
    }
    if (isFinal(task.status)) return;
    await sleep(interval, signal);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
