import { describe, expect, it } from "vitest";
import type { PgBossRun } from "../../../bench/pgBoss";
import type { QueueCeilingRun } from "../../../bench/queueCeiling";
import { type BenchResults, resultsJson, verdicts } from "../../../bench/support/report";

const machine: BenchResults["machine"] = {
  cpuModel: "test cpu",
  cores: 2,
  memoryGiB: 4,
  node: "v20.0.0",
  postgres: "17.0",
  platform: "linux x64",
  loadAverageAtStart: [0, 0, 0],
  loadAverageAtEnd: [0, 0, 0],
};

const base = {
  startedAt: "2026-01-01T00:00:00.000Z",
  finishedAt: "2026-01-01T00:05:00.000Z",
  wallTimeSeconds: 300,
  mode: "full" as const,
  machine,
};

const emptyCounts = { statements: 0, queries: 0, transactions: 0, byLabel: {} };

function queueRun(
  loops: number,
  tasksPerSecond: number,
  statementsPerTask = 0.01,
  maxConcurrency = 100,
): QueueCeilingRun {
  return {
    loops,
    maxConcurrency,
    tasks: 10_000,
    completed: 10_000,
    elapsedMs: 10_000_000 / tasksPerSecond,
    tasksPerSecond,
    capped: false,
    statements: emptyCounts,
    statementsPerTask,
    syncs: 100,
  };
}

function bossRun(instances: number, jobsPerSecond: number): PgBossRun {
  return {
    instances,
    subscriptions: instances * 4,
    batchSize: 500,
    jobs: 10_000,
    completed: 10_000,
    elapsedMs: 10_000_000 / jobsPerSecond,
    jobsPerSecond,
    capped: false,
  };
}

function pgBoss(bestAtK4: number) {
  const run = bossRun(4, bestAtK4);
  return {
    version: "10.4.2",
    pollingIntervalSeconds: 0.5,
    capMs: 6000,
    runs: [run],
    bestByInstances: { 4: run },
  };
}

describe("verdicts", () => {
  it("holds the queue ceiling at K=4 against pg-boss's best at K=4 only", () => {
    // Prepare
    const results = {
      ...base,
      queueCeiling: [queueRun(1, 100), queueRun(4, 5_000)],
      pgBoss: pgBoss(4_000),
    };

    // Act
    const lines = verdicts(results);

    // Assess
    const k1 = lines.find((line) => line.benchmark.includes("K=1"));
    const k4 = lines.find((line) => line.benchmark.includes("K=4 executor loops"));
    expect(k1?.met).toBeNull();
    expect(k4).toMatchObject({ figure: "5,000 tasks/s at MAX_CONCURRENCY 100", met: true });
    expect(k4?.target).toContain("4,000 jobs/s (batch 500, 16 subscriptions)");
  });

  it("compares the best MAX_CONCURRENCY at K=4, and counts statements of the worst", () => {
    // Prepare
    const results = {
      ...base,
      queueCeiling: [queueRun(4, 3_000, 0.011, 100), queueRun(4, 9_000, 0.005, 256)],
      pgBoss: pgBoss(7_000),
    };

    // Act
    const lines = verdicts(results);

    // Assess
    expect(lines.find((line) => line.benchmark.includes("K=4 executor loops"))).toMatchObject({
      figure: "9,000 tasks/s at MAX_CONCURRENCY 256 (3,000 at 100)",
      met: true,
    });
    expect(
      lines.find((line) => line.benchmark.includes("statements per completed task")),
    ).toMatchObject({ figure: "0.011", met: true });
  });

  it("says NO when pg-boss was faster, and when statements per task exceed 1.2", () => {
    // Prepare
    const results = {
      ...base,
      queueCeiling: [queueRun(4, 3_000, 1.25)],
      pgBoss: pgBoss(4_000),
    };

    // Act
    const lines = verdicts(results);

    // Assess
    expect(lines.find((line) => line.benchmark.includes("K=4 executor loops"))?.met).toBe(false);
    expect(
      lines.find((line) => line.benchmark.includes("statements per completed task")),
    ).toMatchObject({
      figure: "1.250",
      met: false,
    });
  });

  it("judges K=4 by the head to head's medians when there is one, the sweep only reported", () => {
    // Prepare: the sweep's one drain each says pg-boss; three alternating rounds say ours
    const headToHead = (
      ours: number[],
      boss: number[],
      oursMedian: number,
      bossMedian: number,
    ) => ({
      loops: 4,
      rounds: 3,
      tasks: 10_000,
      maxConcurrency: 256,
      bossSubscriptions: 16,
      bossBatchSize: 500,
      ours,
      boss,
      oursMedian,
      bossMedian,
    });
    const ahead = {
      ...base,
      queueCeiling: [queueRun(4, 9_000, 0.005, 256)],
      pgBoss: pgBoss(15_000),
      headToHead: [headToHead([14_000, 9_000, 13_000], [12_000, 15_000, 11_000], 13_000, 12_000)],
    };
    const behind = {
      ...ahead,
      headToHead: [headToHead([9_000, 9_500, 10_000], [12_000, 15_000, 11_000], 9_500, 12_000)],
    };

    // Act
    const aheadLines = verdicts(ahead);
    const behindLines = verdicts(behind);

    // Assess
    const sweep = aheadLines.find((line) => line.benchmark.includes("K=4 executor loops, sweep"));
    expect(sweep?.met).toBeNull();
    expect(aheadLines.find((line) => line.benchmark.includes("K=4, head to head"))).toEqual({
      benchmark:
        "queue ceiling, K=4, head to head: each side's best configuration, 10,000 tasks, 3 alternating rounds, median",
      figure: "13,000 tasks/s (MAX_CONCURRENCY 256; rounds 14,000, 9,000, 13,000)",
      target:
        ">= pg-boss: 12,000 jobs/s (batch 500, 16 subscriptions; rounds 12,000, 15,000, 11,000)",
      met: true,
    });
    expect(behindLines.find((line) => line.benchmark.includes("head to head"))?.met).toBe(false);
  });

  it("fails a pickup run whose p95 exceeds the poll interval or that left tasks behind", () => {
    // Prepare
    const latency = { count: 100, min: 1, p50: 500, p95: 990, p99: 1_000, max: 1_010, mean: 500 };
    const results = {
      ...base,
      pickupLatency: [
        {
          pollIntervalMs: 1_000,
          durationMs: 60_000,
          arrivalsPerSecond: 2,
          created: 100,
          pickedUp: 100,
          latencyMs: latency,
        },
        {
          pollIntervalMs: 1_000,
          durationMs: 60_000,
          arrivalsPerSecond: 2,
          created: 101,
          pickedUp: 100,
          latencyMs: latency,
        },
        {
          pollIntervalMs: 1_000,
          durationMs: 60_000,
          arrivalsPerSecond: 2,
          created: 100,
          pickedUp: 100,
          latencyMs: { ...latency, p95: 1_001 },
        },
      ],
    };

    // Act
    const lines = verdicts(results);

    // Assess
    expect(lines.map((line) => line.met)).toEqual([true, false, false]);
    expect(lines[0]?.figure).toBe("p50 500 ms, p95 990 ms, max 1,010 ms");
  });
});

describe("verdicts of a quick run", () => {
  it("gives the idle figure per minute and judges nothing, where a full run says NO", () => {
    // Prepare
    const idleStatements = {
      durationMs: 10_000,
      pollIntervalMs: 5_000,
      statements: { ...emptyCounts, statements: 3 },
      statementsPerMinute: 18,
    };
    const quick = { ...base, mode: "quick" as const, idleStatements };
    const full = { ...base, idleStatements };

    // Act
    const [quickLine] = verdicts(quick);
    const [fullLine] = verdicts(full);

    // Assess
    expect(quickLine).toMatchObject({
      figure: "3 in 10 s (18.0/min)",
      target: "<= 14 (full run only)",
      met: null,
    });
    expect(fullLine).toMatchObject({ target: "<= 14", met: false });
  });
});

describe("verdicts of issue 15's runs", () => {
  const pickup = (p95: number) => ({
    count: 100,
    min: 10,
    p50: 100,
    p95,
    p99: p95,
    max: p95,
    mean: 150,
  });

  it("judges the spread-out pickups against 2 s, reports the burst, and wants the soak's table emptied", () => {
    // Prepare
    const fairness = {
      floodTasks: 5_000,
      owners: 20,
      tasksPerOwner: 5,
      taskMs: 200,
      maxConcurrency: 8,
      spread: { pickupMs: pickup(300), floodPendingAfter: 4_800 },
      burst: { pickupMs: pickup(2_700), floodPendingAfter: 4_790 },
    };
    const soak = (finalRows: number) => ({
      tasks: 50_000,
      retentionSeconds: 60,
      completed: 50_000,
      deleted: 50_000 - finalRows,
      peakRows: 16_000,
      finalRows,
      durationMs: 260_000,
    });

    // Act
    const [spread, burst, emptied] = verdicts({ ...base, fairness, retentionSoak: soak(0) });
    const [slow] = verdicts({
      ...base,
      fairness: { ...fairness, spread: { ...fairness.spread, pickupMs: pickup(2_500) } },
    });
    const [, , leftOver] = verdicts({ ...base, fairness, retentionSoak: soak(10) });

    // Assess
    expect(spread).toMatchObject({ target: "p95 <= 2,000 ms", met: true });
    expect(slow?.met).toBe(false);
    expect(burst?.met).toBeNull();
    expect(burst?.figure).toContain("p95 2,700 ms");
    expect(emptied).toMatchObject({
      figure: "rows peaked at 16,000, 0 left (50,000 deleted)",
      met: true,
    });
    expect(leftOver?.met).toBe(false);
  });
});

describe("resultsJson", () => {
  it("cuts fractions to 3 decimals and keeps whole numbers", () => {
    // Prepare
    const results = {
      ...base,
      wallTimeSeconds: 301,
      verdicts: [],
      machine: { ...machine, memoryGiB: 23.456789 },
    };

    // Act
    const parsed = JSON.parse(resultsJson(results));

    // Assess
    expect(parsed.machine.memoryGiB).toBe(23.457);
    expect(parsed.wallTimeSeconds).toBe(301);
  });
});
