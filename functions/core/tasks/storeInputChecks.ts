/**
 * The store's input checks. The API validates requests first; these guard what PostgreSQL
 * itself would reject (a NUL byte, an int out of range, an oversized index key, a jsonb
 * escape it cannot store) so bad input always becomes a ValidationError naming the field,
 * never a raw SQL error.
 */
import { z } from "zod";
import { ValidationError } from "../errors";
import { describeFieldIssues, fieldError, toFieldIssues } from "../fieldIssues";
import { TEXT_MAX_CHARS } from "./byteBudgets";
import type { NewTask } from "./model";
import { printedJsonLength } from "./printedJson";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Only canonical UUIDs reach SQL: anything else would be a cast error, not a "not found". */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

// An odd run of backslashes before `u` is a real escape: `\u0000` (jsonb rejects it) or a
// lone surrogate `\ud800` (JSON.stringify escapes those; jsonb rejects them too).
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/**
 * Why a JSON value cannot be stored in a jsonb column of at most `maxBytes`, or null when
 * it can. Measured as PostgreSQL prints the jsonb back (./printedJson.ts), the size the
 * Data API's 64 KB row limit counts: a compact array of small numbers prints 1.5× bigger,
 * `1e+308` as 309 digits.
 */
export function jsonProblem(value: unknown, maxBytes: number): string | null {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    return `is not serializable as JSON (${(error as Error).message})`;
  }
  if (text === undefined) return "is required and must be a JSON value";
  const bytes = printedJsonLength(text);
  if (bytes > maxBytes) {
    return `is ${bytes} bytes as JSON, over the limit of ${maxBytes} bytes (counted as PostgreSQL prints jsonb: ", " and ": " separators, numbers in full)`;
  }
  if (UNSTORABLE_ESCAPE.test(text)) {
    return "contains a NUL character or an unpaired surrogate, which cannot be stored";
  }
  return null;
}

const noNul = (schema: z.ZodString) =>
  schema.refine((s) => !s.includes("\u0000"), { error: "must not contain NUL characters" });

const INT4_MAX = 2_147_483_647;
const INT4_MIN = -2_147_483_648;

// owner and idempotency_key share a btree index entry (limit ~2.7 kB): 255 characters each
// keeps it under that even at 3 bytes a UTF-16 unit; every text column's cap is also part
// of the row's byte arithmetic (./byteBudgets.ts).
// Typed as NewTask's checker, so a settable column added to the task row (./taskRow.ts)
// fails to compile here until its check is written.
const NewTaskSchema: z.ZodType<NewTask> = z.object({
  owner: noNul(z.string().min(1).max(TEXT_MAX_CHARS)),
  type: noNul(z.string().min(1).max(TEXT_MAX_CHARS)),
  title: noNul(z.string().max(TEXT_MAX_CHARS)).nullable(),
  input: z.unknown(),
  priority: z.number().int().min(INT4_MIN).max(INT4_MAX),
  runAt: z.date().nullable(),
  maxAttempts: z.number().int().min(1).max(INT4_MAX),
  model: noNul(z.string().min(1).max(TEXT_MAX_CHARS)),
  idempotencyKey: noNul(z.string().min(1).max(TEXT_MAX_CHARS)).nullable(),
});

/** Checks a NewTask; ValidationError listing every field that cannot be stored. */
export function validateNewTask(task: NewTask, maxInputBytes: number): void {
  const parsed = NewTaskSchema.safeParse(task);
  const problems = parsed.success ? [] : toFieldIssues(parsed.error);
  const input = jsonProblem(task.input, maxInputBytes);
  if (input !== null) problems.push({ path: "input", message: `input ${input}` });
  if (problems.length > 0) {
    throw new ValidationError(`invalid task: ${describeFieldIssues(problems)}`, problems);
  }
}

/** Whole number in [min, max], else a ValidationError naming `field`. */
export function requireInt(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw fieldError(field, `${field} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** Replaces NUL characters (text columns cannot hold them) and caps the length. */
export function storableText(text: string, maxLength: number): string {
  const clean = text.replaceAll("\u0000", "\uFFFD");
  return clean.length <= maxLength ? clean : `${clean.slice(0, maxLength - 1)}…`;
}
