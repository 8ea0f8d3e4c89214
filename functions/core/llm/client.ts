import { type ChatResponse, type Message, Ollama } from "ollama";
import { SettingsError } from "../errors";
import { MAX_RESULT_BYTES } from "../tasks/byteBudgets";
import { StreamedAnswer } from "./answer";
import { createCallSignal, fetchWithSignal } from "./callSignal";
import { classifyLlmError } from "./classifyError";
import type {
  LlmCallOptions,
  LlmChatRequest,
  LlmChatResult,
  LlmClient,
  LlmModelInfo,
} from "./types";

export interface LlmClientOptions {
  /** Ollama's base URL, e.g. http://127.0.0.1:11434 (OLLAMA_HOST). */
  host: string;
  /** Each call's timeout (LLM_TIMEOUT_MS); a call may override it. */
  timeoutMs: number;
  /**
   * The most UTF-8 bytes of answer text a chat reads before it aborts the call and fails
   * (not retryable). Default: the task store's result limit, since an answer over it makes
   * a result the store refuses anyway; a store given another maxResultBytes wants the same
   * number here.
   */
  maxAnswerBytes?: number;
  /** Monotonic milliseconds, for durationMs. */
  now?: () => number;
}

/** An LlmClient over the `ollama` package, with a per-call timeout and cancellation. */
export function createLlmClient(options: LlmClientOptions): LlmClient {
  const host = checkHost(options.host);
  checkTimeout("timeoutMs", options.timeoutMs);
  const maxAnswerBytes = options.maxAnswerBytes ?? MAX_RESULT_BYTES;
  checkWhole("maxAnswerBytes", maxAnswerBytes, "bytes");
  const now = options.now ?? (() => performance.now());

  /**
   * Runs one call with its own signal. A fresh Ollama instance per call is cheap (it is
   * a config object) and is the only way to give each call its own fetch, hence its own
   * signal, without sharing state between concurrent calls.
   */
  async function withCall<T>(
    call: LlmCallOptions & { model?: string },
    work: (ollama: Ollama) => Promise<T>,
  ): Promise<T> {
    const timeoutMs = call.timeoutMs ?? options.timeoutMs;
    checkTimeout("timeoutMs", timeoutMs);
    const callSignal = createCallSignal(timeoutMs, call.signal);
    try {
      if (callSignal.signal.aborted) throw callSignal.signal.reason;
      return await work(new Ollama({ host, fetch: fetchWithSignal(callSignal.signal) }));
    } catch (error) {
      throw classifyLlmError(error, {
        host,
        timeoutMs,
        model: call.model,
        abortedBy: callSignal.abortedBy,
      });
    } finally {
      callSignal.dispose();
    }
  }

  return {
    host,

    async chat(request: LlmChatRequest): Promise<LlmChatResult> {
      const started = now();
      const final = await withCall(request, async (ollama) => {
        const body = {
          model: request.model,
          messages: request.messages.map((m): Message => ({ role: m.role, content: m.content })),
          format: request.format,
          options: request.options,
        };
        // Always streamed, so the answer can be counted (and given up on) as it arrives. It
        // also keeps the connection alive: Node's fetch gives up on a response whose headers
        // take more than 300 s, and a non-streamed Ollama answer sends its headers only once
        // the whole text is generated, a streamed one with the first token.
        const content = new StreamedAnswer(maxAnswerBytes);
        let last: ChatResponse | undefined;
        for await (const chunk of await ollama.chat({ ...body, stream: true })) {
          const piece = chunk.message?.content ?? "";
          content.add(piece);
          if (piece) tellDelta(request, piece);
          last = chunk;
        }
        // ollama-js throws when a stream ends without its `done` message, so `last` is it.
        if (!last) throw new Error("Ollama sent an empty stream");
        return { answer: last, content: content.text() };
      });
      return {
        content: final.content,
        model: final.answer.model || request.model,
        usage: {
          // Ollama leaves prompt_eval_count out when the whole prompt came from its cache.
          promptTokens: final.answer.prompt_eval_count ?? 0,
          completionTokens: final.answer.eval_count ?? 0,
        },
        durationMs: Math.round(now() - started),
        doneReason: final.answer.done_reason ?? null,
      };
    },

    async listModels(call: LlmCallOptions = {}): Promise<LlmModelInfo[]> {
      const list = await withCall(call, (ollama) => ollama.list());
      return list.models.map((m) => ({
        name: m.name,
        sizeBytes: m.size,
        modifiedAt: String(m.modified_at),
      }));
    },

    async version(call: LlmCallOptions = {}): Promise<string> {
      const answer = await withCall(call, (ollama) => ollama.version());
      return answer.version;
    },
  };
}

/** A listener's failure is its own: it never fails the call (the text is still counted). */
function tellDelta(request: LlmChatRequest, piece: string): void {
  try {
    request.onDelta?.(piece);
  } catch {}
}

function checkHost(host: string): string {
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new SettingsError(
      `Ollama host must be a URL such as http://127.0.0.1:11434 (got "${host}")`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new SettingsError(`Ollama host must be an http(s) URL (got "${host}")`);
  }
  return host.replace(/\/+$/, "");
}

function checkTimeout(name: string, value: number): void {
  checkWhole(name, value, "milliseconds");
}

function checkWhole(name: string, value: number, unit: string): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new SettingsError(
      `Ollama ${name} must be a whole number of ${unit} above 0 (got ${value})`,
    );
  }
}
