import { Token } from "aws-cdk-lib";
import type { z } from "zod";
import { readSettings } from "../../functions/core/config/settings";
import { SettingsError } from "../../functions/core/errors";

/**
 * Checks a Lambda's environment with the same schemas the handler reads it with at cold
 * start, so a value the function would refuse fails `cdk synth` instead of the deployed
 * function. Values only known at deploy time (ARNs, queue URLs, instance DNS names) are
 * left out; each schema gives those a default or treats them as optional.
 */
export function checkRuntimeSettings(
  functionName: string,
  environment: Readonly<Record<string, string>>,
  schemas: readonly z.ZodType[],
): void {
  const known = Object.fromEntries(
    Object.entries(environment).filter(([, value]) => !Token.isUnresolved(value)),
  );
  for (const schema of schemas) {
    try {
      readSettings(schema, known);
    } catch (error) {
      if (!(error instanceof SettingsError)) throw error;
      throw new SettingsError(
        `the ${functionName} Lambda would refuse its environment: ${error.message}`,
        error.details,
      );
    }
  }
}
