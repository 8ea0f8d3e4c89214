import { z } from "zod";

/**
 * The task model: what a row of `tasks` is, once read through the SQL port.
 * Column names are snake_case in SQL and camelCase here and in JSON.
 */

export const TASK_STATUSES = [
  "pending",
  "in_progress",
  "completed",
  "failed",
  "cancelled",
] as const;
export const TaskStatusSchema = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatusSchema>;

export interface Task {
  id: string;
  owner: string;
  type: string;
  title: string | null;
  input: unknown;
  status: TaskStatus;
  priority: number;
  /** Not before: the claim skips the task until then (also the retry backoff's target). */
  runAt: Date;
  /** Claims so far: incremented by every claim, reset by retry. */
  attempts: number;
  maxAttempts: number;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  cancelRequested: boolean;
  model: string;
  result: unknown;
  error: string | null;
  idempotencyKey: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** Start of the latest attempt (set by every claim). */
  startedAt: Date | null;
  /** When the task reached a final status. */
  completedAt: Date | null;
}

/** What the store needs to create a task; defaults (model, priority...) already applied. */
export interface NewTask {
  owner: string;
  type: string;
  title: string | null;
  input: unknown;
  priority: number;
  /** null: due at once. */
  runAt: Date | null;
  maxAttempts: number;
  model: string;
  idempotencyKey: string | null;
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
  /** How many pending tasks to claim (0: none). */
  claimLimit: number;
}

export interface SyncResult {
  /**
   * Outcomes that were written (the fence held), as the rows now are, except `input` and
   * `result` come back null (the executor holds both; see `recovered`).
   */
  settled: Task[];
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
  /** `started_at - run_at` of attempts started in the window, in ms; null when none. */
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
   * Claims up to `limit` due pending tasks (fewer when their inputs would pass the store's
   * byte budget for one response) and recovers expired leases.
   */
  claim(
    workerId: string,
    limit: number,
    leaseSeconds: number,
  ): Promise<{ claimed: Task[]; recovered: Task[] }>;
  /** Extends the leases this worker still holds; returns them with their cancel flags. */
  heartbeat(workerId: string, ids: readonly string[], leaseSeconds: number): Promise<LeaseState[]>;
  /**
   * Writes outcomes fenced by this worker's lease; returns the rows that were written
   * (without input and result, as in SyncResult.settled).
   */
  settle(workerId: string, outcomes: readonly TaskOutcome[]): Promise<Task[]>;
  /** All of the above in one statement: the executor's single round trip per loop. */
  sync(request: SyncRequest): Promise<SyncResult>;
}
