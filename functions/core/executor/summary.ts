/** What one executor invocation did; returned by the handler and logged at the end. */
export interface ExecutorSummary {
  workerId: string;
  /** Tasks this invocation claimed. */
  claimed: number;
  /** Outcomes written, by the status the row ended in. */
  completed: number;
  /** Back to pending with a backoff (retryable failure with attempts left, or interrupted). */
  retried: number;
  /** Ended failed: own final failures plus expired leases recovered out of attempts. */
  failed: number;
  cancelled: number;
  /** Finished tasks past RETENTION_SECONDS this invocation deleted. */
  expired: number;
  /** Expired leases of dead workers this invocation recovered (back to pending or failed). */
  recovered: number;
  /** Attempts whose lease was lost (reclaimed or fenced out): nothing written for them. */
  leaseLost: number;
  /** Turns of the loop: each one synced, or waited for the next thing to do. */
  loops: number;
  /** Round trips to the database (sync statements), failed ones included. */
  syncs: number;
  /** Time spent waiting with nothing running, in ms. */
  idleMs: number;
  /** Database calls that failed (the loop backed off and went on). */
  databaseErrors: number;
  /** Finished outcomes that could not be written before the budget ended (their leases expire). */
  unsettled: number;
  durationMs: number;
}

export type SummaryCounts = Omit<ExecutorSummary, "workerId" | "durationMs">;

export function emptyCounts(): SummaryCounts {
  return {
    claimed: 0,
    completed: 0,
    retried: 0,
    failed: 0,
    cancelled: 0,
    expired: 0,
    recovered: 0,
    leaseLost: 0,
    loops: 0,
    syncs: 0,
    idleMs: 0,
    databaseErrors: 0,
    unsettled: 0,
  };
}
