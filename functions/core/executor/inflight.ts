import type { LeaseState, Task, TaskOutcome, TaskProgress } from "../tasks/model";
import type { Logger } from "../telemetry/ports";
import type { AbortCause, AttemptEnd } from "./attempt";

/**
 * The executor's bookkeeping between round trips: attempts running now (each with the
 * AbortController that stops its LLM call) and finished outcomes not yet written. An id is
 * in at most one of the two, so it is never both heartbeated and settled in one sync.
 */

export interface RunningAttempt {
  task: Task;
  controller: AbortController;
  startedAtMs: number;
  /** When its lease was last set (claim or heartbeat), by the executor's clock. */
  leaseRenewedAtMs: number;
  /** The latest progress its task type reported; sent with its next heartbeat. */
  progress?: TaskProgress;
}

export interface FinishedAttempt {
  task: Task;
  outcome: TaskOutcome;
  end: AttemptEnd;
  runMs: number;
}

export class InFlight {
  private readonly running = new Map<string, RunningAttempt>();
  private readonly finished = new Map<string, FinishedAttempt>();

  get runningCount(): number {
    return this.running.size;
  }

  get finishedCount(): number {
    return this.finished.size;
  }

  start(task: Task, nowMs: number, leaseSetAtMs: number): RunningAttempt {
    const attempt: RunningAttempt = {
      task,
      controller: new AbortController(),
      startedAtMs: nowMs,
      leaseRenewedAtMs: leaseSetAtMs,
    };
    this.running.set(task.id, attempt);
    return attempt;
  }

  /** The attempt ended: it stops running; its outcome (if it has one to write) is buffered. */
  end(id: string, finished: FinishedAttempt | undefined): void {
    this.running.delete(id);
    if (finished) this.finished.set(id, finished);
  }

  /** The latest progress of these running attempts, for their heartbeat. */
  progressOf(ids: readonly string[]): Record<string, TaskProgress> {
    const progress: Record<string, TaskProgress> = {};
    for (const id of ids) {
      const reported = this.running.get(id)?.progress;
      if (reported) progress[id] = reported;
    }
    return progress;
  }

  get(id: string): RunningAttempt | undefined {
    return this.running.get(id);
  }

  /** Running attempts not yet aborted (an aborted one is already winding down). */
  runningIds(): string[] {
    return [...this.running.values()]
      .filter((attempt) => !attempt.controller.signal.aborted)
      .map((attempt) => attempt.task.id);
  }

  abort(id: string, cause: AbortCause): void {
    const attempt = this.running.get(id);
    if (attempt && !attempt.controller.signal.aborted) attempt.controller.abort(cause);
  }

  abortAll(cause: AbortCause): void {
    for (const id of this.running.keys()) this.abort(id, cause);
  }

  /** Running attempts whose lease is due for renewal (aborted ones need none). */
  heartbeatsDue(nowMs: number, everyMs: number): string[] {
    const due: string[] = [];
    for (const [id, attempt] of this.running) {
      if (!attempt.controller.signal.aborted && nowMs - attempt.leaseRenewedAtMs >= everyMs) {
        due.push(id);
      }
    }
    return due;
  }

  /** When the next heartbeat falls due (Infinity when none will). */
  nextHeartbeatAt(everyMs: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const attempt of this.running.values()) {
      if (!attempt.controller.signal.aborted) {
        next = Math.min(next, attempt.leaseRenewedAtMs + everyMs);
      }
    }
    return next;
  }

  leaseRenewed(id: string, atMs: number): void {
    const attempt = this.running.get(id);
    if (attempt) attempt.leaseRenewedAtMs = atMs;
  }

  /** The buffered outcomes, left in place until a sync has written (or fenced) them. */
  pendingOutcomes(): FinishedAttempt[] {
    return [...this.finished.values()];
  }

  /** The outcomes a sync carried: written or fenced out, either way done with. */
  forget(ids: readonly string[]): void {
    for (const id of ids) this.finished.delete(id);
  }

  /**
   * What a heartbeat said about `heartbeatIds`: a lease renewed, a cancel requested (the
   * attempt is aborted), or a lease lost to another worker (aborted, nothing to write).
   */
  recordLeases(
    heartbeatIds: readonly string[],
    leases: readonly LeaseState[],
    sentAtMs: number,
    logger: Logger,
  ): void {
    const byId = new Map(leases.map((lease) => [lease.id, lease]));
    for (const id of heartbeatIds) {
      // Finished during the sync: its outcome is buffered and the fence decides its fate.
      if (!this.get(id)) continue;
      const lease = byId.get(id);
      if (!lease) {
        logger.warn("lease lost: aborting the attempt", { taskId: id });
        this.abort(id, "lease_lost");
      } else if (lease.cancelRequested) {
        logger.info("cancel requested: aborting the attempt", { taskId: id });
        this.leaseRenewed(id, sentAtMs);
        this.abort(id, "cancel");
      } else {
        this.leaseRenewed(id, sentAtMs);
      }
    }
  }
}
