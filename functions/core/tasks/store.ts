/**
 * TaskStore, the one TaskRepository: each operation checks its arguments (a ValidationError
 * naming the field before any SQL runs) and runs one or two named statements of ./sql
 * through any SqlPort (node-postgres or the RDS Data API). The executor's whole round trip
 * is `sync`, one statement (./sql/syncTasks.ts).
 */
import { IdempotencyConflictError, TaskNotFoundError, TaskStateConflictError } from "../errors";
import { fieldError } from "../fieldIssues";
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
  type ListTasksQuery,
  type NewTask,
  type QueueState,
  type SyncRequest,
  type SyncResult,
  TASK_STATUSES,
  type Task,
  type TaskPage,
  type TaskRepository,
  type TaskStats,
  type TaskStatus,
} from "./model";
import { requestHash } from "./requestHash";
import { cancelRequests } from "./sql/cancelRequests";
import { cancelTask } from "./sql/cancelTask";
import { findByIdempotencyKey } from "./sql/findByIdempotencyKey";
import { getTask } from "./sql/getTask";
import { insertTask } from "./sql/insertTask";
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
}

/** Upper bound of one claim: a sanity limit (executors claim their free slots, a handful). */
const MAX_CLAIM = 1000;

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

  constructor(
    private readonly sql: SqlPort,
    options: TaskStoreOptions = {},
  ) {
    this.maxInputBytes = options.maxInputBytes ?? INLINE_INPUT_BYTES;
    this.maxResultBytes = options.maxResultBytes ?? INLINE_RESULT_BYTES;
    this.maxPageBytes = options.maxPageBytes ?? PAGE_BYTES;
    this.maxClaimBytes = options.maxClaimBytes ?? CLAIM_BYTES;
  }

  async create(newTask: NewTask): Promise<{ task: Task; created: boolean }> {
    validateNewTask(newTask, this.maxInputBytes);
    const key = newTask.idempotencyKey;
    const hash = key === null ? null : requestHash(newTask);
    // One round in practice: the insert wins, or yields to the key's existing row, which
    // the read then finds. Another only if that row vanished in between (nothing deletes).
    for (let round = 0; round < 3; round++) {
      const inserted = await insertTask(this.sql, newTask, hash);
      if (inserted) return { task: inserted, created: true };
      if (key === null) break;
      const existing = await findByIdempotencyKey(this.sql, newTask.owner, key);
      if (!existing) continue;
      if (existing.requestHash !== hash) throw new IdempotencyConflictError(key);
      return { task: existing.task, created: false };
    }
    throw new Error("create: the insert returned no row and no task holds its idempotency key");
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
    const outcomes = storableOutcomes(request.outcomes, this.maxResultBytes);
    // An id is settled or heartbeated, never both: one statement must not write a row twice.
    const settling = new Set(outcomes.map((o) => o.id));
    const heartbeatIds = heldIds(request.heartbeatIds).filter((id) => !settling.has(id));
    return syncTasks(this.sql, {
      workerId: request.workerId,
      leaseSeconds: request.leaseSeconds,
      outcomes,
      heartbeatIds,
      claimLimit,
      claimBytes: this.maxClaimBytes,
      // The statement measures its other rows itself; lease rows are small and fixed.
      responseBytes: RESPONSE_LIMIT - heartbeatIds.length * LEASE_ROW_MAX_BYTES,
    });
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
