import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { channelForOwner } from "../../../functions/core/realtime/channel";
import type { TaskEvent } from "../../../functions/core/realtime/events";
import {
  createTaskEventPublisher,
  type PublishTransport,
} from "../../../functions/core/realtime/publisher";
import { silentLogger } from "../../../functions/core/telemetry/ports";
import { aTask } from "../../support/taskFixture";

/** The task event publisher: status events, output batching (4 KiB or 250 ms), per-channel order, failures counted, bounded queue. */

interface Sent {
  channel: string;
  events: TaskEvent[];
}

function recordingTransport(options: { fail?: boolean } = {}) {
  const sent: Sent[] = [];
  let inFlight = 0;
  let maxInFlightPerChannel = 0;
  const active = new Map<string, number>();
  const transport: PublishTransport = {
    async publish(channel, events) {
      inFlight++;
      if (!options.fail)
        sent.push({ channel, events: events.map((e) => JSON.parse(e) as TaskEvent) });
      active.set(channel, (active.get(channel) ?? 0) + 1);
      maxInFlightPerChannel = Math.max(maxInFlightPerChannel, active.get(channel) ?? 0);
      await Promise.resolve();
      active.set(channel, (active.get(channel) ?? 1) - 1);
      inFlight--;
      if (options.fail) throw new Error("publish refused");
    },
  };
  return {
    transport,
    sent,
    get inFlight() {
      return inFlight;
    },
    get maxInFlightPerChannel() {
      return maxInFlightPerChannel;
    },
  };
}

function recordingMetrics() {
  const points: Array<[string, number]> = [];
  return {
    points,
    add: (name: string, _unit: string, value: number) => points.push([name, value]),
    flush() {},
  };
}

describe("the task event publisher", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("publishes a status event per task to its owner's channel, without input or result", async () => {
    // Prepare
    const wire = recordingTransport();
    const publisher = createTaskEventPublisher({
      transport: wire.transport,
      logger: silentLogger,
      metrics: recordingMetrics(),
    });
    const task = aTask({ owner: "alice", status: "completed", result: { response: "x" } });

    // Act
    publisher.statusChanged([task]);
    await publisher.flush();

    // Assess
    expect(wire.sent).toHaveLength(1);
    expect(wire.sent[0]?.channel).toBe(channelForOwner("alice"));
    const event = wire.sent[0]?.events[0];
    expect(event).toMatchObject({ type: "status", task: { id: task.id, status: "completed" } });
    expect(event && "task" in event ? event.task : {}).not.toHaveProperty("result");
    expect(event && "task" in event ? event.task : {}).not.toHaveProperty("input");
    expect(event && "task" in event ? event.task : {}).not.toHaveProperty("owner");
  });

  it("batches output: 4 KiB or 250 ms, whichever first, seq from 0, in order before the final status", async () => {
    // Prepare
    const wire = recordingTransport();
    const publisher = createTaskEventPublisher({
      transport: wire.transport,
      logger: silentLogger,
      metrics: recordingMetrics(),
    });
    const task = aTask({ owner: "bob", status: "in_progress", attempts: 1 });
    const pieces = Array.from({ length: 2_000 }, (_, i) => `w${i} `);

    // Act: 2,000 pieces of ~6 bytes arrive at once (about 11 KB): two 4 KiB events sent at
    // once, the rest after 250 ms; then 3 more pieces, sent by the completed status.
    for (const piece of pieces) publisher.output(task, piece);
    await vi.advanceTimersByTimeAsync(0);
    const beforeTimer = wire.sent.flatMap((s) => s.events).length;
    await vi.advanceTimersByTimeAsync(250);
    for (const piece of ["a ", "b ", "c"]) publisher.output(task, piece);
    publisher.statusChanged([{ ...task, status: "completed" }]);
    await publisher.flush();

    // Assess
    const events = wire.sent.flatMap((s) => s.events);
    const output = events.filter((e) => e.type === "output");
    expect(beforeTimer).toBe(2);
    expect(output.map((e) => e.seq)).toEqual([0, 1, 2, 3]);
    expect(output.map((e) => e.delta).join("")).toBe(`${pieces.join("")}a b c`);
    expect(events.at(-1)).toMatchObject({ type: "status", task: { status: "completed" } });
    expect(wire.sent.every((s) => s.events.length <= 5)).toBe(true);
    expect(wire.maxInFlightPerChannel).toBe(1);
  });

  it("sends a progress event after the output that came before it", async () => {
    // Prepare
    const wire = recordingTransport();
    const publisher = createTaskEventPublisher({
      transport: wire.transport,
      logger: silentLogger,
      metrics: recordingMetrics(),
    });
    const task = aTask({ owner: "dave", status: "in_progress", attempts: 2 });

    // Act
    publisher.output(task, "partial ");
    publisher.progress(task, { step: "map", done: 1, total: 3 });
    await publisher.flush();

    // Assess
    const events = wire.sent.flatMap((s) => s.events);
    expect(events.map((e) => e.type)).toEqual(["output", "progress"]);
    expect(events[1]).toEqual({
      type: "progress",
      taskId: task.id,
      attempt: 2,
      progress: { step: "map", done: 1, total: 3 },
    });
  });

  it("starts seq over for a new attempt", async () => {
    // Prepare
    const wire = recordingTransport();
    const publisher = createTaskEventPublisher({
      transport: wire.transport,
      logger: silentLogger,
      metrics: recordingMetrics(),
    });
    const task = aTask({ owner: "carol", status: "in_progress", attempts: 1 });

    // Act
    publisher.output(task, "first");
    publisher.output({ ...task, attempts: 2 }, "second");
    await publisher.flush();

    // Assess
    const output = wire.sent.flatMap((s) => s.events).filter((e) => e.type === "output");
    expect(output.map((e) => [e.attempt, e.seq, e.delta])).toEqual([
      [1, 0, "first"],
      [2, 0, "second"],
    ]);
  });

  it("counts a failed publish and never throws to the caller", async () => {
    // Prepare
    const wire = recordingTransport({ fail: true });
    const metrics = recordingMetrics();
    const publisher = createTaskEventPublisher({
      transport: wire.transport,
      logger: silentLogger,
      metrics,
    });

    // Act
    publisher.statusChanged([aTask({ owner: "dan" })]);
    await publisher.flush();

    // Assess
    expect(metrics.points).toContainEqual(["RealtimePublishErrors", 1]);
    expect(publisher.publishes).toBe(1);
  });

  it("drops and counts events past its bounded queue", async () => {
    // Prepare: a transport that never answers.
    const metrics = recordingMetrics();
    const publisher = createTaskEventPublisher({
      transport: { publish: () => new Promise(() => {}) },
      logger: silentLogger,
      metrics,
      tuning: { maxQueuedEvents: 10 },
    });

    // Act
    for (let i = 0; i < 15; i++) publisher.statusChanged([aTask({ owner: "erin" })]);
    const flushed = publisher.flush(100);
    await vi.advanceTimersByTimeAsync(100);
    await flushed;

    // Assess
    expect(metrics.points.filter(([name]) => name === "RealtimeEventsDropped")).toHaveLength(5);
  });
});
