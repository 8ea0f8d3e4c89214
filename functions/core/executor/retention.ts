/**
 * Retention, the executor's own periodic work (no extra component): at the start of each
 * invocation and once a retention interval after, tasks that finished more than
 * RETENTION_SECONDS ago are deleted in bounded batches (`tasks.deleteExpired`, one
 * index-backed statement of at most RETENTION_BATCH rows each). A sweep goes on while its
 * batches come back full, up to RETENTION_BATCHES_PER_SWEEP of them, so it keeps up with up
 * to 10,000 finished tasks a minute per running invocation and an idle queue costs one
 * statement a minute. A failure is logged and counted; the next sweep tries again.
 */
import type { TaskRepository } from "../tasks/model";
import type { Logger } from "../telemetry/ports";
import type { Recorder } from "./recorder";

/** Rows per delete statement: one short statement's locks and WAL. */
export const RETENTION_BATCH = 1_000;
/** Statements per sweep at most: bounds a sweep's load on a database with a deep backlog. */
export const RETENTION_BATCHES_PER_SWEEP = 10;

export class RetentionSweep {
  private running = false;
  private nextAtMs: number;

  constructor(
    private readonly deps: {
      tasks: Pick<TaskRepository, "deleteExpired">;
      logger: Logger;
      recorder: Recorder;
      retentionSeconds: number;
      intervalMs: number;
    },
    startMs: number,
  ) {
    this.nextAtMs = startMs;
  }

  /** The sweep to run now, if one is due and none is under way. */
  due(nowMs: number): Promise<void> | undefined {
    if (this.running || nowMs < this.nextAtMs) return undefined;
    this.nextAtMs = nowMs + this.deps.intervalMs;
    this.running = true;
    return this.sweep().finally(() => {
      this.running = false;
    });
  }

  private async sweep(): Promise<void> {
    const { tasks, logger, recorder, retentionSeconds } = this.deps;
    try {
      for (let batch = 0; batch < RETENTION_BATCHES_PER_SWEEP; batch++) {
        const deleted = await tasks.deleteExpired({ retentionSeconds, batch: RETENTION_BATCH });
        recorder.count("expired", deleted.length);
        if (deleted.length < RETENTION_BATCH) return;
      }
    } catch (error) {
      recorder.count("databaseErrors");
      logger.warn("deleting expired tasks failed; the next sweep tries again", { error });
    }
  }
}
