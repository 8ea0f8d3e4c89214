/**
 * What a sync wrote and recovered, told to the recorder (summary counts and metrics) and
 * the logs, one info line per task outcome (completed, retried, failed with its reason,
 * cancelled); tasks that ended failed go to the failed-task notifier.
 */
import type { SettledTask, Task } from "../tasks/model";
import type { Logger } from "../telemetry/ports";
import type { FinishedAttempt } from "./inflight";
import type { Recorder } from "./recorder";

export interface SyncReportDeps {
  recorder: Recorder;
  logger: Logger;
  notifyFailed: (failed: readonly Task[]) => void;
}

export class SyncReport {
  constructor(private readonly deps: SyncReportDeps) {}

  /**
   * The outcomes a sync carried, against the rows it wrote (the fence left the others out).
   * Returns the tasks written, as their rows now are: the task as claimed, with what the
   * settle returned (every column that can change after a claim) laid over it.
   */
  settled(carried: readonly FinishedAttempt[], settled: readonly SettledTask[]): Task[] {
    const written = new Map(settled.map((row) => [row.id, row]));
    const tasks: Task[] = [];
    const failed: Task[] = [];
    for (const finished of carried) {
      this.deps.recorder.metrics.attemptFinished(finished.end, finished.runMs);
      const settledRow = written.get(finished.task.id);
      if (!settledRow) {
        // The fence held it out: the lease expired meanwhile and the task moved on.
        this.deps.recorder.count("leaseLost");
        this.deps.logger.warn("outcome not written: the lease was lost meanwhile", {
          taskId: finished.task.id,
          outcome: finished.outcome.status,
        });
        continue;
      }
      const row: Task = { ...finished.task, ...settledRow };
      tasks.push(row);
      const fields = {
        taskId: row.id,
        type: row.type,
        attempts: row.attempts,
        runMs: finished.runMs,
      };
      switch (row.status) {
        case "completed":
          this.deps.recorder.count("completed");
          this.deps.logger.info("task completed", fields);
          break;
        case "pending":
          this.deps.recorder.count("retried");
          this.deps.logger.info("task will be retried", {
            ...fields,
            runAt: row.runAt,
            error: row.error,
          });
          break;
        case "failed":
          this.deps.recorder.count("failed");
          failed.push(row);
          this.deps.logger.warn("task failed", { ...fields, error: row.error });
          break;
        case "cancelled":
          this.deps.recorder.count("cancelled");
          this.deps.logger.info("task cancelled", fields);
          break;
        default:
          this.deps.logger.warn("outcome written but the task is still in progress", fields);
      }
    }
    this.deps.notifyFailed(failed);
    return tasks;
  }

  /** Tasks whose lease expired and that this sync recovered (pending again, or failed). */
  recovered(recovered: readonly Task[]): void {
    if (recovered.length === 0) return;
    this.deps.recorder.count("recovered", recovered.length);
    const failed = recovered.filter((task) => task.status === "failed");
    this.deps.recorder.count("failed", failed.length);
    this.deps.logger.warn("recovered tasks whose lease expired", {
      taskIds: recovered.map((task) => task.id),
      failed: failed.map((task) => task.id),
    });
    this.deps.notifyFailed(failed);
  }
}
