import { createApiHandler } from "../../../functions/api/app";
import type { ApiDeps } from "../../../functions/api/deps";
import { ApiSettingsSchema, readSettings } from "../../../functions/core/config/settings";
import type { SqlPort } from "../../../functions/core/sql/port";
import type { TaskRepository } from "../../../functions/core/tasks/model";
import { TaskStore } from "../../../functions/core/tasks/store";
import { createTaskTypeRegistry } from "../../../functions/core/taskTypes/registry";
import type {
  LogFields,
  Logger,
  Metrics,
  MetricUnit,
} from "../../../functions/core/telemetry/ports";
import { type ApiAnswer, type ApiRequest, callApi } from "../../support/apiEvents";

/**
 * The api handler as the Lambda builds it, over the real task store on the test database,
 * with a logger and metrics that remember what they were given (so tests can check that
 * a hidden error did reach the logs).
 */

export const ALLOWED_ORIGIN = "https://app.example.com";
export const DEFAULT_MODEL = "llama3.2";
export const OTHER_MODEL = "qwen2.5:0.5b";
/** Small, so 413 is cheap to reach; still above the 1 KiB minimum the settings allow. */
export const MAX_BODY_BYTES = 8_192;

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields: LogFields;
}

export interface TestApi {
  call(request: ApiRequest): Promise<ApiAnswer>;
  logs: LogLine[];
  metrics: Array<{ name: string; unit: MetricUnit; value: number }>;
  store: TaskStore;
  /** POST /api/tasks as `sub`, with `body` sent as it is (a string, or none) as application/json. */
  postJsonText(body: string | undefined, sub: string): Promise<ApiAnswer>;
}

export function createTestApi(
  sql: SqlPort,
  overrides: {
    tasks?: TaskRepository;
    healthSql?: SqlPort;
    env?: Record<string, string>;
  } = {},
): TestApi {
  const logs: LogLine[] = [];
  const recorded: TestApi["metrics"] = [];
  const line =
    (level: LogLine["level"]) =>
    (message: string, fields: LogFields = {}) =>
      logs.push({ level, message, fields });
  const logger: Logger = {
    debug: line("debug"),
    info: line("info"),
    warn: line("warn"),
    error: line("error"),
  };
  const metrics: Metrics = {
    add: (name, unit, value) => recorded.push({ name, unit, value }),
    flush: () => {},
  };
  const api = readSettings(ApiSettingsSchema, {
    CORS_ORIGINS: `${ALLOWED_ORIGIN},http://localhost:5173`,
    MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    // Generous: a busy CI machine must not turn a slow SELECT 1 into a 503.
    HEALTH_TIMEOUT_MS: "10000",
    ...overrides.env,
  });
  // As the api Lambda builds it (functions/api/handler.ts).
  const store = new TaskStore(sql, { maxUnfinishedPerOwner: api.MAX_PENDING_PER_OWNER });
  const deps: ApiDeps = {
    tasks: overrides.tasks ?? store,
    taskTypes: createTaskTypeRegistry(),
    sql: overrides.healthSql ?? sql,
    settings: {
      api,
      models: { OLLAMA_MODEL: DEFAULT_MODEL, OLLAMA_MODELS: [DEFAULT_MODEL, OTHER_MODEL] },
    },
    logger,
    metrics,
  };
  const handler = createApiHandler(deps);
  const call = (request: ApiRequest) => callApi(handler, request);
  return {
    call,
    logs,
    metrics: recorded,
    store,
    postJsonText: (body, sub) =>
      call({
        method: "POST",
        path: "/api/tasks",
        sub,
        body,
        headers: { "content-type": "application/json" },
      }),
  };
}

/** A valid create body for each built-in type. */
export const validBodies = {
  summarize: { type: "summarize", input: { text: "PostgreSQL is a relational database." } },
  generate_content: {
    type: "generate_content",
    input: { topic: "Queues in PostgreSQL", keywords: ["SKIP LOCKED"], wordCount: 300 },
  },
  prompt: { type: "prompt", input: { prompt: "Say hello." } },
} as const;
