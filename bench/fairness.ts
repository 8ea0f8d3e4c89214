import pg from "pg";
import { createPgSqlPort } from "../functions/core/sql/pgAdapter";
import { TaskStore } from "../functions/core/tasks/store";
import { createTaskTypeRegistry } from "../functions/core/taskTypes/registry";
import { BENCH_MODEL, startExecutorFleet } from "./support/executors";
import { delayedNoopTaskType } from "./support/noopTaskType";
import { type Distribution, distribution } from "./support/stats";
import { waitUntil } from "./support/taskRows";

/**
 * Fairness across owners (issue 15): one owner floods the queue with 5,000 tasks of a type
 * that takes 200 ms (an LLM call's stand-in), one executor with MAX_CONCURRENCY 8 drains
 * it (40 tasks/s, so the flood lasts about two minutes), and while it drains 20 other
 * owners create 5 tasks each through the store, as the API does: first spread out (one
 * owner every 250 ms), then all 100 at once. Their pickup latency (the pipeline's own
 * definition, first_started_at - first_due_at) is the figure; under the old FIFO claim
 * each would wait behind the whole flood (about 125 s).
 *
 * All 100 at once is bounded by the slots, not the claim: 100 tasks through 8 slots of
 * 200 ms take 2.5 s even if every slot goes to them, so its p95 cannot be under ~2.2 s.
 */
export interface FairnessOptions {
  freshDatabase(name: string): Promise<string>;
  floodTasks: number;
  owners: number;
  tasksPerOwner: number;
  taskMs: number;
  maxConcurrency: number;
  /** Between one small owner's arrival and the next, in the spread-out phase. */
  arrivalGapMs: number;
  log: (line: string) => void;
}

export interface FairnessPhase {
  /** Pickup latency of the small owners' tasks, ms. */
  pickupMs: Distribution;
  /** The flood's tasks still pending when the phase's last small task was picked up. */
  floodPendingAfter: number;
}

export interface FairnessResult {
  floodTasks: number;
  owners: number;
  tasksPerOwner: number;
  taskMs: number;
  maxConcurrency: number;
  spread: FairnessPhase;
  burst: FairnessPhase;
}

const TYPE = "bench_slow_noop";
const FLOOD_OWNER = "flood";

export async function benchFairness(options: FairnessOptions): Promise<FairnessResult> {
  const url = await options.freshDatabase("bench_fairness");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const sql = createPgSqlPort({ connectionString: url, max: 8 });
  const store = new TaskStore(sql);
  const registry = createTaskTypeRegistry();
  registry.register(delayedNoopTaskType(TYPE, options.taskMs));
  try {
    await client.query(
      `INSERT INTO tasks (owner, type, input, model)
       SELECT $1, $2, '{}'::jsonb, $3 FROM generate_series(1, $4)`,
      [FLOOD_OWNER, TYPE, BENCH_MODEL, options.floodTasks],
    );
    await client.query("ANALYZE tasks");
    const fleet = startExecutorFleet({
      url,
      loops: 1,
      registry,
      settings: { MAX_CONCURRENCY: options.maxConcurrency },
      maxRunMs: 120_000,
      workerPrefix: "bench-fairness",
    });
    try {
      // The flood has the executor to itself for a while first.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const create = (phase: string, owner: number) =>
        Promise.all(
          Array.from({ length: options.tasksPerOwner }, () =>
            store.create({
              owner: `${phase}-${owner}`,
              type: TYPE,
              title: null,
              input: {},
              priority: 0,
              runAt: null,
              maxAttempts: 3,
              model: BENCH_MODEL,
              idempotencyKey: null,
            }),
          ),
        );
      const phase = async (name: string, gapMs: number): Promise<FairnessPhase> => {
        for (let owner = 0; owner < options.owners; owner++) {
          await create(name, owner);
          if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
        }
        const count = options.owners * options.tasksPerOwner;
        const picked = async () => {
          const { rows } = await client.query<{ ms: string | null }>(
            `SELECT extract(epoch FROM first_started_at - first_due_at) * 1000 AS ms
             FROM tasks WHERE owner LIKE $1 || '-%'`,
            [name],
          );
          return rows.filter((row) => row.ms !== null).map((row) => Number(row.ms));
        };
        await waitUntil(async () => (await picked()).length >= count, 60_000, 50);
        const { rows } = await client.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM tasks WHERE owner = $1 AND status = 'pending'",
          [FLOOD_OWNER],
        );
        const result = {
          pickupMs: distribution(await picked()),
          floodPendingAfter: rows[0]?.n ?? 0,
        };
        options.log(
          `fairness (${name}): ${count} tasks of ${options.owners} owners beside a ${options.floodTasks}-task flood: pickup p50 ${result.pickupMs.p50.toFixed(0)} ms, p95 ${result.pickupMs.p95.toFixed(0)} ms, max ${result.pickupMs.max.toFixed(0)} ms; flood still pending: ${result.floodPendingAfter}`,
        );
        return result;
      };
      const spread = await phase("spread", options.arrivalGapMs);
      const burst = await phase("burst", 0);
      return {
        floodTasks: options.floodTasks,
        owners: options.owners,
        tasksPerOwner: options.tasksPerOwner,
        taskMs: options.taskMs,
        maxConcurrency: options.maxConcurrency,
        spread,
        burst,
      };
    } finally {
      await fleet.stop();
    }
  } finally {
    await sql.close();
    await client.end();
  }
}
