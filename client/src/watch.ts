/**
 * Following one task until it ends. With a real-time channel configured, the caller's
 * channel brings each status change and the streamed output as they happen (the task is
 * read once at the start, after subscribing, so nothing falls between the two, and again
 * at the end for its result); if the channel cannot be reached or drops, polling takes
 * over. Polling reads `GET /api/tasks/{id}`: at once, then every `minIntervalMs` while the
 * task changes, backing off by half again per unchanged answer up to `maxIntervalMs`, and
 * waiting as long as an answer's Retry-After asks (503, 429) before trying again.
 */
import { TaskPipelineError } from "./errors.js";
import { type ChannelEvent, type RealtimeOptions, subscribeToOwner } from "./realtime.js";
import type { Task, TaskProgress, TaskStatus } from "./types.js";

/** What a watch yields: the task at each status change, and its output as it is written. */
export type WatchEvent =
  | { type: "status"; task: Task }
  /** Streamed LLM output (real-time channel only): `seq` counts from 0 per `attempt`. */
  | { type: "output"; taskId: string; attempt: number; seq: number; delta: string }
  /** How far a long task is (real-time channel only), e.g. `{step: "map", done: 3, total: 12}`. */
  | { type: "progress"; taskId: string; attempt: number; progress: TaskProgress };

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

type GetTask = (id: string, options: { signal?: AbortSignal }) => Promise<Task>;

/** The key of a status worth reporting: a retry passes through pending again. */
const statusKey = (task: Pick<Task, "status" | "attempts">) => `${task.status}/${task.attempts}`;

/**
 * Whether `next` moves past `seen`: a later attempt, another step (steps only go forward
 * within an attempt), or more of the same step done.
 */
function isAhead(
  next: { attempt: number; progress: TaskProgress },
  seen: { attempt: number; progress: TaskProgress },
): boolean {
  if (next.attempt !== seen.attempt) return next.attempt > seen.attempt;
  if (next.progress.step !== seen.progress.step) return true;
  return next.progress.done > seen.progress.done;
}

export async function* watchOverChannel(
  getTask: GetTask,
  id: string,
  channel: { realtime: RealtimeOptions; token: string },
  options: WatchOptions = {},
): AsyncGenerator<WatchEvent, void> {
  const { signal } = options;
  const queue: ChannelEvent[] = [];
  let notify: (() => void) | undefined;
  let dropped = false;
  let subscription: { close(): void };
  try {
    subscription = await subscribeToOwner(
      channel.realtime,
      channel.token,
      (event) => {
        queue.push(event);
        notify?.();
      },
      () => {
        dropped = true;
        notify?.();
      },
    );
  } catch {
    yield* pollTask(getTask, id, options);
    return;
  }
  try {
    let task = await getTask(id, signal ? { signal } : {});
    yield { type: "status", task };
    // A watch that joins a long task under way starts from where it is (as of the
    // executor's last heartbeat); the channel's events then take it on from there.
    let progress: { attempt: number; progress: TaskProgress } | undefined;
    if (task.status === "in_progress" && task.progress) {
      progress = { attempt: task.attempts, progress: task.progress };
      yield { type: "progress", taskId: id, ...progress };
    }
    while (!isFinal(task.status) && !signal?.aborted) {
      const event = queue.shift();
      if (!event) {
        if (dropped) {
          // The channel is gone: polling finishes the watch (its first answer may repeat
          // the last status, which is skipped).
          for await (const polled of pollTask(getTask, id, options)) {
            if (polled.type === "status" && statusKey(polled.task) === statusKey(task)) continue;
            yield polled;
          }
          return;
        }
        await new Promise<void>((resolve) => {
          notify = resolve;
          signal?.addEventListener("abort", () => resolve(), { once: true });
        });
        notify = undefined;
        continue;
      }
      if (event.type === "output" && event.taskId === id) {
        yield {
          type: "output",
          taskId: id,
          attempt: event.attempt,
          seq: event.seq,
          delta: event.delta,
        };
      } else if (event.type === "progress" && event.taskId === id) {
        // Events published between the subscription and the first read repeat it.
        if (progress && !isAhead(event, progress)) continue;
        progress = { attempt: event.attempt, progress: event.progress };
        yield { type: "progress", taskId: id, ...progress };
      } else if (event.type === "status" && event.task.id === id) {
        // The API and the executor publish independently: an older change may come later.
        if (event.task.updatedAt < task.updatedAt || statusKey(event.task) === statusKey(task)) {
          continue;
        }
        task = isFinal(event.task.status)
          ? await getTask(id, signal ? { signal } : {})
          : ({ ...task, ...event.task } as Task);
        yield { type: "status", task };
      }
    }
  } finally {
    subscription.close();
  }
}
