import {
  ApiSettingsSchema,
  DatabaseSettingsSchema,
  OllamaSettingsSchema,
  PayloadSettingsSchema,
  RealtimeSettingsSchema,
  readSettings,
  WakeSettingsSchema,
} from "../core/config/settings";
import { payloadStoreFromSettings, withClaimCheck } from "../core/payloads/fromSettings";
import { createTaskEvents } from "../core/realtime/fromSettings";
import { createSqlPort } from "../core/sql/fromSettings";
import { TaskStore } from "../core/tasks/store";
import { createTaskTypeRegistry } from "../core/taskTypes/registry";
import { createEmfMetrics } from "../core/telemetry/emf";
import { createServiceLogger } from "../core/telemetry/logger";
import { type WakePorts, wakePortsFromSettings } from "../core/wake/fromSettings";
import { noWaker } from "../core/wake/ports";
import { type ApiDeps, createApiHandler } from "./app";

/**
 * The api Lambda's entry. Only wiring: the settings, read once per container and failing
 * with the bad setting's name, and the per-container clients (SQL port, task store, task
 * types, logger, metrics). Everything else is in app.ts.
 *
 * Built on the first request rather than at import, so whoever imports this module may
 * set process.env first (the local runtime does; so do tests).
 */
export function depsFromEnvironment(env: NodeJS.ProcessEnv = process.env): ApiDeps {
  const api = readSettings(ApiSettingsSchema, env);
  const database = readSettings(DatabaseSettingsSchema, env);
  const ollama = readSettings(OllamaSettingsSchema, env);
  const realtime = readSettings(RealtimeSettingsSchema, env);
  const environment = env.PIPELINE_ENV || "local";
  const wake = wakeOverride ?? wakePortsFromSettings(readSettings(WakeSettingsSchema, env));

  const logger = createServiceLogger({ service: "api", environment });
  const metrics = createEmfMetrics({ service: "api", environment });
  const sql = createSqlPort(database, {
    logger,
    // Used when DATABASE_URL is set (local runtime): a request waits at most 5 s for a
    // connection and 15 s for a statement, well inside API Gateway's 30 s.
    pg: { max: 10, connectionTimeoutMs: 5_000, statementTimeoutMs: 15_000 },
    // An Aurora cluster resuming from 0 ACU takes ~15 s: waiting up to 20 s answers the
    // request itself within API Gateway's 30 s (the Lambda has 29); a longer resume is a
    // 503 with Retry-After, and the client's retry (with its Idempotency-Key) lands.
    resume: { maxWaitMs: API_RESUME_WAIT_MS },
  });
  return {
    tasks: withClaimCheck(
      new TaskStore(sql, { maxUnfinishedPerOwner: api.MAX_PENDING_PER_OWNER }),
      payloadStoreFromSettings(readSettings(PayloadSettingsSchema, env)),
      logger,
    ),
    taskTypes: createTaskTypeRegistry(),
    sql,
    settings: {
      api,
      models: { OLLAMA_MODEL: ollama.OLLAMA_MODEL, OLLAMA_MODELS: ollama.OLLAMA_MODELS },
    },
    logger,
    metrics,
    events: createTaskEvents(realtime, { logger, metrics }),
    ...(wake.scaleToZero || wake.waker !== noWaker ? { wake } : {}),
  };
}

let wakeOverride: WakePorts | undefined;

/**
 * The local runtime's wake ports (its memory marker, its schedule's wake), used instead of
 * the settings' when the container is made; call before the first request.
 */
export function useWakePorts(ports: WakePorts): void {
  wakeOverride = ports;
}

/** How long a request waits for a resuming Aurora cluster before answering 503. */
export const API_RESUME_WAIT_MS = 20_000;

let container: ApiDeps | undefined;

export const handler = createApiHandler(() => {
  container = depsFromEnvironment();
  return container;
});

/**
 * Releases this container's database connections. Lambda never needs it (the container
 * just freezes); the local runtime calls it on shutdown, before stopping its PostgreSQL.
 */
export async function closeApiContainer(): Promise<void> {
  const closing = container;
  container = undefined;
  await closing?.sql.close();
}
