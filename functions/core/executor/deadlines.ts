/**
 * An invocation's deadlines, from its remaining time. Claiming stops once the remaining
 * budget falls below the reserve (LLM_TIMEOUT_MS plus a margin), so every claimed task can
 * finish before the budget ends; attempts still running at `end - margin` are aborted and
 * given back; the loop returns by `end - margin/4` at the latest. The deadlines only ever
 * come forward: the local runtime cuts the budget short on shutdown, and the loop winds
 * down as it would before a timeout.
 */

/**
 * The remaining time: a number of ms from now, or a function read on every turn of the
 * loop (a Lambda context's `getRemainingTimeInMillis`).
 */
export type ExecutorBudget = number | (() => number);

/** While the budget is a function, the loop looks at it at least this often. */
export const BUDGET_CHECK_MS = 1_000;

export class Deadlines {
  readonly budgetMs: number;
  endMs: number;
  claimUntilMs = 0;
  abortAtMs = 0;
  giveUpAtMs = 0;
  private readonly remainingMs: () => number;

  constructor(
    readonly budget: ExecutorBudget,
    startMs: number,
    now: () => number,
    private readonly reserveMs: number,
    private readonly marginMs: number,
  ) {
    this.remainingMs = typeof budget === "function" ? budget : () => budget - (now() - startMs);
    this.budgetMs = Math.max(0, this.remainingMs());
    this.endMs = startMs + this.budgetMs;
    this.refresh(startMs);
  }

  /** Reads the remaining time again; a shorter one brings every deadline forward. */
  refresh(nowMs: number): void {
    this.endMs = Math.min(this.endMs, nowMs + Math.max(0, this.remainingMs()));
    this.claimUntilMs = this.endMs - this.reserveMs;
    this.abortAtMs = this.endMs - this.marginMs;
    this.giveUpAtMs = this.endMs - this.marginMs / 4;
  }

  /** Whether the budget is a function that a long wait must glance at. */
  get watched(): boolean {
    return typeof this.budget === "function";
  }
}
