/**
 * The waker in AWS: one message on the stack's wake queue, whose event source mapping
 * invokes the executor (at most 2 at once, lib/: a burst of creates starts 2 executors, not
 * one per task). The message says nothing but "there is work"; the executor claims from
 * the database as always. ~$0.40 per million messages.
 */
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { WAKE_MESSAGE } from "../executor/scheduleEvent";
import type { Waker } from "./ports";

export function createSqsWaker(options: { sqs: SQSClient; queueUrl: string }): Waker {
  return {
    async wake() {
      await options.sqs.send(
        new SendMessageCommand({
          QueueUrl: options.queueUrl,
          MessageBody: JSON.stringify(WAKE_MESSAGE),
        }),
      );
    },
  };
}
