/**
 * Waits for the LLM server instead of spending attempts on it. The gate starts unknown:
 * before the first claim of an invocation it asks the server for its version (one cheap
 * HTTP call, no model loaded). A server that does not answer (stopped to save money,
 * starting, restarting) closes the gate: nothing is claimed, so no task fails or burns an
 * attempt, and it is asked again every `retryMs` until it answers. A retryable failure of an
 * attempt makes the gate unknown again, so at most the attempts already running when the
 * server went away fail, once each.
 */
import type { Logger } from "../telemetry/ports";

export class LlmGate {
  private state: "unknown" | "open" | "closed";
  private nextProbeAtMs = 0;
  private closedSinceMs: number | undefined;

  constructor(
    private readonly probe: (() => Promise<unknown>) | undefined,
    private readonly logger: Logger,
    private readonly retryMs = 2_000,
  ) {
    // Without a probe (tests of the loop alone, the bench's no-op types) it stays open.
    this.state = probe ? "unknown" : "open";
  }

  get open(): boolean {
    return this.state === "open";
  }

  /** An attempt failed in a way the server may be behind: ask it before claiming again. */
  suspect(): void {
    if (this.probe && this.state === "open") this.state = "unknown";
  }

  /** When a claim due at `claimAtMs` can happen: then if open, else at the next probe. */
  claimableAt(claimAtMs: number): number {
    return this.state === "open" ? claimAtMs : Math.max(claimAtMs, this.nextProbeAtMs);
  }

  /** Probes when one is due; true when it did (the caller's turn is then spent). */
  async probeIfDue(nowMs: number): Promise<boolean> {
    if (!this.probe || this.state === "open" || nowMs < this.nextProbeAtMs) return false;
    try {
      await this.probe();
      if (this.closedSinceMs !== undefined) {
        this.logger.info("LLM server answers again; claiming", {
          waitedMs: nowMs - this.closedSinceMs,
        });
      }
      this.state = "open";
      this.closedSinceMs = undefined;
    } catch (error) {
      if (this.state !== "closed") {
        this.logger.warn("LLM server does not answer; claiming nothing until it does", {
          error,
          retryMs: this.retryMs,
        });
        this.closedSinceMs = nowMs;
      }
      this.state = "closed";
      this.nextProbeAtMs = nowMs + this.retryMs;
    }
    return true;
  }
}
