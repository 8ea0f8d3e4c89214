/**
 * One LLM call's abort signal: aborted by the caller's signal (task cancelled, lease lost,
 * executor stopping) or by the call's own timeout, whichever comes first. It remembers
 * which of the two fired, because the error a caller sees depends on it (cancelled vs.
 * retryable timeout) and the error fetch throws does not reliably say.
 *
 * Why not `AbortSignal.timeout` + `AbortSignal.any`: the executor runs hundreds of calls
 * per invocation with a timeout of up to 14 minutes; a timer that is cleared when the
 * call ends and a listener removed from the caller's long-lived signal leave nothing
 * behind, where `AbortSignal.timeout` keeps its timer until it fires.
 */
export interface CallSignal {
  readonly signal: AbortSignal;
  /** Why the call was aborted, or null while it was not. */
  readonly abortedBy: "caller" | "timeout" | null;
  /**
   * Clears the timer and the listener, and aborts the signal: a call that settled early
   * (an answer given up on at its size limit) leaves its response stream open otherwise,
   * and aborting a finished fetch changes nothing. Call once the call has settled.
   */
  dispose(): void;
}

export function createCallSignal(timeoutMs: number, callerSignal?: AbortSignal): CallSignal {
  const controller = new AbortController();
  let abortedBy: CallSignal["abortedBy"] = null;

  const onCallerAbort = () => {
    abortedBy ??= "caller";
    controller.abort(callerSignal?.reason);
  };
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener("abort", onCallerAbort, { once: true });

  const timer = setTimeout(() => {
    abortedBy ??= "timeout";
    controller.abort(new Error(`timed out after ${timeoutMs} ms`));
  }, timeoutMs);

  return {
    signal: controller.signal,
    get abortedBy() {
      return abortedBy;
    },
    dispose() {
      clearTimeout(timer);
      callerSignal?.removeEventListener("abort", onCallerAbort);
      controller.abort(new Error("the call has settled"));
    },
  };
}

/**
 * A fetch bound to one call's signal. ollama-js passes a signal only on streamed requests
 * (its own, used by `Ollama.abort()`), so a non-streamed call would otherwise be
 * uncancellable. The client makes one Ollama instance per call and never calls its
 * `abort()`, so replacing that signal loses nothing.
 */
export function fetchWithSignal(signal: AbortSignal): typeof fetch {
  return (input, init) => fetch(input, { ...init, signal });
}
