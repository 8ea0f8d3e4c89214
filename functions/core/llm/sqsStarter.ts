/**
 * The LLM starter in AWS: one message on the LLM start queue (the executor reaches SQS
 * through its VPC's interface endpoint, which it already uses). The queue's consumer
 * (functions/llmStarter) is outside the VPC and calls EC2's public endpoint.
 */
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { LLM_START_MESSAGE, type LlmStarter } from "./starter";

export function createSqsLlmStarter(options: { sqs: SQSClient; queueUrl: string }): LlmStarter {
  return {
    async requestStart() {
      await options.sqs.send(
        new SendMessageCommand({
          QueueUrl: options.queueUrl,
          MessageBody: JSON.stringify(LLM_START_MESSAGE),
        }),
      );
    },
  };
}
