/**
 * Waits for the LLM server instead of spending attempts on it. The gate starts unknown:
 * before the first claim of an invocation it asks the server for its version (one cheap
 * HTTP call, no model loaded). A server that does not answer (stopped to save money,
 * starting, restarting) closes the gate: nothing is claimed, so no task fails or burns an
 * attempt, and it is asked again every `retryMs` until it answers. A retryable failure of an
 * attempt makes the gate unknown again, so at most the attempts already running when the
 * server went away fail, once each.
 *
 * A server that is off to save money (docs/design.md "The LLM server off when idle") is
 * asked for: with a starter, closing the gate requests a start at once, and again at most
 * every `startEveryMs` (START_REQUEST_EVERY_MS, 60 s) while it stays closed. A start takes
 * about a minute (instance boot, Ollama, the model load), so one request a minute per
 * invocation is plenty, and a lost or failed one is repeated by the next. A starter's
 * error is logged and swallowed: the loop goes on probing.
 */
import type { LlmStarter } from "../llm/starter";
import type { Logger } from "../telemetry/ports";

/** At most one start request per this long while the gate stays closed. */
export const START_REQUEST_EVERY_MS = 60_000;

export class LlmGate {
  private state: "unknown" | "open" | "closed";
  private nextProbeAtMs = 0;
  private closedSinceMs: number | undefined;
  private nextStartAtMs = 0;

  constructor(
    private readonly probe: (() => Promise<unknown>) | undefined,
    private readonly logger: Logger,
    private readonly retryMs = 2_000,
    private readonly starter?: LlmStarter,
    private readonly startEveryMs = START_REQUEST_EVERY_MS,
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
      await this.requestStartIfDue(nowMs);
    }
    return true;
  }

  /** On closing, then once every `startEveryMs` while closed; errors never escape. */
  private async requestStartIfDue(nowMs: number): Promise<void> {
    if (!this.starter || nowMs < this.nextStartAtMs) return;
    this.nextStartAtMs = nowMs + this.startEveryMs;
    try {
      await this.starter.requestStart();
      this.logger.info("asked for the LLM server to be started", {
        nextRequestInMs: this.startEveryMs,
      });
    } catch (error) {
      this.logger.warn("could not ask for the LLM server to be started; asking again later", {
        error,
        retryInMs: this.startEveryMs,
      });
    }
  }
}
