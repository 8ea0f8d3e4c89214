import type { BackoffPolicy } from "../backoff";
import type { ExecutorSettings } from "../config/settings";

// The executor's two backoff policies; the backoff itself is functions/core/backoff.ts.

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
