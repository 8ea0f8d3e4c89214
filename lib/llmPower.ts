import { Duration, type RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { Ec2Action, Ec2InstanceAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { Instance } from "aws-cdk-lib/aws-ec2";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { METRIC_NAMESPACE, METRICS } from "../functions/core/telemetry/metricNames";
import { PipelineFunction } from "./lambda/pipelineFunction";

/**
 * The LLM server off when idle (docs/design.md): the Ollama instance is stopped by AWS's
 * own mechanism, a CloudWatch alarm with the EC2 stop action, after `idleStopMinutes`
 * minutes without LLM work, and started again when the executor finds it silent while
 * work waits (its gate sends a message to the start queue; the starter Lambda starts it).
 */
export interface LlmPowerProps {
  readonly environmentName: string;
  /** The Ollama instance (lib/ollama.ts, `instance` mode). */
  readonly instance: Instance;
  /** Whole minutes without LLM work before the instance is stopped (1 or more). */
  readonly idleStopMinutes: number;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** The starter Lambda's timeout: two API calls. */
const STARTER_TIMEOUT = Duration.seconds(20);

/**
 * A start message is received this many times before the DLQ: with the visibility timeout
 * (6 × the starter's timeout, AWS's advice for an SQS event source) 5 receives span about
 * 10 minutes, longer than an instance takes to finish stopping (when StartInstances
 * answers IncorrectInstanceState).
 */
const START_MAX_RECEIVES = 5;

export class LlmPower extends Construct {
  readonly alarm: Alarm;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly starter: NodejsFunction;
  private readonly instanceId: string;

  constructor(scope: Construct, id: string, props: LlmPowerProps) {
    super(scope, id);
    if (!Number.isInteger(props.idleStopMinutes) || props.idleStopMinutes < 1) {
      throw new Error(`idleStopMinutes must be a whole number of at least 1 for LlmPower`);
    }
    this.instanceId = props.instance.instanceId;
    const minutes = props.idleStopMinutes;

    // The executor's LlmActivity (an attempt started) and the starter's (a start made), with
    // the InstanceId dimension: the EC2 actions act only on an alarm whose metric names the
    // instance, an AWS/EC2 metric "or any custom metrics that include the InstanceId=
    // dimension" (Create alarms to stop, terminate, reboot, or recover an EC2 instance:
    // docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/UsingAlarmActions.html).
    const activity = new Metric({
      namespace: METRIC_NAMESPACE,
      metricName: METRICS.llmActivity.name,
      dimensionsMap: {
        service: "executor",
        environment: props.environmentName,
        InstanceId: this.instanceId,
      },
      statistic: "Sum",
      period: Duration.minutes(1),
    });
    this.alarm = new Alarm(this, "IdleAlarm", {
      alarmDescription: `task-pipeline (${props.environmentName}): no LLM work for ${minutes} minutes; stops the Ollama instance (the executor asks for a start when work comes)`,
      metric: activity,
      threshold: 0,
      comparisonOperator: ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: minutes,
      datapointsToAlarm: minutes,
      // An idle executor emits nothing at all: no data is idleness, not a gap.
      treatMissingData: TreatMissingData.BREACHING,
    });
    // arn:aws:automate:<region>:ec2:stop; CloudWatch acts through its service-linked role
    // (AWSServiceRoleForCloudWatchEvents), which it creates with the first such alarm.
    this.alarm.addAlarmAction(new Ec2Action(Ec2InstanceAction.STOP));

    this.deadLetterQueue = new Queue(this, "StartDeadLetterQueue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "This queue is itself the dead-letter queue of the LLM start queue: starts that failed 5 times (a look is due: a denied or impossible start).",
    });
    this.queue = new Queue(this, "StartQueue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // A start request is worth something while its task waits; the executor asks again
      // every minute while the server is silent.
      retentionPeriod: Duration.minutes(15),
      visibilityTimeout: Duration.seconds(STARTER_TIMEOUT.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: START_MAX_RECEIVES },
      removalPolicy: props.removalPolicy,
    });

    const fn = new PipelineFunction(this, "Starter", {
      name: "llmStarter",
      environmentName: props.environmentName,
      environment: { LLM_INSTANCE_ID: this.instanceId },
      timeout: STARTER_TIMEOUT,
      memorySize: 256,
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
      functionProps: {
        // Not in the VPC: EC2's and CloudWatch's public endpoints need no interface endpoint.
        description: `task-pipeline LLM starter (${props.environmentName}): starts the stopped Ollama instance when the executor asks`,
      },
    });
    this.starter = fn.function;
    this.starter.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(0),
        maxConcurrency: 2,
      }),
    );
    const stack = Stack.of(this);
    this.starter.addToRolePolicy(
      new PolicyStatement({
        actions: ["ec2:StartInstances"],
        resources: [
          stack.formatArn({ service: "ec2", resource: "instance", resourceName: this.instanceId }),
        ],
      }),
    );
    // PutMetricData has no resource to scope to ("*" only); the namespace condition keeps
    // it to the pipeline's own metrics.
    this.starter.addToRolePolicy(
      new PolicyStatement({
        actions: ["cloudwatch:PutMetricData"],
        resources: ["*"],
        conditions: { StringEquals: { "cloudwatch:namespace": METRIC_NAMESPACE } },
      }),
    );
    Validations.of(this.starter).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "cloudwatch:PutMetricData supports no resource but '*'; the statement is limited to the pipeline's namespace by the cloudwatch:namespace condition.",
    });
  }

  /** The executor: may ask for a start, and names the instance in its LlmActivity metric. */
  grantRequestStart(fn: NodejsFunction): void {
    this.queue.grantSendMessages(fn);
    fn.addEnvironment("LLM_START_QUEUE_URL", this.queue.queueUrl);
    fn.addEnvironment("LLM_INSTANCE_ID", this.instanceId);
  }
}
