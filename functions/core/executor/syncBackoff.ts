/**
 * The sync backoff: while the database fails, the next sync waits (databaseBackoffPolicy:
 * soon at first, a killed connection is back at once, then doubling), never past the
 * moment the loop gives up. Outcomes stay buffered meanwhile and are sent again: every
 * write is fenced by the lease, so a retried write is safe.
 */
import { type BackoffPolicy, backoffDelay } from "../backoff";

export class SyncBackoff {
  /** Failed syncs in a row; 0 while the database answers. */
  failures = 0;
  /** No sync before this time. */
  nextSyncAtMs: number;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number,
    startMs: number,
  ) {
    this.nextSyncAtMs = startMs;
  }

  /** A sync failed at `nowMs`: how long until the next, capped at `giveUpAtMs`. */
  failed(nowMs: number, giveUpAtMs: number): number {
    this.failures++;
    const delayMs = Math.min(
      backoffDelay(this.policy, this.failures, this.random),
      Math.max(0, giveUpAtMs - nowMs),
    );
    this.nextSyncAtMs = nowMs + delayMs;
    return delayMs;
  }

  /** A sync went through; returns how many had failed before it. */
  succeeded(): number {
    const before = this.failures;
    this.failures = 0;
    this.nextSyncAtMs = 0;
    return before;
  }
}
