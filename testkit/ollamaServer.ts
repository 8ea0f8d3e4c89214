import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An Ollama-compatible HTTP server for tests and the benchmark: the real `ollama` client
 * talks to it over HTTP. It speaks /api/chat and /api/generate (streamed NDJSON by
 * default, as Ollama does, or one JSON object with `"stream": false`), /api/tags and
 * /api/version, and answers like Ollama: final messages carry prompt_eval_count,
 * eval_count and durations in nanoseconds; an unknown model is a 404
 * `model "x" not found, try pulling it first`; errors are `{"error": "..."}`.
 *
 * Controllable while it runs: latency (fixed or per call), failures (status, N times or
 * always, before answering or in the middle of a stream), the models it knows, what it
 * answers, and a capacity (calls generating at once; more wait in a FIFO queue, as
 * Ollama queues beyond OLLAMA_NUM_PARALLEL). It counts calls (by model, in flight, the
 * most at once, aborted by the client) and logs every request, with the last user
 * message, so a test can map each call back to its task.
 */

export interface LlmCallView {
  endpoint: "chat" | "generate";
  model: string;
  /** Chat messages; for /api/generate, the system prompt and the prompt as messages. */
  messages: { role: string; content: string }[];
  /** The content of the last `user` message (the prompt for /api/generate). */
  lastUserMessage: string;
  system?: string;
  format?: unknown;
  options?: Record<string, unknown>;
  stream: boolean;
}

/**
 * What a call answers: text, a value sent as its JSON text, or a RepeatedAnswer (an answer
 * of any size that is never held whole). May be async.
 */
export type Responder = (call: LlmCallView) => unknown;

/**
 * An answer of `bytes` bytes made of `piece` over and over (the last one cut short), streamed
 * one piece a chunk and never built whole, so a test can send a 60 MB answer without the
 * server holding 60 MB. Non-streamed calls get it built whole. `piece` is ASCII.
 */
export class RepeatedAnswer {
  constructor(
    readonly piece: string,
    readonly bytes: number,
  ) {
    if (piece === "" || !/^[\x20-\x7e]*$/.test(piece)) {
      throw new Error("RepeatedAnswer: piece must be non-empty printable ASCII");
    }
  }

  *pieces(): Generator<string> {
    for (let sent = 0; sent < this.bytes; sent += this.piece.length) {
      yield this.piece.slice(0, this.bytes - sent);
    }
  }
}
/** Milliseconds a call takes once it has a slot, before its first token. */
export type Latency = number | ((call: LlmCallView) => number);

export interface FailureRule {
  /** HTTP status (default 500). Ignored for a mid-stream failure of a streamed call. */
  status?: number;
  /** The `error` text (default: `injected failure`). */
  error?: string;
  /** How many calls fail (default: every call until clearFailures). */
  times?: number;
  /** Streamed calls: answer 200, send one chunk, then `{"error": ...}` (Ollama's mid-stream failure). */
  midStream?: boolean;
  /** Only calls for this model. */
  model?: string;
}

export type CallOutcome = "pending" | "completed" | "failed" | "aborted";

export interface RecordedRequest {
  /** 1, 2, 3... in arrival order. */
  id: number;
  method: string;
  path: string;
  /** `chat`, `generate`, `tags`, `version`, or the unknown path. */
  endpoint: string;
  body: unknown;
  model?: string;
  stream?: boolean;
  lastUserMessage?: string;
  system?: string;
  format?: unknown;
  options?: Record<string, unknown>;
  /** Date.now() values. startedAt: when the call got a capacity slot. */
  receivedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** The HTTP status sent (200 also for a stream that then failed). */
  status: number | null;
  outcome: CallOutcome;
  /** The answer's text, once sent (not kept for a RepeatedAnswer). */
  content?: string;
  /** Bytes of answer text written so far: less than the answer when the client went away. */
  contentBytes: number;
  /** The counts its final message reported (prompt_eval_count, eval_count), once sent. */
  promptTokens?: number;
  completionTokens?: number;
}

export interface OllamaServerStats {
  /** Requests to /api/chat and /api/generate, whatever became of them. */
  totalCalls: number;
  callsByModel: Record<string, number>;
  /** Calls received and not yet answered (queued ones included). */
  inFlight: number;
  /** Calls waiting for a capacity slot. */
  queued: number;
  /** Calls holding a slot (generating). */
  active: number;
  /** The most calls in flight at once. */
  maxConcurrent: number;
  /** The most calls generating at once (never above the capacity). */
  maxActive: number;
  completed: number;
  failed: number;
  /** Calls whose client went away before the answer was complete. */
  aborted: number;
}

export interface OllamaServerOptions {
  /** Models it has "pulled" (default: llama3.2). */
  models?: string[];
  latency?: Latency;
  /** Pause between streamed chunks (default 0). */
  chunkDelayMs?: number;
  respond?: Responder;
  /** Calls generating at once (default: unlimited). */
  capacity?: number;
}

export interface OllamaTestServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly stats: OllamaServerStats;
  /** Every request, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** The /api/chat and /api/generate requests only. */
  calls(): RecordedRequest[];
  setModels(names: readonly string[]): void;
  setLatency(latency: Latency): void;
  setChunkDelay(ms: number): void;
  /** undefined: the default answers (below). */
  respondWith(responder: Responder | undefined): void;
  fail(rule?: FailureRule): void;
  clearFailures(): void;
  setCapacity(capacity: number): void;
  /** Polls `condition` every 10 ms; rejects after `timeoutMs` (default 10 s). */
  waitFor(condition: () => boolean, timeoutMs?: number): Promise<void>;
  /** Back to the start options; counters and the log emptied (calls in flight go on). */
  reset(): void;
  /** Drops open connections (their calls count as aborted) and closes the port. */
  stop(): Promise<void>;
  /**
   * A server that is off, then starting: drops open connections and closes the listening
   * socket (a connection is then refused by the OS: real TCP refusal, ECONNREFUSED), and
   * listens on the same port again after `ms`. Resolves once the port is closed; `reopened`
   * once it listens again.
   */
  refuseFor(ms: number): Promise<{ reopened: Promise<void> }>;
  /** Whether it listens now (false between refuseFor and its reopening). */
  readonly listening: boolean;
}

export const DEFAULT_TEST_MODEL = "llama3.2";
const MODEL_NOT_FOUND = (model: string) => `model "${model}" not found, try pulling it first`;

class ClientGone extends Error {}

interface ActiveFailure {
  status: number;
  error: string;
  times: number;
  midStream: boolean;
  model?: string;
}

export async function startOllamaServer(
  options: OllamaServerOptions = {},
): Promise<OllamaTestServer> {
  let models = new Set((options.models ?? [DEFAULT_TEST_MODEL]).map(canonical));
  let latency: Latency = options.latency ?? 0;
  let chunkDelayMs = options.chunkDelayMs ?? 0;
  let responder: Responder | undefined = options.respond;
  let capacity = options.capacity ?? Number.POSITIVE_INFINITY;
  let failures: ActiveFailure[] = [];

  const requests: RecordedRequest[] = [];
  const stats: OllamaServerStats = emptyStats();
  const waiting: { grant: () => void }[] = [];

  function emptyStats(): OllamaServerStats {
    return {
      totalCalls: 0,
      callsByModel: {},
      inFlight: 0,
      queued: 0,
      active: 0,
      maxConcurrent: 0,
      maxActive: 0,
      completed: 0,
      failed: 0,
      aborted: 0,
    };
  }

  // --- capacity: a FIFO semaphore whose waits end when the client goes away ---

  function acquireSlot(gone: AbortSignal): Promise<void> {
    if (stats.active < capacity && waiting.length === 0) {
      takeSlot();
      return Promise.resolve();
    }
    stats.queued++;
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          gone.removeEventListener("abort", onGone);
          stats.queued--;
          takeSlot();
          resolve();
        },
      };
      const onGone = () => {
        const index = waiting.indexOf(entry);
        if (index >= 0) waiting.splice(index, 1);
        stats.queued--;
        reject(new ClientGone());
      };
      waiting.push(entry);
      gone.addEventListener("abort", onGone, { once: true });
    });
  }

  function takeSlot() {
    stats.active++;
    stats.maxActive = Math.max(stats.maxActive, stats.active);
  }

  function releaseSlot() {
    stats.active--;
    pump();
  }

  function pump() {
    while (stats.active < capacity && waiting.length > 0) waiting.shift()?.grant();
  }

  function takeFailure(model: string) {
    const rule = failures.find((f) => f.times > 0 && (f.model === undefined || f.model === model));
    if (rule) rule.times--;
    return rule;
  }

  // --- HTTP ---

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const endpoint = path.startsWith("/api/") ? path.slice(5) : path;
    const raw = await readBody(req);
    const record: RecordedRequest = {
      id: requests.length + 1,
      method: req.method ?? "GET",
      path,
      endpoint,
      body: undefined,
      receivedAt: Date.now(),
      startedAt: null,
      finishedAt: null,
      status: null,
      outcome: "pending",
      contentBytes: 0,
    };
    requests.push(record);

    if (path === "/api/version" && req.method === "GET") {
      return finish(record, res, 200, { version: "0.0.0-test" }, "completed");
    }
    if (path === "/api/tags" && req.method === "GET") {
      return finish(record, res, 200, { models: [...models].map(tagEntry) }, "completed");
    }
    if (path !== "/api/chat" && path !== "/api/generate") {
      record.status = 404;
      record.outcome = "failed";
      record.finishedAt = Date.now();
      res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found");
      return;
    }
    if (req.method !== "POST") {
      return finish(record, res, 405, { error: "method not allowed" }, "failed");
    }
    await handleCall(record, endpoint as "chat" | "generate", raw, res);
  }

  async function handleCall(
    record: RecordedRequest,
    endpoint: "chat" | "generate",
    raw: string,
    res: http.ServerResponse,
  ) {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw);
      if (typeof body !== "object" || body === null) throw new Error("body must be an object");
    } catch (error) {
      return finish(record, res, 400, { error: (error as Error).message }, "failed");
    }
    record.body = body;
    const call = viewOf(endpoint, body);
    Object.assign(record, {
      model: call.model,
      stream: call.stream,
      lastUserMessage: call.lastUserMessage,
      system: call.system,
      format: call.format,
      options: call.options,
    });
    if (!call.model) return finish(record, res, 400, { error: "model is required" }, "failed");

    stats.totalCalls++;
    stats.callsByModel[call.model] = (stats.callsByModel[call.model] ?? 0) + 1;
    stats.inFlight++;
    stats.maxConcurrent = Math.max(stats.maxConcurrent, stats.inFlight);

    // The client going away (abort, timeout) closes the response before it finished.
    const gone = new AbortController();
    // A write racing the disconnect errors on the response; the close below reports it.
    res.on("error", () => {});
    res.on("close", () => {
      if (!res.writableFinished) gone.abort();
    });

    let holdsSlot = false;
    try {
      if (!models.has(canonical(call.model))) {
        return finish(record, res, 404, { error: MODEL_NOT_FOUND(call.model) }, "failed");
      }
      const failure = takeFailure(call.model);
      if (failure && !(failure.midStream && call.stream)) {
        return finish(record, res, failure.status, { error: failure.error }, "failed");
      }
      await acquireSlot(gone.signal);
      holdsSlot = true;
      record.startedAt = Date.now();
      await sleep(typeof latency === "function" ? latency(call) : latency, gone.signal);

      let answer: string | RepeatedAnswer;
      try {
        answer = answerText(await (responder ?? defaultAnswer)(call));
      } catch (error) {
        return finish(record, res, 500, { error: (error as Error).message }, "failed");
      }
      const contentBytes =
        answer instanceof RepeatedAnswer ? answer.bytes : Buffer.byteLength(answer, "utf8");
      const counts = tokenCounts(call, contentBytes, record);
      record.promptTokens = counts.promptTokens;
      record.completionTokens = counts.completionTokens;
      if (!call.stream) {
        const content = answer instanceof RepeatedAnswer ? [...answer.pieces()].join("") : answer;
        const message = finalMessage(endpoint, call.model, content, counts);
        record.content = content;
        record.contentBytes = contentBytes;
        return finish(record, res, 200, message, "completed");
      }
      const pieces =
        answer instanceof RepeatedAnswer ? answer.pieces() : (answer.match(/\S+\s*|\s+/g) ?? []);
      await streamAnswer(endpoint, call.model, pieces, counts, record, res, gone.signal, failure);
      if (typeof answer === "string") record.content = answer;
      record.status = 200;
      record.finishedAt = Date.now();
      record.outcome = failure ? "failed" : "completed";
      if (failure) stats.failed++;
      else stats.completed++;
    } catch (error) {
      if (!(error instanceof ClientGone)) throw error;
      record.outcome = "aborted";
      record.finishedAt = Date.now();
      stats.aborted++;
    } finally {
      stats.inFlight--;
      if (holdsSlot) releaseSlot();
    }
  }

  async function streamAnswer(
    endpoint: "chat" | "generate",
    model: string,
    pieces: Iterable<string>,
    counts: Counts,
    record: RecordedRequest,
    res: http.ServerResponse,
    gone: AbortSignal,
    failure: FailureRule | undefined,
  ) {
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    for (const piece of pieces) {
      if (gone.aborted) throw new ClientGone();
      const flushed = res.write(`${JSON.stringify(chunk(endpoint, model, piece))}\n`);
      record.contentBytes += Buffer.byteLength(piece, "utf8");
      // Like a server generating tokens, wait for a slow reader rather than queue the
      // answer in memory (a huge answer would otherwise sit whole in the socket's buffer).
      if (!flushed) await drained(res, gone);
      // A failure comes right after the first chunk.
      if (failure) {
        res.end(`${JSON.stringify({ error: failure.error })}\n`);
        return;
      }
      if (chunkDelayMs > 0) await sleep(chunkDelayMs, gone);
    }
    if (failure) {
      res.end(`${JSON.stringify({ error: failure.error })}\n`);
      return;
    }
    if (gone.aborted) throw new ClientGone();
    res.end(`${JSON.stringify(finalMessage(endpoint, model, "", counts))}\n`);
  }

  function finish(
    record: RecordedRequest,
    res: http.ServerResponse,
    status: number,
    body: unknown,
    outcome: CallOutcome,
  ) {
    record.status = status;
    record.outcome = outcome;
    record.finishedAt = Date.now();
    if (record.endpoint === "chat" || record.endpoint === "generate") {
      if (outcome === "completed") stats.completed++;
      else if (outcome === "failed" && record.model) stats.failed++;
    }
    res
      .writeHead(status, { "content-type": "application/json; charset=utf-8" })
      .end(JSON.stringify(body));
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: `test server bug: ${(error as Error).message}` }));
      } else res.destroy();
    });
  });
  // Ollama (Go) keeps idle connections open; Node's 5 s default would race the client's
  // connection reuse under load and surface as spurious "other side closed" errors.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get stats() {
      return { ...stats, callsByModel: { ...stats.callsByModel } };
    },
    requests,
    calls: () => requests.filter((r) => r.endpoint === "chat" || r.endpoint === "generate"),
    setModels(names) {
      models = new Set(names.map(canonical));
    },
    setLatency(value) {
      latency = value;
    },
    setChunkDelay(ms) {
      chunkDelayMs = ms;
    },
    respondWith(value) {
      responder = value;
    },
    fail(rule = {}) {
      failures.push({
        status: rule.status ?? 500,
        error: rule.error ?? "injected failure",
        times: rule.times ?? Number.POSITIVE_INFINITY,
        midStream: rule.midStream ?? false,
        model: rule.model,
      });
    },
    clearFailures() {
      failures = [];
    },
    setCapacity(value) {
      capacity = value;
      pump();
    },
    async waitFor(condition, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    reset() {
      models = new Set((options.models ?? [DEFAULT_TEST_MODEL]).map(canonical));
      latency = options.latency ?? 0;
      chunkDelayMs = options.chunkDelayMs ?? 0;
      responder = options.respond;
      failures = [];
      requests.length = 0;
      const live = { inFlight: stats.inFlight, queued: stats.queued, active: stats.active };
      Object.assign(stats, emptyStats(), live, {
        maxConcurrent: live.inFlight,
        maxActive: live.active,
      });
      capacity = options.capacity ?? Number.POSITIVE_INFINITY;
      pump();
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
    async refuseFor(ms) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      const reopened = new Promise<void>((resolve, reject) => {
        setTimeout(() => {
          server.once("error", reject);
          server.listen(port, "127.0.0.1", () => {
            server.off("error", reject);
            resolve();
          });
        }, ms);
      });
      return { reopened };
    },
    get listening() {
      return server.listening;
    },
  };
}

// --- Ollama's shapes ---

interface Counts {
  promptTokens: number;
  completionTokens: number;
  /** Nanoseconds, as Ollama reports durations. */
  totalNs: number;
}

function viewOf(endpoint: "chat" | "generate", body: Record<string, unknown>): LlmCallView {
  const model = typeof body.model === "string" ? body.model : "";
  const system = typeof body.system === "string" ? body.system : undefined;
  let messages: { role: string; content: string }[];
  if (endpoint === "chat") {
    messages = (Array.isArray(body.messages) ? body.messages : []).map((m) => ({
      role: String((m as { role?: unknown }).role ?? ""),
      content: String((m as { content?: unknown }).content ?? ""),
    }));
  } else {
    messages = [
      ...(system ? [{ role: "system", content: system }] : []),
      { role: "user", content: typeof body.prompt === "string" ? body.prompt : "" },
    ];
  }
  const lastUser = messages.filter((m) => m.role === "user").at(-1);
  return {
    endpoint,
    model,
    messages,
    lastUserMessage: lastUser?.content ?? "",
    system: system ?? messages.find((m) => m.role === "system")?.content,
    format: body.format ?? undefined,
    options: (body.options as Record<string, unknown> | undefined) ?? undefined,
    // Ollama streams unless told not to.
    stream: body.stream !== false,
  };
}

function chunk(endpoint: "chat" | "generate", model: string, piece: string) {
  const base = { model, created_at: new Date().toISOString(), done: false };
  return endpoint === "chat"
    ? { ...base, message: { role: "assistant", content: piece } }
    : { ...base, response: piece };
}

function finalMessage(endpoint: "chat" | "generate", model: string, content: string, c: Counts) {
  const evalNs = Math.round(c.totalNs * 0.8);
  const promptNs = Math.round(c.totalNs * 0.15);
  const done = {
    model,
    created_at: new Date().toISOString(),
    done: true,
    done_reason: "stop",
    total_duration: c.totalNs,
    load_duration: c.totalNs - evalNs - promptNs,
    prompt_eval_count: c.promptTokens,
    prompt_eval_duration: promptNs,
    eval_count: c.completionTokens,
    eval_duration: evalNs,
  };
  return endpoint === "chat"
    ? { ...done, message: { role: "assistant", content } }
    : { ...done, response: content, context: [1, 2, 3] };
}

/** ~4 characters a token, like common tokenizers on English text. */
function tokenCounts(call: LlmCallView, contentBytes: number, record: RecordedRequest): Counts {
  const promptChars = call.messages.reduce((sum, m) => sum + m.content.length, 0);
  return {
    promptTokens: Math.max(1, Math.ceil(promptChars / 4)),
    completionTokens: Math.max(1, Math.ceil(contentBytes / 4)),
    totalNs: Math.max(1, Date.now() - record.receivedAt) * 1_000_000,
  };
}

function tagEntry(name: string) {
  return {
    name,
    model: name,
    modified_at: "2025-01-01T00:00:00Z",
    size: 2_019_393_189,
    digest: "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
    details: {
      parent_model: "",
      format: "gguf",
      family: "llama",
      families: ["llama"],
      parameter_size: "3.2B",
      quantization_level: "Q4_K_M",
    },
  };
}

/**
 * Without a responder: JSON when a format asks for it (a value following the schema's
 * shape, so structured-output types succeed), else a text naming the prompt.
 */
function defaultAnswer(call: LlmCallView): unknown {
  const topic = call.lastUserMessage.slice(0, 80);
  if (call.format === "json") return { answer: `test answer to: ${topic}` };
  if (call.format && typeof call.format === "object") return sampleOf(call.format, "value");
  return `Test answer to: ${topic}`;
}

/** A value of a JSON schema's shape: strings name their property, numbers are 1. */
export function sampleOf(schema: unknown, name: string): unknown {
  const s = (schema ?? {}) as Record<string, unknown>;
  if ("const" in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case "object": {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      return Object.fromEntries(
        Object.entries(props).map(([key, sub]) => [key, sampleOf(sub, key)]),
      );
    }
    case "array":
      return [sampleOf(s.items, name)];
    case "number":
    case "integer":
      return 1;
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return `test ${name}`;
  }
}

function answerText(answer: unknown): string | RepeatedAnswer {
  return typeof answer === "string" || answer instanceof RepeatedAnswer
    ? answer
    : JSON.stringify(answer);
}

/** Resolves once the response's buffer has drained; rejects when the client goes away. */
function drained(res: http.ServerResponse, gone: AbortSignal): Promise<void> {
  if (gone.aborted) return Promise.reject(new ClientGone());
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      gone.removeEventListener("abort", onGone);
      resolve();
    };
    const onGone = () => {
      res.off("drain", onDrain);
      reject(new ClientGone());
    };
    res.once("drain", onDrain);
    gone.addEventListener("abort", onGone, { once: true });
  });
}

function canonical(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.slice(lower.lastIndexOf("/") + 1).includes(":") ? lower : `${lower}:latest`;
}

function sleep(ms: number, gone: AbortSignal): Promise<void> {
  if (gone.aborted) return Promise.reject(new ClientGone());
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      gone.removeEventListener("abort", onGone);
      resolve();
    }, ms);
    const onGone = () => {
      clearTimeout(timer);
      reject(new ClientGone());
    };
    gone.addEventListener("abort", onGone, { once: true });
  });
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (part: Buffer) => parts.push(part));
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}
