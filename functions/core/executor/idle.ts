/**
 * Idle means idle (docs/design.md "Scale to zero"). When a claim finds nothing and nothing
 * runs, the executor asks the database when work next falls due (one small statement),
 * leaves the answer in the due marker, and stops unless that is within a poll interval.
 * The next ticks then read the marker, not the database, until the time it names.
 */
import type { TaskRepository } from "../tasks/model";
import type { Logger } from "../telemetry/ports";
import type { DueMarker } from "../wake/ports";
import type { ExecutorLoopSettings } from "./loop";

export interface IdleCheck {
  /** Stop now: nothing is due within `withinMs`. */
  stop: boolean;
  /** When work next falls due (ms since the epoch); null: none. */
  nextDueAtMs: number | null;
}

export async function checkIdle(
  deps: { tasks: Pick<TaskRepository, "nextDueAt">; marker: DueMarker; logger: Logger },
  nowMs: number,
  withinMs: number,
): Promise<IdleCheck> {
  // The version first, then the database: a task made due after this read moves the
  // version, so the record below cannot hide it (../wake/ports.ts).
  const { version } = await deps.marker.read();
  const nextDue = await deps.tasks.nextDueAt();
  const nextDueAtMs = nextDue === null ? null : nextDue.getTime();
  const recorded = await deps.marker.record(nextDueAtMs, version);
  if (!recorded) {
    // Someone made work due meanwhile: it was (or will be) woken for; look again.
    return { stop: false, nextDueAtMs: nowMs };
  }
  const stop = nextDueAtMs === null || nextDueAtMs > nowMs + withinMs;
  deps.logger.debug("idle check", { nextDueAt: nextDue?.toISOString() ?? null, stop });
  return { stop, nextDueAtMs };
}

/**
 * The executor's idle turn (with a due marker: scale to zero): "stop" when nothing falls
 * due within a poll interval, else when to claim next (null: poll as usual). A failed
 * check is not idle: the loop polls on and the next empty claim asks again.
 */
export async function idleStep(
  deps: {
    tasks: Pick<TaskRepository, "nextDueAt">;
    marker: DueMarker;
    logger: Logger;
    settings: Pick<ExecutorLoopSettings, "POLL_INTERVAL_MS">;
  },
  nowMs: number,
  onDatabaseError: () => void,
): Promise<"stop" | number | null> {
  try {
    const idle = await checkIdle(deps, nowMs, deps.settings.POLL_INTERVAL_MS);
    if (!idle.stop) return idle.nextDueAtMs;
    deps.logger.info("executor idle: stopping until work is due", {
      nextDueAt: idle.nextDueAtMs === null ? null : new Date(idle.nextDueAtMs).toISOString(),
    });
    return "stop";
  } catch (error) {
    onDatabaseError();
    deps.logger.warn("idle check failed; polling on", { error });
    return null;
  }
}
