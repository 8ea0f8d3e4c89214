/**
 * The TaskEvents the settings ask for: a publisher over AppSync Events' HTTP publish when
 * REALTIME_PUBLISH_URL is set (IAM-signed in AWS; with REALTIME_API_KEY, the local
 * runtime's endpoint), else none.
 */
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import type { RealtimeSettings } from "../config/settings";
import type { Logger, Metrics } from "../telemetry/ports";
import { createHttpPublishTransport } from "./httpPublish";
import { noTaskEvents, type TaskEvents } from "./port";
import { createTaskEventPublisher } from "./publisher";

export function createTaskEvents(
  settings: RealtimeSettings,
  telemetry: { logger: Logger; metrics: Metrics },
): TaskEvents {
  const url = settings.REALTIME_PUBLISH_URL;
  if (!url) return noTaskEvents;
  const transport = createHttpPublishTransport({
    url,
    auth: settings.REALTIME_API_KEY
      ? { kind: "apiKey", apiKey: settings.REALTIME_API_KEY }
      : { kind: "iam", region: settings.AWS_REGION, credentials: defaultProvider() },
  });
  return createTaskEventPublisher({ transport, ...telemetry });
}
