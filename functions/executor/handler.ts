import { SQSClient } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import { type Clock, systemClock } from "../core/clock";
import {
  DatabaseSettingsSchema,
  ExecutorSettingsSchema,
  OllamaSettingsSchema,
  RealtimeSettingsSchema,
  readSettings,
} from "../core/config/settings";
import { ValidationError } from "../core/errors";
import {
  createSqsFailedTaskNotifier,
  type FailedTaskNotifier,
  noFailedTaskNotifier,
} from "../core/executor/failedTasks";
import { type ExecutorLoopSettings, type ExecutorTuning, runExecutor } from "../core/executor/loop";
import { ExecutorScheduleEventSchema } from "../core/executor/scheduleEvent";
import type { ExecutorSummary } from "../core/executor/summary";
import { describeFieldIssues, toFieldIssues } from "../core/fieldIssues";
import { createLlmClient, type LlmClient } from "../core/llm";
import { createTaskEvents } from "../core/realtime/fromSettings";
import type { TaskEvents } from "../core/realtime/port";
import { createSqlPort } from "../core/sql/fromSettings";
import type { SqlPort } from "../core/sql/port";
import type { TaskRepository } from "../core/tasks/model";
import { TaskStore } from "../core/tasks/store";
import { createTaskTypeRegistry, type TaskTypeRegistry } from "../core/taskTypes/registry";
import { createEmfMetrics } from "../core/telemetry/emf";
import { createServiceLogger, type InvocationInfo } from "../core/telemetry/logger";
import type { LogFields, Logger, Metrics } from "../core/telemetry/ports";

/**
 * The executor Lambda, run by the EventBridge schedule every minute: schedule event in,
 * `runExecutor` for the time the invocation has left, summary out. Everything it runs on
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

    const parsed = ExecutorScheduleEventSchema.safeParse(event);
    if (!parsed.success) {
      const problems = toFieldIssues(parsed.error, "event");
      logger.error("rejected: not an executor schedule event", { problems, event });
      // Thrown, so an asynchronous invocation lands in the function's DLQ for a look.
      throw new ValidationError(
        `executor event rejected: ${describeFieldIssues(problems)}; expected {"kind":"task-pipeline.executor.tick","environment":"..."}`,
        problems,
      );
    }

    try {
      return await runExecutor(
        {
          tasks: d.tasks,
          registry: d.registry,
          llm: d.llm,
          clock: d.clock ?? systemClock,
          logger,
          metrics: d.metrics,
          notifier: d.notifier,
          settings: d.settings,
          workerId,
          tuning: d.tuning,
          events: d.events,
        },
        // Read on every turn: the loop winds down as the Lambda's timeout nears.
        () => context.getRemainingTimeInMillis(),
      );
    } finally {
      d.metrics.flush();
    }
  };
}

interface Container {
  deps: ExecutorHandlerDeps;
  sql: SqlPort;
  sqs: SQSClient | undefined;
}

let container: Container | undefined;

/** Reads the settings (once) and makes the per-container clients. */
function loadContainer(env: Record<string, string | undefined> = process.env): Container {
  if (container) return container;
  const environment = env.PIPELINE_ENV || "local";
  const logger = createServiceLogger({ service: "executor", environment });
  const metrics = createEmfMetrics({ service: "executor", environment });
  // A bad setting stops here with its name, on every invocation until it is fixed.
  const database = readSettings(DatabaseSettingsSchema, env);
  const ollama = readSettings(OllamaSettingsSchema, env);
  const executor = readSettings(ExecutorSettingsSchema, env);
  const realtime = readSettings(RealtimeSettingsSchema, env);

  const sql = createSqlPort(database, {
    logger,
    // The loop needs two connections at most (a sync and the occasional stats query).
    pg: { max: 3 },
  });
  const queueUrl = executor.FAILED_TASKS_QUEUE_URL;
  const sqs = queueUrl || realtime.REALTIME_QUEUE_URL ? new SQSClient({}) : undefined;
  const notifier =
    sqs && queueUrl
      ? createSqsFailedTaskNotifier({ sqs, queueUrl, logger, metrics })
      : noFailedTaskNotifier;

  container = {
    sql,
    sqs,
    deps: {
      tasks: new TaskStore(sql),
      registry: createTaskTypeRegistry(),
      llm: createLlmClient({ host: ollama.OLLAMA_HOST, timeoutMs: ollama.LLM_TIMEOUT_MS }),
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
