/**
 * What the API does when it makes work due (a create, a retry). Before the write, the due
 * marker is lowered to the task's due time: if that fails, nothing is written and the
 * caller gets a 503 (a task the marker does not cover could wait until the executor next
 * reads the database). After the commit it is lowered again, and when the task is due now
 * an executor is woken: an executor that read the database between the two lowers, before
 * the task was committed, would otherwise record a later time (see ./ports.ts).
 */
import { DatabaseUnavailableError } from "../errors";
import type { Logger } from "../telemetry/ports";
import type { DueMarker, Waker } from "./ports";

/**
 * A task due within this is due now: its due time comes from the database's clock (a
 * create's default `runAt` is the insert's now()), which may run a little ahead of ours.
 * Later ones are the ticks' (the due marker brings the executor in time for them).
 */
const DUE_NOW_MS = 1_000;

export interface TaskDueSignals {
  marker: DueMarker;
  waker: Waker;
  logger: Logger;
  now?: () => number;
}

/** Before the write: DatabaseUnavailableError (a 503) when the marker cannot be lowered. */
export async function prepareTaskDue(signals: TaskDueSignals, dueAtMs: number): Promise<void> {
  try {
    await signals.marker.lower(dueAtMs);
  } catch (error) {
    throw new DatabaseUnavailableError("the due marker could not be lowered", error);
  }
}

/**
 * After the commit: the task is due at `dueAtMs`. Never throws: the task is stored already, and the schedule's
 * tick is the safety net. A marker that could not be lowered is an error in the log (the
 * task waits for the executor's next read of the database, at the latest when the marker's
 * recorded time comes); a wake that failed only costs pickup latency.
 */
export async function signalTaskDue(
  signals: TaskDueSignals,
  taskId: string,
  dueAtMs: number,
): Promise<void> {
  const now = signals.now?.() ?? Date.now();
  const [lowered, woken] = await Promise.allSettled([
    signals.marker.lower(dueAtMs),
    dueAtMs <= now + DUE_NOW_MS ? signals.waker.wake() : Promise.resolve(),
  ]);
  if (lowered.status === "rejected") {
    signals.logger.error("could not lower the due marker; the task waits for a database read", {
      taskId,
      error: lowered.reason,
    });
  }
  if (woken.status === "rejected") {
    signals.logger.warn("could not wake an executor; the next tick picks the task up", {
      taskId,
      error: woken.reason,
    });
  }
}
