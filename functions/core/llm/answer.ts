import { TaskExecutionError } from "../errors";

/**
 * A streamed answer as it arrives: every delta of text passes through `add`, which counts
 * its UTF-8 bytes and refuses the one that takes the answer over its limit, so a runaway
 * answer costs at most the limit in memory rather than its whole size (two concurrent
 * 60 MB answers took an executor from 109 MB to 340 MB before this limit).
 *
 * `add` is the one place each delta passes: whatever must see the answer while it streams
 * (publishing it to browsers, say) hooks in there.
 */
export class StreamedAnswer {
  private readonly parts: string[] = [];
  private bytes = 0;

  /** @param maxBytes the most UTF-8 bytes of text the answer may hold */
  constructor(private readonly maxBytes: number) {}

  /**
   * Takes the next delta. Throws a final (not retryable) TaskExecutionError once the answer
   * is over the limit: the same prompt would produce an answer of the same size again.
   */
  add(delta: string): void {
    if (delta === "") return;
    this.bytes += Buffer.byteLength(delta, "utf8");
    if (this.bytes > this.maxBytes) {
      throw new TaskExecutionError(
        `the model's answer is over the ${this.maxBytes}-byte result limit; stopped reading it after ${this.bytes} bytes`,
        false,
      );
    }
    this.parts.push(delta);
  }

  /** The answer so far, joined. */
  text(): string {
    return this.parts.join("");
  }
}
