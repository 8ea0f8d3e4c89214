import { loadavg } from "node:os";
import { join } from "node:path";
import { benchApiLatency } from "./apiLatency";
import { benchBigPayloads } from "./bigPayloads";
import { benchFairness } from "./fairness";
import { benchHeadToHead } from "./headToHead";
import { benchLlmUtilization } from "./llmUtilization";
import { benchPgBoss } from "./pgBoss";
import { benchPickupLatency } from "./pickupLatency";
import { benchQueueCeiling } from "./queueCeiling";
import { benchRealtime } from "./realtime";
import { benchRetentionSoak } from "./retentionSoak";
import { benchScaleToZero } from "./scaleToZero";
import { benchIdleStatements } from "./statementCount";
import { parseBenchArgs } from "./support/args";
import { describeMachine } from "./support/machine";
import { startBenchPostgres } from "./support/postgres";
import {
  type BenchResults,
  machineLine,
  pgBossTable,
  queueTable,
  resultsJson,
  summaryTable,
  verdicts,
} from "./support/report";
import { writeResultsFile } from "./support/results";

/**
 * `npm run bench`: issue 7's figures, side by side, in one run on one embedded PostgreSQL
 * (durable settings), each benchmark on a fresh database. Wiring only: each benchmark is
 * its own file. Progress goes to stderr; the table to stdout; the figures to
 * .bench/results.json (and bench/results/latest.json with --save).
 *
 * The sizes below are issue 7's. Everything is bounded: each drain has a time cap, the
 * timed runs are 60 s, and the whole run takes about 5 minutes on 2 cores (under 10).
 */
const FULL = {
  queueTasks: 10_000,
  loopCounts: [1, 4, 8],
  /**
   * Slots per loop = the most a loop claims and settles at once: 256, and 1000, the most
   * MAX_CONCURRENCY accepts (the counterpart of pg-boss's batchSize 100 and 500).
   */
  maxConcurrencies: [256, 1000],
  queueCapMs: 60_000,
  bossInstanceCounts: [1, 4, 8],
  bossBatchSizes: [10, 100, 500],
  bossSubscriptionsPerInstance: [1, 4],
  /** Slower configurations are measured over what they finish by then. */
  bossCapMs: 6_000,
  /**
   * Alternating rounds of the best of each per K (./headToHead.ts): the median is judged.
   * Five, not three: one drain of ours moved between 12,000 and 20,000 tasks/s from round to
   * round on a quiet machine, and a median of three still followed one odd round. About 10 s
   * per K more.
   */
  headToHeadRounds: 5,
  llmTasks: 200,
  llmLatencyMs: 2_000,
  llmCapacity: 8,
  timedRunMs: 60_000,
  arrivalsPerSecond: 2,
  apiRate: 50,
  apiDurationMs: 10_000,
  apiWarmupMs: 1_000,
  realtimeTasks: 100,
  realtimeAnswerWords: 300,
  zeroArrivalsPerSecond: 1,
  zeroIdleWindowMs: 60_000,
  zeroCancels: 20,
  fairnessFloodTasks: 5_000,
  fairnessOwners: 20,
  fairnessTasksPerOwner: 5,
  fairnessTaskMs: 200,
  fairnessMaxConcurrency: 8,
  fairnessArrivalGapMs: 250,
  /** Arrivals over 200 s, well past the 60 s retention, so the table reaches its bound. */
  retentionTasks: 50_000,
  retentionWaves: 25,
  retentionWaveGapMs: 8_000,
  /** The least RETENTION_SECONDS accepts. */
  retentionSeconds: 60,
  /** Big tasks: a 1 MB input and a 64 KB result (both past the inline budgets). */
  payloadTasks: 100,
  payloadInputBytes: 1_000_000,
  payloadResultBytes: 64_000,
};
const QUICK: typeof FULL = {
  ...FULL,
  queueTasks: 500,
  queueCapMs: 20_000,
  bossCapMs: 2_000,
  headToHeadRounds: 1,
  llmTasks: 24,
  timedRunMs: 10_000,
  apiDurationMs: 2_000,
  realtimeTasks: 20,
  zeroIdleWindowMs: 10_000,
  zeroCancels: 5,
  retentionTasks: 5_000,
  payloadTasks: 20,
};

const args = parseBenchArgs(process.argv.slice(2));
const sizes = args.quick ? QUICK : FULL;
const log = (line: string) => process.stderr.write(`[bench ${elapsed()}] ${line}\n`);
const startedAt = new Date();
const elapsed = () => `${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)}s`;
const loadAverageAtStart = loadavg();

const workDir = join(import.meta.dirname, "../.bench");
const postgres = await startBenchPostgres(workDir);
const freshDatabase = (name: string) => postgres.freshDatabase(name);
let results: BenchResults;
try {
  const machine = await describeMachine(postgres.server.url());
  const partial: Omit<BenchResults, "verdicts" | "finishedAt" | "wallTimeSeconds" | "machine"> = {
    startedAt: startedAt.toISOString(),
    mode: args.quick ? "quick" : "full",
  };

  // CPU-bound drains first, one at a time, so they do not compete with each other.
  if (args.only.has("queue")) {
    partial.queueCeiling = await benchQueueCeiling({
      freshDatabase,
      tasks: sizes.queueTasks,
      loopCounts: sizes.loopCounts,
      maxConcurrencies: sizes.maxConcurrencies,
      capMs: sizes.queueCapMs,
      log,
    });
  }
  if (args.only.has("pgboss")) {
    partial.pgBoss = await benchPgBoss({
      url: await freshDatabase("bench_pgboss"),
      jobs: sizes.queueTasks,
      instanceCounts: sizes.bossInstanceCounts,
      batchSizes: sizes.bossBatchSizes,
      subscriptionsPerInstance: sizes.bossSubscriptionsPerInstance,
      capMs: sizes.bossCapMs,
      log,
    });
  }
  if (partial.queueCeiling && partial.pgBoss) {
    partial.headToHead = await benchHeadToHead({
      freshDatabase,
      queueRuns: partial.queueCeiling,
      bossRuns: partial.pgBoss.bestByInstances,
      tasks: sizes.queueTasks,
      rounds: sizes.headToHeadRounds,
      capMs: sizes.queueCapMs,
      log,
    });
  }
  if (args.only.has("llm")) {
    partial.llmUtilization = await benchLlmUtilization({
      freshDatabase,
      tasks: sizes.llmTasks,
      latencyMs: sizes.llmLatencyMs,
      capacity: sizes.llmCapacity,
      log,
    });
  }
  // The 60-second runs mostly wait on timers: together, on separate databases.
  const timed: Promise<void>[] = [];
  if (args.only.has("pickup")) {
    timed.push(
      Promise.all(
        [5_000, 1_000].map((pollIntervalMs) =>
          benchPickupLatency({
            freshDatabase,
            pollIntervalMs,
            durationMs: sizes.timedRunMs,
            arrivalsPerSecond: sizes.arrivalsPerSecond,
            log,
          }),
        ),
      ).then((runs) => {
        partial.pickupLatency = runs;
      }),
    );
  }
  if (args.only.has("idle")) {
    timed.push(
      benchIdleStatements({
        freshDatabase,
        durationMs: sizes.timedRunMs,
        pollIntervalMs: 5_000,
        log,
      }).then((idle) => {
        partial.idleStatements = idle;
      }),
    );
  }
  await Promise.all(timed);
  // Issue 15's runs after the timed ones: the fairness run's pickups must not share the CPU
  // with another benchmark's, and the soak's drains would disturb the pickup runs.
  if (args.only.has("fairness")) {
    partial.fairness = await benchFairness({
      freshDatabase,
      floodTasks: sizes.fairnessFloodTasks,
      owners: sizes.fairnessOwners,
      tasksPerOwner: sizes.fairnessTasksPerOwner,
      taskMs: sizes.fairnessTaskMs,
      maxConcurrency: sizes.fairnessMaxConcurrency,
      arrivalGapMs: sizes.fairnessArrivalGapMs,
      log,
    });
  }
  if (args.only.has("retention")) {
    partial.retentionSoak = await benchRetentionSoak({
      freshDatabase,
      tasks: sizes.retentionTasks,
      waves: sizes.retentionWaves,
      waveGapMs: sizes.retentionWaveGapMs,
      retentionSeconds: sizes.retentionSeconds,
      log,
    });
  }
  if (args.only.has("api")) {
    partial.api = await benchApiLatency({
      freshDatabase,
      requestsPerSecond: sizes.apiRate,
      durationMs: sizes.apiDurationMs,
      warmupMs: sizes.apiWarmupMs,
      log,
    });
  }

  if (args.only.has("payloads")) {
    partial.payloads = await benchBigPayloads({
      freshDatabase,
      tasks: sizes.payloadTasks,
      inputBytes: sizes.payloadInputBytes,
      resultBytes: sizes.payloadResultBytes,
      log,
    });
  }

  if (args.only.has("realtime")) {
    partial.realtime = await benchRealtime({
      freshDatabase,
      tasks: sizes.realtimeTasks,
      answerWords: sizes.realtimeAnswerWords,
      log,
    });
  }

  // Last and alone: it runs the local runtime in this process, on real time.
  if (args.only.has("zero")) {
    partial.scaleToZero = await benchScaleToZero({
      freshDatabase,
      durationMs: sizes.timedRunMs,
      arrivalsPerSecond: sizes.zeroArrivalsPerSecond,
      idleWindowMs: sizes.zeroIdleWindowMs,
      cancels: sizes.zeroCancels,
      log,
    });
  }

  const finishedAt = new Date();
  const measured = {
    ...partial,
    finishedAt: finishedAt.toISOString(),
    wallTimeSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
    machine: { ...machine, loadAverageAtStart, loadAverageAtEnd: loadavg() },
  };
  results = { ...measured, verdicts: verdicts(measured) };
} finally {
  await postgres.stop();
}

const text = resultsJson(results);
await writeResultsFile(join(workDir, "results.json"), text);
if (args.save) await writeResultsFile(join(import.meta.dirname, "results/latest.json"), text);

const out = [
  "",
  summaryTable(results.verdicts),
  "",
  ...(results.queueCeiling ? [queueTable(results.queueCeiling), ""] : []),
  ...(results.pgBoss ? [pgBossTable(results.pgBoss), ""] : []),
  machineLine(results.machine),
  `wall time ${results.wallTimeSeconds} s (${results.mode} run); figures in .bench/results.json${args.save ? " and bench/results/latest.json" : ""}`,
  ...(args.quick
    ? ["--quick: small counts and short windows; figures listed, not judged (full run only)"]
    : []),
  "",
];
process.stdout.write(out.join("\n"));
