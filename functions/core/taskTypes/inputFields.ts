import { z } from "zod";

/**
 * Field builders for task inputs, so every type words its errors the same way:
 * `topic is required`, `topic must be at most 500 characters`.
 */

/**
 * Text of at most `max` characters, not blank. Short fields (a topic, a tone) are trimmed; text sent
 * to the model as written (a prompt, a stop sequence such as "\n\n") is kept as is and
 * only has to hold something besides whitespace.
 */
export function text(field: string, max: number, { trim = true }: { trim?: boolean } = {}) {
  const base = z
    .string({
      error: (issue) =>
        issue.input === undefined ? `${field} is required` : `${field} must be text`,
    })
    .max(max, { error: `${field} must be at most ${max} characters` });
  return trim
    ? base.trim().min(1, { error: `${field} must not be empty` })
    : base.regex(/\S/, { error: `${field} must not be empty` });
}

/** A whole number between `min` and `max`. */
export function wholeNumber(field: string, min: number, max: number) {
  return z
    .number({
      error: (issue) =>
        issue.input === undefined ? `${field} is required` : `${field} must be a number`,
    })
    .int({ error: `${field} must be a whole number` })
    .min(min, { error: `${field} must be at least ${min}` })
    .max(max, { error: `${field} must be at most ${max}` });
}

/** A number between `min` and `max` (fractions allowed). */
export function decimal(field: string, min: number, max: number) {
  return z
    .number({ error: `${field} must be a number` })
    .min(min, { error: `${field} must be at least ${min}` })
    .max(max, { error: `${field} must be at most ${max}` });
}

/** An object that must have exactly the given fields: a typo is an error, not ignored. */
export function fields<Shape extends z.ZodRawShape>(what: string, shape: Shape) {
  return z.strictObject(shape, {
    error: (issue) => (issue.code === "invalid_type" ? `${what} must be an object` : undefined),
  });
}
