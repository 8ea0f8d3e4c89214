import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { systemClock } from "../functions/core/clock";
import { noFailedTaskNotifier } from "../functions/core/executor/failedTasks";
import { runExecutor } from "../functions/core/executor/loop";
import { ClaimCheckTasks } from "../functions/core/payloads/claimCheckTasks";
import { FileSystemPayloadStore } from "../functions/core/payloads/fileSystemPayloadStore";
import type { PayloadStore } from "../functions/core/payloads/port";
import { createPgSqlPort } from "../functions/core/sql/pgAdapter";
import type { NewTask } from "../functions/core/tasks/model";
import { TaskStore } from "../functions/core/tasks/store";
import { createTaskTypeRegistry } from "../functions/core/taskTypes/registry";
import type { TaskType } from "../functions/core/taskTypes/types";
import { noMetrics, silentLogger } from "../functions/core/telemetry/ports";
import { countStatements } from "./support/countingSqlPort";
import { BENCH_MODEL, defaultLoopSettings } from "./support/executors";

/**
 * Big inputs and results (the claim check), against small ones in the same run: each task
 * created through the store as the API creates it, run by the real executor loop with a
 * task type that answers a result of a given size (no LLM: the figures are the store's),
 * read back once as a client would, then deleted by retention. Counted: SQL statements
 * (what the Data API bills) and payload store requests (S3's) per task, and the bytes kept:
 * the row's reference plus the object, against the payload's own size.
 */
export interface BigPayloadsOptions {
  freshDatabase(name: string): Promise<string>;
  tasks: number;
  inputBytes: number;
  resultBytes: number;
  log: (line: string) => void;
}

export interface PayloadRun {
  label: string;
  tasks: number;
  inputBytes: number;
  resultBytes: number;
  statementsPerTask: {
    create: number;
    run: number;
    read: number;
    retention: number;
    total: number;
  };
  storeRequestsPerTask: { puts: number; gets: number; deletes: number };
  /** Bytes kept per task: in the row (input and result as printed) and as objects. */
  rowBytesPerTask: number;
  objectBytesPerTask: number;
  /** (row + objects) / (input + result) - 1: what keeping them costs beyond the payload. */
  byteOverhead: number;
}

export interface BigPayloadsResult {
  small: PayloadRun;
  big: PayloadRun;
}

/** A task type that answers `{text}` of the size its input asks for. */
const EchoInputSchema = z.object({ text: z.string(), answerBytes: z.int() });
const echoType: TaskType<z.infer<typeof EchoInputSchema>, { text: string }> = {
  name: "echo",
  description: "Answers a text of the size asked for (the payload bench).",
  input: EchoInputSchema,
  output: z.object({ text: z.string() }),
  async run(input) {
    return {
      text: "r".repeat(input.answerBytes),
      model: BENCH_MODEL,
      usage: { promptTokens: 0, completionTokens: 0 },
      durationMs: 0,
    };
  },
};

/** A payload store that counts its requests and the bytes it holds. */
function countingStore(inner: PayloadStore) {
  const counts = { puts: 0, gets: 0, deletes: 0, bytesPut: 0 };
  const store: PayloadStore = {
    async put(key, bytes) {
      counts.puts += 1;
      counts.bytesPut += bytes.byteLength;
      await inner.put(key, bytes);
    },
    async get(key) {
      counts.gets += 1;
      return inner.get(key);
    },
    async delete(keys) {
      // S3 DeleteObjects: one request per 1,000 keys.
      counts.deletes += Math.ceil(keys.length / 1_000);
      await inner.delete(keys);
    },
  };
  return { store, counts };
}

export async function benchBigPayloads(options: BigPayloadsOptions): Promise<BigPayloadsResult> {
  const small = await measure(options, "small (inline)", 2_000, 2_000);
  const big = await measure(options, "big (claim check)", options.inputBytes, options.resultBytes);
  return { small, big };
}

async function measure(
  options: BigPayloadsOptions,
  label: string,
  inputBytes: number,
  resultBytes: number,
): Promise<PayloadRun> {
  const url = await options.freshDatabase(`bench_payloads_${inputBytes}`);
  const dir = await mkdtemp(join(tmpdir(), "bench-payloads-"));
  const pool = createPgSqlPort({ connectionString: url, max: 4 });
  const counting = countStatements(pool);
  const { store, counts } = countingStore(new FileSystemPayloadStore(dir));
  const tasks = new ClaimCheckTasks(new TaskStore(counting.port), store);
  const n = options.tasks;
  try {
    options.log(`payloads: ${label}, ${n} tasks of ${inputBytes} B in, ${resultBytes} B out`);
    const newTask = (i: number): NewTask => ({
      owner: `owner-${i % 10}`,
      type: "echo",
      title: null,
      input: { text: "i".repeat(inputBytes), answerBytes: resultBytes },
      priority: 0,
      runAt: null,
      maxAttempts: 3,
      model: BENCH_MODEL,
      idempotencyKey: null,
    });
    const phase = async (fn: () => Promise<void>) => {
      counting.reset();
      await fn();
      return counting.counts().statements;
    };

    const ids: { owner: string; id: string }[] = [];
    const create = await phase(async () => {
      for (let i = 0; i < n; i++) ids.push((await tasks.create(newTask(i))).task);
    });

    const run = await phase(async () => {
      const stop = new AbortController();
      const settings = defaultLoopSettings({ MAX_CONCURRENCY: 8, POLL_INTERVAL_MS: 200 });
      const done = runExecutor(
        {
          tasks,
          registry: createTaskTypeRegistry([echoType]),
          llm: undefined as never,
          clock: systemClock,
          logger: silentLogger,
          metrics: noMetrics,
          notifier: noFailedTaskNotifier,
          settings,
          workerId: `bench-payloads-${inputBytes}`,
          signal: stop.signal,
        },
        120_000,
      );
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const [row] = await pool.query<{ n: number | string }>(
          "SELECT count(*) AS n FROM tasks WHERE status <> 'completed'",
        );
        if (Number(row?.n) === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      stop.abort();
      await done;
    });

    const read = await phase(async () => {
      for (const { owner, id } of ids) await tasks.get(owner, id);
    });
    const [bytes] = await pool.query<{ row_bytes: number | string }>(
      "SELECT sum(octet_length(input::text) + coalesce(octet_length(result::text), 0)) AS row_bytes FROM tasks",
    );
    const [payload] = await pool.query<{ payload: number | string }>(
      "SELECT count(*) FILTER (WHERE status = 'completed') AS payload FROM tasks",
    );
    const completed = Number(payload?.payload);
    const bytesPut = counts.bytesPut;

    await pool.query("UPDATE tasks SET completed_at = now() - interval '2 days'");
    const retention = await phase(async () => {
      await tasks.deleteExpired({ retentionSeconds: 86_400, batch: 10_000 });
    });

    // The payload as sent, printed: the input object and the result object.
    const payloadBytes =
      JSON.stringify({ text: "i".repeat(inputBytes), answerBytes: resultBytes }).length +
      JSON.stringify({ text: "r".repeat(resultBytes) }).length;
    const rowBytesPerTask = Number(bytes?.row_bytes) / n;
    const objectBytesPerTask = bytesPut / n;
    if (completed !== n) options.log(`payloads: only ${completed}/${n} completed`);
    return {
      label,
      tasks: n,
      inputBytes,
      resultBytes,
      statementsPerTask: {
        create: create / n,
        run: run / n,
        read: read / n,
        retention: retention / n,
        total: (create + run + read + retention) / n,
      },
      storeRequestsPerTask: {
        puts: counts.puts / n,
        gets: counts.gets / n,
        deletes: counts.deletes / n,
      },
      rowBytesPerTask,
      objectBytesPerTask,
      byteOverhead: (rowBytesPerTask + objectBytesPerTask) / payloadBytes - 1,
    };
  } finally {
    options.log(
      `payloads: ${label}: S3 ${counts.puts} PUT, ${counts.gets} GET, ${counts.deletes} DeleteObjects`,
    );
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  }
}
