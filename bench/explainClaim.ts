/**
 * `npx tsx bench/explainClaim.ts`: the executor's statement (functions/core/tasks/sql/
 * syncTasks.ts, its claim in fairClaim.ts) under EXPLAIN (ANALYZE, BUFFERS) at 100,000
 * pending tasks over 1,000 owners (100 each) on the bench's embedded PostgreSQL (durable
 * settings, see ./support/postgres.ts), claiming 8 slots: the plan, then the statement's
 * own timing over repeated claims without and with a running cap. What it shows: the claim
 * reads (owners x slots) index entries, not the backlog.
 */
import { join } from "node:path";
import { createPgSqlPort } from "../functions/core/sql/pgAdapter";
import { json } from "../functions/core/sql/port";
import { CLAIM_BYTES, RESPONSE_LIMIT } from "../functions/core/tasks/byteBudgets";
import { SYNC_TASKS } from "../functions/core/tasks/sql/syncTasks";
import { startBenchPostgres } from "./support/postgres";
import { distribution } from "./support/stats";

const OWNERS = 1_000;
const TASKS_PER_OWNER = 100;
const SLOTS = 8;
const TIMED_CLAIMS = 50;

const postgres = await startBenchPostgres(join(import.meta.dirname, "../.bench"));
try {
  const url = await postgres.freshDatabase("bench_explain_claim");
  const sql = createPgSqlPort({ connectionString: url, max: 1 });
  try {
    // Created in interleaved order over a minute of run_at, as many owners' arrivals would be.
    await sql.query(`
      INSERT INTO tasks (owner, type, input, model, run_at, created_at)
      SELECT 'owner-' || lpad(cast(i % ${OWNERS} AS text), 4, '0'), 'prompt',
             jsonb_build_object('prompt', 'task ' || i), 'llama3.2',
             now() - interval '1 hour' + i * interval '1 millisecond',
             now() - interval '1 hour'
      FROM generate_series(1, ${OWNERS * TASKS_PER_OWNER}) AS i`);
    await sql.query("VACUUM ANALYZE tasks");
    const params = (worker: string, maxRunning: number | null) => ({
      worker_id: worker,
      lease_seconds: 60,
      outcomes: json([]),
      heartbeat_ids: json([]),
      progress: json({}),
      claim_limit: SLOTS,
      claim_bytes: CLAIM_BYTES,
      response_bytes: RESPONSE_LIMIT,
      max_running: maxRunning,
    });

    const plan = await sql.query<{ "QUERY PLAN": string }>(
      `EXPLAIN (ANALYZE, BUFFERS) ${SYNC_TASKS}`,
      params("explain", null),
    );
    process.stdout.write(
      `EXPLAIN (ANALYZE, BUFFERS) of the executor's statement, ${OWNERS * TASKS_PER_OWNER} pending tasks over ${OWNERS} owners, claiming ${SLOTS}:\n\n`,
    );
    process.stdout.write(`${plan.map((row) => row["QUERY PLAN"]).join("\n")}\n\n`);

    for (const maxRunning of [null, 4]) {
      const times: number[] = [];
      for (let i = 0; i < TIMED_CLAIMS; i++) {
        const started = performance.now();
        await sql.query(SYNC_TASKS, params(`timed-${maxRunning}-${i}`, maxRunning));
        times.push(performance.now() - started);
      }
      const d = distribution(times);
      process.stdout.write(
        `${TIMED_CLAIMS} claims of ${SLOTS} (${maxRunning === null ? "no running cap" : `MAX_RUNNING_PER_OWNER ${maxRunning}`}), round trip in ms: p50 ${d.p50.toFixed(1)}, p95 ${d.p95.toFixed(1)}, max ${d.max.toFixed(1)}\n`,
      );
    }
    const after = await sql.query<{ "QUERY PLAN": string }>(
      `EXPLAIN (ANALYZE, BUFFERS) ${SYNC_TASKS}`,
      params("explain-after", 4),
    );
    process.stdout.write(
      `\nAfter those claims (${2 * TIMED_CLAIMS * SLOTS + SLOTS} tasks running), with MAX_RUNNING_PER_OWNER 4:\n\n${after.map((row) => row["QUERY PLAN"]).join("\n")}\n`,
    );
  } finally {
    await sql.close();
  }
} finally {
  await postgres.stop();
}
