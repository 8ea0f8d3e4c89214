import type {
  LeaseState,
  SettledTask,
  Task,
  TaskOutcome,
  TaskRepository,
} from "../../functions/core/tasks/model";

/**
 * An executor's single-purpose calls, made through the one the store has: `sync`. Tests use
 * them to move tasks into a state (claimed, settled) and to assert one part of sync at a
 * time (its claim, its heartbeat, its settle) with the argument checks of the real call.
 * Each is exactly one sync round trip, so everything sync does besides (recovering expired
 * leases, claiming `claimLimit` tasks: none here unless asked) happens as in production.
 */

/** Claims up to `limit` due tasks (and recovers expired leases, as every sync does). */
export async function claimTasks(
  tasks: TaskRepository,
  workerId: string,
  limit: number,
  leaseSeconds: number,
): Promise<{ claimed: Task[]; recovered: Task[] }> {
  const { claimed, recovered } = await tasks.sync({
    workerId,
    leaseSeconds,
    outcomes: [],
    heartbeatIds: [],
    claimLimit: limit,
  });
  return { claimed, recovered };
}

/** Extends the leases `workerId` still holds among `ids`; claims nothing. */
export async function heartbeatTasks(
  tasks: TaskRepository,
  workerId: string,
  ids: readonly string[],
  leaseSeconds: number,
): Promise<LeaseState[]> {
  const { leases } = await tasks.sync({
    workerId,
    leaseSeconds,
    outcomes: [],
    heartbeatIds: ids,
    claimLimit: 0,
  });
  return leases;
}

/**
 * Writes `outcomes` fenced by `workerId`'s lease; claims nothing. The rows written come back,
 * as a settle returns them (SettledTask: the id and the columns that change after a claim).
 */
export async function settleTasks(
  tasks: TaskRepository,
  workerId: string,
  outcomes: readonly TaskOutcome[],
): Promise<SettledTask[]> {
  const { settled } = await tasks.sync({
    workerId,
    leaseSeconds: 60,
    outcomes,
    heartbeatIds: [],
    claimLimit: 0,
  });
  return settled;
}
