/**
 * One JSON request to the API: the bearer token, the body, the abort signal, and an answer
 * that is either the parsed success body or a thrown TaskPipelineError.
 */
import { TaskPipelineError } from "./errors.js";
import type { RealtimeOptions } from "./realtime.js";

export interface ClientOptions {
  /** The API's origin, e.g. `http://localhost:3000` or the stack's `ApiUrl` output. */
  baseUrl: string;
  /** The bearer token, or a function giving the current one (called per request). */
  token: string | (() => string | Promise<string>);
  /** A fetch to use instead of the global one (tests, proxies, instrumentation). */
  fetch?: typeof fetch;
  /** The real-time channel; `watchTask` polls without it. */
  realtime?: RealtimeOptions;
}

export interface RequestOptions {
  signal?: AbortSignal | undefined;
  headers?: Record<string, string> | undefined;
}

/** The bearer token now (the option may be a function). */
export async function currentToken(options: Pick<ClientOptions, "token">): Promise<string> {
  return typeof options.token === "function" ? await options.token() : options.token;
}

export interface Transport {
  json<T>(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    options?: RequestOptions,
  ): Promise<T>;
}

export function createTransport(options: ClientOptions): Transport {
  const base = options.baseUrl.replace(/\/+$/, "");
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  return {
    async json(method, path, body, request = {}) {
      const token = await currentToken(options);
      const response = await doFetch(base + path, {
        method,
        headers: {
          accept: "application/json",
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...request.headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(request.signal ? { signal: request.signal } : {}),
      });
      const text = await response.text();
      const parsed: unknown = text ? parseJson(text) : undefined;
      if (!response.ok) throw new TaskPipelineError(response.status, parsed, response.headers);
      return parsed as never;
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 200) };
  }
}
