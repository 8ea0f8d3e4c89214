import { createTaskTypeRegistry } from "../functions/core/taskTypes/registry";
import type { StatementCounts } from "./support/countingSqlPort";
import { BENCH_MODEL, startExecutorFleet } from "./support/executors";
import { NOOP_TASK_TYPE, noopTaskType } from "./support/noopTaskType";
import { perSecond } from "./support/stats";
import { TaskRows, waitUntil } from "./support/taskRows";

/**
 * The queue's ceiling: N no-op tasks drained by K executor loops at once (one process,
 * each loop with its own pool and workerId), MAX_CONCURRENCY slots each so a loop claims
 * and settles in big batches: each K with every given MAX_CONCURRENCY, as pg-boss runs
 * with each batch size, and the best counts. Tasks per second from the first claim to the last
 * completion, read from the rows; statements per completed task counted at the loops'
 * SQL ports (what the Data API would bill).
 */
export interface QueueCeilingOptions {
  freshDatabase(name: string): Promise<string>;
  tasks: number;
  loopCounts: readonly number[];
  maxConcurrencies: readonly number[];
  /** A run still draining after this long is stopped and measured over what it finished. */
  capMs: number;
  log: (line: string) => void;
}

export interface QueueCeilingRun {
  loops: number;
  maxConcurrency: number;
  tasks: number;
  completed: number;
  elapsedMs: number;
  tasksPerSecond: number;
  capped: boolean;
  statements: StatementCounts;
  statementsPerTask: number;
  syncs: number;
}

export async function benchQueueCeiling(options: QueueCeilingOptions): Promise<QueueCeilingRun[]> {
  // Not counted: a first, small drain compiles the executor's hot paths, so K=1, measured
  // first, is not charged for the JIT warming up (pg-boss's first runs warm its own).
  const warmupConcurrency = options.maxConcurrencies[0] ?? 100;
  await drainQueue(
    options,
    1,
    warmupConcurrency,
    Math.min(options.tasks, WARMUP_TASKS),
    "bench_queue_warmup",
  );
  const runs: QueueCeilingRun[] = [];
  for (const loops of options.loopCounts) {
    for (const maxConcurrency of options.maxConcurrencies) {
      const run = await drainQueue(
        options,
        loops,
        maxConcurrency,
        options.tasks,
        `bench_queue_k${loops}_c${maxConcurrency}`,
      );
      options.log(
        `queue K=${loops} MAX_CONCURRENCY=${maxConcurrency}: ${run.tasksPerSecond.toFixed(0)} tasks/s (${run.completed}/${run.tasks} in ${run.elapsedMs.toFixed(0)} ms${run.capped ? ", capped" : ""}), ${run.statementsPerTask.toFixed(3)} statements/task`,
      );
      runs.push(run);
    }
  }
  return runs;
}

const WARMUP_TASKS = 1_000;

/** One drain of `tasks` no-op tasks by K loops of MAX_CONCURRENCY slots, on a fresh database. */
export async function drainQueue(
  options: Pick<QueueCeilingOptions, "freshDatabase" | "capMs">,
  loops: number,
  maxConcurrency: number,
  tasks: number,
  database: string,
): Promise<QueueCeilingRun> {
  const url = await options.freshDatabase(database);
  const rows = await TaskRows.open(url);
  try {
    await rows.seed(tasks, NOOP_TASK_TYPE, BENCH_MODEL);
    const registry = createTaskTypeRegistry();
    registry.register(noopTaskType);

    const fleet = startExecutorFleet({
      url,
      loops,
      registry,
      settings: { MAX_CONCURRENCY: maxConcurrency },
      maxRunMs: options.capMs,
      workerPrefix: `bench-queue-k${loops}-c${maxConcurrency}`,
    });
    // Stopped in any case: loops left running would work on a database being torn down.
    const drained = await waitUntil(
      async () => (await rows.completedCount()) >= tasks,
      options.capMs,
      100,
    ).finally(() => fleet.stop());
    const summaries = await fleet.stop();
    const statements = fleet.counts();
    const { completed, elapsedMs } = await rows.drainWindow();
    return {
      loops,
      maxConcurrency,
      tasks,
      completed,
      elapsedMs,
      tasksPerSecond: completed > 0 && elapsedMs > 0 ? perSecond(completed, elapsedMs) : 0,
      capped: !drained,
      statements,
      statementsPerTask: completed > 0 ? statements.statements / completed : Number.NaN,
      syncs: summaries.reduce((total, summary) => total + summary.syncs, 0),
    };
  } finally {
    await rows.close();
  }
}
