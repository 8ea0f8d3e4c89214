/**
 * The executor loop (docs/design.md "The executor"): one invocation's work, free of Lambda
 * types. runExecutor sets up the run (./run.ts), turns it until the invocation is done, and
 * winds down: what it does in a turn, the deadlines, the sync backoff, the in-flight set and
 * the reporting each live in a module of their own in this folder.
 */

import type { Clock } from "../clock";
import type { ExecutorSettings, OllamaSettings } from "../config/settings";
import type { LlmStarter } from "../llm/starter";
import type { Checkpoints } from "../payloads/checkpoints";
import type { TaskEvents } from "../realtime/port";
import type { TaskRepository } from "../tasks/model";
import type { TaskTypeRegistry } from "../taskTypes/registry";
import type { TaskRunContext } from "../taskTypes/types";
import type { Logger, Metrics } from "../telemetry/ports";
import type { DueMarker } from "../wake/ports";
import { Deadlines, type ExecutorBudget } from "./deadlines";
import type { FailedTaskNotifier } from "./failedTasks";
import { START_REQUEST_EVERY_MS } from "./llmGate";
import { ExecutorRun } from "./run";
import type { ExecutorSummary } from "./summary";

export type { ExecutorBudget };

export type ExecutorLoopSettings = Pick<
  ExecutorSettings,
  | "LEASE_SECONDS"
  | "MAX_CONCURRENCY"
  | "POLL_INTERVAL_MS"
  | "RETRY_BASE_MS"
  | "RETRY_MAX_MS"
  | "MAX_RUNNING_PER_OWNER"
  | "RETENTION_SECONDS"
> &
  Pick<
    OllamaSettings,
    "LLM_TIMEOUT_MS" | "OLLAMA_MODELS" | "OLLAMA_CONTEXT_LENGTH" | "OLLAMA_CONTEXT_LENGTHS"
  >;

export interface ExecutorTuning {
  /**
   * Added to LLM_TIMEOUT_MS to make the reserve; also how long before the end running
   * attempts are aborted, leaving time for the last sync, notifications and metrics.
   */
  reserveMarginMs: number;
  /**
   * How often the queue depth and oldest pending age are read (`tasks.queueState`). Once a
   * minute keeps an idle executor at 12 polls + 1 stats + 1 retention sweep (./retention.ts)
   * = 14 statements a minute.
   */
  statsIntervalMs: number;
  /** How often buffered metrics are written out as an EMF document. */
  metricsFlushIntervalMs: number;
  /** How often running tasks' cancel flags are read (./cancelWatch.ts); 0: only on heartbeats. */
  cancelCheckMs: number;
  /** How often a silent LLM server is asked again (./llmGate.ts). */
  llmRetryMs: number;
  /** While the LLM server does not answer, how often a start is asked for (./llmGate.ts). */
  llmStartEveryMs: number;
  /** How often retention sweeps (./retention.ts); the first at the invocation's start. */
  retentionIntervalMs: number;
}

export const DEFAULT_EXECUTOR_TUNING: ExecutorTuning = {
  reserveMarginMs: 3_000,
  statsIntervalMs: 60_000,
  metricsFlushIntervalMs: 10_000,
  cancelCheckMs: 1_000,
  llmRetryMs: 2_000,
  llmStartEveryMs: START_REQUEST_EVERY_MS,
  retentionIntervalMs: 60_000,
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
  /**
   * The due marker (../wake/ports.ts). Given, an invocation that finds nothing to do
   * records when work is next due and stops (scale to zero); absent, it polls until its
   * budget ends.
   */
  dueMarker?: DueMarker;
  /** Asks the LLM server whether it answers; nothing is claimed while it does not. */
  llmProbe?: () => Promise<unknown>;
  /** Asks for a stopped LLM server to be started while the probe fails (none by default). */
  llmStarter?: LlmStarter;
  /** No claim before this (ms since the epoch): a tick that knows work falls due soon. */
  firstClaimAtMs?: number;
  /**
   * What started the invocation (default: the schedule's tick). The minute's periodic work
   * (queue statistics, retention's sweep) starts with a tick; a wake (a create) does it only
   * once it has run a whole interval, so a burst of creates does not repeat it per
   * invocation.
   */
  trigger?: "tick" | "wake";
  /** Where status changes and streamed output are published (none by default). */
  events?: TaskEvents;
  /** Where task types keep partial work across attempts (none: every attempt starts over). */
  checkpoints?: Checkpoints;
}

export function executorReserveMs(
  settings: Pick<OllamaSettings, "LLM_TIMEOUT_MS">,
  tuning: Partial<ExecutorTuning> = {},
): number {
  return (
    settings.LLM_TIMEOUT_MS + (tuning.reserveMarginMs ?? DEFAULT_EXECUTOR_TUNING.reserveMarginMs)
  );
}

export async function runExecutor(
  deps: ExecutorDeps,
  budget: ExecutorBudget,
): Promise<ExecutorSummary> {
  const { clock, logger, settings, workerId } = deps;
  const tuning = { ...DEFAULT_EXECUTOR_TUNING, ...deps.tuning };
  const startMs = clock.now();
  const reserveMs = executorReserveMs(settings, tuning);
  const deadlines = new Deadlines(
    budget,
    startMs,
    () => clock.now(),
    reserveMs,
    tuning.reserveMarginMs,
  );
  const run = new ExecutorRun(deps, tuning, deadlines, startMs);
  const { inflight, recorder } = run;
  deps.signal?.addEventListener("abort", run.wakeUp);

  logger.info("executor started", {
    workerId,
    budgetMs: deadlines.budgetMs,
    reserveMs,
    maxConcurrency: settings.MAX_CONCURRENCY,
    leaseSeconds: settings.LEASE_SECONDS,
    pollIntervalMs: settings.POLL_INTERVAL_MS,
  });
  try {
    while (await run.turn()) {
      // Each turn synced, or waited for the next thing to do.
    }
  } finally {
    deps.signal?.removeEventListener("abort", run.wakeUp);
  }

  recorder.counts.unsettled = inflight.finishedCount;
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
  await run.settleBackground();
  // Before the invocation returns (Lambda freezes it then): what is still queued for subscribers.
  await deps.events?.flush();
  run.flushMetrics();

  const summary: ExecutorSummary = {
    workerId,
    ...recorder.counts,
    durationMs: clock.now() - startMs,
  };
  logger.info("executor finished", { summary });
  return summary;
}
