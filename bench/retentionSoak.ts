import pg from "pg";
import { createTaskTypeRegistry } from "../functions/core/taskTypes/registry";
import { BENCH_MODEL, startExecutorFleet } from "./support/executors";
import { NOOP_TASK_TYPE, noopTaskType } from "./support/noopTaskType";

/**
 * Retention soak (issue 15): `tasks` no-op tasks arrive in waves and are completed by one
 * executor whose RETENTION_SECONDS is the least allowed (60 s), its retention sweep every
 * second instead of every minute (rows go within a second of expiring, so the bound is
 * easy to read). The tasks table's row count is sampled throughout: without retention it
 * would end at `tasks`; with it, it peaks near a minute's worth of arrivals and ends at zero
 * once the last wave expires.
 */
export interface RetentionSoakOptions {
  freshDatabase(name: string): Promise<string>;
  tasks: number;
  waves: number;
  waveGapMs: number;
  retentionSeconds: number;
  log: (line: string) => void;
}

export interface RetentionSoakResult {
  tasks: number;
  retentionSeconds: number;
  completed: number;
  deleted: number;
  peakRows: number;
  finalRows: number;
  durationMs: number;
}

export async function benchRetentionSoak(
  options: RetentionSoakOptions,
): Promise<RetentionSoakResult> {
  const url = await options.freshDatabase("bench_retention");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const registry = createTaskTypeRegistry();
  registry.register(noopTaskType);
  const perWave = Math.ceil(options.tasks / options.waves);
  const lastWaveAtMs = (options.waves - 1) * options.waveGapMs;
  // The last wave expires retentionSeconds after it completes; a few sweeps after that.
  const runMs = lastWaveAtMs + options.retentionSeconds * 1000 + 10_000;
  const startedAt = Date.now();
  const fleet = startExecutorFleet({
    url,
    loops: 1,
    registry,
    settings: {
      MAX_CONCURRENCY: 256,
      POLL_INTERVAL_MS: 200,
      RETENTION_SECONDS: options.retentionSeconds,
    },
    tuning: { retentionIntervalMs: 1_000 },
    maxRunMs: runMs + 5_000,
    workerPrefix: "bench-retention",
  });
  const rowCount = async () =>
    (await client.query<{ n: number }>("SELECT count(*)::int AS n FROM tasks")).rows[0]?.n ?? 0;
  let peakRows = 0;
  let summaries: Awaited<ReturnType<typeof fleet.stop>> = [];
  try {
    for (let wave = 0; wave < options.waves; wave++) {
      await client.query(
        `INSERT INTO tasks (owner, type, input, model)
         SELECT 'soak-' || (i % 10), $1, '{}'::jsonb, $2 FROM generate_series(1, $3) AS i`,
        [NOOP_TASK_TYPE, BENCH_MODEL, perWave],
      );
      const waveEnd = startedAt + (wave + 1) * options.waveGapMs;
      while (Date.now() < waveEnd) {
        peakRows = Math.max(peakRows, await rowCount());
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      options.log(`retention soak: wave ${wave + 1}/${options.waves}, ${await rowCount()} rows`);
    }
    while (Date.now() < startedAt + runMs) {
      peakRows = Math.max(peakRows, await rowCount());
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  } finally {
    summaries = await fleet.stop();
  }
  const finalRows = await rowCount();
  await client.end();
  const completed = summaries.reduce((total, s) => total + s.completed, 0);
  const deleted = summaries.reduce((total, s) => total + s.expired, 0);
  const result: RetentionSoakResult = {
    tasks: perWave * options.waves,
    retentionSeconds: options.retentionSeconds,
    completed,
    deleted,
    peakRows,
    finalRows,
    durationMs: Date.now() - startedAt,
  };
  options.log(
    `retention soak: ${result.tasks} tasks in ${options.waves} waves, ${completed} completed, ${deleted} deleted; rows peaked at ${peakRows}, ${finalRows} left`,
  );
  return result;
}
