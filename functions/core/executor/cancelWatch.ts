/**
 * Cancels reach running attempts within about a second. The heartbeat reads cancel flags
 * every third of the lease (20 s at the default 60 s); while attempts run, this reads just
 * the flags of the running tasks once a `everyMs` (a read-only statement: ~1 statement a
 * second per busy executor, ~$0.90 a month of Data API requests if one ran all month), and
 * aborts the attempts whose task a caller cancelled. Nothing runs: nothing is read.
 */
import type { TaskRepository } from "../tasks/model";
import type { Logger } from "../telemetry/ports";
import type { InFlight } from "./inflight";

export class CancelWatch {
  private nextCheckAtMs: number;

  constructor(
    private readonly deps: { tasks: Pick<TaskRepository, "cancelRequests">; logger: Logger },
    private readonly everyMs: number,
    startMs: number,
  ) {
    this.nextCheckAtMs = startMs + everyMs;
  }

  /** When the next check is due; never while nothing runs or when turned off (0). */
  nextAt(inflight: InFlight): number {
    return this.everyMs > 0 && inflight.runningIds().length > 0
      ? this.nextCheckAtMs
      : Number.POSITIVE_INFINITY;
  }

  async check(inflight: InFlight, nowMs: number): Promise<void> {
    this.nextCheckAtMs = nowMs + this.everyMs;
    const ids = inflight.runningIds();
    let cancelled: string[];
    try {
      cancelled = await this.deps.tasks.cancelRequests(ids);
    } catch (error) {
      // The heartbeat reads the same flags; a failed check only delays the abort.
      this.deps.logger.warn("reading cancel requests failed", { error });
      return;
    }
    for (const id of cancelled) {
      this.deps.logger.info("cancel requested: aborting the attempt", { taskId: id });
      inflight.abort(id, "cancel");
    }
  }
}
