/**
 * The TaskEvents implementation that publishes: builds each event, batches a running
 * task's output, and sends everything through a PublishTransport (AppSync Events' HTTP
 * publish, ./httpPublish.ts) without ever holding up the caller.
 *
 * - Output is buffered per task and sent when 4 KiB of text has gathered or 250 ms after
 *   the first unsent piece, whichever comes first: a 24 KiB answer (the result limit)
 *   streamed over 20 s makes at most 80 output events, and AppSync's 5 events a publish
 *   make that 16+ publishes rather than one per token (~6,000). A status event first sends
 *   what its task's buffer holds, so a subscriber sees all of an attempt's text before its
 *   `completed`.
 * - Events queue per channel and a channel's publishes go one at a time (so a subscriber
 *   sees them in order), up to 4 channels at once. At most 5 events per publish.
 * - The queue is bounded (2,000 events); past it events are dropped and counted. A failed
 *   publish is logged and counted (RealtimePublishErrors) and its events dropped: the task
 *   is never failed for it, and its row stays the truth (`GET /api/tasks/{id}`).
 */
import type { TaskProgress } from "../tasks/model";
import type { Task } from "../tasks/taskRow";
import { METRICS } from "../telemetry/metricNames";
import type { Logger, Metrics } from "../telemetry/ports";
import { channelForOwner } from "./channel";
import {
  MAX_EVENT_BYTES,
  MAX_EVENTS_PER_PUBLISH,
  type OutputEvent,
  type ProgressEvent,
  type StatusEvent,
  toTaskSummary,
} from "./events";
import type { OutputTask, TaskEvents } from "./port";

/** One HTTP publish: `events` are JSON texts, at most MAX_EVENTS_PER_PUBLISH. */
export interface PublishTransport {
  publish(channel: string, events: readonly string[]): Promise<void>;
}

export interface PublisherTuning {
  flushIntervalMs: number;
  flushBytes: number;
  maxQueuedEvents: number;
  maxChannelsInFlight: number;
}

export const DEFAULT_PUBLISHER_TUNING: PublisherTuning = {
  flushIntervalMs: 250,
  flushBytes: 4_096,
  maxQueuedEvents: 2_000,
  maxChannelsInFlight: 4,
};

/** Flush's default wait: short, as it runs at the end of every api request that published. */
const DEFAULT_FLUSH_TIMEOUT_MS = 2_000;
/** Characters of text per output event: at most 32 KB in UTF-8, so 5 of them fit one 256 KiB SQS message (the relay). */
const MAX_DELTA_CHARS = 8_192;

interface OutputBuffer {
  channel: string;
  taskId: string;
  attempt: number;
  seq: number;
  text: string;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export interface TaskEventPublisher extends TaskEvents {
  /** Publishes sent so far (successful or not), for the bench and tests. */
  readonly publishes: number;
}

export function createTaskEventPublisher(options: {
  transport: PublishTransport;
  logger: Logger;
  metrics: Metrics;
  tuning?: Partial<PublisherTuning>;
}): TaskEventPublisher {
  const { transport, logger, metrics } = options;
  const tuning = { ...DEFAULT_PUBLISHER_TUNING, ...options.tuning };
  const queues = new Map<string, string[]>();
  const busy = new Set<string>();
  const outputs = new Map<string, OutputBuffer>();
  let queued = 0;
  let publishes = 0;
  let droppedSinceLog = 0;
  let idleWaiters: Array<() => void> = [];

  function enqueue(channel: string, event: StatusEvent | OutputEvent | ProgressEvent): void {
    const text = JSON.stringify(event);
    if (Buffer.byteLength(text) > MAX_EVENT_BYTES || queued >= tuning.maxQueuedEvents) {
      metrics.add(METRICS.realtimeEventsDropped.name, METRICS.realtimeEventsDropped.unit, 1);
      if (droppedSinceLog++ === 0) {
        logger.warn("real-time event dropped (queue full or event over 240 KB)", {
          channel,
          type: event.type,
          queued,
        });
      }
      return;
    }
    const queue = queues.get(channel) ?? [];
    queue.push(text);
    queues.set(channel, queue);
    queued++;
    pump();
  }

  function pump(): void {
    for (const [channel, queue] of queues) {
      if (busy.size >= tuning.maxChannelsInFlight) return;
      if (busy.has(channel) || queue.length === 0) continue;
      const batch = queue.splice(0, MAX_EVENTS_PER_PUBLISH);
      if (queue.length === 0) queues.delete(channel);
      busy.add(channel);
      publishes++;
      transport
        .publish(channel, batch)
        .then(() => {
          metrics.add(METRICS.realtimePublishes.name, METRICS.realtimePublishes.unit, 1);
        })
        .catch((error: unknown) => {
          metrics.add(METRICS.realtimePublishErrors.name, METRICS.realtimePublishErrors.unit, 1);
          logger.warn("real-time publish failed; its events are dropped", {
            channel,
            events: batch.length,
            error,
          });
        })
        .finally(() => {
          busy.delete(channel);
          queued -= batch.length;
          pump();
        });
    }
    if (busy.size === 0 && queues.size === 0) {
      droppedSinceLog = 0;
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  function sendOutput(buffer: OutputBuffer): void {
    if (buffer.timer) clearTimeout(buffer.timer);
    buffer.timer = undefined;
    for (let at = 0; at < buffer.text.length; at += MAX_DELTA_CHARS) {
      enqueue(buffer.channel, {
        type: "output",
        taskId: buffer.taskId,
        attempt: buffer.attempt,
        seq: buffer.seq++,
        delta: buffer.text.slice(at, at + MAX_DELTA_CHARS),
      });
    }
    buffer.text = "";
  }

  return {
    get publishes() {
      return publishes;
    },

    statusChanged(tasks: readonly Task[]): void {
      for (const task of tasks) {
        const buffer = outputs.get(task.id);
        if (buffer) {
          sendOutput(buffer);
          if (task.status !== "in_progress") outputs.delete(task.id);
        }
        enqueue(channelForOwner(task.owner), { type: "status", task: toTaskSummary(task) });
      }
    },

    output(task: OutputTask, delta: string): void {
      if (delta === "") return;
      let buffer = outputs.get(task.id);
      if (buffer && buffer.attempt !== task.attempts) {
        sendOutput(buffer);
        buffer = undefined;
      }
      if (!buffer) {
        buffer = {
          channel: channelForOwner(task.owner),
          taskId: task.id,
          attempt: task.attempts,
          seq: 0,
          text: "",
          timer: undefined,
        };
        outputs.set(task.id, buffer);
      }
      buffer.text += delta;
      if (Buffer.byteLength(buffer.text) >= tuning.flushBytes) {
        sendOutput(buffer);
      } else if (!buffer.timer) {
        const pending = buffer;
        pending.timer = setTimeout(() => sendOutput(pending), tuning.flushIntervalMs);
        pending.timer.unref?.();
      }
    },

    progress(task: OutputTask, progress: TaskProgress): void {
      // The output so far goes first, so a client sees the text a step made before the step.
      const buffer = outputs.get(task.id);
      if (buffer?.text) sendOutput(buffer);
      enqueue(channelForOwner(task.owner), {
        type: "progress",
        taskId: task.id,
        attempt: task.attempts,
        progress,
      });
    },

    async flush(timeoutMs = DEFAULT_FLUSH_TIMEOUT_MS): Promise<void> {
      for (const buffer of outputs.values()) if (buffer.text) sendOutput(buffer);
      if (busy.size === 0 && queues.size === 0) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const idle = new Promise<void>((resolve) => idleWaiters.push(resolve));
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), timeoutMs);
      });
      const outcome = await Promise.race([idle, late]);
      clearTimeout(timer);
      if (outcome === "late") {
        logger.warn("real-time events still unsent when the flush timed out", {
          queued,
          timeoutMs,
        });
      }
    },
  };
}
