import { randomBytes } from "node:crypto";
import { decodeJwt } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { channelForOwner } from "../../functions/core/realtime/channel";
import type { OutputEvent, StatusEvent, TaskEvent } from "../../functions/core/realtime/events";
import { signLocalToken } from "../../functions/local/token";
import { FAST_RUNTIME_ENV } from "../../testkit/localRuntime";
import {
  connectRealtime,
  type RealtimeConnection,
  type RealtimeEndpointInfo,
  RealtimeSubscriptionError,
} from "../../testkit/realtimeClient";
import { waitFor } from "../../testkit/waitFor";
import { REMOTE, useE2eTarget } from "../support/e2eTarget";
import type { TaskView } from "../support/http";

/**
 * Real time end to end (docs/design.md "Real time"): a subscriber on its own channel sees
 * its tasks' status changes in order and their streamed output, a caller cannot subscribe
 * to another's channel, a late subscriber gets nothing stale, and nothing is lost under
 * load. Against the local runtime's Event API, or a deployment's when E2E_REALTIME_URL
 * (wss://<realtime domain>/event/realtime) and E2E_REALTIME_HOST (its HTTP domain) are set.
 */

const target = useE2eTarget({ MAX_CONCURRENCY: "8" });
const COMPLETE_MS = 90_000;
const connections: RealtimeConnection[] = [];

function endpoint(): RealtimeEndpointInfo {
  if (REMOTE) {
    const { E2E_REALTIME_URL, E2E_REALTIME_HOST } = process.env;
    if (!(E2E_REALTIME_URL && E2E_REALTIME_HOST)) {
      throw new Error("E2E_BASE_URL is set: also set E2E_REALTIME_URL and E2E_REALTIME_HOST");
    }
    return { url: E2E_REALTIME_URL, httpHost: E2E_REALTIME_HOST };
  }
  const http = new URL(target.current.api.baseUrl);
  return { url: `ws://${http.host}/event/realtime`, httpHost: http.host };
}

async function connect(token: string): Promise<RealtimeConnection> {
  const connection = await connectRealtime(endpoint(), token);
  connections.push(connection);
  return connection;
}

const channelOf = (token: string) => channelForOwner(String(decodeJwt(token).sub));
const statusesOf = (events: readonly TaskEvent[], id: string) =>
  events
    .filter((e): e is StatusEvent => e.type === "status" && e.task.id === id)
    .map((e) => e.task.status);
const isFinalStatus = (status: string) => ["completed", "failed", "cancelled"].includes(status);

async function createTask(token: string, body: Record<string, unknown>): Promise<TaskView> {
  const answer = await target.current.api.request<TaskView>("POST", "/api/tasks", {
    token,
    body,
  });
  expect(answer.status, answer.text).toBe(201);
  return answer.body;
}

async function waitForFinal(token: string, id: string): Promise<TaskView> {
  let task: TaskView | undefined;
  await waitFor(
    async () => {
      const answer = await target.current.api.request<TaskView>("GET", `/api/tasks/${id}`, {
        token,
      });
      task = answer.body;
      return isFinalStatus(task.status);
    },
    { timeoutMs: COMPLETE_MS, intervalMs: 200 },
  );
  return task as TaskView;
}

afterEach(() => {
  for (const connection of connections.splice(0)) connection.close();
  target.current.local?.ollama.reset();
});

describe("real-time task events", { timeout: 3 * COMPLETE_MS }, () => {
  it("shows one task's statuses in order and its streamed output, equal to the stored result", async () => {
    // Prepare
    const { tokenA, local } = target.current;
    const words = Array.from({ length: 400 }, (_, i) => `word${i}`).join(" ");
    local?.ollama.respondWith(() => `Streamed answer: ${words}.`);
    local?.ollama.setChunkDelay(2);
    const connection = await connect(tokenA);
    const subscription = await connection.subscribe<TaskEvent>(channelOf(tokenA));

    // Act: due in 1.5 s, so the create's `pending` is published before any claim can be
    // (the API and the executor publish independently; clients order by task.updatedAt).
    const created = await createTask(tokenA, {
      type: "prompt",
      input: { prompt: `tell me ${randomBytes(4).toString("hex")}` },
      runAt: new Date(Date.now() + 1_500).toISOString(),
    });
    await subscription.waitFor(
      (events) => statusesOf(events, created.id).some(isFinalStatus),
      COMPLETE_MS,
    );
    const stored = await waitForFinal(tokenA, created.id);

    // Assess
    expect(statusesOf(subscription.events, created.id)).toEqual([
      "pending",
      "in_progress",
      "completed",
    ]);
    const output = subscription.events.filter(
      (e): e is OutputEvent => e.type === "output" && e.taskId === created.id,
    );
    expect(output.map((e) => e.seq)).toEqual(output.map((_, i) => i));
    expect(output.every((e) => e.attempt === 1)).toBe(true);
    const text = output.map((e) => e.delta).join("");
    expect(text).toBe(stored.result?.response);
    if (local) {
      // Batched: far fewer events than the ~400 streamed chunks.
      expect(output.length).toBeGreaterThan(0);
      expect(output.length).toBeLessThan(100);
      expect(text).toBe(`Streamed answer: ${words}.`);
    }
    // The status events carry what a list needs, never input or result.
    const last = subscription.events.findLast((e) => e.type === "status") as StatusEvent;
    expect(last.task).toMatchObject({ id: created.id, type: "prompt", status: "completed" });
    expect(last.task).not.toHaveProperty("input");
    expect(last.task).not.toHaveProperty("result");
  });

  it.skipIf(REMOTE)(
    "publishes a retry after a failed attempt, with the new attempt's output from seq 0",
    async () => {
      // Prepare: the first call fails mid-stream (after one chunk of text), the retry succeeds.
      const { tokenA, local } = target.current;
      local?.ollama.respondWith(() => "second attempt answer");
      local?.ollama.fail({ times: 1, midStream: true });
      const connection = await connect(tokenA);
      const subscription = await connection.subscribe<TaskEvent>(channelOf(tokenA));

      // Act
      const created = await createTask(tokenA, {
        type: "prompt",
        input: { prompt: "fails once" },
        runAt: new Date(Date.now() + 1_500).toISOString(),
      });
      await subscription.waitFor(
        (events) => statusesOf(events, created.id).some(isFinalStatus),
        COMPLETE_MS,
      );
      const stored = await waitForFinal(tokenA, created.id);

      // Assess
      expect(statusesOf(subscription.events, created.id)).toEqual([
        "pending",
        "in_progress",
        "pending",
        "in_progress",
        "completed",
      ]);
      const second = subscription.events.filter(
        (e): e is OutputEvent => e.type === "output" && e.taskId === created.id && e.attempt === 2,
      );
      expect(second[0]?.seq).toBe(0);
      expect(second.map((e) => e.delta).join("")).toBe(stored.result?.response);
    },
  );

  it("publishes the API's cancel and retry", async () => {
    // Prepare
    const { tokenA, api } = target.current;
    const connection = await connect(tokenA);
    const subscription = await connection.subscribe<TaskEvent>(channelOf(tokenA));
    const created = await createTask(tokenA, {
      type: "prompt",
      input: { prompt: "later" },
      runAt: new Date(Date.now() + 3_600_000).toISOString(),
    });

    // Act
    await api.request("POST", `/api/tasks/${created.id}/cancel`, { token: tokenA });
    await api.request("POST", `/api/tasks/${created.id}/retry`, { token: tokenA });
    await subscription.waitFor((events) => statusesOf(events, created.id).length >= 3, 30_000);

    // Assess: the create, the cancel and the retry, in order (the retried task is due at
    // once, so the executor's own events may follow: a create wakes it).
    expect(statusesOf(subscription.events, created.id).slice(0, 3)).toEqual([
      "pending",
      "cancelled",
      "pending",
    ]);
  });

  it("refuses a subscription to another caller's channel, and wildcards", async () => {
    // Prepare
    const { tokenA, tokenB } = target.current;
    const connection = await connect(tokenB);

    // Act
    const foreign = connection.subscribe(channelOf(tokenA)).catch((error: unknown) => error);
    const wildcard = connection.subscribe("/tasks/*").catch((error: unknown) => error);
    const own = await connection.subscribe(channelOf(tokenB));

    // Assess
    for (const refused of [await foreign, await wildcard]) {
      expect(refused).toBeInstanceOf(RealtimeSubscriptionError);
      expect((refused as RealtimeSubscriptionError).errors[0]?.errorType).toBe(
        "UnauthorizedException",
      );
    }
    expect(own.id).toBeTruthy();
  });

  it.skipIf(REMOTE)("refuses a connection without a valid token at the handshake", async () => {
    // Act
    const refused = await connectRealtime(endpoint(), "not-a-token").catch((e: unknown) => e);

    // Assess
    expect(String(refused)).toContain("401");
  });

  it("gives a subscriber that connects after a task finished nothing stale", async () => {
    // Prepare
    const { tokenA } = target.current;
    const created = await createTask(tokenA, { type: "prompt", input: { prompt: "early" } });
    await waitForFinal(tokenA, created.id);

    // Act
    const connection = await connect(tokenA);
    const subscription = await connection.subscribe<TaskEvent>(channelOf(tokenA));
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    // Assess
    expect(subscription.events).toEqual([]);
  });

  it("loses no final status with 200 tasks and 20 subscribers", async () => {
    // Prepare: 20 callers, each subscribed to its own channel.
    const callers = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const token = REMOTE
          ? i % 2 === 0
            ? target.current.tokenA
            : target.current.tokenB
          : await signLocalToken({
              sub: `load-${i}-${randomBytes(4).toString("hex")}`,
              secret: FAST_RUNTIME_ENV.LOCAL_JWT_SECRET as string,
            });
        const connection = await connect(token);
        return { token, subscription: await connection.subscribe<TaskEvent>(channelOf(token)) };
      }),
    );

    // Act: 10 tasks each.
    const created = await Promise.all(
      callers.map(async (caller, i) => {
        const ids: string[] = [];
        for (let n = 0; n < 10; n++) {
          const task = await createTask(caller.token, {
            type: "prompt",
            input: { prompt: `load ${i}/${n}` },
          });
          ids.push(task.id);
        }
        return ids;
      }),
    );
    await Promise.all(
      callers.map((caller, i) =>
        caller.subscription.waitFor(
          (events) =>
            (created[i] as string[]).every((id) => statusesOf(events, id).includes("completed")),
          3 * COMPLETE_MS,
        ),
      ),
    );

    // Assess: every own task completed, seen once completed, and no other caller's task.
    for (const [i, caller] of callers.entries()) {
      const own = new Set(created[i]);
      const seen = caller.subscription.events
        .filter((e): e is StatusEvent => e.type === "status")
        .map((e) => e.task.id);
      if (!REMOTE) expect(seen.filter((id) => !own.has(id))).toEqual([]);
      for (const id of own) {
        expect(statusesOf(caller.subscription.events, id).filter(isFinalStatus)).toEqual([
          "completed",
        ]);
      }
    }
  });
});
