import { z } from "zod";
import {
  ApiSettingsSchema,
  DatabaseUrlSchema,
  ExecutorSettingsSchema,
  OllamaSettingsSchema,
  readSettings,
  wholeNumber,
} from "../core/config/settings";
import { SettingsError } from "../core/errors";
import { executorReserveMs } from "../core/executor/loop";

/**
 * The local runtime's own settings (`npm start`), see docs/design.md "The local runtime (`npm start`)". The
 * executor, Ollama and API settings are the Lambdas' own schemas: they are validated here
 * too, at start, so a bad one stops `npm start` at once instead of failing a handler later.
 */

export const LocalSettingsSchema = z.object({
  /** The HTTP port; 0 picks a free one (the banner shows which). */
  PORT: wholeNumber("PORT", 0, 65_535, 3000),
  /** Where the HTTP server listens; loopback by default, `0.0.0.0` to share it. */
  HOST: z.string().min(1, { error: "HOST must name an address" }).default("127.0.0.1"),
  /** The HS256 secret the emulated JWT authorizer verifies tokens with. */
  LOCAL_JWT_SECRET: z
    .string()
    .min(8, { error: "LOCAL_JWT_SECRET must be at least 8 characters" })
    .default("local-dev-secret"),
  /** How often the executor is invoked, as the EventBridge rule does once a minute in AWS. */
  SCHEDULE_INTERVAL_MS: wholeNumber("SCHEDULE_INTERVAL_MS", 100, 3_600_000, 60_000),
  /** The embedded PostgreSQL's data directory, kept across restarts. */
  DATA_DIR: z.string().min(1, { error: "DATA_DIR must name a directory" }).default(".data"),
  /** The embedded PostgreSQL's port; when taken, a free one is used instead. */
  EMBEDDED_POSTGRES_PORT: wholeNumber("EMBEDDED_POSTGRES_PORT", 0, 65_535, 5433),
  /** An existing PostgreSQL to use instead of the embedded one. */
  DATABASE_URL: DatabaseUrlSchema.optional(),
  /**
   * How long a stop (Ctrl-C, SIGTERM) waits for in-flight tasks before handing them back.
   * 0 hands them back at once.
   */
  SHUTDOWN_GRACE_MS: wholeNumber("SHUTDOWN_GRACE_MS", 0, 900_000, 10_000),
});
export type LocalSettings = z.infer<typeof LocalSettingsSchema>;

export interface LocalRuntimeSettings {
  local: LocalSettings;
  executor: z.infer<typeof ExecutorSettingsSchema>;
  ollama: z.infer<typeof OllamaSettingsSchema>;
  api: z.infer<typeof ApiSettingsSchema>;
}

/**
 * Reads every setting the local runtime and the handlers it runs use. All problems are
 * reported together in one SettingsError, each naming its setting.
 */
export function readLocalRuntimeSettings(
  env: Record<string, string | undefined> = process.env,
): LocalRuntimeSettings {
  const problems: string[] = [];
  const read = <S extends z.ZodType>(schema: S): z.infer<S> | undefined => {
    try {
      return readSettings(schema, env);
    } catch (error) {
      if (!(error instanceof SettingsError)) throw error;
      problems.push(...(error.details as string[]));
      return undefined;
    }
  };
  const local = read(LocalSettingsSchema);
  const executor = read(ExecutorSettingsSchema);
  const ollama = read(OllamaSettingsSchema);
  const api = read(ApiSettingsSchema);
  if (executor && local && executor.EXECUTOR_TIMEOUT_MS < local.SCHEDULE_INTERVAL_MS) {
    // Each invocation claims until its budget is spent; a budget shorter than the interval
    // would leave the queue unwatched between invocations.
    problems.push(
      `EXECUTOR_TIMEOUT_MS must be at least SCHEDULE_INTERVAL_MS (${local.SCHEDULE_INTERVAL_MS}) (got "${executor.EXECUTOR_TIMEOUT_MS}")`,
    );
  }
  if (executor && ollama && executor.EXECUTOR_TIMEOUT_MS <= executorReserveMs(ollama)) {
    // The executor keeps one LLM call's timeout (plus a margin) in reserve and claims only
    // before it: a budget no longer than the reserve would never claim anything.
    problems.push(
      `EXECUTOR_TIMEOUT_MS must be more than the executor's reserve, LLM_TIMEOUT_MS plus ${
        executorReserveMs(ollama) - ollama.LLM_TIMEOUT_MS
      } ms (${executorReserveMs(ollama)}) (got "${executor.EXECUTOR_TIMEOUT_MS}")`,
    );
  }
  if (problems.length > 0 || !local || !executor || !ollama || !api) {
    throw new SettingsError(`invalid settings: ${problems.join("; ")}`, problems);
  }
  return { local, executor, ollama, api };
}
