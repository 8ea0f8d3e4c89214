import type { MetricUnit } from "./ports";

/**
 * The pipeline's CloudWatch metrics, shared by the code that emits them (EMF from the
 * Lambdas) and the CDK dashboard and alarms that read them, so a renamed metric cannot
 * silently leave an alarm watching nothing.
 *
 * Every metric is emitted in METRIC_NAMESPACE with exactly the dimensions
 * { service, environment }: `service` is "executor" or "api", `environment` the
 * deployment's environment name (env var PIPELINE_ENV, "local" off AWS).
 */
export const METRIC_NAMESPACE = "TaskPipeline";

export const METRICS = {
  tasksClaimed: { name: "TasksClaimed", unit: "Count" },
  tasksCompleted: { name: "TasksCompleted", unit: "Count" },
  tasksRetried: { name: "TasksRetried", unit: "Count" },
  tasksFailed: { name: "TasksFailed", unit: "Count" },
  tasksCancelled: { name: "TasksCancelled", unit: "Count" },
  /** Finished tasks deleted by retention (RETENTION_SECONDS after they finished). */
  tasksExpired: { name: "TasksExpired", unit: "Count" },
  /** Pickup latency of each first attempt claimed (tasks/model.ts pickupLatencyMs). */
  pickupLatency: { name: "PickupLatency", unit: "Milliseconds" },
  /** How long each finished attempt ran. */
  runDuration: { name: "RunDuration", unit: "Milliseconds" },
  queueDepth: { name: "QueueDepth", unit: "Count" },
  oldestPendingAge: { name: "OldestPendingAge", unit: "Seconds" },
  promptTokens: { name: "PromptTokens", unit: "Count" },
  completionTokens: { name: "CompletionTokens", unit: "Count" },
  /** A failed task whose message could not be sent to the failed-tasks queue. */
  failedTaskNotifyErrors: { name: "FailedTaskNotifyErrors", unit: "Count" },
  /** Database calls that failed (the loop backs off and continues). */
  databaseErrors: { name: "DatabaseErrors", unit: "Count" },
  /**
   * LLM work begun: the executor counts each attempt it starts; the LLM starter
   * (functions/llmStarter) counts each start it makes. The LLM server's idle alarm
   * (lib/llmPower.ts) stops its instance after minutes of none.
   */
  llmActivity: { name: "LlmActivity", unit: "Count" },
  executorLoops: { name: "ExecutorLoops", unit: "Count" },
  /** API requests answered with a 5xx. */
  apiServerErrors: { name: "ApiServerErrors", unit: "Count" },
  /** Real-time HTTP publishes that succeeded, failed, and events dropped (functions/core/realtime). */
  realtimePublishes: { name: "RealtimePublishes", unit: "Count" },
  realtimePublishErrors: { name: "RealtimePublishErrors", unit: "Count" },
  realtimeEventsDropped: { name: "RealtimeEventsDropped", unit: "Count" },
} as const satisfies Record<string, { name: string; unit: MetricUnit }>;

export type MetricKey = keyof typeof METRICS;
