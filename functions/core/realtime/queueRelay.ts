/**
 * How the executor publishes from its private subnets without a NAT (docs/design.md "Real
 * time"): each publish (a channel and at most 5 events) becomes one message of a FIFO queue,
 * reached over the SQS interface endpoint the executor already uses, grouped by channel so
 * one channel's events keep their order; the relay Lambda (functions/realtimeRelay/),
 * outside the VPC, publishes each message to AppSync Events with IAM.
 */
import { randomUUID } from "node:crypto";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { z } from "zod";
import { MAX_EVENTS_PER_PUBLISH } from "./events";
import type { PublishTransport } from "./publisher";

/** One relayed publish: what the queue message's body holds. */
export const RelayedPublishSchema = z.object({
  channel: z.string().min(1),
  events: z.array(z.string()).min(1).max(MAX_EVENTS_PER_PUBLISH),
});
export type RelayedPublish = z.infer<typeof RelayedPublishSchema>;

export function createQueuePublishTransport(options: {
  sqs: Pick<SQSClient, "send">;
  queueUrl: string;
}): PublishTransport {
  return {
    async publish(channel, events) {
      const body: RelayedPublish = { channel, events: [...events] };
      await options.sqs.send(
        new SendMessageCommand({
          QueueUrl: options.queueUrl,
          MessageBody: JSON.stringify(body),
          // FIFO: order within a group (a channel); the id makes each message distinct.
          MessageGroupId: channel,
          MessageDeduplicationId: randomUUID(),
        }),
      );
    },
  };
}
