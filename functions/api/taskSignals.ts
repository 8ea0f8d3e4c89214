/**
 * What the API tells the rest of the pipeline when it changes tasks: the due marker and an
 * executor's wake when tasks fall due (create, batch, retry; functions/core/wake), and the
 * owner's real-time channel for every status change it makes (create, cancel, retry). One
 * place, so every route that makes tasks due does it in the same order.
 */
import type { Task } from "../core/tasks/taskRow";
import { prepareTaskDue, signalTaskDue } from "../core/wake/taskDue";
import type { ApiDeps } from "./deps";
import type { ApiContext } from "./http";

/** The Lambda is frozen once it answers: a publish gets this long before the answer. */
const API_FLUSH_TIMEOUT_MS = 1_000;

/**
 * Publishes the API's status changes to their owners' channels, all in one flush (at most
 * 1 s). A publish that fails or is late is the publisher's to log and count; the request
 * succeeds regardless, the rows being the truth.
 */
export async function publishStatus(deps: ApiDeps, tasks: readonly Task[]): Promise<void> {
  if (!deps.events || tasks.length === 0) return;
  deps.events.statusChanged(tasks);
  await deps.events.flush(API_FLUSH_TIMEOUT_MS);
}

const signalsOf = (deps: ApiDeps, context: ApiContext) =>
  deps.wake && { ...deps.wake, logger: context.logger, now: deps.now };

/** Before a write that makes tasks due at `dueAtMs` at the earliest (a 503 if it cannot). */
export async function beforeTasksDue(
  deps: ApiDeps,
  context: ApiContext,
  dueAtMs: number,
): Promise<void> {
  const signals = signalsOf(deps, context);
  if (signals) await prepareTaskDue(signals, dueAtMs);
}

/** After the write committed `tasks`: the marker, a wake if one is due now, their channels. */
export async function afterTasksDue(
  deps: ApiDeps,
  context: ApiContext,
  tasks: readonly Task[],
): Promise<void> {
  const signals = signalsOf(deps, context);
  const [first] = tasks;
  if (signals && first) {
    const dueAtMs = Math.min(...tasks.map((task) => task.runAt.getTime()));
    await signalTaskDue(signals, first.id, dueAtMs);
  }
  await publishStatus(deps, tasks);
}
