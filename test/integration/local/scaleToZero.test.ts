import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { LogFields, Logger } from "../../../functions/core/telemetry/ports";
import { MAX_WAKE_INVOCATIONS } from "../../../functions/local/executorSchedule";
import { waitFor } from "../../../testkit/waitFor";
import { useInProcessRuntime } from "../../support/inProcessRuntime";

/**
 * Scale to zero over HTTP through the local runtime (its due marker in memory, its
 * schedule's tick every 2 s, a create's wake): work due later is done on time with no
 * database read in between, and a burst of creates starts no more executors than the wake
 * path's bound. Every invocation's summary is read from the schedule's log lines.
 */

interface Invocation {
  id: string;
  trigger: string;
  invokedAt: number;
  returnedAt?: number;
  syncs?: number;
}

const invocations = new Map<string, Invocation>();
const logger: Logger = {
  debug(message: string, fields?: LogFields) {
    const id = String(fields?.awsRequestId ?? "");
    if (message === "executor invoked") {
      invocations.set(id, { id, trigger: String(fields?.trigger), invokedAt: Date.now() });
    } else if (message === "executor returned") {
      const invocation = invocations.get(id);
      if (invocation) {
        invocation.returnedAt = Date.now();
        invocation.syncs = (fields?.summary as { syncs?: number } | undefined)?.syncs ?? 0;
      }
    }
  },
  info() {},
  warn() {},
  error() {},
};

const runtime = useInProcessRuntime(
  { SCHEDULE_INTERVAL_MS: "2000", RETRY_BASE_MS: "3000", RETRY_MAX_MS: "3000" },
  { logger },
);

async function api(token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(runtime.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await response.json()) as Record<string, unknown> & { id: string; status: string };
}

/** Waits until the executor has gone idle: a tick returned without reading the database. */
async function idle(): Promise<number> {
  const since = Date.now();
  await waitFor(
    () =>
      [...invocations.values()].some(
        (i) => i.trigger === "tick" && i.invokedAt > since && i.syncs === 0,
      ),
    { timeoutMs: 30_000, what: "an idle tick" },
  );
  return Date.now();
}

/** Invocations that read the database (a sync) and returned between the two times. */
const readingBetween = (from: number, to: number) =>
  [...invocations.values()].filter(
    (i) => (i.syncs ?? 0) > 0 && (i.returnedAt ?? 0) > from && (i.returnedAt ?? 0) < to,
  );

describe("scale to zero through the local runtime", () => {
  it("runs a task scheduled while idle at its time, reading nothing before", async () => {
    // Prepare
    const token = await runtime.token(`zero-${randomUUID()}`);
    const idleSince = await idle();
    const runAt = Date.now() + 5_000;

    // Act
    const task = await api(token, "POST", "/api/tasks", {
      type: "prompt",
      input: { prompt: "later" },
      runAt: new Date(runAt).toISOString(),
    });
    const done = await waitFor(
      async () => {
        const current = await api(token, "GET", `/api/tasks/${task.id}`);
        return current.status === "completed" ? current : undefined;
      },
      { timeoutMs: 30_000, what: "the scheduled task" },
    );

    // Assess
    expect(new Date(String(done.startedAt)).getTime()).toBeGreaterThanOrEqual(runAt - 50);
    expect(readingBetween(idleSince, runAt)).toEqual([]);
  });

  it("retries after a failed attempt's backoff, reading nothing while it waits", async () => {
    // Prepare: the first LLM call fails (a 500: retryable); the backoff is 3 s.
    const token = await runtime.token(`zero-${randomUUID()}`);
    await idle();
    runtime.ollama.fail({ status: 500, times: 1 });

    // Act
    const task = await api(token, "POST", "/api/tasks", {
      type: "prompt",
      input: { prompt: "fail once" },
    });
    const retrying = await waitFor(
      async () => {
        const current = await api(token, "GET", `/api/tasks/${task.id}`);
        return current.status === "pending" && current.attempts === 1 ? current : undefined;
      },
      { timeoutMs: 30_000, what: "the first attempt to fail" },
    );
    const failedAt = Date.now();
    const dueAt = new Date(String(retrying.runAt)).getTime();
    const done = await waitFor(
      async () => {
        const current = await api(token, "GET", `/api/tasks/${task.id}`);
        return current.status === "completed" ? current : undefined;
      },
      { timeoutMs: 30_000, what: "the retry" },
    );

    // Assess
    expect(done.attempts).toBe(2);
    expect(new Date(String(done.startedAt)).getTime()).toBeGreaterThanOrEqual(dueAt - 50);
    // Between the failure being written and the retry's due time, only the invocation that
    // wrote it (and then stopped) may have read.
    expect(readingBetween(failedAt + 500, dueAt).length).toBeLessThanOrEqual(1);
  });

  it(`starts at most ${MAX_WAKE_INVOCATIONS} executors for a burst of 1,000 creates`, async () => {
    // Prepare
    const token = await runtime.token(`burst-${randomUUID()}`);
    await idle();
    const before = new Set(invocations.keys());

    // Act: 1,000 creates, 50 at a time.
    for (let i = 0; i < 1_000; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          api(token, "POST", "/api/tasks", { type: "prompt", input: { prompt: `burst ${i + j}` } }),
        ),
      );
    }
    await waitFor(
      async () => {
        const page = await api(token, "GET", "/api/metrics");
        const counts = page.counts as Record<string, number>;
        return counts.completed === 1_000 ? true : undefined;
      },
      { timeoutMs: 120_000, what: "the burst to complete" },
    );

    // Assess: at no time more than the bound of woken invocations ran at once.
    const woken = [...invocations.values()].filter(
      (i) => !before.has(i.id) && i.trigger === "wake",
    );
    const edges = woken.flatMap((i) => [
      { at: i.invokedAt, step: 1 },
      { at: i.returnedAt ?? Number.POSITIVE_INFINITY, step: -1 },
    ]);
    edges.sort((a, b) => a.at - b.at || a.step - b.step);
    let running = 0;
    let most = 0;
    for (const edge of edges) {
      running += edge.step;
      most = Math.max(most, running);
    }
    expect(woken.length).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(MAX_WAKE_INVOCATIONS);
  });
});
