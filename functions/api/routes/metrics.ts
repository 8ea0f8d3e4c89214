import { jsonResponse } from "../http";
import type { CallerHandler } from "../router";
import { type MetricsView, MetricsViewSchema } from "../schemas";

/** The window the latency percentiles cover: the last hour, as the design's table says. */
const WINDOW_SECONDS = 3_600;

/** GET /api/metrics: the caller's own counts, queue depth and latencies (never anyone else's). */
export const metricsRoute: CallerHandler = {
  docs: {
    summary: "Your tasks' statistics",
    description:
      "Counts by status, queue depth, oldest pending age, and pickup and run time " +
      "percentiles over the last hour.",
    tags: ["metrics"],
    responses: { 200: { description: "The caller's statistics.", schema: MetricsViewSchema } },
    errors: [401, 503],
  },

  async handle({ caller }, deps) {
    const stats = await deps.tasks.stats(caller, WINDOW_SECONDS);
    const body: MetricsView = {
      counts: stats.counts,
      queueDepth: stats.queueDepth,
      oldestPendingAgeSeconds: stats.oldestPendingAgeSeconds,
      windowSeconds: stats.windowSeconds,
      pickupLatencyMs: stats.pickupLatencyMs,
      runDurationMs: stats.runDurationMs,
    };
    return jsonResponse(200, body);
  },
};
