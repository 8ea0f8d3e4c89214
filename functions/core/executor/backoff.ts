import type { ExecutorSettings } from "../config/settings";

/**
 * Exponential backoff with jitter (after the AWS Architecture Blog's "Exponential Backoff
 * And Jitter"). The ceiling of attempt n is `baseMs * 2^(n-1)`, capped at `maxMs`:
 *   - "equal": half the ceiling plus a random half. Delays still spread out, and attempt
 *     n+1 never waits less than attempt n (its floor is n's ceiling), so retries of one
 *     task visibly back off. The executor uses it for task retries and database outages.
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

/** The task retry backoff from settings: RETRY_BASE_MS doubling up to RETRY_MAX_MS. */
export function taskRetryPolicy(
  settings: Pick<ExecutorSettings, "RETRY_BASE_MS" | "RETRY_MAX_MS">,
): BackoffPolicy {
  return { baseMs: settings.RETRY_BASE_MS, maxMs: settings.RETRY_MAX_MS, jitter: "equal" };
}

/**
 * Database outages: retry soon (a killed connection is back at once), then back off,
 * doubling from 250 ms up to 5 s, or up to the heartbeat interval when that is shorter, so
 * leases are renewed within a heartbeat of the database answering again.
 */
export function databaseBackoffPolicy(
  settings: Pick<ExecutorSettings, "LEASE_SECONDS">,
): BackoffPolicy {
  const heartbeatEveryMs = (settings.LEASE_SECONDS * 1000) / 3;
  const maxMs = Math.max(250, Math.min(5_000, heartbeatEveryMs));
  return { baseMs: 250, maxMs, jitter: "equal" };
}
