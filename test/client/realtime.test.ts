import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  channelForSub,
  createTaskPipelineClient,
  type WatchEvent,
  type WebSocketConstructor,
} from "../../client/src/index";
import { channelForOwner } from "../../functions/core/realtime/channel";
import { useInProcessRuntime } from "../support/inProcessRuntime";

/**
 * The client's watchTask over the local runtime's real-time endpoint (AppSync Events'
 * protocol): status changes and the streamed output as they happen, then the result.
 */

const runtime = useInProcessRuntime();

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
    runtime.ollama.setChunkDelay(0);

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
    // Prepare: ~80 KB, three or four chunks at the default 8,192-token context
    const client = await realtimeClient(`progress-${randomUUID()}`);
    const text = Array.from({ length: 1_200 }, (_, i) => `Line ${i} of the minutes.`).join("\n");
    const task = await client.createTask({ type: "summarize", input: { text } });

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
