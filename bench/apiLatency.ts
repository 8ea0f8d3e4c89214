import { signLocalToken } from "../functions/local/token";
import { FAST_RUNTIME_ENV, startRuntime } from "../testkit/localRuntime";
import { startOllamaServer } from "../testkit/ollamaServer";
import { BENCH_MODEL } from "./support/executors";
import { type Distribution, distribution } from "./support/stats";

/**
 * `POST /api/tasks` as a frontend sees it: the local runtime (`bin/local.ts`, what
 * `npm start` runs) in a child process of its own, on loopback, its executor running
 * beside it against an Ollama test server, so the API answers while tasks are being
 * claimed and written, as it would in use. Requests go out at a fixed rate whatever the
 * answers are doing (open loop: a slow answer does not hold back the next request, so
 * queueing shows in the latencies instead of hiding in a lower rate). A warm-up second
 * first (connections, JIT, the handler's cold start) is not counted.
 */
export interface ApiLatencyOptions {
  freshDatabase(name: string): Promise<string>;
  requestsPerSecond: number;
  durationMs: number;
  warmupMs: number;
  log: (line: string) => void;
}

export interface ApiLatencyResult {
  requestsPerSecond: number;
  durationMs: number;
  sent: number;
  created: number;
  /** Answers other than 201, by status ("network" for a request that got none). */
  errors: Record<string, number>;
  latencyMs: Distribution | null;
  /** What the run actually achieved (requests sent over the measured window). */
  achievedRequestsPerSecond: number;
}

const JWT_SECRET = "bench-api-secret";
const START_TIMEOUT_MS = 90_000;

export async function benchApiLatency(options: ApiLatencyOptions): Promise<ApiLatencyResult> {
  const url = await options.freshDatabase("bench_api");
  const ollama = await startOllamaServer({ models: [BENCH_MODEL], latency: 2_000, capacity: 8 });
  // `bin/local.ts` as `npm start` runs it (the fast test timings put back to the settings'
  // defaults: an empty setting means unset), on the bench's PostgreSQL and a free port.
  const defaults = Object.fromEntries(Object.keys(FAST_RUNTIME_ENV).map((name) => [name, ""]));
  const runtime = await startRuntime(
    {
      ...defaults,
      DATABASE_URL: url,
      LOCAL_JWT_SECRET: JWT_SECRET,
      OLLAMA_HOST: ollama.url,
      OLLAMA_MODEL: BENCH_MODEL,
      SHUTDOWN_GRACE_MS: "0",
    },
    { startTimeoutMs: START_TIMEOUT_MS },
  );
  try {
    const token = await signLocalToken({ sub: "bench-api", secret: JWT_SECRET });
    const post = async (i: number) => {
      const started = performance.now();
      try {
        const response = await fetch(`${runtime.url}/api/tasks`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({
            type: "summarize",
            input: { text: `Request ${i}: a short text for the API latency benchmark.` },
          }),
        });
        await response.arrayBuffer();
        return { status: String(response.status), ms: performance.now() - started };
      } catch {
        return { status: "network", ms: performance.now() - started };
      }
    };

    await sendAtRate(options.requestsPerSecond, options.warmupMs, post);
    const started = performance.now();
    const answers = await sendAtRate(options.requestsPerSecond, options.durationMs, post);
    const windowMs = performance.now() - started;

    const errors: Record<string, number> = {};
    for (const answer of answers) {
      if (answer.status !== "201") errors[answer.status] = (errors[answer.status] ?? 0) + 1;
    }
    const created = answers.filter((answer) => answer.status === "201");
    const result: ApiLatencyResult = {
      requestsPerSecond: options.requestsPerSecond,
      durationMs: options.durationMs,
      sent: answers.length,
      created: created.length,
      errors,
      latencyMs: created.length > 0 ? distribution(created.map((answer) => answer.ms)) : null,
      achievedRequestsPerSecond: (answers.length * 1000) / windowMs,
    };
    const d = result.latencyMs;
    options.log(
      `api POST /api/tasks at ${options.requestsPerSecond}/s: ${d ? `p50 ${d.p50.toFixed(1)} ms, p99 ${d.p99.toFixed(1)} ms, max ${d.max.toFixed(1)} ms` : "no answers"}; ${created.length}/${answers.length} created${Object.keys(errors).length ? `, errors ${JSON.stringify(errors)}` : ""}`,
    );
    return result;
  } finally {
    await runtime.terminate();
    await ollama.stop();
  }
}

/** Calls `send(i)` every 1/rate seconds for `durationMs`, never waiting for an answer first. */
async function sendAtRate<T>(
  rate: number,
  durationMs: number,
  send: (i: number) => Promise<T>,
): Promise<T[]> {
  const count = Math.round((rate * durationMs) / 1000);
  const start = performance.now();
  const inFlight: Promise<T>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(send(i));
  }
  return Promise.all(inFlight);
}
