import type { Task } from "../tasks/model";
import type { Logger } from "../telemetry/ports";
import type { FinishedAttempt } from "./inflight";
import type { ExecutorMetrics } from "./loopMetrics";
import type { SummaryCounts } from "./summary";

/**
 * What a sync wrote and recovered, told to the summary counts, the metrics and the logs;
 * tasks that ended failed go to the failed-task notifier.
 */
export interface SyncReportDeps {
  counts: SummaryCounts;
  metrics: ExecutorMetrics;
  logger: Logger;
  notifyFailed: (failed: readonly Task[]) => void;
}

export class SyncReport {
  constructor(private readonly deps: SyncReportDeps) {}

  /** The outcomes a sync carried, against the rows it wrote (the fence left the others out). */
  settled(carried: readonly FinishedAttempt[], settled: readonly Task[]): void {
    const rows = new Map(settled.map((row) => [row.id, row]));
    const failed: Task[] = [];
    for (const finished of carried) {
      this.deps.metrics.attemptFinished(finished.end, finished.runMs);
      const row = rows.get(finished.task.id);
      if (!row) {
        // The fence held it out: the lease expired meanwhile and the task moved on.
        this.deps.counts.leaseLost++;
        this.deps.logger.warn("outcome not written: the lease was lost meanwhile", {
          taskId: finished.task.id,
          outcome: finished.outcome.status,
        });
        continue;
      }
      const fields = {
        taskId: row.id,
        type: row.type,
        attempts: row.attempts,
        runMs: finished.runMs,
      };
      switch (row.status) {
        case "completed":
          this.deps.counts.completed++;
          this.deps.metrics.count("tasksCompleted");
          this.deps.logger.debug("task completed", fields);
          break;
        case "pending":
          this.deps.counts.retried++;
          this.deps.metrics.count("tasksRetried");
          this.deps.logger.info("task will be retried", {
            ...fields,
            runAt: row.runAt,
            error: row.error,
          });
          break;
        case "failed":
          this.deps.counts.failed++;
          this.deps.metrics.count("tasksFailed");
          failed.push(row);
          this.deps.logger.warn("task failed", { ...fields, error: row.error });
          break;
        case "cancelled":
          this.deps.counts.cancelled++;
          this.deps.metrics.count("tasksCancelled");
          this.deps.logger.info("task cancelled", fields);
          break;
        default:
          this.deps.logger.warn("outcome written but the task is still in progress", fields);
      }
    }
    this.deps.notifyFailed(failed);
  }

  /** Tasks whose lease expired and that this sync recovered (pending again, or failed). */
  recovered(recovered: readonly Task[]): void {
    if (recovered.length === 0) return;
    this.deps.counts.recovered += recovered.length;
    const failed = recovered.filter((task) => task.status === "failed");
    this.deps.counts.failed += failed.length;
    this.deps.metrics.count("tasksFailed", failed.length);
    this.deps.logger.warn("recovered tasks whose lease expired", {
      taskIds: recovered.map((task) => task.id),
      failed: failed.map((task) => task.id),
    });
    this.deps.notifyFailed(failed);
  }
}
