import type { ApiLatencyResult } from "../apiLatency";
import type { BigPayloadsResult } from "../bigPayloads";
import type { FairnessResult } from "../fairness";
import type { HeadToHeadResult } from "../headToHead";
import type { LlmUtilizationResult } from "../llmUtilization";
import type { PgBossResult, PgBossRun } from "../pgBoss";
import type { PickupLatencyResult } from "../pickupLatency";
import type { QueueCeilingRun } from "../queueCeiling";
import type { RealtimeBenchResult } from "../realtime";
import type { RetentionSoakResult } from "../retentionSoak";
import type { ScaleToZeroResult } from "../scaleToZero";
import type { IdleStatementsResult } from "../statementCount";
import type { Machine } from "./machine";
import { formatJson } from "./results";
import { bestOf } from "./stats";
import { formatTable } from "./table";

/** Everything one run measured; what `.bench/results.json` holds. */
export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  wallTimeSeconds: number;
  mode: "full" | "quick";
  machine: Machine & { loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  queueCeiling?: QueueCeilingRun[];
  pgBoss?: PgBossResult;
  headToHead?: HeadToHeadResult[];
  llmUtilization?: LlmUtilizationResult;
  idleStatements?: IdleStatementsResult;
  pickupLatency?: PickupLatencyResult[];
  api?: ApiLatencyResult;
  realtime?: RealtimeBenchResult;
  scaleToZero?: ScaleToZeroResult;
  fairness?: FairnessResult;
  retentionSoak?: RetentionSoakResult;
  payloads?: BigPayloadsResult;
  verdicts: Verdict[];
}

/** One line of the summary table. `met` is null for figures reported without a target. */
export interface Verdict {
  benchmark: string;
  figure: string;
  target: string;
  met: boolean | null;
}

/** The targets of issue 7, checked against the figures of this run. */
export const TARGETS = {
  llmUtilization: 0.95,
  statementsPerTask: 1.2,
  /** 12 polls at 5 s, the queue statistics, and retention's one sweep (issue 15). */
  statementsPerIdleMinute: 14,
  /** Issue 15: small owners' pickup p95 beside one owner's flood. */
  fairPickupP95Ms: 2_000,
  /** Issue 13: with scale to zero, through the local runtime at the default 5 s poll. */
  wokenPickupP95Ms: 1_000,
  wokenPickupP50Ms: 100,
  cancelToAbortP95Ms: 2_000,
} as const;

const int = (value: number) => Math.round(value).toLocaleString("en-US");
const ms = (value: number) => `${int(value)} ms`;

/**
 * A quick run's figures are listed without a verdict: its windows are too short to hold a
 * target. Scaling a target instead does not work: the idle target (13 statements a
 * minute) scaled to the quick 10 s is 2.2 statements, while a 5 s poll makes 2 or 3 in
 * 10 s depending on where the window starts, so the verdict would be a coin toss; the
 * drains' 500 tasks are over before the loops reach their pace.
 */
export function verdicts(results: Omit<BenchResults, "verdicts">): Verdict[] {
  const judged = judge(results);
  if (results.mode === "full") return judged;
  return judged.map((line) => ({
    ...line,
    target: `${line.target} (full run only)`,
    met: null,
  }));
}

function judge(results: Omit<BenchResults, "verdicts">): Verdict[] {
  const lines: Verdict[] = [];
  const bossBest = results.pgBoss?.bestByInstances ?? {};

  const queueRuns = results.queueCeiling ?? [];
  for (const loops of [...new Set(queueRuns.map((run) => run.loops))]) {
    const runs = queueRuns.filter((run) => run.loops === loops);
    const best = bestOf(runs, (run) => run.tasksPerSecond);
    const others = runs
      .filter((run) => run !== best)
      .map((run) => `${int(run.tasksPerSecond)} at ${run.maxConcurrency}`);
    const figure = `${int(best.tasksPerSecond)} tasks/s at MAX_CONCURRENCY ${best.maxConcurrency}${others.length ? ` (${others.join(", ")})` : ""}${best.capped ? ` (capped: ${best.completed}/${best.tasks})` : ""}`;
    const boss = bossBest[loops];
    const benchmark = `queue ceiling, K=${loops} executor loop${loops === 1 ? "" : "s"}`;
    const headToHead = results.headToHead?.find((h) => h.loops === loops);
    if (headToHead) {
      // One drain each is one noisy second: the verdict is the head to head's (below).
      lines.push({
        benchmark: `${benchmark}, sweep (one drain per configuration)`,
        figure,
        target: boss ? `(pg-boss best at K=${loops}: ${describeBoss(boss)})` : "-",
        met: null,
      });
      lines.push(headToHeadVerdict(headToHead, loops === 4));
    } else if (loops === 4) {
      lines.push({
        benchmark,
        figure,
        target: boss
          ? `>= pg-boss best at K=4: ${describeBoss(boss)}`
          : ">= pg-boss best at K=4 (not run)",
        met: boss ? best.tasksPerSecond >= boss.jobsPerSecond : null,
      });
    } else {
      lines.push({
        benchmark,
        figure,
        target: boss ? `(pg-boss best at K=${loops}: ${describeBoss(boss)})` : "-",
        met: null,
      });
    }
  }

  const llm = results.llmUtilization;
  if (llm) {
    lines.push({
      benchmark: `LLM utilization (${llm.tasks} summarize tasks, ${llm.latencyMs / 1000} s answers, room for ${llm.capacity})`,
      figure: `${llm.tasksPerSecond.toFixed(2)} tasks/s of ${llm.idealTasksPerSecond}/s = ${(llm.utilization * 100).toFixed(1)}%`,
      target: `>= ${TARGETS.llmUtilization * 100}%`,
      met: llm.completed === llm.tasks && llm.utilization >= TARGETS.llmUtilization,
    });
  }

  const loaded: { label: string; perTask: number }[] = [];
  // The worst of the K=4 drains: the smaller batches cost more statements per task.
  const queueK4 = queueRuns.filter((run) => run.loops === 4);
  if (queueK4.length > 0) {
    const worst = bestOf(queueK4, (run) => run.statementsPerTask);
    loaded.push({
      label: `no-op backlog, K=4, MAX_CONCURRENCY ${worst.maxConcurrency}`,
      perTask: worst.statementsPerTask,
    });
  }
  if (llm) loaded.push({ label: "LLM backlog, 1 loop", perTask: llm.statementsPerTask });
  for (const { label, perTask } of loaded) {
    lines.push({
      benchmark: `SQL statements per completed task (${label})`,
      figure: perTask.toFixed(3),
      target: `<= ${TARGETS.statementsPerTask}`,
      met: perTask <= TARGETS.statementsPerTask,
    });
  }

  const idle = results.idleStatements;
  if (idle) {
    lines.push({
      benchmark: `SQL statements per idle minute, 1 executor (${idle.pollIntervalMs / 1000} s poll)`,
      // Per minute too, the target's unit: a quick run's window is 10 s, not 60.
      figure: `${idle.statements.statements} in ${idle.durationMs / 1000} s (${idle.statementsPerMinute.toFixed(1)}/min)`,
      target: `<= ${TARGETS.statementsPerIdleMinute}`,
      met: idle.statementsPerMinute <= TARGETS.statementsPerIdleMinute,
    });
  }

  for (const pickup of results.pickupLatency ?? []) {
    const d = pickup.latencyMs;
    lines.push({
      benchmark: `pickup latency, ${pickup.pollIntervalMs / 1000} s poll (${pickup.pickedUp} tasks over ${pickup.durationMs / 1000} s)`,
      figure: d ? `p50 ${ms(d.p50)}, p95 ${ms(d.p95)}, max ${ms(d.max)}` : "none picked up",
      target: `p95 <= ${ms(pickup.pollIntervalMs)}`,
      met: d !== null && pickup.pickedUp === pickup.created && d.p95 <= pickup.pollIntervalMs,
    });
  }

  const api = results.api;
  if (api) {
    const d = api.latencyMs;
    const failed = api.sent - api.created;
    lines.push({
      benchmark: `API POST /api/tasks at ${api.requestsPerSecond} req/s for ${api.durationMs / 1000} s`,
      figure: d
        ? `p50 ${d.p50.toFixed(1)} ms, p99 ${d.p99.toFixed(1)} ms${failed ? `, ${failed} not 201` : ""}`
        : "no answers",
      target: "(reported; every request 201)",
      met: failed === 0 ? null : false,
    });
  }
  if (results.realtime) {
    const r = results.realtime;
    const d = r.statusDelayMs;
    lines.push(
      {
        benchmark: "real time, publishes per completed task",
        figure: `${r.publishesPerTask.toFixed(1)} (${r.outputEventsPerTask.toFixed(1)} output events a task; ${r.completed}/${r.tasks} tasks)`,
        target: "-",
        met: null,
      },
      {
        benchmark: "real time, status change → subscriber",
        figure: d ? `p50 ${d.p50.toFixed(1)} ms, p95 ${d.p95.toFixed(1)} ms` : "none received",
        target: "-",
        met: null,
      },
    );
  }
  if (results.scaleToZero) lines.push(...scaleToZeroLines(results.scaleToZero));
  lines.push(...fairnessLines(results));
  return lines;
}

function fairnessLines(results: Omit<BenchResults, "verdicts">): Verdict[] {
  const lines: Verdict[] = [];
  const fair = results.fairness;
  if (fair) {
    const about = `${fair.owners} owners x ${fair.tasksPerOwner} tasks beside a ${int(fair.floodTasks)}-task flood (${fair.taskMs} ms tasks, MAX_CONCURRENCY ${fair.maxConcurrency})`;
    const d = fair.spread.pickupMs;
    lines.push({
      benchmark: `fair pickup, ${about}, owners arriving one by one`,
      figure: `p50 ${ms(d.p50)}, p95 ${ms(d.p95)}, max ${ms(d.max)} (flood still pending: ${int(fair.spread.floodPendingAfter)})`,
      target: `p95 <= ${ms(TARGETS.fairPickupP95Ms)}`,
      met: d.p95 <= TARGETS.fairPickupP95Ms && fair.spread.floodPendingAfter > 0,
    });
    const b = fair.burst.pickupMs;
    lines.push({
      benchmark: `fair pickup, ${about}, all arriving at once`,
      figure: `p50 ${ms(b.p50)}, p95 ${ms(b.p95)}, max ${ms(b.max)} (flood still pending: ${int(fair.burst.floodPendingAfter)})`,
      target: "(reported: the slots bound it, not the claim)",
      met: null,
    });
  }
  const soak = results.retentionSoak;
  if (soak) {
    lines.push({
      benchmark: `retention soak: ${int(soak.tasks)} tasks completed, RETENTION_SECONDS ${soak.retentionSeconds}`,
      figure: `rows peaked at ${int(soak.peakRows)}, ${int(soak.finalRows)} left (${int(soak.deleted)} deleted)`,
      target: "bounded: peak below the tasks created, none left",
      met: soak.peakRows < soak.tasks && soak.finalRows === 0,
    });
  }
  if (results.payloads) lines.push(...payloadLines(results.payloads));
  return lines;
}

function payloadLines(p: BigPayloadsResult): Verdict[] {
  const kb = (bytes: number) => `${int(bytes / 1000)} KB`;
  return [p.small, p.big].map((run) => ({
    benchmark: `payloads, ${run.label}: ${int(run.tasks)} tasks, ${kb(run.inputBytes)} in, ${kb(run.resultBytes)} out, created, run, read once, deleted`,
    figure:
      `${run.statementsPerTask.total.toFixed(2)} statements/task (create ${run.statementsPerTask.create.toFixed(2)}, run ${run.statementsPerTask.run.toFixed(2)}, read ${run.statementsPerTask.read.toFixed(2)}, retention ${run.statementsPerTask.retention.toFixed(3)}); ` +
      `S3 ${run.storeRequestsPerTask.puts.toFixed(2)} PUT + ${run.storeRequestsPerTask.gets.toFixed(2)} GET + ${run.storeRequestsPerTask.deletes.toFixed(3)} DeleteObjects per task; ` +
      `row ${int(run.rowBytesPerTask)} B + objects ${int(run.objectBytesPerTask)} B per task, ${(run.byteOverhead * 100).toFixed(1)}% over the payload`,
    target: "(reported: same statements as an inline task)",
    met: null,
  }));
}

function scaleToZeroLines(z: ScaleToZeroResult): Verdict[] {
  const pickup = z.pickupLatencyMs;
  const cancel = z.cancelToAbortMs;
  return [
    {
      benchmark: `scale to zero: pickup, woken on create (${z.pollIntervalMs / 1000} s poll, ${z.pickedUp}/${z.created} tasks)`,
      figure: pickup
        ? `p50 ${ms(pickup.p50)}, p95 ${ms(pickup.p95)}, max ${ms(pickup.max)}`
        : "nothing picked up",
      target: `p95 <= ${ms(TARGETS.wokenPickupP95Ms)}, p50 <= ${ms(TARGETS.wokenPickupP50Ms)}`,
      met:
        pickup !== null &&
        z.pickedUp === z.created &&
        pickup.p95 <= TARGETS.wokenPickupP95Ms &&
        pickup.p50 <= TARGETS.wokenPickupP50Ms,
    },
    {
      benchmark: "scale to zero: statements per idle minute (scans of the tasks table)",
      figure: `${z.idleTaskScans} in ${z.idleWindowSeconds} s (database transactions, with the bench's own 2 reads and autovacuum's: ${z.idleTransactions})`,
      target: "0",
      met: z.idleTaskScans === 0,
    },
    {
      benchmark: `scale to zero: cancel → LLM call aborted (${z.cancels} cancels)`,
      figure: cancel ? `p50 ${ms(cancel.p50)}, p95 ${ms(cancel.p95)}` : "none",
      target: `p95 <= ${ms(TARGETS.cancelToAbortP95Ms)}`,
      met: cancel !== null && cancel.p95 <= TARGETS.cancelToAbortP95Ms,
    },
  ];
}

/**
 * The sweep's best of each, drained again in alternating rounds; at K = 4 the target is to
 * be ahead (issue 7: the queue's ceiling at least pg-boss's best in the same run).
 */
function headToHeadVerdict(h: HeadToHeadResult, judged: boolean): Verdict {
  const rounds = (values: readonly number[]) => values.map(int).join(", ");
  return {
    benchmark: `queue ceiling, K=${h.loops}, head to head: each side's best configuration, ${h.tasks.toLocaleString("en-US")} tasks, ${h.rounds} alternating rounds, median`,
    figure: `${int(h.oursMedian)} tasks/s (MAX_CONCURRENCY ${h.maxConcurrency}; rounds ${rounds(h.ours)})`,
    target: `${judged ? ">= " : "(reported) "}pg-boss: ${int(h.bossMedian)} jobs/s (batch ${h.bossBatchSize}, ${h.bossSubscriptions} subscriptions; rounds ${rounds(h.boss)})`,
    met: judged ? h.oursMedian >= h.bossMedian : null,
  };
}

function describeBoss(run: PgBossRun): string {
  return `${int(run.jobsPerSecond)} jobs/s (batch ${run.batchSize}, ${run.subscriptions} subscriptions)`;
}

export function summaryTable(lines: readonly Verdict[]): string {
  return formatTable(
    ["benchmark", "figure", "target", "met?"],
    lines.map((line) => [line.benchmark, line.figure, line.target, metCell(line.met)]),
  );
}

export function queueTable(runs: readonly QueueCeilingRun[]): string {
  return formatTable(
    ["executor loops K", "MAX_CONCURRENCY", "tasks/s", "completed", "statements/task"],
    runs.map((run) => [
      String(run.loops),
      String(run.maxConcurrency),
      int(run.tasksPerSecond),
      `${run.completed}/${run.tasks}${run.capped ? " (capped)" : ""}`,
      run.statementsPerTask.toFixed(3),
    ]),
  );
}

export function pgBossTable(result: PgBossResult): string {
  return formatTable(
    ["pg-boss K", "subscriptions", "batchSize", "jobs/s", "completed"],
    result.runs.map((run) => [
      String(run.instances),
      String(run.subscriptions),
      String(run.batchSize),
      int(run.jobsPerSecond),
      `${run.completed}/${run.jobs}${run.capped ? ` (stopped at ${result.capMs / 1000} s)` : ""}`,
    ]),
  );
}

export function machineLine(machine: BenchResults["machine"]): string {
  return `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}, PostgreSQL ${machine.postgres} (embedded, durable: fsync and synchronous_commit on); load average at start ${machine.loadAverageAtStart.map((n) => n.toFixed(2)).join(" ")}`;
}

function metCell(met: boolean | null): string {
  if (met === null) return "-";
  return met ? "yes" : "NO";
}

/** The results as `.bench/results.json` holds them. */
export function resultsJson(results: BenchResults): string {
  return formatJson(results);
}
