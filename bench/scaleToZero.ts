import pg from "pg";
import { silentLogger } from "../functions/core/telemetry/ports";
import { startLocalRuntime } from "../functions/local/runtime";
import { signLocalToken } from "../functions/local/token";
import { startOllamaServer } from "../testkit/ollamaServer";
import { inParallel } from "./support/createTasks";
import { BENCH_MODEL } from "./support/executors";
import { type Distribution, distribution, poissonArrivals } from "./support/stats";
import { TaskRows, waitUntil } from "./support/taskRows";

/**
 * Scale to zero, end to end: the local runtime (the same handlers, the due marker, the wake
 * path, the schedule's tick every 60 s and the default 5 s poll), driven over HTTP.
 *
 * - **Pickup**: tasks created at random times (a Poisson process) are woken for, not polled
 *   for: latency is the pipeline's one definition (first attempt's start - due), from rows.
 * - **Idle**: once everything is done and the executor has stopped, PostgreSQL's own
 *   counters over a window: scans of the tasks table (every statement of the pipeline
 *   reads it; pg_stat_user_tables), and the database's transactions (pg_stat_database,
 *   which also counts autovacuum's, so it is reported, not judged). Statistics reach the
 *   counters within 10 s (PostgreSQL's idle flush), so the window is read 11 s after it
 *   ends, and any statement in it is counted. Both are read from another database.
 * - **Cancel**: a running task's LLM call (30 s long) cancelled over HTTP; the time until the
 *   LLM server saw the call aborted.
 */

export interface ScaleToZeroOptions {
  freshDatabase(name: string): Promise<string>;
  durationMs: number;
  arrivalsPerSecond: number;
  idleWindowMs: number;
  cancels: number;
  log: (line: string) => void;
}

export interface ScaleToZeroResult {
  pollIntervalMs: number;
  created: number;
  pickedUp: number;
  pickupLatencyMs: Distribution | null;
  idleWindowSeconds: number;
  idleTransactions: number;
  idleTransactionsPerMinute: number;
  /** Sequential and index scans of the tasks table in the window: the pipeline's statements. */
  idleTaskScans: number;
  cancels: number;
  cancelToAbortMs: Distribution | null;
}

const SECRET = "bench-scale-to-zero-secret";
/** PostgreSQL flushes an idle backend's statistics within 10 s (PGSTAT_IDLE_INTERVAL). */
const STATS_FLUSH_MS = 11_000;

export async function benchScaleToZero(options: ScaleToZeroOptions): Promise<ScaleToZeroResult> {
  const url = await options.freshDatabase("bench_zero");
  const ollama = await startOllamaServer({ models: [BENCH_MODEL] });
  const saved = { ...process.env };
  Object.assign(process.env, {
    DATABASE_URL: url,
    PORT: "0",
    OLLAMA_HOST: ollama.url,
    OLLAMA_MODEL: BENCH_MODEL,
    OLLAMA_MODELS: BENCH_MODEL,
    LOCAL_JWT_SECRET: SECRET,
    LOG_LEVEL: "ERROR",
    POWERTOOLS_METRICS_DISABLED: "true",
    POLL_INTERVAL_MS: "5000",
    SCHEDULE_INTERVAL_MS: "60000",
  });
  const runtime = await startLocalRuntime({ logger: silentLogger });
  const rows = await TaskRows.open(url);
  const token = await signLocalToken({ sub: "bench-zero", secret: SECRET });
  const call = (method: string, path: string, body?: unknown) =>
    fetch(runtime.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).then(async (response) => ({ status: response.status, body: await response.json() }));
  try {
    // Pickup: each arrival at its time, whatever the ones before it are doing.
    const arrivals = poissonArrivals(options.arrivalsPerSecond, options.durationMs);
    const start = Date.now();
    await inParallel(arrivals.length, arrivals.length, async (i) => {
      await sleep(start + (arrivals[i] as number) - Date.now());
      await call("POST", "/api/tasks", { type: "prompt", input: { prompt: `arrival ${i}` } });
    });
    await waitUntil(async () => (await rows.completedCount()) >= arrivals.length, 60_000, 200);
    const { latenciesMs, notPickedUp } = await rows.pickupLatencies();
    const pickup = latenciesMs.length > 0 ? distribution(latenciesMs) : null;
    options.log(
      `scale to zero, pickup at a 5 s poll: ${pickup ? `p50 ${pickup.p50.toFixed(0)} ms, p95 ${pickup.p95.toFixed(0)} ms, max ${pickup.max.toFixed(0)} ms` : "nothing"} over ${latenciesMs.length}/${latenciesMs.length + notPickedUp} tasks`,
    );

    // Idle: the executor stops once it finds nothing; wait for that and the stats flush.
    await sleep(STATS_FLUSH_MS);
    const before = await counters(url);
    await sleep(options.idleWindowMs + STATS_FLUSH_MS);
    const after = await counters(url);
    const idleTransactions = after.transactions - before.transactions;
    const idleTaskScans = after.taskScans - before.taskScans;
    const windowSeconds = (options.idleWindowMs + STATS_FLUSH_MS) / 1000;
    options.log(
      `scale to zero, idle: ${idleTaskScans} scans of the tasks table, ${idleTransactions} database transactions (autovacuum's included) in ${windowSeconds} s (ticks every 60 s)`,
    );

    // Cancel: a long LLM call, cancelled once it runs.
    ollama.setLatency(30_000);
    const cancelMs: number[] = [];
    for (let i = 0; i < options.cancels; i++) {
      const prompt = `cancel me ${i} ${Date.now()}`;
      const created = await call("POST", "/api/tasks", { type: "prompt", input: { prompt } });
      const id = (created.body as { id: string }).id;
      await waitUntil(
        async () => ollama.calls().some((c) => c.lastUserMessage?.includes(prompt)),
        30_000,
        20,
      );
      const cancelledAt = Date.now();
      await call("POST", `/api/tasks/${id}/cancel`);
      await waitUntil(
        async () =>
          ollama.calls().some((c) => c.lastUserMessage?.includes(prompt) && c.finishedAt !== null),
        30_000,
        10,
      );
      const request = ollama.calls().find((c) => c.lastUserMessage?.includes(prompt));
      cancelMs.push((request?.finishedAt ?? Date.now()) - cancelledAt);
    }
    const cancelToAbort = cancelMs.length > 0 ? distribution(cancelMs) : null;
    options.log(
      `scale to zero, cancel → LLM call aborted: ${cancelToAbort ? `p50 ${cancelToAbort.p50.toFixed(0)} ms, p95 ${cancelToAbort.p95.toFixed(0)} ms` : "none"} over ${cancelMs.length} cancels`,
    );

    return {
      pollIntervalMs: 5_000,
      created: arrivals.length,
      pickedUp: latenciesMs.length,
      pickupLatencyMs: pickup,
      idleWindowSeconds: windowSeconds,
      idleTransactions,
      idleTransactionsPerMinute: idleTransactions / (windowSeconds / 60),
      idleTaskScans,
      cancels: cancelMs.length,
      cancelToAbortMs: cancelToAbort,
    };
  } finally {
    await runtime.stop({ graceMs: 0 });
    await rows.close();
    await ollama.stop();
    process.env = saved;
  }
}

/** The database's transactions and the tasks table's scans, read from `postgres`. */
async function counters(url: string): Promise<{ transactions: number; taskScans: number }> {
  const database = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: url.replace(/\/[^/]*$/, "/postgres") });
  await admin.connect();
  const tables = new pg.Client({ connectionString: url });
  try {
    const { rows } = await admin.query<{ total: string }>(
      "SELECT xact_commit + xact_rollback AS total FROM pg_stat_database WHERE datname = $1",
      [database],
    );
    // This connection's own reads are of the statistics views, not of the tasks table.
    await tables.connect();
    const scans = await tables.query<{ scans: string }>(
      "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) AS scans FROM pg_stat_user_tables WHERE relname = 'tasks'",
    );
    return {
      transactions: Number(rows[0]?.total ?? 0),
      taskScans: Number(scans.rows[0]?.scans ?? 0),
    };
  } finally {
    await admin.end();
    await tables.end();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
