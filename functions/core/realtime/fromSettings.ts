/**
 * The TaskEvents the settings ask for: a publisher through the relay queue when
 * REALTIME_QUEUE_URL is set (the executor in AWS), else over AppSync Events' HTTP publish
 * when REALTIME_PUBLISH_URL is set (IAM-signed in AWS; with REALTIME_API_KEY, the local
 * runtime's endpoint), else none.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import type { RealtimeSettings } from "../config/settings";
import type { Logger, Metrics } from "../telemetry/ports";
import { createHttpPublishTransport } from "./httpPublish";
import { noTaskEvents, type TaskEvents } from "./port";
import { createTaskEventPublisher, type PublishTransport } from "./publisher";
import { createQueuePublishTransport } from "./queueRelay";

export function createTaskEvents(
  settings: RealtimeSettings,
  telemetry: { logger: Logger; metrics: Metrics },
  /** The container's SQS client, for the relay queue. */
  sqs?: () => Pick<SQSClient, "send">,
): TaskEvents {
  const transport = transportFor(settings, sqs);
  return transport ? createTaskEventPublisher({ transport, ...telemetry }) : noTaskEvents;
}

export function transportFor(
  settings: RealtimeSettings,
  sqs?: () => Pick<SQSClient, "send">,
): PublishTransport | undefined {
  if (settings.REALTIME_QUEUE_URL && sqs) {
    return createQueuePublishTransport({ sqs: sqs(), queueUrl: settings.REALTIME_QUEUE_URL });
  }
  const url = settings.REALTIME_PUBLISH_URL;
  if (!url) return undefined;
  return createHttpPublishTransport({
    url,
    auth: settings.REALTIME_API_KEY
      ? { kind: "apiKey", apiKey: settings.REALTIME_API_KEY }
      : { kind: "iam", region: settings.AWS_REGION, credentials: defaultProvider() },
  });
}
