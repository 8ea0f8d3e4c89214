import { Duration, type RemovalPolicy, Validations } from "aws-cdk-lib";
import {
  type Connections,
  type IConnectable,
  type IVpc,
  SecurityGroup,
  type SubnetSelection,
} from "aws-cdk-lib/aws-ec2";
import { Rule, RuleTargetInput, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { SqsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { ExecutorSettingsSchema, OllamaSettingsSchema } from "../functions/core/config/settings";
import { scheduleEvent } from "../functions/core/executor/scheduleEvent";
import {
  type EnvironmentSettings,
  executorTimeoutSeconds,
  SCHEDULE_PERIOD_SECONDS,
} from "./config/environmentSettings";
import { checkRuntimeSettings } from "./lambda/checkRuntimeSettings";
import { PipelineFunction } from "./lambda/pipelineFunction";

export interface ExecutorProps {
  readonly environmentName: string;
  readonly settings: Pick<EnvironmentSettings, "executor" | "ollama">;
  readonly vpc: IVpc;
  readonly subnets: SubnetSelection;
  /** DB_CLUSTER_ARN, DB_SECRET_ARN, DB_NAME. */
  readonly databaseEnvironment: Readonly<Record<string, string>>;
  readonly ollamaHost: string;
  readonly failedTasksQueueUrl: string;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The executor Lambda, started every minute by an EventBridge rule. Each invocation claims
 * for about one schedule period and keeps a reserve of one LLM call, so its timeout exceeds
 * the period and invocations overlap by design (leases make that safe).
 *
 * A failed invocation is not retried (the next tick comes within a minute anyway): async
 * retries are 0 and the event goes to the schedule's dead-letter queue, which also takes
 * events EventBridge could not deliver. The DLQ depth has an alarm.
 */
export class Executor extends Construct implements IConnectable {
  readonly function: NodejsFunction;
  readonly securityGroup: SecurityGroup;
  readonly scheduleDeadLetterQueue: Queue;
  readonly schedule: Rule;
  readonly timeout: Duration;

  constructor(scope: Construct, id: string, props: ExecutorProps) {
    super(scope, id);
    const { executor, ollama } = props.settings;
    this.timeout = Duration.seconds(executorTimeoutSeconds(props.settings));

    this.securityGroup = new SecurityGroup(this, "SecurityGroup", {
      vpc: props.vpc,
      description: "Executor Lambda: egress only to the endpoints and Ollama it is granted",
      allowAllOutbound: false,
    });

    this.scheduleDeadLetterQueue = new Queue(this, "ScheduleDeadLetterQueue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.scheduleDeadLetterQueue).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "This queue is itself the dead-letter queue of the executor's schedule (EventBridge target DLQ and the Lambda's on-failure destination); a DLQ of a DLQ would only move the same messages.",
    });

    const environment = {
      ...props.databaseEnvironment,
      OLLAMA_HOST: props.ollamaHost,
      OLLAMA_MODEL: ollama.defaultModel,
      OLLAMA_MODELS: ollama.models.join(","),
      LLM_TIMEOUT_MS: String(ollama.llmTimeoutMs),
      OLLAMA_CONTEXT_LENGTH: String(ollama.contextLength),
      ...(ollama.contextLengths
        ? {
            OLLAMA_CONTEXT_LENGTHS: Object.entries(ollama.contextLengths)
              .map(([model, tokens]) => `${model}=${tokens}`)
              .join(","),
          }
        : {}),
      MAX_CONCURRENCY: String(executor.maxConcurrency),
      EXECUTOR_TIMEOUT_MS: String(this.timeout.toMilliseconds()),
      ...optionalEnvironment({
        LEASE_SECONDS: executor.leaseSeconds,
        POLL_INTERVAL_MS: executor.pollIntervalMs,
        RETRY_BASE_MS: executor.retryBaseMs,
        RETRY_MAX_MS: executor.retryMaxMs,
        MAX_RUNNING_PER_OWNER: executor.maxRunningPerOwner,
        RETENTION_SECONDS: executor.retentionSeconds,
      }),
      FAILED_TASKS_QUEUE_URL: props.failedTasksQueueUrl,
    };
    checkRuntimeSettings("executor", environment, [ExecutorSettingsSchema, OllamaSettingsSchema]);

    const fn = new PipelineFunction(this, "Handler", {
      name: "executor",
      environmentName: props.environmentName,
      environment,
      timeout: this.timeout,
      memorySize: executor.memoryMb,
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
      functionProps: {
        description: `task-pipeline executor (${props.environmentName}): claims pending tasks and runs them through Ollama`,
        vpc: props.vpc,
        vpcSubnets: props.subnets,
        securityGroups: [this.securityGroup],
        reservedConcurrentExecutions: executor.reservedConcurrency,
        // Asynchronous invocation (EventBridge): no retry of a failed tick, and a tick that
        // waited over two schedule periods (throttled) is stale: both go to the DLQ.
        retryAttempts: 0,
        maxEventAge: Duration.seconds(2 * SCHEDULE_PERIOD_SECONDS),
        onFailure: new SqsDestination(this.scheduleDeadLetterQueue),
      },
    });
    this.function = fn.function;
    Validations.of(this.function).acknowledge({
      id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
      reason:
        "AWS's own policy for a Lambda in a VPC to manage its network interfaces (ec2:CreateNetworkInterface and friends, which IAM cannot scope to a resource).",
    });

    this.schedule = new Rule(this, "Schedule", {
      description: `Starts the task-pipeline executor (${props.environmentName}) every minute`,
      schedule: Schedule.rate(Duration.seconds(SCHEDULE_PERIOD_SECONDS)),
      targets: [
        new LambdaFunction(this.function, {
          event: RuleTargetInput.fromObject(
            scheduleEvent(props.environmentName, SCHEDULE_PERIOD_SECONDS),
          ),
          deadLetterQueue: this.scheduleDeadLetterQueue,
          // Delivery to Lambda's queue: retried briefly, then the DLQ; a late tick is useless.
          retryAttempts: 2,
          maxEventAge: Duration.seconds(2 * SCHEDULE_PERIOD_SECONDS),
        }),
      ],
    });
  }

  get connections(): Connections {
    return this.securityGroup.connections;
  }
}

/** The settings that are set, as environment variables; unset ones take the handler's defaults. */
function optionalEnvironment(values: Record<string, number | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, String(value)]],
    ),
  );
}
