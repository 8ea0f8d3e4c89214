/**
 * The LLM starter Lambda (outside the VPC, so EC2's and CloudWatch's public endpoints need
 * no interface endpoint): consumes the LLM start queue, whose messages the executor sends
 * while the LLM server does not answer (functions/core/executor/llmGate.ts), and starts the
 * instance once per batch (every message means the same). A failed start throws: the batch
 * returns after the queue's visibility timeout and is tried again, then lands in the DLQ.
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { EC2Client } from "@aws-sdk/client-ec2";
import type { SQSEvent } from "aws-lambda";
import { LlmStarterSettingsSchema, readSettings } from "../core/config/settings";
import { type InstanceStarterDeps, startLlmInstance } from "../core/llm/instanceStarter";
import { createServiceLogger } from "../core/telemetry/logger";

export async function startFromQueue(event: SQSEvent, deps: InstanceStarterDeps): Promise<void> {
  if (event.Records.length === 0) return;
  await startLlmInstance(deps);
}

let container: InstanceStarterDeps | undefined;

function load(env: Record<string, string | undefined> = process.env): InstanceStarterDeps {
  if (container) return container;
  const environment = env.PIPELINE_ENV || "local";
  const settings = readSettings(LlmStarterSettingsSchema, env);
  container = {
    ec2: new EC2Client({}),
    cloudwatch: new CloudWatchClient({}),
    instanceId: settings.LLM_INSTANCE_ID,
    environment,
    logger: createServiceLogger({ service: "llmStarter", environment }),
  };
  return container;
}

export const handler = (event: SQSEvent): Promise<void> => startFromQueue(event, load());
