import { pickupLatencyMs, type QueueState, type Task } from "../tasks/model";
import { METRICS, type MetricKey } from "../telemetry/metricNames";
import type { Metrics } from "../telemetry/ports";
import type { AttemptEnd } from "./attempt";

/**
 * The executor's metrics, named once (METRICS in metricNames.ts, which the dashboard and
 * alarms read too), so the loop speaks in events and not in metric names and units.
 */
export class ExecutorMetrics {
  constructor(private readonly metrics: Metrics) {}

  count(key: MetricKey, value = 1): void {
    if (value > 0) this.metrics.add(METRICS[key].name, METRICS[key].unit, value);
  }

  /** The pickup latency of each claimed first attempt (the claim count is the recorder's). */
  pickups(tasks: readonly Task[]): void {
    for (const task of tasks) {
      // Only a first attempt has a pickup latency; a retry's wait is its backoff.
      const waitedMs = pickupLatencyMs(task);
      if (waitedMs !== null) {
        this.metrics.add(METRICS.pickupLatency.name, METRICS.pickupLatency.unit, waitedMs);
      }
    }
  }

  attemptFinished(end: AttemptEnd, runMs: number): void {
    this.metrics.add(METRICS.runDuration.name, METRICS.runDuration.unit, Math.round(runMs));
    if (end.kind !== "completed") return;
    // Typed, but produced by a task type at run time: read defensively.
    const usage = end.result.usage as unknown as Partial<Record<string, unknown>> | undefined;
    const prompt = usage?.promptTokens;
    const completion = usage?.completionTokens;
    if (typeof prompt === "number") this.count("promptTokens", prompt);
    if (typeof completion === "number") this.count("completionTokens", completion);
  }

  queue(stats: QueueState): void {
    const { queueDepth, oldestPendingAge } = METRICS;
    this.metrics.add(queueDepth.name, queueDepth.unit, stats.queueDepth);
    // 0 rather than nothing when the queue is empty, so the age alarm sees a value.
    this.metrics.add(
      oldestPendingAge.name,
      oldestPendingAge.unit,
      stats.oldestPendingAgeSeconds ?? 0,
    );
  }

  flush(): void {
    this.metrics.flush();
  }
}
