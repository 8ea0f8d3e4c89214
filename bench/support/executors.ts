import { systemClock } from "../../functions/core/clock";
import {
  ExecutorSettingsSchema,
  OllamaSettingsSchema,
  readSettings,
} from "../../functions/core/config/settings";
import { noFailedTaskNotifier } from "../../functions/core/executor/failedTasks";
import type { ExecutorLoopSettings, ExecutorTuning } from "../../functions/core/executor/loop";
import { executorReserveMs, runExecutor } from "../../functions/core/executor/loop";
import type { ExecutorSummary } from "../../functions/core/executor/summary";
import { createLlmClient } from "../../functions/core/llm";
import type { TaskEvents } from "../../functions/core/realtime/port";
import { createPgSqlPort } from "../../functions/core/sql/pgAdapter";
import { TaskStore } from "../../functions/core/tasks/store";
import type { TaskTypeRegistry } from "../../functions/core/taskTypes/registry";
import type { TaskRunContext } from "../../functions/core/taskTypes/types";
import { noMetrics, silentLogger } from "../../functions/core/telemetry/ports";
import { countStatements, type StatementCounts, sumCounts } from "./countingSqlPort";

/**
 * K executor loops in this process, each as its own invocation would be: its own pg pool
 * (2 connections: the sync, and the queue statistics read beside it), its own workerId,
 * its statements counted at its SQL port. They run the real `runExecutor` until stopped or
 * until `maxRunMs` is spent, whichever comes first.
 */
export interface ExecutorFleetOptions {
  url: string;
  loops: number;
  registry: Pick<TaskTypeRegistry, "run">;
  /** The no-op benchmarks' tasks never call it: by default a client of a closed loopback port. */
  llm?: TaskRunContext["llm"];
  settings: Partial<ExecutorLoopSettings>;
  /** The loop's tuning (e.g. a short retention interval), its defaults where unset. */
  tuning?: Partial<ExecutorTuning>;
  /** Hard bound on the run; claiming stops earlier by the executor's own reserve. */
  maxRunMs: number;
  workerPrefix: string;
  /** Real-time events (the realtime bench); none by default. */
  events?: TaskEvents;
}

export interface ExecutorFleet {
  counts(): StatementCounts;
  /** Stops claiming, lets running attempts end, and returns each loop's summary. */
  stop(): Promise<ExecutorSummary[]>;
}

/** LLM_TIMEOUT_MS for the bench: the executor keeps that much (plus a margin) in reserve. */
const BENCH_LLM_TIMEOUT_MS = 30_000;

export const BENCH_MODEL = "llama3.2";

/** Port 9 (discard) on loopback: a call that reached it would fail at once, and loudly. */
const unusedLlm = createLlmClient({ host: "http://127.0.0.1:9", timeoutMs: 1_000 });

export function defaultLoopSettings(
  overrides: Partial<ExecutorLoopSettings>,
): ExecutorLoopSettings {
  // The settings' own defaults (read from an empty environment) unless the benchmark says
  // otherwise, so the bench measures what a user runs.
  const executor = readSettings(ExecutorSettingsSchema, {});
  const ollama = readSettings(OllamaSettingsSchema, {
    OLLAMA_MODEL: BENCH_MODEL,
    LLM_TIMEOUT_MS: String(BENCH_LLM_TIMEOUT_MS),
  });
  return { ...executor, ...ollama, ...overrides };
}

export function startExecutorFleet(options: ExecutorFleetOptions): ExecutorFleet {
  const settings = defaultLoopSettings(options.settings);
  const stop = new AbortController();
  // Budget = the run plus the reserve, so the loops claim for the whole of maxRunMs.
  const budgetMs = options.maxRunMs + executorReserveMs(settings);
  const hardStop = setTimeout(() => stop.abort(), options.maxRunMs);

  const loops = Array.from({ length: options.loops }, (_, i) => {
    const pool = createPgSqlPort({ connectionString: options.url, max: 2 });
    const counting = countStatements(pool);
    const done = runExecutor(
      {
        tasks: new TaskStore(counting.port),
        registry: options.registry,
        llm: options.llm ?? unusedLlm,
        clock: systemClock,
        logger: silentLogger,
        metrics: noMetrics,
        notifier: noFailedTaskNotifier,
        settings,
        workerId: `${options.workerPrefix}-${i + 1}`,
        tuning: options.tuning,
        signal: stop.signal,
        events: options.events,
      },
      budgetMs,
    ).finally(() => pool.close());
    return { counting, done };
  });

  return {
    counts: () => sumCounts(loops.map((loop) => loop.counting.counts())),
    async stop() {
      stop.abort();
      clearTimeout(hardStop);
      return Promise.all(loops.map((loop) => loop.done));
    },
  };
}
