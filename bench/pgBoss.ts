import { createRequire } from "node:module";
import pg from "pg";
import PgBoss from "pg-boss";
import { perSecond } from "./support/stats";

/**
 * pg-boss 10 draining the same number of no-op jobs on the same PostgreSQL, at its own
 * best: `work()` with batches of 10, 100 and 500 and K or 4×K subscriptions spread over K
 * instances (K processes' worth of pools), polling at its minimum of 0.5 s. pg-boss waits
 * out the polling interval after every fetch, full or not, so a subscription moves at most
 * batchSize jobs per 0.5 s: with batchSize 10 it looks ~50 times slower than it is, which
 * is why the comparison is against the best configuration, not the defaults.
 *
 * Throughput is read from pg-boss's own rows: completed jobs over first `started_on` to
 * last `completed_on`. A configuration too slow to drain the queue within `capMs` is
 * stopped there and its rate measured over what it did finish (the steady state of a
 * polling-bound worker is reached within a cycle or two).
 */
export interface PgBossOptions {
  url: string;
  jobs: number;
  instanceCounts: readonly number[];
  batchSizes: readonly number[];
  /** Subscriptions per instance: 1 gives K subscriptions, 4 gives 4×K. */
  subscriptionsPerInstance: readonly number[];
  capMs: number;
  log: (line: string) => void;
}

export interface PgBossRun {
  instances: number;
  subscriptions: number;
  batchSize: number;
  jobs: number;
  completed: number;
  elapsedMs: number;
  jobsPerSecond: number;
  /** Stopped at the time cap before the queue was drained. */
  capped: boolean;
}

export interface PgBossResult {
  version: string;
  pollingIntervalSeconds: number;
  capMs: number;
  runs: PgBossRun[];
  /** The best run for each instance count K. */
  bestByInstances: Record<string, PgBossRun>;
}

const POLLING_INTERVAL_SECONDS = 0.5; // pg-boss refuses anything shorter
const PROGRESS_POLL_MS = 250;

export async function benchPgBoss(options: PgBossOptions): Promise<PgBossResult> {
  const bench = await openPgBossBench(options.url, options.log);
  const runs: PgBossRun[] = [];
  try {
    for (const instances of options.instanceCounts) {
      for (const perInstance of options.subscriptionsPerInstance) {
        for (const batchSize of options.batchSizes) {
          const run = await bench.drain(
            { instances, perInstance, batchSize },
            options.jobs,
            options.capMs,
          );
          options.log(
            `pg-boss K=${instances} subscriptions=${run.subscriptions} batch=${batchSize}: ${run.jobsPerSecond.toFixed(0)} jobs/s (${run.completed}/${run.jobs}${run.capped ? ", capped" : ""})`,
          );
          runs.push(run);
        }
      }
    }
  } finally {
    await bench.close();
  }

  const bestByInstances: Record<string, PgBossRun> = {};
  for (const run of runs) {
    const best = bestByInstances[run.instances];
    if (!best || run.jobsPerSecond > best.jobsPerSecond) bestByInstances[run.instances] = run;
  }
  return {
    version: pgBossVersion(),
    pollingIntervalSeconds: POLLING_INTERVAL_SECONDS,
    capMs: options.capMs,
    runs,
    bestByInstances,
  };
}

/** One pg-boss configuration: K instances with `perInstance` subscriptions of `batchSize`. */
export interface PgBossConfig {
  instances: number;
  perInstance: number;
  batchSize: number;
}

export const pgBossConfigOf = (run: PgBossRun): PgBossConfig => ({
  instances: run.instances,
  perInstance: run.subscriptions / run.instances,
  batchSize: run.batchSize,
});

/** pg-boss installed on a database, ready to drain configurations one at a time. */
export interface PgBossBench {
  /** Inserts `jobs` no-op jobs on a queue of their own and drains them (at most `capMs`). */
  drain(config: PgBossConfig, jobs: number, capMs: number): Promise<PgBossRun>;
  close(): Promise<void>;
}

export async function openPgBossBench(
  url: string,
  log: (line: string) => void,
): Promise<PgBossBench> {
  const admin = new PgBoss({
    connectionString: url,
    max: 2,
    supervise: false,
    schedule: false,
    migrate: true,
  });
  admin.on("error", (error) => log(`pg-boss admin error: ${error.message}`));
  await admin.start();
  const reader = new pg.Client({ connectionString: url });
  await reader.connect();
  let drains = 0;
  return {
    drain: (config, jobs, capMs) => {
      drains += 1;
      return drainOnce({ url, admin, reader, log }, config, jobs, capMs, `bench_${drains}`);
    },
    async close() {
      await reader.end();
      await admin.stop({ graceful: false, close: true });
    },
  };
}

async function drainOnce(
  { url, admin, reader, log }: DrainContext,
  { instances, perInstance, batchSize }: PgBossConfig,
  jobs: number,
  capMs: number,
  queue: string,
): Promise<PgBossRun> {
  await admin.createQueue(queue);
  await admin.insert(Array.from({ length: jobs }, () => ({ name: queue, data: {} })));

  // K instances, as K processes would have: each with its own pool (pg-boss's default 10).
  const bosses = Array.from(
    { length: instances },
    () => new PgBoss({ connectionString: url, supervise: false, schedule: false, migrate: false }),
  );
  for (const boss of bosses) {
    boss.on("error", (error) => log(`pg-boss worker error: ${error.message}`));
    await boss.start();
  }

  const deadline = Date.now() + capMs;
  for (const boss of bosses) {
    for (let i = 0; i < perInstance; i += 1) {
      await boss.work(
        queue,
        { batchSize, pollingIntervalSeconds: POLLING_INTERVAL_SECONDS },
        async () => {},
      );
    }
  }
  let completed = 0;
  while (Date.now() < deadline) {
    completed = await completedCount(reader, queue);
    if (completed >= jobs) break;
    await new Promise((resolve) => setTimeout(resolve, PROGRESS_POLL_MS));
  }
  // Graceful: lets fetched batches finish (pg-boss completes a batch without awaiting it).
  await Promise.all(
    bosses.map((boss) => boss.stop({ graceful: true, wait: true, timeout: 5_000 })),
  );

  const { rows } = await reader.query<{ completed: number; elapsed_ms: number | null }>(
    `SELECT count(*) FILTER (WHERE state = 'completed')::int AS completed,
            extract(epoch FROM max(completed_on) - min(started_on)) * 1000 AS elapsed_ms
       FROM pgboss.job WHERE name = $1`,
    [queue],
  );
  const row = rows[0];
  completed = row?.completed ?? 0;
  const elapsedMs = Number(row?.elapsed_ms ?? 0);
  return {
    instances,
    subscriptions: instances * perInstance,
    batchSize,
    jobs,
    completed,
    elapsedMs,
    jobsPerSecond: completed > 0 && elapsedMs > 0 ? perSecond(completed, elapsedMs) : 0,
    capped: completed < jobs,
  };
}

interface DrainContext {
  url: string;
  admin: PgBoss;
  reader: pg.Client;
  log: (line: string) => void;
}

async function completedCount(reader: pg.Client, queue: string): Promise<number> {
  const { rows } = await reader.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'completed'",
    [queue],
  );
  return rows[0]?.n ?? 0;
}

function pgBossVersion(): string {
  const require = createRequire(import.meta.url);
  return (require("pg-boss/package.json") as { version: string }).version;
}
