/**
 * TaskStore, the one TaskRepository: each operation checks its arguments (a ValidationError
 * naming the field before any SQL runs) and runs one or two named statements of ./sql
 * through any SqlPort (node-postgres or the RDS Data API). The executor's whole round trip
 * is `sync`, one statement (./sql/syncTasks.ts).
 */
import { MAX_RUNNING_PER_OWNER, RETENTION_SECONDS } from "../config/settings";
import {
  IdempotencyConflictError,
  TaskNotFoundError,
  TaskStateConflictError,
  TooManyTasksError,
  ValidationError,
} from "../errors";
import { describeFieldIssues, type FieldIssue, fieldError } from "../fieldIssues";
import type { SqlPort } from "../sql/port";
import {
  CLAIM_BYTES,
  INLINE_INPUT_BYTES,
  INLINE_RESULT_BYTES,
  LEASE_ROW_MAX_BYTES,
  PAGE_BYTES,
  PAGE_MAX_ROWS,
  RESPONSE_LIMIT,
  TEXT_MAX_CHARS,
} from "./byteBudgets";
import { decodeCursor, encodeCursor } from "./cursor";
import {
  type ExpiredTask,
  type ListTasksQuery,
  type NewTask,
  type QueueState,
  type SyncRequest,
  type SyncResult,
  TASK_STATUSES,
  type Task,
  type TaskPage,
  type TaskProgress,
  TaskProgressSchema,
  type TaskRepository,
  type TaskStats,
  type TaskStatus,
} from "./model";
import { requestHash } from "./requestHash";
import { cancelRequests } from "./sql/cancelRequests";
import { cancelTask } from "./sql/cancelTask";
import { deleteExpiredTasks } from "./sql/deleteExpiredTasks";
import { findByIdempotencyKeys } from "./sql/findByIdempotencyKeys";
import { getTask } from "./sql/getTask";
import { countUnfinished, insertTasks } from "./sql/insertTasks";
import { cursorExists, listTasks } from "./sql/listTasks";
import { nextDueAt } from "./sql/nextDueAt";
import { queueState } from "./sql/queueState";
import { retryTask } from "./sql/retryTask";
import { syncTasks } from "./sql/syncTasks";
import { taskStats } from "./sql/taskStats";
import { storableOutcomes } from "./storableOutcomes";
import { isUuid, requireInt, validateNewTask } from "./storeInputChecks";

/**
 * The byte budgets, all in bytes as PostgreSQL prints the values; the defaults and the
 * arithmetic that keeps rows and responses under the Data API's limits are in
 * ./byteBudgets.ts. Tests pass smaller ones; larger ones would break that arithmetic.
 */
export interface TaskStoreOptions {
  /** Largest task input (default INLINE_INPUT_BYTES); a bigger one is a 400 naming `input`. */
  maxInputBytes?: number;
  /** Largest task result (default INLINE_RESULT_BYTES); a bigger one fails the task with the reason. */
  maxResultBytes?: number;
  /** A list page stops early (with a nextCursor) once its inputs, results and errors reach this. */
  maxPageBytes?: number;
  /**
   * A claim stops early (the claim order's prefix, at least one task) once the claimed
   * inputs and errors reach this, or earlier when the sync's whole response would pass the
   * Data API's 1 MiB (./byteBudgets.ts).
   */
  maxClaimBytes?: number;
  /**
   * Unfinished (pending + in_progress) tasks one owner may have (MAX_PENDING_PER_OWNER); a
   * create beyond is TooManyTasksError. No cap when absent.
   */
  maxUnfinishedPerOwner?: number;
}

/** Most tasks in one batch create (POST /api/tasks/batch). */
export const MAX_BATCH = 100;

/** No cap on an owner's unfinished tasks: the statement's int4 parameter's largest value. */
const NO_CAP = 2_147_483_647;

/** Upper bound of one claim: a sanity limit (executors claim their free slots, a handful). */
const MAX_CLAIM = 1000;

/**
 * Upper bound of one retention delete: its returned ids (36 characters each) stay far under
 * the Data API's 1 MiB response cap, and its locks and WAL stay one short statement's worth.
 */
const MAX_DELETE_BATCH = 10_000;

/**
 * The task store: every task operation as one or two named SQL statements (see ./sql),
 * through any SqlPort (node-postgres or the RDS Data API). Bad input becomes a
 * ValidationError naming the field before any SQL runs.
 */
export class TaskStore implements TaskRepository {
  private readonly maxInputBytes: number;
  private readonly maxResultBytes: number;
  private readonly maxPageBytes: number;
  private readonly maxClaimBytes: number;
  private readonly maxUnfinishedPerOwner: number;

  constructor(
    private readonly sql: SqlPort,
    options: TaskStoreOptions = {},
  ) {
    this.maxInputBytes = options.maxInputBytes ?? INLINE_INPUT_BYTES;
    this.maxResultBytes = options.maxResultBytes ?? INLINE_RESULT_BYTES;
    this.maxPageBytes = options.maxPageBytes ?? PAGE_BYTES;
    this.maxClaimBytes = options.maxClaimBytes ?? CLAIM_BYTES;
    this.maxUnfinishedPerOwner = options.maxUnfinishedPerOwner ?? NO_CAP;
  }

  async create(newTask: NewTask): Promise<{ task: Task; created: boolean }> {
    validateNewTask(newTask, this.maxInputBytes);
    const { tasks, created } = await this.insertAll([newTask], newTask.idempotencyKey, false);
    return { task: tasks[0] as Task, created };
  }

  async createBatch(
    newTasks: readonly NewTask[],
    idempotencyKey: string | null,
  ): Promise<{ tasks: Task[]; created: boolean }> {
    if (newTasks.length < 1 || newTasks.length > MAX_BATCH) {
      throw fieldError("tasks", `tasks must hold 1 to ${MAX_BATCH} tasks`);
    }
    const owner = newTasks[0]?.owner;
    const items = newTasks.map((task, i) => ({
      ...task,
      // One key per item, derived from the batch's: a space never occurs in a key a caller
      // sends (IdempotencyKeySchema), so these cannot collide with a single create's keys.
      idempotencyKey: idempotencyKey === null ? null : `${idempotencyKey} ${i}`,
    }));
    const problems = items.flatMap((task, i) => {
      if (task.owner !== owner)
        return [{ path: `tasks.${i}.owner`, message: "one owner per batch" }];
      try {
        validateNewTask(task, this.maxInputBytes);
        return [];
      } catch (error) {
        if (!(error instanceof ValidationError) || !Array.isArray(error.details)) throw error;
        return (error.details as FieldIssue[]).map((issue) => ({
          path: `tasks.${i}.${issue.path}`,
          message: issue.message,
        }));
      }
    });
    if (problems.length > 0) {
      throw new ValidationError(`invalid batch: ${describeFieldIssues(problems)}`, problems);
    }
    return this.insertAll(items, idempotencyKey, true);
  }

  /**
   * One statement inserts them all, or none (./sql/insertTasks.ts). None back: their keys
   * were used (a replay with the same requests answers the same tasks; anything else is
   * IdempotencyConflictError), or the owner's cap refused them (TooManyTasksError).
   */
  private async insertAll(
    items: readonly NewTask[],
    idempotencyKey: string | null,
    batch: boolean,
  ): Promise<{ tasks: Task[]; created: boolean }> {
    const hashed = items.map((task) => ({
      task,
      requestHash: task.idempotencyKey === null ? null : requestHash(task),
    }));
    const inserted = await insertTasks(this.sql, hashed, this.maxUnfinishedPerOwner);
    if (inserted.length === items.length) return { tasks: inserted, created: true };
    if (inserted.length > 0) {
      throw new Error(`create: ${inserted.length} of ${items.length} tasks inserted`);
    }
    const owner = items[0]?.owner ?? "";
    if (idempotencyKey !== null) {
      const keys = hashed.map(({ task }) => task.idempotencyKey as string);
      // A batch replayed with fewer items than the first is another request: one key past
      // the end shows it.
      const probe = batch ? [...keys, `${idempotencyKey} ${items.length}`] : keys;
      const found = await findByIdempotencyKeys(this.sql, owner, probe);
      if (found.size > 0) {
        const replay = hashed.map(({ task, requestHash: hash }) => {
          const existing = found.get(task.idempotencyKey as string);
          return existing && existing.requestHash === hash ? existing.task : undefined;
        });
        if (replay.every((task) => task !== undefined) && found.size === items.length) {
          return { tasks: replay as Task[], created: false };
        }
        throw new IdempotencyConflictError(idempotencyKey);
      }
    }
    throw new TooManyTasksError(this.maxUnfinishedPerOwner, await countUnfinished(this.sql, owner));
  }

  async get(owner: string, id: string): Promise<Task> {
    requireOwner(owner);
    if (!isUuid(id)) throw new TaskNotFoundError(id);
    const task = await getTask(this.sql, owner, id.toLowerCase());
    if (!task) throw new TaskNotFoundError(id);
    return task;
  }

  async list(owner: string, query: ListTasksQuery): Promise<TaskPage> {
    requireOwner(owner);
    const limit = requireInt("limit", query.limit, 1, PAGE_MAX_ROWS);
    if (query.status !== undefined && !TASK_STATUSES.includes(query.status)) {
      throw fieldError("status", `status must be one of ${TASK_STATUSES.join(", ")}`);
    }
    if (query.type !== undefined && (typeof query.type !== "string" || query.type === "")) {
      throw fieldError("type", "type must be a non-empty string");
    }
    const cursorId = query.cursor === undefined ? null : decodeCursor(query.cursor);
    const page = await listTasks(this.sql, {
      owner,
      status: query.status ?? null,
      type: query.type ?? null,
      cursorId,
      pageSize: limit,
      maxBytes: this.maxPageBytes,
    });
    // Nothing after a cursor: the end, or a cursor that is not this owner's. Told apart
    // only here, so a normal page costs one statement.
    if (page.items.length === 0 && cursorId !== null) {
      if (!(await cursorExists(this.sql, owner, cursorId))) {
        throw fieldError(
          "cursor",
          "cursor does not belong to this listing: start again without it",
        );
      }
    }
    const last = page.items.at(-1);
    return { items: page.items, nextCursor: page.more && last ? encodeCursor(last.id) : null };
  }

  async cancel(owner: string, id: string): Promise<Task> {
    requireOwner(owner);
    return this.transition(owner, id, "cancel", ["pending", "in_progress"], cancelTask);
  }

  async retry(owner: string, id: string): Promise<Task> {
    requireOwner(owner);
    return this.transition(owner, id, "retry", ["failed", "cancelled"], retryTask);
  }

  async stats(owner: string | undefined, windowSeconds: number): Promise<TaskStats> {
    if (owner !== undefined) requireOwner(owner);
    requireInt("windowSeconds", windowSeconds, 1, 31 * 24 * 3600);
    return taskStats(this.sql, { owner: owner ?? null, windowSeconds });
  }

  async queueState(): Promise<QueueState> {
    return queueState(this.sql);
  }

  async nextDueAt(): Promise<Date | null> {
    return nextDueAt(this.sql);
  }

  async cancelRequests(ids: readonly string[]): Promise<string[]> {
    for (const [i, id] of ids.entries()) {
      if (!isUuid(id)) throw fieldError(`ids.${i}`, `ids.${i} must be a task id (a UUID)`);
    }
    return cancelRequests(this.sql, ids);
  }

  async sync(request: SyncRequest): Promise<SyncResult> {
    checkWorker(request.workerId);
    checkLease(request.leaseSeconds);
    const claimLimit = requireInt("claimLimit", request.claimLimit, 0, MAX_CLAIM);
    const maxRunningPerOwner =
      request.maxRunningPerOwner === undefined
        ? undefined
        : requireInt(
            "maxRunningPerOwner",
            request.maxRunningPerOwner,
            1,
            MAX_RUNNING_PER_OWNER.max,
          );
    const outcomes = storableOutcomes(request.outcomes, this.maxResultBytes);
    // An id is settled or heartbeated, never both: one statement must not write a row twice.
    const settling = new Set(outcomes.map((o) => o.id));
    const heartbeatIds = heldIds(request.heartbeatIds).filter((id) => !settling.has(id));
    return syncTasks(this.sql, {
      workerId: request.workerId,
      leaseSeconds: request.leaseSeconds,
      outcomes,
      heartbeatIds,
      progress: heartbeatProgress(request.progress, heartbeatIds),
      claimLimit,
      claimBytes: this.maxClaimBytes,
      // The statement measures its other rows itself; lease rows are small and fixed.
      responseBytes: RESPONSE_LIMIT - heartbeatIds.length * LEASE_ROW_MAX_BYTES,
      maxRunningPerOwner,
    });
  }

  async deleteExpired(request: {
    retentionSeconds: number;
    batch: number;
  }): Promise<ExpiredTask[]> {
    const retentionSeconds = requireInt(
      "retentionSeconds",
      request.retentionSeconds,
      RETENTION_SECONDS.min,
      RETENTION_SECONDS.max,
    );
    const batch = requireInt("batch", request.batch, 1, MAX_DELETE_BATCH);
    return deleteExpiredTasks(this.sql, { retentionSeconds, batch });
  }

  /**
   * Cancel and retry: one UPDATE that succeeds only from `from`; when it changes nothing,
   * a read tells "not found" from "wrong state". If the read finds the task in a state the
   * update accepts (it moved in between), the update is tried again.
   */
  private async transition(
    owner: string,
    id: string,
    operation: string,
    from: readonly TaskStatus[],
    update: (sql: SqlPort, owner: string, id: string) => Promise<Task | undefined>,
  ): Promise<Task> {
    if (!isUuid(id)) throw new TaskNotFoundError(id);
    const taskId = id.toLowerCase();
    for (let round = 0; round < 3; round++) {
      const updated = await update(this.sql, owner, taskId);
      if (updated) return updated;
      const current = await getTask(this.sql, owner, taskId);
      if (!current) throw new TaskNotFoundError(id);
      if (!from.includes(current.status)) {
        throw new TaskStateConflictError(id, current.status, operation);
      }
    }
    throw new TaskStateConflictError(id, "changing", operation);
  }
}

function checkWorker(workerId: string): void {
  requireName("workerId", workerId);
}

function checkLease(leaseSeconds: number): void {
  requireInt("leaseSeconds", leaseSeconds, 1, 24 * 3600);
}

/** The reported progress of the heartbeated tasks, each checked (a named error otherwise). */
function heartbeatProgress(
  progress: SyncRequest["progress"],
  heartbeatIds: readonly string[],
): Record<string, TaskProgress> {
  const checked: Record<string, TaskProgress> = {};
  for (const [id, value] of Object.entries(progress ?? {})) {
    const parsed = TaskProgressSchema.safeParse(value);
    if (!parsed.success) {
      throw fieldError(
        `progress.${id}`,
        `progress.${id} must be {step: a-z name, done: 0..1000000, total: 1..1000000}`,
      );
    }
    const key = id.toLowerCase();
    if (heartbeatIds.includes(key)) checked[key] = parsed.data;
  }
  return checked;
}

/** Well-formed, lower-cased, distinct ids: anything else cannot be a held lease. */
function heldIds(ids: readonly string[]): string[] {
  return [...new Set(ids.filter(isUuid).map((id) => id.toLowerCase()))];
}

/** An owner PostgreSQL could not compare (NUL) or create would never store: a named error, not SQL's. */
function requireOwner(owner: string): void {
  requireName("owner", owner);
}

/** 1 to 255 characters without NUL (text PostgreSQL can hold and index), else a named error. */
function requireName(field: string, value: string): void {
  if (
    typeof value !== "string" ||
    value === "" ||
    value.length > TEXT_MAX_CHARS ||
    value.includes("\u0000")
  ) {
    throw fieldError(field, `${field} must be 1 to ${TEXT_MAX_CHARS} characters without NUL`);
  }
}
