import type { ApiSettings } from "../core/config/settings";
import type { ModelSettings } from "../core/llm";
import type { TaskEvents } from "../core/realtime/port";
import type { SqlPort } from "../core/sql/port";
import type { TaskRepository } from "../core/tasks/model";
import type { TaskTypeRegistry } from "../core/taskTypes/registry";
import type { Logger, Metrics } from "../core/telemetry/ports";
import type { DueMarker, Waker } from "../core/wake/ports";

/** The task types as the API uses them: look up, list, check an input. */
export type TaskTypeCatalog = Pick<TaskTypeRegistry, "get" | "names" | "parseInput">;

/** Everything the api Lambda works with, built once per container (see handler.ts). */
export interface ApiDeps {
  tasks: TaskRepository;
  taskTypes: TaskTypeCatalog;
  /** Only for the health check's `SELECT 1`; task SQL goes through `tasks`. */
  sql: SqlPort;
  settings: {
    api: ApiSettings;
    /** The default model and the allowlist a task's `model` is checked against. */
    models: ModelSettings;
  };
  logger: Logger;
  metrics: Metrics;
  /**
   * Scale to zero (functions/core/wake): a create or retry lowers the due marker and wakes
   * an executor. Absent: the executor finds the task at its next tick or poll.
   */
  wake?: { marker: DueMarker; waker: Waker };
  /** Real-time status events for creates, cancels and retries; none when absent. */
  events?: TaskEvents;
  /** Wall clock (ms since epoch); injected so time-dependent checks can be tested. */
  now?: () => number;
}
