import type { Template } from "aws-cdk-lib/assertions";
import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { METRIC_NAMESPACE, METRICS } from "../../functions/core/telemetry/metricNames";
import { loadEnvironment } from "../../lib/config/loadEnvironment";
import { cdkJsonContext, environmentIn, synthesize, synthesized } from "./support/synth";
import {
  type CfnResource,
  joinedText,
  onlyResource,
  pipelineFunction,
  property,
  referencedId,
  resourcesOfType,
} from "./support/template";

const alarmsSettingsOf = (name: string) =>
  loadEnvironment(cdkJsonContext().environments, name).settings.alarms;

/** The alarm on `metricName` in `namespace` (fails unless exactly one). */
function alarmOn(template: Template, namespace: string, metricName: string): CfnResource {
  const alarms = Object.values(resourcesOfType(template, "AWS::CloudWatch::Alarm")).filter(
    (alarm) =>
      alarm.Properties?.Namespace === namespace && alarm.Properties?.MetricName === metricName,
  );
  expect(alarms, `${namespace} ${metricName}`).toHaveLength(1);
  return alarms[0] as CfnResource;
}

describe("monitoring", () => {
  it("alarms when the oldest pending task waited longer than the settings allow", () => {
    // Prepare
    const { oldestPendingAgeSeconds } = alarmsSettingsOf("prod");
    const { template } = synthesized("prod");

    // Act
    const alarm = alarmOn(template, METRIC_NAMESPACE, METRICS.oldestPendingAge.name);

    // Assess: exactly the dimensions the executor emits, or the alarm would watch nothing.
    expect(alarm.Properties).toMatchObject({
      Dimensions: expect.arrayContaining([
        { Name: "service", Value: "executor" },
        { Name: "environment", Value: "prod" },
      ]),
      Statistic: "Maximum",
      Threshold: oldestPendingAgeSeconds,
      ComparisonOperator: "GreaterThanThreshold",
    });
    expect(alarm.Properties?.Dimensions).toHaveLength(2);
  });

  it("alarms on failed tasks, executor errors, a silent executor and schedule dead letters", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [executorId] = pipelineFunction(template, "executor");
    const [, rule] = onlyResource(template, "AWS::Events::Rule");
    const deadLetterQueueId = referencedId(
      property<{ DeadLetterConfig: { Arn: unknown } }[]>(rule, "Targets")[0]?.DeadLetterConfig.Arn,
    );

    // Act
    const failed = alarmOn(template, METRIC_NAMESPACE, METRICS.tasksFailed.name);
    const errors = alarmOn(template, "AWS/Lambda", "Errors");
    const invocations = alarmOn(template, "AWS/Lambda", "Invocations");
    const deadLetters = alarmOn(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible");

    // Assess
    expect(failed.Properties).toMatchObject({
      Statistic: "Sum",
      Threshold: alarmsSettingsOf("dev").failedTasksPerFiveMinutes,
      Dimensions: expect.arrayContaining([{ Name: "environment", Value: "dev" }]),
    });
    expect(errors.Properties?.Dimensions).toEqual([
      { Name: "FunctionName", Value: { Ref: executorId } },
    ]);
    expect(invocations.Properties).toMatchObject({
      Dimensions: [{ Name: "FunctionName", Value: { Ref: executorId } }],
      ComparisonOperator: "LessThanThreshold",
      TreatMissingData: "breaching",
    });
    expect(deadLetters.Properties?.Dimensions).toEqual([
      { Name: "QueueName", Value: { "Fn::GetAtt": [deadLetterQueueId, "QueueName"] } },
    ]);
  });

  it("sends every alarm, firing and clearing, to an encrypted SNS topic that requires TLS", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [topicId, topic] = onlyResource(template, "AWS::SNS::Topic");
    const [keyId] = onlyResource(template, "AWS::KMS::Key");

    // Act: all but the Ollama instance's idle alarm, whose action is the EC2 stop
    // (test/infra/llmPower.test.ts): a stopped idle instance is no incident.
    const alarms = Object.values(resourcesOfType(template, "AWS::CloudWatch::Alarm")).filter(
      (alarm) => alarm.Properties?.MetricName !== "LlmActivity",
    );

    // Assess
    expect(alarms).toHaveLength(5);
    for (const alarm of alarms) {
      expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties?.OKActions).toEqual([{ Ref: topicId }]);
    }
    expect(referencedId(topic.Properties?.KmsMasterKeyId)).toBe(keyId);
    template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
    template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ]),
      },
    });
    template.resourceCountIs("AWS::SNS::Subscription", 0);
  });

  it("subscribes the settings' e-mail address to the alarm topic", () => {
    // Prepare
    const { template } = synthesize("dev", {
      editContext: (context) => {
        environmentIn(context, "dev").alarms.email = "oncall@example.com";
      },
    });

    // Act / Assess
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "oncall@example.com",
    });
  });

  it("builds a dashboard of the pipeline's metrics, the Lambdas, the HTTP API and Aurora", () => {
    // Prepare
    const { template } = synthesized("staging");

    // Act
    const [, dashboard] = onlyResource(template, "AWS::CloudWatch::Dashboard");
    const body = joinedText(dashboard.Properties?.DashboardBody);

    // Assess
    expect(dashboard.Properties?.DashboardName).toBe("TaskPipeline-staging");
    // Every EMF metric, with the dimensions it is emitted with (CloudWatch sorts them by name).
    for (const metric of Object.values(METRICS)) {
      expect(body, metric.name).toMatch(
        new RegExp(
          `"${METRIC_NAMESPACE}","${metric.name}","environment","staging","service","(executor|api)"`,
        ),
      );
    }
    for (const [namespace, metric] of [
      ["AWS/Lambda", "Errors"],
      ["AWS/Lambda", "Duration"],
      ["AWS/ApiGateway", "Count"],
      ["AWS/RDS", "ServerlessDatabaseCapacity"],
      ["AWS/RDS", "ACUUtilization"],
      ["AWS/SQS", "ApproximateNumberOfMessagesVisible"],
    ]) {
      expect(body, `${namespace} ${metric}`).toContain(`"${namespace}","${metric}"`);
    }
  });
});
