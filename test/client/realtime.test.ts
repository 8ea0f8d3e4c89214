import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  channelForSub,
  createTaskPipelineClient,
  type WatchEvent,
  type WebSocketConstructor,
} from "../../client/src/index";
import { channelForOwner } from "../../functions/core/realtime/channel";
import { waitFor } from "../../testkit/waitFor";
import { useInProcessRuntime } from "../support/inProcessRuntime";

/**
 * The client's watchTask over the local runtime's real-time endpoint (AppSync Events'
 * protocol): status changes and the streamed output as they happen, then the result.
 */

const runtime = useInProcessRuntime();
afterEach(() => runtime.ollama.reset());

async function realtimeClient(owner: string) {
  const token = await runtime.token(owner);
  const host = new URL(runtime.url).host;
  return createTaskPipelineClient({
    baseUrl: runtime.url,
    token,
    realtime: {
      url: `ws://${host}/event/realtime`,
      httpHost: host,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    },
  });
}

/** Plain lines, ~25 bytes each: 1,200 make two or three chunks at an 8,192-token context. */
const minutes = (lines = 1_200) =>
  Array.from({ length: lines }, (_, i) => `Line ${i} of the minutes.`).join("\n");

describe("watchTask over the real-time channel", () => {
  it("yields each status and the output as it is written, which adds up to the result", async () => {
    // Prepare: a slowly streamed answer, and a task due in a second so the watch starts
    // while it is still pending.
    runtime.ollama.setChunkDelay(20);
    const client = await realtimeClient(`watcher-${randomUUID()}`);
    const task = await client.createTask({
      type: "prompt",
      input: { prompt: "Write a few sentences about tides." },
      runAt: new Date(Date.now() + 1_000).toISOString(),
    });

    // Act
    const events: WatchEvent[] = [];
    for await (const event of client.watchTask(task.id)) events.push(event);

    // Assess
    const statuses = events.flatMap((e) => (e.type === "status" ? [e.task.status] : []));
    expect(statuses).toEqual(["pending", "in_progress", "completed"]);
    const last = events.at(-1);
    if (last?.type !== "status" || last.task.type !== "prompt") throw new Error("no result");
    const output = events.flatMap((e) => (e.type === "output" ? [e] : []));
    expect(output.length).toBeGreaterThan(0);
    expect(output.map((e) => e.seq)).toEqual(output.map((_, i) => i));
    expect(output.map((e) => e.delta).join("")).toBe(last.task.result?.response);
  });

  it("yields a long summarize's progress, chunk by chunk, before its result", async () => {
    // Prepare: a text of a few chunks, due in a second so the watch starts while the task
    // is still pending
    const client = await realtimeClient(`progress-${randomUUID()}`);
    const task = await client.createTask({
      type: "summarize",
      input: { text: minutes() },
      runAt: new Date(Date.now() + 1_000).toISOString(),
    });

    // Act
    const events: WatchEvent[] = [];
    for await (const event of client.watchTask(task.id)) events.push(event);

    // Assess
    const progress = events.flatMap((e) => (e.type === "progress" ? [e.progress] : []));
    const last = events.at(-1);
    if (last?.type !== "status" || last.task.type !== "summarize") throw new Error("no result");
    const chunks = last.task.result?.chunks ?? 0;
    expect(chunks).toBeGreaterThan(1);
    expect(progress.filter((p) => p.step === "map").map((p) => p.done)).toEqual(
      Array.from({ length: chunks + 1 }, (_, i) => i),
    );
    expect(progress.at(-1)).toEqual({ step: "reduce", done: 1, total: 1 });
  });

  it("starts a watch that joins a long summarize under way from its current progress", async () => {
    // Prepare: ~75 KB (four chunks or so) taking 700 ms a call, watched only once the task
    // records a finished chunk (its heartbeat writes it, every LEASE_SECONDS / 3 = 1.7 s)
    runtime.ollama.setLatency(700);
    const client = await realtimeClient(`joiner-${randomUUID()}`);
    const task = await client.createTask({ type: "summarize", input: { text: minutes(3_000) } });
    await waitFor(
      async () => {
        const seen = await client.getTask(task.id);
        const ended = seen.status !== "pending" && seen.status !== "in_progress";
        return ended || (seen.progress?.done ?? 0) >= 1;
      },
      { intervalMs: 50, what: "a finished chunk" },
    );

    // Act
    const events: WatchEvent[] = [];
    for await (const event of client.watchTask(task.id)) events.push(event);

    // Assess: it begins where the task stood, not at chunk 0, and never steps back
    const [first, second] = events;
    expect(first).toMatchObject({ type: "status", task: { status: "in_progress" } });
    if (first?.type !== "status") throw new Error("no status first");
    expect(second).toEqual({
      type: "progress",
      taskId: task.id,
      attempt: 1,
      progress: first.task.progress,
    });
    const done = events.flatMap((e) =>
      e.type === "progress" && e.progress.step === "map" ? [e.progress.done] : [],
    );
    expect(done[0]).toBeGreaterThanOrEqual(1);
    expect(done).toEqual([...new Set(done)].sort((a, b) => a - b));
    expect(events.at(-1)).toMatchObject({ type: "status", task: { status: "completed" } });
  });

  it("derives the caller's channel as the backend does", async () => {
    for (const sub of [
      "alice",
      "0b6c7c1e-9d3e-4a57-b5b1-3c0f2a9d8e11",
      "user@example.com",
      "x".repeat(51),
      "é",
    ]) {
      expect(await channelForSub(sub)).toBe(channelForOwner(sub));
    }
  });
});
