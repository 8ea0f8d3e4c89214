import type { z } from "zod";
import { ValidationError } from "./errors";

/** One failing field, as ValidationError details and the API's 400 body list them. */
export interface FieldIssue {
  /** Dotted path from the request body's root, e.g. `input.keywords.2`. */
  path: string;
  message: string;
}

/**
 * Flattens a zod error into field issues under `prefix` (e.g. `input`). An unknown key is
 * reported at its own path (`input.extra`), so a typo such as `max_words` points at itself.
 */
export function toFieldIssues(error: z.ZodError, prefix?: string): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    const at = (segments: readonly PropertyKey[]) =>
      [prefix, ...segments.map(String)].filter((s) => s !== undefined && s !== "").join(".") ||
      "(root)";
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        path: at([...issue.path, key]),
        message: `unknown field "${key}"`,
      }));
    }
    return [{ path: at(issue.path), message: issue.message }];
  });
}

/** `input.topic: topic is required; input.wordCount: ...` for an error's message. */
export function describeFieldIssues(issues: readonly FieldIssue[]): string {
  return issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
}

/** A ValidationError about one field, whose message is also the issue's. */
export function fieldError(path: string, message: string): ValidationError {
  return new ValidationError(message, [{ path, message }] satisfies FieldIssue[]);
}
