import { createTaskTypeRegistry } from "../functions/core/taskTypes/registry";
import { inParallel, openTaskCreator } from "./support/createTasks";
import { BENCH_MODEL, startExecutorFleet } from "./support/executors";
import { NOOP_TASK_TYPE, noopTaskType } from "./support/noopTaskType";
import { type Distribution, distribution, poissonArrivals } from "./support/stats";
import { TaskRows, waitUntil } from "./support/taskRows";

/**
 * How long a task waits before an idle executor picks it up: tasks arrive at random
 * (a Poisson process, so at every phase of the poll cycle) for `durationMs`, created
 * through `TaskStore.create` as the API does, while one executor polls every
 * `pollIntervalMs`. Latency is the pipeline's one definition (first_started_at -
 * first_due_at: from due to the first attempt's start; due = created here), read from the
 * rows, both stamped by the database's clock. No-op tasks keep every slot free, so what is measured
 * is the polling, not a queue behind busy slots.
 */
export interface PickupLatencyOptions {
  freshDatabase(name: string): Promise<string>;
  pollIntervalMs: number;
  durationMs: number;
  arrivalsPerSecond: number;
  log: (line: string) => void;
}

export interface PickupLatencyResult {
  pollIntervalMs: number;
  durationMs: number;
  arrivalsPerSecond: number;
  created: number;
  pickedUp: number;
  latencyMs: Distribution | null;
}

export async function benchPickupLatency(
  options: PickupLatencyOptions,
): Promise<PickupLatencyResult> {
  const url = await options.freshDatabase(`bench_pickup_${options.pollIntervalMs}ms`);
  const rows = await TaskRows.open(url);
  const registry = createTaskTypeRegistry();
  registry.register(noopTaskType);
  const creator = openTaskCreator(url, registry, BENCH_MODEL);
  // Long enough to pick up the last arrival, with a margin for a busy machine.
  const settleMs = options.pollIntervalMs * 2 + 5_000;
  const fleet = startExecutorFleet({
    url,
    loops: 1,
    registry,
    settings: { POLL_INTERVAL_MS: options.pollIntervalMs },
    maxRunMs: options.durationMs + settleMs,
    workerPrefix: `bench-pickup-${options.pollIntervalMs}`,
  });
  try {
    const arrivals = poissonArrivals(options.arrivalsPerSecond, options.durationMs);
    const start = Date.now();
    // Each arrival is created at its time, whatever the ones before it are doing.
    await inParallel(arrivals.length, arrivals.length, async (i) => {
      await sleepUntil(start + (arrivals[i] as number));
      await creator.create(NOOP_TASK_TYPE, {});
    });
    await waitUntil(async () => (await rows.countByStatus()).pending === undefined, settleMs, 100);
    await fleet.stop();
    const { latenciesMs, notPickedUp } = await rows.pickupLatencies();
    const result: PickupLatencyResult = {
      pollIntervalMs: options.pollIntervalMs,
      durationMs: options.durationMs,
      arrivalsPerSecond: options.arrivalsPerSecond,
      created: latenciesMs.length + notPickedUp,
      pickedUp: latenciesMs.length,
      latencyMs: latenciesMs.length > 0 ? distribution(latenciesMs) : null,
    };
    const d = result.latencyMs;
    options.log(
      `pickup, ${options.pollIntervalMs} ms poll: ${d ? `p50 ${d.p50.toFixed(0)} ms, p95 ${d.p95.toFixed(0)} ms, max ${d.max.toFixed(0)} ms` : "nothing picked up"} over ${result.pickedUp}/${result.created} tasks`,
    );
    return result;
  } finally {
    await fleet.stop();
    await creator.close();
    await rows.close();
  }
}

function sleepUntil(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
}
