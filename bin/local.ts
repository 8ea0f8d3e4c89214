import { PipelineError, SettingsError } from "../functions/core/errors";
import { createServiceLogger } from "../functions/core/telemetry/logger";
import { startLocalRuntime } from "../functions/local/runtime";

/**
 * `npm start`: the whole pipeline on this machine (see functions/local/runtime.ts).
 * A bad setting or a failed start ends with a one-line message and exit code 1; Ctrl-C or
 * SIGTERM stops gracefully, a second one stops at once.
 */

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

const runtime = await startLocalRuntime({ logger }).catch((error: unknown) => {
  if (error instanceof SettingsError || error instanceof PipelineError) return fail(error.message);
  logger.debug("start failed", { error });
  return fail(`could not start: ${error instanceof Error ? error.message : String(error)}`);
});
process.stdout.write(`${runtime.banner}\n`);

let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  signals += 1;
  if (signals > 1) {
    process.stderr.write(
      `${signal} again: stopping now; in-flight tasks go back when their leases expire\n`,
    );
    process.exit(130);
  }
  runtime.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error("stop failed", { error });
      process.exit(1);
    },
  );
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
