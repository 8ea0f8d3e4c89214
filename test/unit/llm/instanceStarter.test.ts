import {
  CloudWatchClient,
  PutMetricDataCommand,
  type PutMetricDataCommandInput,
} from "@aws-sdk/client-cloudwatch";
import { EC2Client, EC2ServiceException, StartInstancesCommand } from "@aws-sdk/client-ec2";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { startLlmInstance } from "../../../functions/core/llm/instanceStarter";
import { silentLogger } from "../../../functions/core/telemetry/ports";
import { startFromQueue } from "../../../functions/llmStarter/handler";

/**
 * The LLM starter: StartInstances on the one instance, then one LlmActivity datapoint for
 * that instance (what turns the idle alarm back to OK); any EC2 error is thrown so the
 * message returns through the queue's visibility timeout.
 */

const ec2 = mockClient(EC2Client);
const cloudwatch = mockClient(CloudWatchClient);
const INSTANCE = "i-0123456789abcdef0";
const meta = { $metadata: {} };

const deps = () => ({
  ec2: new EC2Client({ region: "eu-west-1" }),
  cloudwatch: new CloudWatchClient({ region: "eu-west-1" }),
  instanceId: INSTANCE,
  environment: "dev",
  logger: silentLogger,
});

const ec2Error = (name: string, message: string) =>
  new EC2ServiceException({ name, $fault: "client", message, ...meta });

afterEach(() => {
  ec2.reset();
  cloudwatch.reset();
});

describe("startLlmInstance", () => {
  it("starts the stopped instance and records one LlmActivity for it", async () => {
    // Prepare
    ec2.on(StartInstancesCommand).resolves({
      StartingInstances: [
        {
          InstanceId: INSTANCE,
          PreviousState: { Name: "stopped", Code: 80 },
          CurrentState: { Name: "pending", Code: 0 },
        },
      ],
    });
    cloudwatch.on(PutMetricDataCommand).resolves({});

    // Act
    const result = await startLlmInstance(deps());

    // Assess
    expect(result).toEqual({ previousState: "stopped", currentState: "pending" });
    expect(ec2.commandCalls(StartInstancesCommand)[0]?.args[0].input).toEqual({
      InstanceIds: [INSTANCE],
    });
    const put = cloudwatch.commandCalls(PutMetricDataCommand)[0]?.args[0]
      .input as PutMetricDataCommandInput;
    expect(put.Namespace).toBe("TaskPipeline");
    expect(put.MetricData).toEqual([
      {
        MetricName: "LlmActivity",
        Unit: "Count",
        Value: 1,
        Dimensions: [
          { Name: "service", Value: "executor" },
          { Name: "environment", Value: "dev" },
          { Name: "InstanceId", Value: INSTANCE },
        ],
      },
    ]);
  });

  it("succeeds on a running instance (StartInstances changes nothing) and still records activity", async () => {
    // Prepare
    ec2.on(StartInstancesCommand).resolves({
      StartingInstances: [
        {
          InstanceId: INSTANCE,
          PreviousState: { Name: "running", Code: 16 },
          CurrentState: { Name: "running", Code: 16 },
        },
      ],
    });
    cloudwatch.on(PutMetricDataCommand).resolves({});

    // Act
    const result = await startLlmInstance(deps());

    // Assess
    expect(result.currentState).toBe("running");
    expect(cloudwatch.commandCalls(PutMetricDataCommand)).toHaveLength(1);
  });

  it("throws IncorrectInstanceState (a stopping instance), so SQS redelivers, recording nothing", async () => {
    // Prepare
    ec2
      .on(StartInstancesCommand)
      .rejects(
        ec2Error(
          "IncorrectInstanceState",
          `The instance '${INSTANCE}' is not in a state from which it can be started.`,
        ),
      );

    // Act
    const started = startLlmInstance(deps());

    // Assess
    await expect(started).rejects.toMatchObject({ name: "IncorrectInstanceState" });
    expect(cloudwatch.commandCalls(PutMetricDataCommand)).toHaveLength(0);
  });

  it("throws an access denial (a wrong grant), so the message ends in the DLQ for a look", async () => {
    // Prepare
    ec2
      .on(StartInstancesCommand)
      .rejects(
        ec2Error("UnauthorizedOperation", "You are not authorized to perform this operation."),
      );

    // Act
    const started = startLlmInstance(deps());

    // Assess
    await expect(started).rejects.toMatchObject({ name: "UnauthorizedOperation" });
    expect(cloudwatch.commandCalls(PutMetricDataCommand)).toHaveLength(0);
  });
});

describe("the llmStarter handler", () => {
  const record = (id: string) => ({ messageId: id, body: "{}" }) as SQSRecord;

  it("starts once for a batch of messages (they all mean the same)", async () => {
    // Prepare
    ec2.on(StartInstancesCommand).resolves({ StartingInstances: [] });
    cloudwatch.on(PutMetricDataCommand).resolves({});
    const event: SQSEvent = { Records: [record("a"), record("b"), record("c")] };

    // Act
    await startFromQueue(event, deps());

    // Assess
    expect(ec2.commandCalls(StartInstancesCommand)).toHaveLength(1);
  });

  it("fails the batch when the start fails, so the queue redelivers it", async () => {
    // Prepare
    ec2.on(StartInstancesCommand).rejects(ec2Error("IncorrectInstanceState", "stopping"));

    // Act
    const handled = startFromQueue({ Records: [record("a")] }, deps());

    // Assess
    await expect(handled).rejects.toThrow("stopping");
  });
});
