import type { z } from "zod";
import { SettingsError } from "../../core/errors";

/**
 * Middleware options are checked when the chain is built (at cold start), so a bad
 * option stops the container with a message naming it instead of failing requests later.
 */
export function middlewareOptions<S extends z.ZodType>(
  middleware: string,
  schema: S,
  options: unknown,
): z.output<S> {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${[middleware, ...issue.path.map(String)].join(".")}: ${issue.message}`,
  );
  throw new SettingsError(`invalid middleware options: ${problems.join("; ")}`, problems);
}
