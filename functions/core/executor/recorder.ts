/**
 * The invocation's counters and metrics, kept from one place: each event bumps the
 * summary's count and, where the dashboard has one, the metric of the same event, so the
 * two cannot drift apart.
 */
import type { MetricKey } from "../telemetry/metricNames";
import type { ExecutorMetrics } from "./metrics";
import { emptyCounts, type SummaryCounts } from "./summary";

type CountKey = keyof SummaryCounts;

/** The metric each counted event also emits (undefined: a summary count only). */
const METRIC_OF: Partial<Record<CountKey, MetricKey>> = {
  claimed: "tasksClaimed",
  completed: "tasksCompleted",
  retried: "tasksRetried",
  failed: "tasksFailed",
  cancelled: "tasksCancelled",
  expired: "tasksExpired",
  databaseErrors: "databaseErrors",
  // Loops are many (thousands a minute under load): the run adds them up per flush
  // instead of one data point each.
};

export class Recorder {
  readonly counts: SummaryCounts = emptyCounts();

  constructor(readonly metrics: ExecutorMetrics) {}

  count(key: CountKey, value = 1): void {
    this.counts[key] += value;
    const metric = METRIC_OF[key];
    if (metric) this.metrics.count(metric, value);
  }

  /** Time with nothing running: the summary's, not a metric. */
  idle(ms: number): void {
    this.counts.idleMs += ms;
  }
}
