import { openPgBossBench, type PgBossRun, pgBossConfigOf } from "./pgBoss";
import { drainQueue, type QueueCeilingRun } from "./queueCeiling";
import { bestOf, median } from "./support/stats";

/**
 * The queue against pg-boss, head to head: for each K, the best configuration of each
 * sweep (queueCeiling.ts, pgBoss.ts) drains the same number of no-op tasks again, in
 * `rounds` alternating rounds (ours first in odd rounds, pg-boss first in even ones), and
 * each side's median is its figure.
 *
 * Why: one drain of 10,000 tasks lasts about a second, so a single sample of each moves
 * by a third with whatever else the machine does in that second (measured: our K = 4
 * between 9,400 and 14,300 tasks/s on the same quiet machine, pg-boss's best between
 * 11,900 and 15,300), and the sweeps measure ours first and pg-boss a minute later.
 * Alternating cancels the drift between the two; the median drops the one odd second.
 */
export interface HeadToHeadOptions {
  freshDatabase(name: string): Promise<string>;
  /** The sweeps' runs: the best of each per K is what meets. */
  queueRuns: readonly QueueCeilingRun[];
  bossRuns: Readonly<Record<string, PgBossRun>>;
  tasks: number;
  rounds: number;
  capMs: number;
  log: (line: string) => void;
}

export interface HeadToHeadResult {
  loops: number;
  rounds: number;
  tasks: number;
  /** Our configuration: MAX_CONCURRENCY per loop. */
  maxConcurrency: number;
  /** pg-boss's: subscriptions in all and their batch size. */
  bossSubscriptions: number;
  bossBatchSize: number;
  /** Tasks (jobs) per second, round by round. */
  ours: number[];
  boss: number[];
  oursMedian: number;
  bossMedian: number;
}

export async function benchHeadToHead(options: HeadToHeadOptions): Promise<HeadToHeadResult[]> {
  const boss = await openPgBossBench(
    await options.freshDatabase("bench_head_to_head_pgboss"),
    options.log,
  );
  const results: HeadToHeadResult[] = [];
  try {
    for (const loops of [...new Set(options.queueRuns.map((run) => run.loops))]) {
      const bossBest = options.bossRuns[loops];
      if (!bossBest) continue;
      const oursBest = bestOf(
        options.queueRuns.filter((run) => run.loops === loops),
        (run) => run.tasksPerSecond,
      );
      const ours: number[] = [];
      const theirs: number[] = [];
      const runOurs = async (round: number) => {
        const run = await drainQueue(
          options,
          loops,
          oursBest.maxConcurrency,
          options.tasks,
          `bench_head_to_head_k${loops}_r${round}`,
        );
        ours.push(run.capped ? 0 : run.tasksPerSecond);
      };
      const runBoss = async () => {
        const run = await boss.drain(pgBossConfigOf(bossBest), options.tasks, options.capMs);
        theirs.push(run.capped ? 0 : run.jobsPerSecond);
      };
      for (let round = 1; round <= options.rounds; round += 1) {
        if (round % 2 === 1) {
          await runOurs(round);
          await runBoss();
        } else {
          await runBoss();
          await runOurs(round);
        }
      }
      const result: HeadToHeadResult = {
        loops,
        rounds: options.rounds,
        tasks: options.tasks,
        maxConcurrency: oursBest.maxConcurrency,
        bossSubscriptions: bossBest.subscriptions,
        bossBatchSize: bossBest.batchSize,
        ours,
        boss: theirs,
        oursMedian: median(ours),
        bossMedian: median(theirs),
      };
      options.log(
        `head to head K=${loops}: ours ${ours.map(Math.round).join(", ")} (median ${Math.round(result.oursMedian)}) vs pg-boss ${theirs.map(Math.round).join(", ")} (median ${Math.round(result.bossMedian)}) tasks/s`,
      );
      results.push(result);
    }
  } finally {
    await boss.close();
  }
  return results;
}
