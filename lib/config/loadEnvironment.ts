import type { z } from "zod";
import { SettingsError } from "../../functions/core/errors";
import { type EnvironmentSettings, EnvironmentSettingsSchema } from "./environmentSettings";

/** Environment names double as stack-name suffixes and metric dimensions. */
const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,30}$/;

export interface SelectedEnvironment {
  readonly name: string;
  readonly settings: EnvironmentSettings;
}

/**
 * Picks `-c env=NAME` out of cdk.json's `context.environments` and validates it. Every
 * failure is a SettingsError whose message names the setting by its full path, e.g.
 * `environments.prod.database.maxCapacity must be at most 256 ACU (got 512)`.
 */
export function loadEnvironment(environments: unknown, envName: unknown): SelectedEnvironment {
  if (environments === undefined || environments === null || typeof environments !== "object") {
    throw new SettingsError(
      "cdk.json has no context.environments: add one object per environment (dev, staging, prod, localstack)",
    );
  }
  const known = Object.keys(environments).sort();
  if (envName === undefined || envName === "") {
    throw new SettingsError(
      `no environment selected: pass -c env=NAME, one of ${known.join(", ")}`,
      { known },
    );
  }
  if (typeof envName !== "string" || !Object.hasOwn(environments, envName)) {
    throw new SettingsError(
      `unknown environment ${JSON.stringify(envName)}: cdk.json's context.environments has ${known.join(", ")}`,
      { known },
    );
  }
  if (!ENVIRONMENT_NAME.test(envName)) {
    throw new SettingsError(
      `environment name ${JSON.stringify(envName)} must be lower-case letters, digits and dashes (it names the stack)`,
    );
  }
  const raw = (environments as Record<string, unknown>)[envName];
  // reportInput: issues carry the offending value, quoted back in the message.
  const parsed = EnvironmentSettingsSchema.safeParse(raw, { reportInput: true });
  if (parsed.success) return { name: envName, settings: parsed.data };
  const problems = parsed.error.issues.map((issue) =>
    describeIssue(`environments.${envName}`, issue),
  );
  throw new SettingsError(`invalid cdk.json settings: ${problems.join("; ")}`, problems);
}

/** `environments.dev.api.corsOrigins.0 must be an origin ... (got "ftp://x")`. */
function describeIssue(prefix: string, issue: z.core.$ZodIssue): string {
  const path = [prefix, ...issue.path.map(String)].join(".");
  if (issue.code === "unrecognized_keys") {
    return `${path} has unknown setting(s) ${issue.keys.join(", ")}`;
  }
  const got =
    "input" in issue && issue.input !== undefined && typeof issue.input !== "object"
      ? ` (got ${JSON.stringify(issue.input)})`
      : "";
  return `${path} ${issue.message}${got}`;
}
