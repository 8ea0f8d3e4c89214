/**
 * The task model: the statuses a task goes through, what the store is asked and answers,
 * and the TaskRepository port. What a row of `tasks` holds (`Task`, `NewTask`) is defined
 * once, column by column, in ./taskRow.ts and re-exported here. Column names are snake_case
 * in SQL and camelCase here and in JSON.
 */
import { z } from "zod";
import type { NewTask, SettledTask, Task } from "./taskRow";

export type { NewTask, SettledTask, Task } from "./taskRow";

export const TASK_STATUSES = [
  "pending",
  "in_progress",
  "completed",
  "failed",
  "cancelled",
] as const;
export const TaskStatusSchema = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatusSchema>;

/**
 * Pickup latency, defined once (migrations/0002_pickup.sql): from when the task became due
 * for its first attempt to when that attempt started, in ms; null for any other attempt
 * (a retry's wait is its backoff, not a pickup). /api/metrics computes the same from the
 * same two columns in SQL (./sql/taskStats.ts).
 */
export function pickupLatencyMs(task: Task): number | null {
  if (task.attempts !== 1 || task.firstDueAt === null || task.firstStartedAt === null) return null;
  return Math.max(0, task.firstStartedAt.getTime() - task.firstDueAt.getTime());
}

export interface ListTasksQuery {
  status?: TaskStatus;
  type?: string;
  /** 1..100 */
  limit: number;
  /** Opaque, from a previous page's `nextCursor`. */
  cursor?: string;
}

export interface TaskPage {
  items: Task[];
  /** null on the last page. */
  nextCursor: string | null;
}

/**
 * How an executor finished its attempt at a claimed task. Written only while the
 * executor still holds the lease (fenced by lease_owner and status = in_progress).
 */
export type TaskOutcome =
  | { id: string; status: "completed"; result: unknown }
  /** Retryable failure: back to pending, due again at `runAt` (the backoff). */
  | { id: string; status: "pending"; error: string; runAt: Date }
  | { id: string; status: "failed"; error: string }
  | { id: string; status: "cancelled"; error?: string };

/**
 * How far a running task is, as its task type reports it (a summarize of a long text:
 * `{"step": "map", "done": 3, "total": 12}`, then `reduce`). Bounded: it is stored in the
 * row (PROGRESS_MAX_BYTES) and sent with every status event.
 */
export const TaskProgressSchema = z.strictObject({
  step: z
    .string()
    .regex(/^[a-z][a-z_]{0,19}$/)
    .describe("The step under way, e.g. `map` (chunks of a long text) or `reduce`."),
  done: z.int().min(0).max(1_000_000).describe("Units of the step finished."),
  total: z.int().min(1).max(1_000_000).describe("Units of the step in all."),
});
export type TaskProgress = z.infer<typeof TaskProgressSchema>;

export interface LeaseState {
  id: string;
  cancelRequested: boolean;
}

/** One round trip of an executor: settle finished work, keep leases, claim more. */
export interface SyncRequest {
  workerId: string;
  leaseSeconds: number;
  /** Outcomes to write; their leases end. */
  outcomes: readonly TaskOutcome[];
  /** Tasks still running: their leases are extended and their cancel flags read. */
  heartbeatIds: readonly string[];
  /** The latest progress of heartbeated tasks, by id (written with their lease). */
  progress?: Readonly<Record<string, TaskProgress>>;
  /** How many pending tasks to claim (0: none). */
  claimLimit: number;
  /** At most this many of one owner's tasks in progress at once (MAX_RUNNING_PER_OWNER); absent: no limit. */
  maxRunningPerOwner?: number;
}

export interface SyncResult {
  /**
   * Outcomes that were written (the fence held): each task's id and the columns that can
   * have changed since its claim, as the row now is (SettledTask). The executor holds the
   * rest, as it claimed them.
   */
  settled: SettledTask[];
  /** Leases that were extended; a heartbeat id missing here was lost (reclaimed or cancelled). */
  leases: LeaseState[];
  /** Newly claimed tasks, now in_progress under this worker's lease. */
  claimed: Task[];
  /**
   * Tasks whose lease expired (their worker died) that this call recovered: back to
   * pending when attempts remain, else failed with a reason (as the rows now are, except
   * `input` and `result` come back null: one call may recover 100 tasks, and the Data API
   * refuses a response over 1 MiB).
   */
  recovered: Task[];
}

/** A task retention deleted, with the payload store keys its row referred to. */
export interface ExpiredTask {
  id: string;
  payloadKeys: string[];
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  count: number;
}

/** The whole queue's backlog: what the executor reports as QueueDepth and OldestPendingAge. */
export interface QueueState {
  /** Pending tasks that are due now. */
  queueDepth: number;
  /** Age of the oldest due pending task, measured from when it became due; null when none. */
  oldestPendingAgeSeconds: number | null;
}

export interface TaskStats {
  /** Every status, zero when there are none. */
  counts: Record<TaskStatus, number>;
  /** Pending tasks that are due now. */
  queueDepth: number;
  /** Age of the oldest due pending task, measured from when it became due; null when none. */
  oldestPendingAgeSeconds: number | null;
  windowSeconds: number;
  /** Pickup latency (see pickupLatencyMs) of first attempts started in the window, in ms; null when none. */
  pickupLatencyMs: Percentiles | null;
  /** `completed_at - started_at` of tasks completed in the window, in ms; null when none. */
  runDurationMs: Percentiles | null;
}

/**
 * The persistence port for tasks. The one implementation (`TaskStore` over a `SqlPort`)
 * works through both SQL adapters. Owner-scoped calls treat another owner's task, and a
 * malformed id, as not found.
 */
export interface TaskRepository {
  /** Same idempotency key and same request → the existing task with `created: false`;
   *  same key, different request → IdempotencyConflictError. */
  create(task: NewTask): Promise<{ task: Task; created: boolean }>;
  /**
   * 1 to 100 tasks of one owner, all or none; `idempotencyKey` covers the whole batch (a
   * replay answers the same tasks with `created: false`). TooManyTasksError when the
   * owner's cap would be passed; ValidationError with `tasks.<i>.<field>` paths.
   */
  createBatch(
    tasks: readonly NewTask[],
    idempotencyKey: string | null,
  ): Promise<{ tasks: Task[]; created: boolean }>;
  /** TaskNotFoundError when absent or not the owner's. */
  get(owner: string, id: string): Promise<Task>;
  /** Newest first. ValidationError for a malformed or foreign cursor, a bad limit or status. */
  list(owner: string, query: ListTasksQuery): Promise<TaskPage>;
  /** pending → cancelled; in_progress → cancelRequested; final → TaskStateConflictError. */
  cancel(owner: string, id: string): Promise<Task>;
  /** failed | cancelled → pending with attempts reset; otherwise TaskStateConflictError. */
  retry(owner: string, id: string): Promise<Task>;
  /** One owner's statistics, or the whole queue's when owner is undefined. */
  stats(owner: string | undefined, windowSeconds: number): Promise<TaskStats>;
  /** The whole queue's backlog, read through the claim index only (cheap at any table size). */
  queueState(): Promise<QueueState>;
  /**
   * When the executor may next have work: the earliest pending due time or running lease
   * expiry; null when there is none (see sql/nextDueAt.ts).
   */
  nextDueAt(): Promise<Date | null>;
  /** Which of these running tasks have a cancel requested (the executor's 1 s check). */
  cancelRequests(ids: readonly string[]): Promise<string[]>;

  /**
   * The executor's single round trip per loop, in one statement: writes outcomes fenced by
   * its lease, extends its leases, recovers expired leases and claims due tasks.
   */
  sync(request: SyncRequest): Promise<SyncResult>;

  /**
   * Retention: deletes up to `batch` tasks that finished (completed, failed, cancelled) more
   * than `retentionSeconds` ago, oldest first; never a pending or running one. Returns the
   * deleted tasks with the payload keys their rows referred to (what is stored for a task
   * outside its row goes with it).
   */
  deleteExpired(request: { retentionSeconds: number; batch: number }): Promise<ExpiredTask[]>;
}
