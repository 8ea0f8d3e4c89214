import { TaskCancelledError, TaskExecutionError } from "../errors";
import type { CallSignal } from "./callSignal";

/**
 * Turns whatever an Ollama call threw into the error the executor acts on:
 * retryable TaskExecutionError (the server is down, slow, or failing for now), final
 * TaskExecutionError (the request itself is wrong: unknown model, other 4xx), or
 * TaskCancelledError (the caller aborted).
 */

export interface CallContext {
  /** The server's base URL, named in messages so an operator knows where to look. */
  host: string;
  timeoutMs: number;
  /** The model the call asked for, named when the server does not know it. */
  model?: string;
  abortedBy: CallSignal["abortedBy"];
}

/** Codes that mean no connection could be made at all. */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** 408 and 429 are the two 4xx that say "later", so they are retried like a 5xx. */
const RETRYABLE_CLIENT_STATUSES = new Set([408, 429]);

export function classifyLlmError(error: unknown, call: CallContext): Error {
  if (error instanceof TaskExecutionError || error instanceof TaskCancelledError) return error;
  if (call.abortedBy === "caller") return new TaskCancelledError();
  if (call.abortedBy === "timeout") {
    return new TaskExecutionError(`Ollama call timed out after ${call.timeoutMs} ms`, true, error);
  }

  const status = responseStatus(error);
  if (status !== undefined) return fromResponseError(status, errorMessage(error), call, error);

  const network = networkCause(error);
  if (network) {
    const verb = UNREACHABLE_CODES.has(network.code) ? "unreachable at" : "connection failed to";
    return new TaskExecutionError(`Ollama ${verb} ${call.host}: ${network.message}`, true, error);
  }

  // Errors reported inside a streamed answer ({"error": ...} after a 200), a stream that
  // ended without its final message, or a body that is not JSON: the server broke while
  // answering, which says nothing against the request, so it is worth another attempt.
  return new TaskExecutionError(
    `Ollama call to ${call.host} failed: ${errorMessage(error)}`,
    true,
    error,
  );
}

function fromResponseError(
  status: number,
  message: string,
  call: CallContext,
  cause: unknown,
): TaskExecutionError {
  if (status === 404 && /model .*not found/i.test(message)) {
    const name = call.model ?? /model "([^"]+)"/.exec(message)?.[1] ?? "?";
    return new TaskExecutionError(
      `model "${name}" is not available on the LLM server`,
      false,
      cause,
    );
  }
  const retryable = status >= 500 || RETRYABLE_CLIENT_STATUSES.has(status);
  return new TaskExecutionError(
    `Ollama at ${call.host} answered ${status}: ${message}`,
    retryable,
    cause,
  );
}

/** ollama-js throws `ResponseError` (not exported from the package) with `status_code`. */
function responseStatus(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const status = (error as { status_code?: unknown }).status_code;
  return typeof status === "number" ? status : undefined;
}

/**
 * fetch reports network failures as `TypeError: fetch failed` with the socket error as
 * its `cause` (an AggregateError when several addresses were tried). Finds the first
 * error in that chain that carries a code.
 */
function networkCause(error: unknown): { code: string; message: string } | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") {
      const inner = current instanceof AggregateError ? current.errors[0] : undefined;
      const message = current.message || (inner instanceof Error ? inner.message : "") || code;
      return { code, message };
    }
    current = current.cause;
  }
  return undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
