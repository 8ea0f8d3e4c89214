import { SQSClient } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import { type Clock, systemClock } from "../core/clock";
import {
  DatabaseSettingsSchema,
  ExecutorSettingsSchema,
  OllamaSettingsSchema,
  PayloadSettingsSchema,
  RealtimeSettingsSchema,
  readSettings,
  WakeSettingsSchema,
} from "../core/config/settings";
import { ValidationError } from "../core/errors";
import {
  createSqsFailedTaskNotifier,
  type FailedTaskNotifier,
  noFailedTaskNotifier,
} from "../core/executor/failedTasks";
import { type ExecutorLoopSettings, type ExecutorTuning, runExecutor } from "../core/executor/loop";
import { ExecutorEventSchema, isWake } from "../core/executor/scheduleEvent";
import { type ExecutorSummary, emptyCounts } from "../core/executor/summary";
import { describeFieldIssues, toFieldIssues } from "../core/fieldIssues";
import { createLlmClient, type LlmClient } from "../core/llm";
import { createSqsLlmStarter } from "../core/llm/sqsStarter";
import type { LlmStarter } from "../core/llm/starter";
import { type Checkpoints, payloadCheckpoints } from "../core/payloads/checkpoints";
import { payloadStoreFromSettings, withClaimCheck } from "../core/payloads/fromSettings";
import { createTaskEvents } from "../core/realtime/fromSettings";
import type { TaskEvents } from "../core/realtime/port";
import { createSqlPort } from "../core/sql/fromSettings";
import type { SqlPort } from "../core/sql/port";
import type { TaskRepository } from "../core/tasks/model";
import { TaskStore } from "../core/tasks/store";
import { createTaskTypeRegistry, type TaskTypeRegistry } from "../core/taskTypes/registry";
import { createEmfMetrics } from "../core/telemetry/emf";
import { createServiceLogger, type InvocationInfo } from "../core/telemetry/logger";
import { METRICS } from "../core/telemetry/metricNames";
import type { LogFields, Logger, Metrics } from "../core/telemetry/ports";
import { type WakePorts, wakePortsFromSettings } from "../core/wake/fromSettings";
import type { DueMarker } from "../core/wake/ports";

/**
 * The executor Lambda, run by the EventBridge schedule every minute and by the wake queue
 * when a task is created: event in, `runExecutor` for the time the invocation has left,
 * summary out. A tick with nothing due before the next one (the due marker says so)
 * returns at once without touching the database. Everything it runs on
 * is made once per container, on the first invocation (so the local runtime can set the
 * environment before it), and reused.
 */

export interface ExecutorHandlerDeps {
  tasks: TaskRepository;
  registry: Pick<TaskTypeRegistry, "run">;
  llm: LlmClient;
  notifier: FailedTaskNotifier;
  settings: ExecutorLoopSettings;
  logger: Logger & {
    /** A logger tagging the invocation's lines (the Powertools adapter has it). */
    forInvocation?(invocation: InvocationInfo, keys?: LogFields): Logger;
  };
  metrics: Metrics;
  /** Real-time events (status changes, streamed output); none when absent. */
  events?: TaskEvents;
  clock?: Clock;
  tuning?: Partial<ExecutorTuning>;
  /** Scale to zero: a tick with nothing due returns at once, an idle loop stops. */
  dueMarker?: DueMarker;
  /** Asks the LLM server whether it answers (no claims while it does not). */
  llmProbe?: () => Promise<unknown>;
  /** Where task types keep partial work across attempts (the payload store). */
  checkpoints?: Checkpoints;
  /** Asks for the LLM server to be started while it does not answer. */
  llmStarter?: LlmStarter;
}

export type ExecutorHandler = (event: unknown, context: Context) => Promise<ExecutorSummary>;

/**
 * The handler around given dependencies (tests, the bench, or `handler` below with the
 * container's). `deps` may be a function, called on every invocation (it memoizes).
 */
export function createExecutorHandler(
  deps: ExecutorHandlerDeps | (() => ExecutorHandlerDeps),
): ExecutorHandler {
  return async (event, context) => {
    const d = typeof deps === "function" ? deps() : deps;
    // Unique per invocation: overlapping invocations of one container never share leases.
    const workerId = `${context.logStreamName}/${context.awsRequestId}`;
    const logger = d.logger.forInvocation?.(context, { workerId }) ?? d.logger;

    const parsed = ExecutorEventSchema.safeParse(event);
    if (!parsed.success) {
      const problems = toFieldIssues(parsed.error, "event");
      logger.error("rejected: not an executor event", { problems, event });
      // Thrown, so an asynchronous invocation lands in the function's DLQ for a look.
      throw new ValidationError(
        `executor event rejected: ${describeFieldIssues(problems)}; expected a tick {"kind":"task-pipeline.executor.tick","environment":"..."} or the wake queue's SQS event`,
        problems,
      );
    }
    const clock = d.clock ?? systemClock;
    const startMs = clock.now();
    let firstClaimAtMs: number | undefined;
    if (!isWake(parsed.data) && d.dueMarker) {
      const due = await dueBeforeNextTick(d.dueMarker, startMs, parsed.data.everySeconds, logger);
      if (due === "not due") return idleSummary(workerId, clock.now() - startMs);
      firstClaimAtMs = due;
    }

    try {
      return await runExecutor(
        {
          tasks: d.tasks,
          registry: d.registry,
          llm: d.llm,
          clock,
          logger,
          metrics: d.metrics,
          notifier: d.notifier,
          settings: d.settings,
          workerId,
          tuning: d.tuning,
          dueMarker: d.dueMarker,
          llmProbe: d.llmProbe,
          llmStarter: d.llmStarter,
          firstClaimAtMs,
          trigger: isWake(parsed.data) ? "wake" : "tick",
          events: d.events,
          checkpoints: d.checkpoints,
        },
        // Read on every turn: the loop winds down as the Lambda's timeout nears.
        () => context.getRemainingTimeInMillis(),
      );
    } finally {
      d.metrics.flush();
    }
  };
}

/**
 * What a tick should do, from the due marker alone: "not due" when nothing falls due
 * before the next tick (the invocation returns: no database, ~1 s of Lambda), else when to
 * claim first (now, or the due time if it comes before the next tick). A marker that cannot
 * be read is not a reason to skip: the loop runs.
 */
async function dueBeforeNextTick(
  marker: DueMarker,
  nowMs: number,
  everySeconds: number,
  logger: Logger,
): Promise<number | "not due"> {
  try {
    const state = await marker.read();
    if (!state.known) return nowMs;
    if (state.dueAtMs === null || state.dueAtMs > nowMs + everySeconds * 1000) return "not due";
    return Math.max(nowMs, state.dueAtMs);
  } catch (error) {
    logger.warn("could not read the due marker; reading the database", { error });
    return nowMs;
  }
}

function idleSummary(workerId: string, durationMs: number): ExecutorSummary {
  return { workerId, ...emptyCounts(), durationMs };
}

interface Container {
  deps: ExecutorHandlerDeps;
  sql: SqlPort;
  sqs: SQSClient | undefined;
}

let container: Container | undefined;
let wakeOverride: WakePorts | undefined;

/** A starting server answers its version in milliseconds; 2 s means it is not there. */
const LLM_PROBE_TIMEOUT_MS = 2_000;

/**
 * The local runtime's wake ports (its memory marker), used instead of the settings' when
 * the container is made; call before the first invocation.
 */
export function useWakePorts(ports: WakePorts): void {
  wakeOverride = ports;
}

/** Reads the settings (once) and makes the per-container clients. */
function loadContainer(env: Record<string, string | undefined> = process.env): Container {
  if (container) return container;
  const environment = env.PIPELINE_ENV || "local";
  const logger = createServiceLogger({ service: "executor", environment });
  // A bad setting stops here with its name, on every invocation until it is fixed.
  const database = readSettings(DatabaseSettingsSchema, env);
  const ollama = readSettings(OllamaSettingsSchema, env);
  const executor = readSettings(ExecutorSettingsSchema, env);
  const metrics = createEmfMetrics({
    service: "executor",
    environment,
    // The LLM server's idle alarm (lib/llmPower.ts) watches LlmActivity for its instance.
    ...(executor.LLM_INSTANCE_ID
      ? {
          perInstance: {
            instanceId: executor.LLM_INSTANCE_ID,
            names: [METRICS.llmActivity.name],
          },
        }
      : {}),
  });
  const wake = wakeOverride ?? wakePortsFromSettings(readSettings(WakeSettingsSchema, env));
  const realtime = readSettings(RealtimeSettingsSchema, env);
  const payloads = payloadStoreFromSettings(readSettings(PayloadSettingsSchema, env));

  const sql = createSqlPort(database, {
    logger,
    // The loop needs two connections at most (a sync and the occasional stats query).
    pg: { max: 3 },
  });
  const queueUrl = executor.FAILED_TASKS_QUEUE_URL;
  const startQueueUrl = executor.LLM_START_QUEUE_URL;
  const sqs =
    queueUrl || realtime.REALTIME_QUEUE_URL || startQueueUrl ? new SQSClient({}) : undefined;
  const notifier =
    sqs && queueUrl
      ? createSqsFailedTaskNotifier({ sqs, queueUrl, logger, metrics })
      : noFailedTaskNotifier;

  const llm = createLlmClient({ host: ollama.OLLAMA_HOST, timeoutMs: ollama.LLM_TIMEOUT_MS });
  container = {
    sql,
    sqs,
    deps: {
      tasks: withClaimCheck(new TaskStore(sql), payloads, logger),
      ...(payloads ? { checkpoints: payloadCheckpoints(payloads, logger) } : {}),
      registry: createTaskTypeRegistry(),
      llm,
      // Its version: answered by a running server at once, with no model loaded.
      llmProbe: () => llm.version({ timeoutMs: LLM_PROBE_TIMEOUT_MS }),
      ...(sqs && startQueueUrl
        ? { llmStarter: createSqsLlmStarter({ sqs, queueUrl: startQueueUrl }) }
        : {}),
      ...(wake.scaleToZero ? { dueMarker: wake.marker } : {}),
      notifier,
      settings: { ...executor, ...ollama },
      logger,
      metrics,
      events: createTaskEvents(realtime, { logger, metrics }, sqs ? () => sqs : undefined),
    },
  };
  return container;
}

/** The Lambda entry point (and the local runtime's, which sets process.env first). */
export const handler: ExecutorHandler = createExecutorHandler(() => loadContainer().deps);

/**
 * Releases the container's clients (the local runtime on shutdown, tests); the next
 * invocation makes new ones.
 */
export async function closeExecutorContainer(): Promise<void> {
  const current = container;
  container = undefined;
  if (!current) return;
  current.sqs?.destroy();
  await current.sql.close();
}
