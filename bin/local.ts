import { PipelineError, SettingsError } from "../functions/core/errors";
import { createServiceLogger } from "../functions/core/telemetry/logger";
import { type LocalRuntime, startLocalRuntime } from "../functions/local/runtime";

/**
 * `npm start`: the whole pipeline on this machine (see functions/local/runtime.ts).
 * A bad setting or a failed start ends with a one-line message and exit code 1; Ctrl-C or
 * SIGTERM stops gracefully, a second one (a second later or more) stops at once.
 *
 * What ends the process: a signal (above); its embedded PostgreSQL dying (a stop, then exit
 * code 1, see runtime.ts); an exception outside any request (a bug: logged at ERROR, then
 * the same stop, exit code 1). A failing request never does: the gateway answers it.
 */

/**
 * `npm start` passes SIGINT and SIGTERM on to this process, and a terminal's Ctrl-C reaches
 * npm and this process both: one Ctrl-C arrives twice, milliseconds apart. A signal within
 * this long of the first is that same one; a deliberate second press comes later.
 */
const SAME_SIGNAL_WINDOW_MS = 1_000;

const fail = (message: string): never => {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(1);
};

// The same lines as the Lambdas (Powertools: JSON, or short lines at a terminal), so the
// runtime's lines read alike. A bad LOG_FORMAT stops here, named like any other setting.
const logger = (() => {
  try {
    return createServiceLogger({ service: "local-runtime", environment: "local" });
  } catch (error) {
    if (error instanceof SettingsError) return fail(error.message);
    throw error;
  }
})();

let runtime: LocalRuntime | undefined;
let stopping = false;

/** Stops gracefully (within the grace period and a margin, else at once), then exits with `code`. */
const stopAndExit = (code: number, options: { graceMs?: number } = {}) => {
  stopping = true;
  if (!runtime) process.exit(code);
  const graceMs = options.graceMs ?? runtime.settings.local.SHUTDOWN_GRACE_MS;
  // The stop waits for executor invocations and connections; 20 s past the grace period,
  // something is stuck, and waiting longer helps nobody.
  setTimeout(() => {
    logger.error("the stop did not finish in time: exiting now", { graceMs });
    process.exit(1);
  }, graceMs + 20_000).unref();
  runtime.stop({ graceMs }).then(
    () => process.exit(code),
    (error: unknown) => {
      logger.error("stop failed", { error });
      process.exit(1);
    },
  );
};

const onFatal = (what: string) => (error: unknown) => {
  logger.error(`${what}: the runtime stops`, { error });
  if (stopping) process.exit(1);
  stopAndExit(1);
};
process.on("uncaughtException", onFatal("uncaught exception"));
process.on("unhandledRejection", onFatal("unhandled promise rejection"));

let firstSignalAt: number | undefined;
const onSignal = (signal: NodeJS.Signals) => {
  const now = Date.now();
  if (firstSignalAt === undefined) {
    firstSignalAt = now;
    // During the start, the stop follows once it is done (below).
    if (runtime) stopAndExit(0);
    return;
  }
  if (now - firstSignalAt < SAME_SIGNAL_WINDOW_MS) return;
  process.stderr.write(
    `${signal} again: stopping now; in-flight tasks go back when their leases expire\n`,
  );
  process.exit(130);
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

runtime = await startLocalRuntime({ logger }).catch((error: unknown) => {
  if (error instanceof SettingsError || error instanceof PipelineError) return fail(error.message);
  logger.debug("start failed", { error });
  return fail(`could not start: ${error instanceof Error ? error.message : String(error)}`);
});
process.stdout.write(`${runtime.banner}\n`);
if (firstSignalAt !== undefined) stopAndExit(0);

void runtime.failed.then((error) => {
  if (stopping) return;
  process.stderr.write(`npm start: ${error.message}\n`);
  // Nothing can be handed back without a database: no grace period.
  stopAndExit(1, { graceMs: 0 });
});
