/**
 * Exponential backoff with jitter (after the AWS Architecture Blog's "Exponential Backoff
 * And Jitter"). The ceiling of attempt n is `baseMs * 2^(n-1)`, capped at `maxMs`:
 *   - "equal": half the ceiling plus a random half. Delays still spread out, and attempt
 *     n+1 never waits less than attempt n (its floor is n's ceiling), so retries of one
 *     task visibly back off. Used for task retries, database outages, and the Data API
 *     adapter's wait while Aurora resumes.
 *   - "full": anywhere in [0, ceiling): the most spread for many clients hitting one
 *     resource at once, at the price of an occasional short wait.
 *   - "none": the ceiling itself (deterministic, for reasoning and tests).
 */
export type Jitter = "full" | "equal" | "none";

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  jitter: Jitter;
}

/** Past 2^50 every realistic cap has long been reached; this keeps the math finite. */
const MAX_EXPONENT = 50;

/** The ceiling for the given attempt (1-based: the attempt that just failed). */
export function backoffCeiling(policy: BackoffPolicy, attempt: number): number {
  const exponent = Math.min(Math.max(0, Math.floor(attempt) - 1), MAX_EXPONENT);
  return Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
}

/** How long to wait after the given failed attempt (1-based), in whole ms. */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = backoffCeiling(policy, attempt);
  switch (policy.jitter) {
    case "full":
      return Math.floor(random() * ceiling);
    case "equal":
      return Math.floor(ceiling / 2 + (random() * ceiling) / 2);
    case "none":
      return ceiling;
  }
}
