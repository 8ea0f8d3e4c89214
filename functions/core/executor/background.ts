/**
 * Work the loop starts but does not wait for (failed-task notifications, the queue
 * statistics read): tracked, so the invocation waits for all of it before it returns, and
 * never allowed to throw into the loop.
 */
import type { Task, TaskRepository } from "../tasks/model";
import type { Logger } from "../telemetry/ports";
import type { FailedTaskNotifier } from "./failedTasks";
import type { Recorder } from "./recorder";

export class BackgroundWork {
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly deps: {
      tasks: Pick<TaskRepository, "queueState">;
      notifier: FailedTaskNotifier;
      logger: Logger;
    },
    private readonly recorder: Recorder,
  ) {}

  readQueueStats(): void {
    this.track(
      (async () => {
        try {
          this.recorder.metrics.queue(await this.deps.tasks.queueState());
        } catch (error) {
          this.recorder.count("databaseErrors");
          this.deps.logger.warn("reading queue statistics failed", { error });
        }
      })(),
    );
  }

  notifyFailed(failed: readonly Task[]): void {
    if (failed.length === 0) return;
    this.track(
      this.deps.notifier.notify(failed).catch((error: unknown) => {
        // The port promises not to throw; a broken adapter must not break the loop either.
        this.deps.logger.error("failed-task notifier threw", {
          error,
          taskIds: failed.map((t) => t.id),
        });
      }),
    );
  }

  /** Other work to wait for before returning (a retention sweep). */
  add(work: Promise<void>): void {
    this.track(work);
  }

  /** Waits for notifications and statistics still under way. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  private track(work: Promise<void>): void {
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }
}
