/**
 * The real-time relay Lambda (outside the VPC): takes the executor's publishes from the
 * FIFO relay queue (functions/core/realtime/queueRelay.ts) and makes each an AppSync Events
 * HTTP publish, signed with IAM. A message it cannot publish is logged and counted
 * (RealtimePublishErrors) and dropped, like a failed publish anywhere: the task's row stays
 * the truth, and a stale retry would only confuse subscribers.
 */
import type { SQSEvent } from "aws-lambda";
import { RealtimeSettingsSchema, readSettings } from "../core/config/settings";
import { transportFor } from "../core/realtime/fromSettings";
import type { PublishTransport } from "../core/realtime/publisher";
import { RelayedPublishSchema } from "../core/realtime/queueRelay";
import { createEmfMetrics } from "../core/telemetry/emf";
import { createServiceLogger } from "../core/telemetry/logger";
import { METRICS } from "../core/telemetry/metricNames";
import type { Logger, Metrics } from "../core/telemetry/ports";

export interface RelayDeps {
  transport: PublishTransport;
  logger: Logger;
  metrics: Metrics;
}

/** Publishes the records in order (one FIFO group's records must stay in order). */
export async function relay(event: SQSEvent, deps: RelayDeps): Promise<void> {
  for (const record of event.Records) {
    try {
      const message = RelayedPublishSchema.parse(JSON.parse(record.body));
      await deps.transport.publish(message.channel, message.events);
      deps.metrics.add(METRICS.realtimePublishes.name, METRICS.realtimePublishes.unit, 1);
    } catch (error) {
      deps.metrics.add(METRICS.realtimePublishErrors.name, METRICS.realtimePublishErrors.unit, 1);
      deps.logger.warn("relayed publish failed; its events are dropped", {
        messageId: record.messageId,
        error,
      });
    }
  }
  deps.metrics.flush();
}

let container: RelayDeps | undefined;

function load(env: Record<string, string | undefined> = process.env): RelayDeps {
  if (container) return container;
  const environment = env.PIPELINE_ENV || "local";
  const settings = readSettings(RealtimeSettingsSchema, env);
  const transport = transportFor({ ...settings, REALTIME_QUEUE_URL: undefined });
  if (!transport) throw new Error("REALTIME_PUBLISH_URL must be set for the relay");
  container = {
    transport,
    logger: createServiceLogger({ service: "realtimeRelay", environment }),
    metrics: createEmfMetrics({ service: "realtimeRelay", environment }),
  };
  return container;
}

export const handler = (event: SQSEvent): Promise<void> => relay(event, load());
