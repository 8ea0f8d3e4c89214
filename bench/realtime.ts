import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createLlmClient } from "../functions/core/llm";
import { channelForOwner } from "../functions/core/realtime/channel";
import type { OutputEvent, StatusEvent, TaskEvent } from "../functions/core/realtime/events";
import { createHttpPublishTransport } from "../functions/core/realtime/httpPublish";
import { createTaskEventPublisher } from "../functions/core/realtime/publisher";
import { createTaskTypeRegistry } from "../functions/core/taskTypes/registry";
import { noMetrics, silentLogger } from "../functions/core/telemetry/ports";
import { createJwtAuthorizer } from "../functions/local/jwtAuthorizer";
import { createRealtimeEndpoint } from "../functions/local/realtime/server";
import { signLocalToken } from "../functions/local/token";
import { startOllamaServer } from "../testkit/ollamaServer";
import { connectRealtime } from "../testkit/realtimeClient";
import { inParallel, openTaskCreator } from "./support/createTasks";
import { BENCH_MODEL, startExecutorFleet } from "./support/executors";
import { type Distribution, distribution } from "./support/stats";
import { waitUntil } from "./support/taskRows";

/**
 * Real time, locally (docs/design.md "Real time"): `tasks` prompt tasks whose answers
 * stream (~`answerWords` words, a chunk every 2 ms, as a fast model would) run by one executor
 * loop that publishes through the real publisher and HTTP publish to the local Event API,
 * watched by one WebSocket subscriber of their owner's channel. Measured: HTTP publishes per
 * completed task (status and batched output events, 5 events a publish at most), and the
 * delay from a status change in the database (the row's updated_at, stamped by
 * PostgreSQL's clock on this machine) to the event's arrival at the subscriber.
 * The creates' own `pending` events are the API's (not run here): the executor's
 * in_progress and completed are what is timed.
 */
export interface RealtimeBenchOptions {
  freshDatabase(name: string): Promise<string>;
  tasks: number;
  answerWords: number;
  log: (line: string) => void;
}

export interface RealtimeBenchResult {
  tasks: number;
  completed: number;
  publishes: number;
  publishesPerTask: number;
  statusEvents: number;
  outputEventsPerTask: number;
  /** Database status change → subscriber, for in_progress and completed events. */
  statusDelayMs: Distribution | null;
}

const SECRET = "bench-realtime-secret";
const OWNER = "bench";

export async function benchRealtime(options: RealtimeBenchOptions): Promise<RealtimeBenchResult> {
  const url = await options.freshDatabase("bench_realtime");
  const words = Array.from({ length: options.answerWords }, (_, i) => `w${i}`).join(" ");
  const ollama = await startOllamaServer({ models: [BENCH_MODEL], chunkDelayMs: 2 });
  ollama.respondWith(() => words);
  const apiKey = "b".repeat(32);
  const endpoint = createRealtimeEndpoint({
    authorizer: createJwtAuthorizer({ secret: SECRET }),
    apiKey,
    logger: silentLogger,
  });
  const server = createServer((req, res) => {
    if (!endpoint.handleHttp(req, res)) res.writeHead(404).end();
  });
  server.on("upgrade", endpoint.handleUpgrade);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  let publishes = 0;
  const http = createHttpPublishTransport({
    url: `http://${host}/event`,
    auth: { kind: "apiKey", apiKey },
  });
  const events = createTaskEventPublisher({
    transport: {
      publish: (channel, batch) => {
        publishes++;
        return http.publish(channel, batch);
      },
    },
    logger: silentLogger,
    metrics: noMetrics,
  });
  const token = await signLocalToken({ sub: OWNER, secret: SECRET });
  const connection = await connectRealtime(
    { url: `ws://${host}/event/realtime`, httpHost: host },
    token,
  );
  const received: Array<{ event: TaskEvent; atMs: number }> = [];
  const subscription = await connection.subscribe<TaskEvent>(channelForOwner(OWNER));
  const seen = subscription.events;
  const registry = createTaskTypeRegistry();
  const creator = openTaskCreator(url, registry, BENCH_MODEL);
  const fleet = startExecutorFleet({
    url,
    loops: 1,
    registry,
    llm: createLlmClient({ host: ollama.url, timeoutMs: 30_000 }),
    settings: { POLL_INTERVAL_MS: 200, MAX_CONCURRENCY: 4 },
    maxRunMs: 120_000,
    workerPrefix: "bench-realtime",
    events,
  });
  // Stamp arrivals as they come (the subscription keeps the events, this the times).
  let stamped = 0;
  const stamper = setInterval(() => {
    for (; stamped < seen.length; stamped++) {
      received.push({ event: seen[stamped] as TaskEvent, atMs: Date.now() });
    }
  }, 1);
  try {
    await inParallel(options.tasks, 8, async (i) => {
      await creator.create("prompt", { prompt: `bench ${i}` });
    });
    const completedCount = () =>
      seen.filter((e) => e.type === "status" && e.task.status === "completed").length;
    await waitUntil(async () => completedCount() >= options.tasks, 120_000, 50);
    await fleet.stop();
    await events.flush();
    clearInterval(stamper);
    for (; stamped < seen.length; stamped++) {
      received.push({ event: seen[stamped] as TaskEvent, atMs: Date.now() });
    }
    const statuses = received.filter(
      (r): r is { event: StatusEvent; atMs: number } => r.event.type === "status",
    );
    const delays = statuses.map((r) => r.atMs - Date.parse(String(r.event.task.updatedAt)));
    const output = received
      .filter((r) => r.event.type === "output")
      .map((r) => r.event as OutputEvent);
    const completed = completedCount();
    const result: RealtimeBenchResult = {
      tasks: options.tasks,
      completed,
      publishes,
      publishesPerTask: completed > 0 ? publishes / completed : 0,
      statusEvents: statuses.length,
      outputEventsPerTask: completed > 0 ? output.length / completed : 0,
      statusDelayMs: delays.length > 0 ? distribution(delays) : null,
    };
    const d = result.statusDelayMs;
    options.log(
      `real time: ${result.publishesPerTask.toFixed(1)} publishes per completed task (${result.outputEventsPerTask.toFixed(1)} output events of a ${options.answerWords}-word answer), status change → subscriber ${d ? `p50 ${d.p50.toFixed(1)} ms, p95 ${d.p95.toFixed(1)} ms` : "none"} over ${completed}/${options.tasks} tasks`,
    );
    return result;
  } finally {
    clearInterval(stamper);
    await fleet.stop();
    connection.close();
    endpoint.close();
    server.close();
    await creator.close();
    await ollama.stop();
  }
}
