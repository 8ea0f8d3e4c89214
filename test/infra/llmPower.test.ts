import { describe, expect, it } from "vitest";
import { synthesize, synthesized } from "./support/synth";
import {
  actionsOf,
  lambdaEnvironment,
  pipelineFunction,
  pipelineFunctions,
  policyStatements,
  referencedId,
  referencedIds,
  resourcesOf,
  resourcesOfType,
} from "./support/template";

/**
 * The LLM server off when idle (lib/llmPower.ts): an alarm with the EC2 stop action on the
 * executor's LlmActivity for the instance, a start queue the executor may send to, and a
 * starter Lambda outside the VPC allowed to start that one instance.
 */

const alarms = (name: "dev" | "staging" | "prod" | "localstack") =>
  Object.values(resourcesOfType(synthesized(name).template, "AWS::CloudWatch::Alarm")).filter(
    (alarm) => alarm.Properties?.MetricName === "LlmActivity",
  );

describe("the idle alarm", () => {
  it("stops the instance after 15 minutes (dev) without LlmActivity, no data counting as idle", () => {
    // Prepare
    const { template } = synthesized("dev");
    const instanceIds = Object.keys(resourcesOfType(template, "AWS::EC2::Instance"));

    // Act
    const [alarm, ...others] = alarms("dev");

    // Assess
    expect(others).toHaveLength(0);
    expect(instanceIds).toHaveLength(1);
    const props = alarm?.Properties ?? {};
    expect(props).toMatchObject({
      Namespace: "TaskPipeline",
      MetricName: "LlmActivity",
      Statistic: "Sum",
      Period: 60,
      Threshold: 0,
      ComparisonOperator: "LessThanOrEqualToThreshold",
      EvaluationPeriods: 15,
      DatapointsToAlarm: 15,
      TreatMissingData: "breaching",
    });
    const dimensions = props.Dimensions as { Name: string; Value: unknown }[];
    expect(Object.fromEntries(dimensions.map((d) => [d.Name, d.Value]))).toMatchObject({
      service: "executor",
      environment: "dev",
    });
    const instanceDimension = dimensions.find((d) => d.Name === "InstanceId");
    expect(referencedId(instanceDimension?.Value)).toBe(instanceIds[0]);
    expect(JSON.stringify(props.AlarmActions)).toContain(":automate:");
    expect(JSON.stringify(props.AlarmActions)).toContain(":ec2:stop");
  });

  it("waits 30 minutes in staging", () => {
    // Act
    const [alarm] = alarms("staging");

    // Assess
    expect(alarm?.Properties).toMatchObject({ EvaluationPeriods: 30, DatapointsToAlarm: 30 });
  });

  it("is not made where there is no instance (prod: privateLink; localstack: external)", () => {
    // Act / Assess
    expect(alarms("prod")).toHaveLength(0);
    expect(alarms("localstack")).toHaveLength(0);
    expect(pipelineFunctions(synthesized("prod").template).llmStarter).toBeUndefined();
  });

  it("is not made, nor anything else of it, when idleStopMinutes is 0", () => {
    // Prepare
    const { template } = synthesize("dev", {
      editContext: (context) => {
        const dev = (context.environments as Record<string, { ollama: Record<string, unknown> }>)
          .dev;
        if (dev) dev.ollama.idleStopMinutes = 0;
      },
    });

    // Act
    const found = Object.values(resourcesOfType(template, "AWS::CloudWatch::Alarm")).filter(
      (alarm) => alarm.Properties?.MetricName === "LlmActivity",
    );
    const [, executor] = pipelineFunction(template, "executor");

    // Assess
    expect(found).toHaveLength(0);
    expect(pipelineFunctions(template).llmStarter).toBeUndefined();
    expect(lambdaEnvironment(executor).LLM_START_QUEUE_URL).toBeUndefined();
  });
});

describe("the start path", () => {
  it("runs the starter outside the VPC, from the start queue, 10 a batch, at most 2 at once", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [starterId, starter] = pipelineFunction(template, "llmStarter");
    const [, executor] = pipelineFunction(template, "executor");
    const queueId = referencedId(lambdaEnvironment(executor).LLM_START_QUEUE_URL) as string;

    // Act
    const mapping = Object.values(
      resourcesOfType(template, "AWS::Lambda::EventSourceMapping"),
    ).find((m) => referencedIds(m.Properties?.EventSourceArn).has(queueId));
    const queue = resourcesOfType(template, "AWS::SQS::Queue")[queueId];

    // Assess
    expect(starter.Properties?.VpcConfig).toBeUndefined();
    expect(referencedId(mapping?.Properties?.FunctionName)).toBe(starterId);
    expect(mapping?.Properties).toMatchObject({
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    expect(queue?.Properties?.SqsManagedSseEnabled).toBe(true);
    expect(queue?.Properties?.RedrivePolicy).toMatchObject({ maxReceiveCount: 5 });
    expect(referencedId(lambdaEnvironment(starter).LLM_INSTANCE_ID)).toBe(
      Object.keys(resourcesOfType(template, "AWS::EC2::Instance"))[0],
    );
  });

  it("lets the starter start only the instance and put only the pipeline's metrics", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [, starter] = pipelineFunction(template, "llmStarter");
    const roleId = referencedId(starter.Properties?.Role);
    const [instanceId] = Object.keys(resourcesOfType(template, "AWS::EC2::Instance"));

    // Act
    const all = policyStatements(template);
    const starters = all.filter((s) => actionsOf(s).includes("ec2:StartInstances"));
    const own = all.filter((s) => roleId !== undefined && s.roles.includes(roleId));
    const putMetric = own.find((s) => actionsOf(s).includes("cloudwatch:PutMetricData"));

    // Assess
    expect(starters).toHaveLength(1);
    expect(starters[0]?.roles).toEqual([roleId]);
    expect(actionsOf(starters[0] as never)).toEqual(["ec2:StartInstances"]);
    const resources = resourcesOf(starters[0] as never);
    expect(resources).toHaveLength(1);
    expect(JSON.stringify(resources[0])).toContain(":instance/");
    expect(referencedIds(resources[0]).has(instanceId as string)).toBe(true);
    expect(actionsOf(putMetric as never)).toEqual(["cloudwatch:PutMetricData"]);
    expect((putMetric as unknown as { Condition: unknown }).Condition).toEqual({
      StringEquals: { "cloudwatch:namespace": "TaskPipeline" },
    });
    // Nothing else of EC2 or CloudWatch, and no SetAlarmState (see lib/llmPower.ts).
    const other = own
      .flatMap(actionsOf)
      .filter((a) => a.startsWith("ec2:") || a.startsWith("cloudwatch:"));
    expect(other.sort()).toEqual(["cloudwatch:PutMetricData", "ec2:StartInstances"]);
  });

  it("lets the executor send to the start queue and tells it the queue and the instance", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [, executor] = pipelineFunction(template, "executor");
    const roleId = referencedId(executor.Properties?.Role);
    const env = lambdaEnvironment(executor);
    const queueId = referencedId(env.LLM_START_QUEUE_URL) as string;

    // Act
    const sends = policyStatements(template).filter(
      (s) =>
        actionsOf(s).includes("sqs:SendMessage") &&
        resourcesOf(s).some((r) => referencedId(r) === queueId),
    );

    // Assess
    expect(queueId).toBeDefined();
    expect(sends.map((s) => s.roles)).toEqual([[roleId]]);
    expect(referencedId(env.LLM_INSTANCE_ID)).toBe(
      Object.keys(resourcesOfType(template, "AWS::EC2::Instance"))[0],
    );
  });
});
