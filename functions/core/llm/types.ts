/**
 * The LLM port: what task types and the executor need from an LLM server. The one
 * adapter (`createLlmClient`, over the `ollama` package) speaks to Ollama; tests point it
 * at the Ollama-compatible server in testkit/ollamaServer.ts.
 */

export interface LlmMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** `"json"`: any JSON; an object: a JSON schema the answer must follow (Ollama structured outputs). */
export type LlmFormat = "json" | Record<string, unknown>;

/** Ollama runtime options (temperature, num_predict, seed...), passed through as given. */
export type LlmOptions = Record<string, unknown>;

export interface LlmChatRequest {
  model: string;
  messages: readonly LlmMessage[];
  format?: LlmFormat;
  options?: LlmOptions;
  /** Aborting it cancels the HTTP call at once; the call then throws TaskCancelledError. */
  signal?: AbortSignal;
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number;
  /** Called with each piece of the answer's text as it streams in (real-time output). */
  onDelta?: (delta: string) => void;
}

/** Token counts from Ollama's final answer (prompt_eval_count, eval_count). */
export interface LlmUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface LlmChatResult {
  /** The whole answer (streamed chunks joined). */
  content: string;
  /** The model that answered, as the server names it. */
  model: string;
  usage: LlmUsage;
  /** Wall-clock time of the call as the caller saw it, queueing on the server included. */
  durationMs: number;
  /** Why generation stopped: `stop`, or `length` when num_predict cut it off; null if not said. */
  doneReason: string | null;
}

export interface LlmModelInfo {
  name: string;
  sizeBytes: number;
  modifiedAt: string;
}

export interface LlmCallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * Every method throws TaskExecutionError (with `retryable` set by classifyLlmError) or,
 * when the caller's signal aborted the call, TaskCancelledError.
 */
export interface LlmClient {
  /** The server's base URL, as configured (used in error messages and the banner). */
  readonly host: string;
  chat(request: LlmChatRequest): Promise<LlmChatResult>;
  /** The models the server has pulled (health checks, the local runtime's banner). */
  listModels(options?: LlmCallOptions): Promise<LlmModelInfo[]>;
  /** The server's version string. */
  version(options?: LlmCallOptions): Promise<string>;
}
