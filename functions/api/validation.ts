import type { z } from "zod";
import { ValidationError } from "../core/errors";
import { type FieldIssue, toFieldIssues } from "../core/fieldIssues";

/**
 * zod issues → the API's ValidationError: `details` lists `{path, message}` with dotted
 * field paths (`input.topic`, `priority`), the same form the task type registry and the
 * model allowlist use, so one 400 can list every problem of a request.
 */

/** More issues than this are summarized: a 5,000-item array of wrong values needs one line, not 5,000. */
const MAX_ISSUES = 20;

export function validationError(issues: readonly FieldIssue[], what = "request"): ValidationError {
  const shown = issues.slice(0, MAX_ISSUES);
  const summary = shown.map((issue) => `${issue.path}: ${issue.message}`);
  if (issues.length > shown.length) summary.push(`and ${issues.length - shown.length} more`);
  return new ValidationError(`invalid ${what}: ${summary.join("; ")}`, shown);
}

/** Parses `value` or throws a ValidationError naming each failing field under `prefix`. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  prefix?: string,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw validationError(toFieldIssues(parsed.error, prefix), what);
}

/** Runs a check that throws ValidationError with FieldIssue details; returns its issues instead. */
export function collectIssues<T>(
  check: () => T,
  fallbackPath: string,
): { value: T; issues: [] } | { value: undefined; issues: FieldIssue[] } {
  try {
    return { value: check(), issues: [] };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const details = Array.isArray(error.details) ? (error.details as FieldIssue[]) : [];
    return {
      value: undefined,
      issues: details.length > 0 ? details : [{ path: fallbackPath, message: error.message }],
    };
  }
}
