/**
 * TaskStore, the one TaskRepository: each operation checks its arguments (a ValidationError
 * naming the field before any SQL runs) and runs one or two named statements of ./sql
 * through any SqlPort (node-postgres or the RDS Data API). The executor's whole round trip
 * is `sync`, one statement (./sql/syncTasks.ts).
 */

import { MAX_RUNNING_PER_OWNER, RETENTION_SECONDS } from "../config/settings";
import { IdempotencyConflictError, TaskNotFoundError, TaskStateConflictError } from "../errors";
import { fieldError } from "../fieldIssues";
import type { SqlPort } from "../sql/port";
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
import { cancelTask } from "./sql/cancelTask";
import { deleteExpiredTasks } from "./sql/deleteExpiredTasks";
import { findByIdempotencyKey } from "./sql/findByIdempotencyKey";
import { getTask } from "./sql/getTask";
import { insertTask } from "./sql/insertTask";
import { cursorExists, listTasks } from "./sql/listTasks";
import { queueState } from "./sql/queueState";
import { retryTask } from "./sql/retryTask";
import { syncTasks } from "./sql/syncTasks";
import { taskStats } from "./sql/taskStats";
import { storableOutcomes } from "./storableOutcomes";
import { isUuid, requireInt, validateNewTask } from "./storeInputChecks";

export interface TaskStoreOptions {
  /**
   * Largest task input, as JSON text in bytes. The Data API refuses result rows over
   * 64 KB, and a row holds the input AND the result: 32 KiB + 24 KiB leaves room for the
   * rest of the row.
   */
  maxInputBytes?: number;
  /** Largest task result, as JSON text in bytes; a bigger one fails the task with the reason. */
  maxResultBytes?: number;
  /**
   * A list page stops early (with a nextCursor) once its inputs, results and errors reach this
   * many bytes, so a page stays under the Data API's 1 MiB response cap even after JSON
   * escaping inflates it.
   */
  maxPageBytes?: number;
  /**
   * A claim stops early (the claim order's prefix, at least one task) once the claimed
   * inputs reach this many bytes: claimed rows carry their input back, and the Data API
   * refuses a response over 1 MiB.
   */
  maxClaimBytes?: number;
}

export const DEFAULT_MAX_INPUT_BYTES = 32 * 1024;
export const DEFAULT_MAX_RESULT_BYTES = 24 * 1024;
// Counted as stored; the Data API's JSON encoding can double that (every quote and
// backslash in a JSON string is escaped once more), and 2 × 384 KiB plus the rows' framing
// stays under its 1 MiB response cap.
export const DEFAULT_MAX_PAGE_BYTES = 384 * 1024;
export const DEFAULT_MAX_CLAIM_BYTES = 256 * 1024;

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

  constructor(
    private readonly sql: SqlPort,
    options: TaskStoreOptions = {},
  ) {
    this.maxInputBytes = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
    this.maxResultBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
    this.maxPageBytes = options.maxPageBytes ?? DEFAULT_MAX_PAGE_BYTES;
    this.maxClaimBytes = options.maxClaimBytes ?? DEFAULT_MAX_CLAIM_BYTES;
  }

  async create(newTask: NewTask): Promise<{ task: Task; created: boolean }> {
    validateNewTask(newTask, this.maxInputBytes);
    const key = newTask.idempotencyKey;
    const hash = key === null ? null : requestHash(newTask);
    // One round in practice: the insert wins, or yields to the key's existing row, which
    // the read then finds. Another only if that row vanished in between (retention).
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
    const limit = requireInt("limit", query.limit, 1, 100);
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
      claimLimit,
      claimBytes: this.maxClaimBytes,
      maxRunningPerOwner,
    });
  }

  async deleteExpired(request: { retentionSeconds: number; batch: number }): Promise<string[]> {
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
  if (typeof value !== "string" || value === "" || value.length > 255 || value.includes("\u0000")) {
    throw fieldError(field, `${field} must be 1 to 255 characters without NUL`);
  }
}
