import { backoffDelay } from "../backoff";
import type { ExecutorSettings, OllamaSettings } from "../config/settings";
import type { SyncResult, Task, TaskRepository } from "../tasks/model";
import type { TaskTypeRegistry } from "../taskTypes/registry";
import type { TaskRunContext } from "../taskTypes/types";
import type { Clock, Logger, Metrics } from "../telemetry/ports";
import { type AttemptEnd, runAttempt } from "./attempt";
import { databaseBackoffPolicy, taskRetryPolicy } from "./backoff";
import type { FailedTaskNotifier } from "./failedTasks";
import { InFlight, type RunningAttempt } from "./inflight";
import { ExecutorMetrics } from "./loopMetrics";
import { decideOutcome } from "./outcome";
import { type ExecutorSummary, emptyCounts } from "./summary";
import { SyncReport } from "./syncReport";

/**
 * The executor loop (DESIGN.md "The executor"): one invocation's work, free of Lambda types.
 *
 * Every round trip to the database is ONE `tasks.sync` statement that writes finished
 * outcomes, extends due leases (reading cancel flags) and claims into free slots. A sync
 * runs when there is something to say: an attempt finished (so a freed slot is refilled at
 * once: the LLM server is the bottleneck), a heartbeat is due (every third of the lease),
 * or a poll is due (POLL_INTERVAL_MS after a claim that found the queue empty). Outcomes
 * that finish while a sync is in flight ride the next one, which keeps the statements per
 * task near 1 (one statement settles one task and claims the next).
 *
 * Time: claiming stops once the remaining budget falls below the reserve (LLM_TIMEOUT_MS
 * plus a margin), so every claimed task can finish before the budget ends; attempts still
 * running at `end - margin` are aborted and given back (pending, due at once); the loop
 * returns by `end - margin/4` at the latest.
 */

export type ExecutorLoopSettings = Pick<
  ExecutorSettings,
  "LEASE_SECONDS" | "MAX_CONCURRENCY" | "POLL_INTERVAL_MS" | "RETRY_BASE_MS" | "RETRY_MAX_MS"
> &
  Pick<OllamaSettings, "LLM_TIMEOUT_MS" | "OLLAMA_MODELS">;

export interface ExecutorTuning {
  /**
   * Added to LLM_TIMEOUT_MS to make the reserve; also how long before the end running
   * attempts are aborted, leaving time for the last sync, notifications and metrics.
   */
  reserveMarginMs: number;
  /**
   * How often the queue depth and oldest pending age are read (`tasks.queueState`). Once a
   * minute keeps an idle executor at 12 polls + 1 stats = 13 statements a minute.
   */
  statsIntervalMs: number;
  /** How often buffered metrics are written out as an EMF document. */
  metricsFlushIntervalMs: number;
}

export const DEFAULT_EXECUTOR_TUNING: ExecutorTuning = {
  reserveMarginMs: 3_000,
  statsIntervalMs: 60_000,
  metricsFlushIntervalMs: 10_000,
};

export interface ExecutorDeps {
  tasks: TaskRepository;
  registry: Pick<TaskTypeRegistry, "run">;
  /** The LLM client handed to task types (functions/core/llm `LlmClient`). */
  llm: TaskRunContext["llm"];
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  notifier: FailedTaskNotifier;
  settings: ExecutorLoopSettings;
  /** Unique per invocation: the lease owner of everything this loop claims. */
  workerId: string;
  tuning?: Partial<ExecutorTuning>;
  /** Stop early (shutdown): claim no more, give running attempts back, flush, return. */
  signal?: AbortSignal;
  /** For the jitter; Math.random by default. */
  random?: () => number;
}

export function executorReserveMs(
  settings: Pick<OllamaSettings, "LLM_TIMEOUT_MS">,
  tuning: Partial<ExecutorTuning> = {},
): number {
  return (
    settings.LLM_TIMEOUT_MS + (tuning.reserveMarginMs ?? DEFAULT_EXECUTOR_TUNING.reserveMarginMs)
  );
}

/**
 * The remaining time: a number of ms from now, or a function read on every turn of the
 * loop (a Lambda context's `getRemainingTimeInMillis`; the local runtime cuts it short on
 * shutdown, and the loop winds down as it would before a timeout).
 */
export type ExecutorBudget = number | (() => number);

/** While the budget is a function, the loop looks at it at least this often. */
const BUDGET_CHECK_MS = 1_000;

export async function runExecutor(
  deps: ExecutorDeps,
  budget: ExecutorBudget,
): Promise<ExecutorSummary> {
  const { tasks, clock, logger, settings, workerId } = deps;
  const tuning = { ...DEFAULT_EXECUTOR_TUNING, ...deps.tuning };
  const random = deps.random ?? Math.random;
  const metrics = new ExecutorMetrics(deps.metrics);
  const retryPolicy = taskRetryPolicy(settings);
  const databasePolicy = databaseBackoffPolicy(settings);
  const heartbeatEveryMs = (settings.LEASE_SECONDS * 1000) / 3;
  const counts = emptyCounts();
  const inflight = new InFlight();
  /** Notifications and stats queries: not awaited by the loop, awaited before returning. */
  const background = new Set<Promise<void>>();

  const startMs = clock.now();
  const remainingMs =
    typeof budget === "function" ? budget : () => budget - (clock.now() - startMs);
  const budgetMs = Math.max(0, remainingMs());
  const reserveMs = executorReserveMs(settings, tuning);
  // The deadlines only ever come forward (see ExecutorBudget).
  let endMs = startMs + budgetMs;
  let claimUntilMs = 0;
  let abortAtMs = 0;
  let giveUpAtMs = 0;
  const setDeadlines = (nowMs: number) => {
    endMs = Math.min(endMs, nowMs + Math.max(0, remainingMs()));
    claimUntilMs = endMs - reserveMs;
    abortAtMs = endMs - tuning.reserveMarginMs;
    giveUpAtMs = endMs - tuning.reserveMarginMs / 4;
  };
  setDeadlines(startMs);

  // Woken (aborted) when an attempt finishes or the caller stops us; renewed before a wait.
  let wake = new AbortController();
  const wakeUp = () => wake.abort();
  deps.signal?.addEventListener("abort", wakeUp);

  let nextClaimAtMs = startMs;
  /** Pushed out while the database is failing (backoff). */
  let nextSyncAtMs = startMs;
  let consecutiveSyncFailures = 0;
  let nextStatsAtMs = startMs;
  let lastFlushMs = startMs;
  let loopsFlushed = 0;
  let stoppedClaiming = false;
  /** The last wait only looked at the budget function: not a turn of the loop worth counting. */
  let budgetGlance = false;

  const track = (work: Promise<void>) => {
    background.add(work);
    void work.finally(() => background.delete(work));
  };

  const notifyFailed = (failed: readonly Task[]) => {
    if (failed.length === 0) return;
    track(
      deps.notifier.notify(failed).catch((error: unknown) => {
        // The port promises not to throw; a broken adapter must not break the loop either.
        logger.error("failed-task notifier threw", { error, taskIds: failed.map((t) => t.id) });
      }),
    );
  };

  const report = new SyncReport({ counts, metrics, logger, notifyFailed });

  const readQueueStats = async () => {
    try {
      metrics.queue(await tasks.queueState());
    } catch (error) {
      counts.databaseErrors++;
      metrics.count("databaseErrors");
      logger.warn("reading queue statistics failed", { error });
    }
  };

  const finishAttempt = (running: RunningAttempt, end: AttemptEnd) => {
    const nowMs = clock.now();
    const { task } = running;
    const outcome = decideOutcome(task, end, nowMs, retryPolicy, random);
    if (outcome) {
      inflight.end(task.id, { task, outcome, end, runMs: nowMs - running.startedAtMs });
    } else {
      inflight.end(task.id, undefined);
      counts.leaseLost++;
      logger.warn("attempt dropped: its lease was lost to another worker", { taskId: task.id });
    }
    wakeUp();
  };

  const startAttempt = (task: Task, leaseSetAtMs: number) => {
    const running = inflight.start(task, clock.now(), leaseSetAtMs);
    void runAttempt(task, {
      registry: deps.registry,
      llm: deps.llm,
      allowedModels: settings.OLLAMA_MODELS,
      signal: running.controller.signal,
    })
      .then((end) => finishAttempt(running, end))
      .catch((error: unknown) => {
        // runAttempt never throws; should bookkeeping ever fail, the lease expires and
        // recovery hands the task out again, so it is logged rather than lost.
        logger.error("attempt bookkeeping failed", { error, taskId: task.id });
      });
  };

  const recordLeases = (heartbeatIds: readonly string[], result: SyncResult, sentAtMs: number) => {
    const leases = new Map(result.leases.map((lease) => [lease.id, lease]));
    for (const id of heartbeatIds) {
      // Finished during the sync: its outcome is buffered and the fence decides its fate.
      if (!inflight.get(id)) continue;
      const lease = leases.get(id);
      if (!lease) {
        logger.warn("lease lost: aborting the attempt", { taskId: id });
        inflight.abort(id, "lease_lost");
      } else if (lease.cancelRequested) {
        logger.info("cancel requested: aborting the attempt", { taskId: id });
        inflight.leaseRenewed(id, sentAtMs);
        inflight.abort(id, "cancel");
      } else {
        inflight.leaseRenewed(id, sentAtMs);
      }
    }
  };

  const sync = async (claimLimit: number, heartbeatIds: readonly string[]) => {
    const carried = inflight.pendingOutcomes();
    const sentAtMs = clock.now();
    counts.syncs++;
    let result: SyncResult;
    try {
      result = await tasks.sync({
        workerId,
        leaseSeconds: settings.LEASE_SECONDS,
        outcomes: carried.map((finished) => finished.outcome),
        heartbeatIds,
        claimLimit,
      });
    } catch (error) {
      // Outcomes stay buffered and are sent again: every write is fenced by the lease, so
      // a retried write is safe, and one whose lease expired meanwhile is simply refused.
      consecutiveSyncFailures++;
      counts.databaseErrors++;
      metrics.count("databaseErrors");
      const nowMs = clock.now();
      const delayMs = Math.min(
        backoffDelay(databasePolicy, consecutiveSyncFailures, random),
        Math.max(0, giveUpAtMs - nowMs),
      );
      nextSyncAtMs = nowMs + delayMs;
      logger.error("sync with the database failed; backing off", {
        error,
        consecutiveFailures: consecutiveSyncFailures,
        retryInMs: delayMs,
        outcomesBuffered: carried.length,
        running: inflight.runningCount,
      });
      return;
    }
    if (consecutiveSyncFailures > 0) {
      logger.info("database reachable again", { afterFailures: consecutiveSyncFailures });
    }
    consecutiveSyncFailures = 0;
    nextSyncAtMs = startMs;
    inflight.forget(carried.map((finished) => finished.task.id));
    report.settled(carried, result.settled);
    recordLeases(heartbeatIds, result, sentAtMs);
    report.recovered(result.recovered);
    counts.claimed += result.claimed.length;
    metrics.claimed(result.claimed);
    for (const task of result.claimed) startAttempt(task, sentAtMs);
    if (claimLimit > 0) {
      // A short claim means the queue is drained: poll again later, or sooner when a
      // finishing attempt syncs anyway (every sync claims into the free slots). Counted from
      // when this claim was sent, so a cycle is the poll interval, not interval + round trip
      // (with the Data API's ~150 ms round trips that kept p95 pickup above a 1 s poll).
      nextClaimAtMs =
        result.claimed.length < claimLimit ? sentAtMs + settings.POLL_INTERVAL_MS : clock.now();
    }
  };

  logger.info("executor started", {
    workerId,
    budgetMs,
    reserveMs,
    maxConcurrency: settings.MAX_CONCURRENCY,
    leaseSeconds: settings.LEASE_SECONDS,
    pollIntervalMs: settings.POLL_INTERVAL_MS,
  });

  try {
    for (;;) {
      if (wake.signal.aborted) wake = new AbortController();
      const nowMs = clock.now();
      setDeadlines(nowMs);
      const stopRequested = deps.signal?.aborted === true;
      const claiming = nowMs < claimUntilMs && !stopRequested;
      if (!claiming && !stoppedClaiming) {
        stoppedClaiming = true;
        logger.info("executor stopped claiming", {
          reason: stopRequested ? "stop requested" : "remaining budget below the reserve",
          remainingMs: endMs - nowMs,
          running: inflight.runningCount,
        });
      }
      if ((nowMs >= abortAtMs || stopRequested) && inflight.runningCount > 0) {
        inflight.abortAll("deadline");
      }
      if (!claiming && inflight.runningCount === 0 && inflight.finishedCount === 0) break;
      if (nowMs >= giveUpAtMs) break;

      if (!budgetGlance) counts.loops++;
      budgetGlance = false;
      if (consecutiveSyncFailures === 0 && nowMs >= nextStatsAtMs) {
        nextStatsAtMs = nowMs + tuning.statsIntervalMs;
        track(readQueueStats());
      }
      if (nowMs - lastFlushMs >= tuning.metricsFlushIntervalMs) {
        metrics.count("executorLoops", counts.loops - loopsFlushed);
        loopsFlushed = counts.loops;
        metrics.flush();
        lastFlushMs = nowMs;
      }

      const freeSlots = claiming
        ? Math.max(0, settings.MAX_CONCURRENCY - inflight.runningCount)
        : 0;
      const heartbeatIds = inflight.heartbeatsDue(nowMs, heartbeatEveryMs);
      const claimDue = freeSlots > 0 && nowMs >= nextClaimAtMs;
      const hasWork = inflight.finishedCount > 0 || heartbeatIds.length > 0 || claimDue;
      if (hasWork && nowMs >= nextSyncAtMs) {
        await sync(freeSlots, heartbeatIds);
        continue;
      }

      // Nothing to say yet: wait for whichever comes first.
      let wakeAtMs = Math.min(
        inflight.finishedCount > 0 ? nowMs : Number.POSITIVE_INFINITY,
        inflight.nextHeartbeatAt(heartbeatEveryMs),
        freeSlots > 0 ? nextClaimAtMs : Number.POSITIVE_INFINITY,
      );
      wakeAtMs = Math.max(wakeAtMs, nextSyncAtMs);
      if (claiming) wakeAtMs = Math.min(wakeAtMs, claimUntilMs);
      if (inflight.runningCount > 0 && nowMs < abortAtMs) wakeAtMs = Math.min(wakeAtMs, abortAtMs);
      wakeAtMs = Math.min(wakeAtMs, giveUpAtMs);
      const glanceOnly = typeof budget === "function" && nowMs + BUDGET_CHECK_MS < wakeAtMs;
      if (glanceOnly) wakeAtMs = nowMs + BUDGET_CHECK_MS;
      const idle = inflight.runningCount === 0;
      await clock.sleep(Math.max(1, wakeAtMs - nowMs), wake.signal);
      budgetGlance = glanceOnly && !wake.signal.aborted;
      if (idle) counts.idleMs += clock.now() - nowMs;
    }
  } finally {
    deps.signal?.removeEventListener("abort", wakeUp);
  }

  counts.unsettled = inflight.finishedCount;
  if (inflight.finishedCount > 0) {
    logger.error("outcomes not written before the budget ended; their leases will expire", {
      taskIds: inflight.pendingOutcomes().map((finished) => finished.task.id),
    });
  }
  if (inflight.runningCount > 0) {
    logger.warn("attempts still running at the end of the budget; their leases will expire", {
      running: inflight.runningCount,
    });
  }
  await Promise.allSettled([...background]);
  metrics.count("executorLoops", counts.loops - loopsFlushed);
  metrics.flush();

  const summary: ExecutorSummary = { workerId, ...counts, durationMs: clock.now() - startMs };
  logger.info("executor finished", { summary });
  return summary;
}
