import { Duration, type RemovalPolicy } from "aws-cdk-lib";
import type { HttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  TextWidget,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { DatabaseCluster } from "aws-cdk-lib/aws-rds";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { METRIC_NAMESPACE, METRICS, type MetricKey } from "../functions/core/telemetry/metricNames";
import type { EnvironmentSettings } from "./config/environmentSettings";

export interface MonitoringProps {
  readonly environmentName: string;
  readonly settings: EnvironmentSettings["alarms"];
  readonly executorFunction: IFunction;
  readonly apiFunction: IFunction;
  readonly httpApi: HttpApi;
  readonly cluster: DatabaseCluster;
  readonly scheduleDeadLetterQueue: IQueue;
  readonly failedTasksQueue: IQueue;
  readonly removalPolicy: RemovalPolicy;
}

/** The alarms, by what they watch; each notifies the alarm topic when it fires and clears. */
export type PipelineAlarmName =
  | "oldestPendingAge"
  | "tasksFailed"
  | "executorErrors"
  | "executorNotRunning"
  | "scheduleDeadLetters";

const FIVE_MINUTES = Duration.minutes(5);

/**
 * A CloudWatch dashboard of the pipeline's EMF metrics (names and dimensions imported from
 * functions/core/telemetry/metricNames, so a renamed metric cannot leave a widget or alarm
 * watching nothing), the Lambdas, the HTTP API and Aurora; and alarms to an SNS topic
 * (encrypted with a key CloudWatch may use, optionally with an e-mail subscription).
 */
export class Monitoring extends Construct {
  readonly dashboard: Dashboard;
  readonly dashboardName: string;
  readonly topic: Topic;
  readonly alarms: Readonly<Record<PipelineAlarmName, Alarm>>;
  private readonly environmentName: string;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.environmentName = props.environmentName;

    const topicKey = new Key(this, "AlarmTopicKey", {
      description: `task-pipeline (${props.environmentName}) alarm topic encryption`,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    // CloudWatch publishes alarm notifications to the encrypted topic with this key.
    topicKey.grant(
      new ServicePrincipal("cloudwatch.amazonaws.com"),
      "kms:Decrypt",
      "kms:GenerateDataKey*",
    );
    this.topic = new Topic(this, "AlarmTopic", {
      displayName: `task-pipeline ${props.environmentName} alarms`,
      masterKey: topicKey,
      enforceSSL: true,
    });
    if (props.settings.email)
      this.topic.addSubscription(new EmailSubscription(props.settings.email));

    const executorMetric = (key: MetricKey, statistic: string, period = Duration.minutes(1)) =>
      this.pipelineMetric("executor", key, statistic, period);

    const alarms: Record<PipelineAlarmName, Alarm> = {
      oldestPendingAge: new Alarm(this, "OldestPendingAgeAlarm", {
        alarmDescription: `A task has waited over ${props.settings.oldestPendingAgeSeconds} s to start: the executor is not keeping up, or not running.`,
        metric: executorMetric("oldestPendingAge", "Maximum", FIVE_MINUTES),
        threshold: props.settings.oldestPendingAgeSeconds,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // No datapoint means no executor loop reported: executorNotRunning covers that.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      tasksFailed: new Alarm(this, "TasksFailedAlarm", {
        alarmDescription: `At least ${props.settings.failedTasksPerFiveMinutes} task(s) ended failed within 5 minutes (see the failed-tasks queue).`,
        metric: executorMetric("tasksFailed", "Sum", FIVE_MINUTES),
        threshold: props.settings.failedTasksPerFiveMinutes,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      executorErrors: new Alarm(this, "ExecutorErrorsAlarm", {
        alarmDescription:
          "The executor Lambda failed (threw or timed out); its failed events are in the schedule DLQ.",
        metric: props.executorFunction.metricErrors({ period: FIVE_MINUTES, statistic: "Sum" }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      executorNotRunning: new Alarm(this, "ExecutorNotRunningAlarm", {
        alarmDescription:
          "The executor was not invoked for 10 minutes: tasks stay pending (schedule disabled or throttled).",
        metric: props.executorFunction.metricInvocations({
          period: FIVE_MINUTES,
          statistic: "Sum",
        }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 2,
        treatMissingData: TreatMissingData.BREACHING,
      }),
      scheduleDeadLetters: new Alarm(this, "ScheduleDeadLettersAlarm", {
        alarmDescription:
          "Executor ticks landed in the schedule's dead-letter queue (failed or undeliverable invocations).",
        metric: props.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: FIVE_MINUTES,
          statistic: "Maximum",
        }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    };
    const action = new SnsAction(this.topic);
    for (const alarm of Object.values(alarms)) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    this.alarms = alarms;

    this.dashboardName = `TaskPipeline-${props.environmentName}`;
    this.dashboard = new Dashboard(this, "Dashboard", {
      dashboardName: this.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    const graph = (title: string, left: IMetric[], right: IMetric[] = []) =>
      new GraphWidget({ title, left, right, width: 12, height: 6 });
    const percentiles = (key: MetricKey) =>
      ["p50", "p95", "p99"].map((p) =>
        executorMetric(key, p).with({ label: `${METRICS[key].name} ${p}` }),
      );

    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# task-pipeline · ${props.environmentName}\nTasks, queue and LLM usage (EMF, namespace \`${METRIC_NAMESPACE}\`), then Lambda, HTTP API and Aurora.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({
        title: "Alarms",
        alarms: Object.values(alarms),
        width: 24,
        height: 3,
      }),
    );
    this.dashboard.addWidgets(
      graph(
        "Tasks per minute",
        (
          [
            "tasksClaimed",
            "tasksCompleted",
            "tasksRetried",
            "tasksFailed",
            "tasksCancelled",
            "tasksExpired",
          ] as const
        ).map((key) => executorMetric(key, "Sum")),
      ),
      graph(
        "Queue",
        [executorMetric("queueDepth", "Maximum")],
        [executorMetric("oldestPendingAge", "Maximum")],
      ),
    );
    this.dashboard.addWidgets(
      graph("Pickup latency (ms)", percentiles("pickupLatency")),
      graph("Run duration (ms)", percentiles("runDuration")),
    );
    this.dashboard.addWidgets(
      graph(
        "LLM tokens",
        [executorMetric("promptTokens", "Sum"), executorMetric("completionTokens", "Sum")],
        // Attempts started: what keeps a stop-when-idle Ollama instance up (lib/llmPower.ts).
        [executorMetric("llmActivity", "Sum")],
      ),
      graph(
        "Executor loop",
        [executorMetric("executorLoops", "Sum")],
        [executorMetric("databaseErrors", "Sum"), executorMetric("failedTaskNotifyErrors", "Sum")],
      ),
      // Real-time publishes (functions/core/realtime): both Lambdas publish.
      graph(
        "Real-time publishes",
        (["executor", "api"] as const).map((service) =>
          this.pipelineMetric(service, "realtimePublishes", "Sum", Duration.minutes(1)),
        ),
        (["executor", "api"] as const).flatMap((service) => [
          this.pipelineMetric(service, "realtimePublishErrors", "Sum", Duration.minutes(1)),
          this.pipelineMetric(service, "realtimeEventsDropped", "Sum", Duration.minutes(1)),
        ]),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        "Executor Lambda",
        [
          props.executorFunction.metricInvocations(),
          props.executorFunction.metricErrors(),
          props.executorFunction.metricThrottles(),
        ],
        [props.executorFunction.metricDuration({ statistic: "p95" })],
      ),
      graph(
        "API Lambda",
        [
          props.apiFunction.metricInvocations(),
          props.apiFunction.metricErrors(),
          this.pipelineMetric("api", "apiServerErrors", "Sum", Duration.minutes(1)),
        ],
        [props.apiFunction.metricDuration({ statistic: "p95" })],
      ),
    );
    this.dashboard.addWidgets(
      graph(
        "HTTP API",
        [
          props.httpApi.metricCount(),
          props.httpApi.metricClientError(),
          props.httpApi.metricServerError(),
        ],
        [props.httpApi.metricLatency({ statistic: "p95" })],
      ),
      graph(
        "Aurora Serverless v2",
        [props.cluster.metricServerlessDatabaseCapacity()],
        [props.cluster.metricACUUtilization()],
      ),
    );
    this.dashboard.addWidgets(
      graph("Queues (messages visible)", [
        props.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          label: "schedule DLQ",
        }),
        props.failedTasksQueue.metricApproximateNumberOfMessagesVisible({ label: "failed tasks" }),
      ]),
    );
  }

  /** One of the pipeline's EMF metrics, with exactly the dimensions the Lambdas emit. */
  pipelineMetric(
    service: "executor" | "api",
    key: MetricKey,
    statistic: string,
    period: Duration,
  ): Metric {
    return new Metric({
      namespace: METRIC_NAMESPACE,
      metricName: METRICS[key].name,
      dimensionsMap: { service, environment: this.environmentName },
      statistic,
      period,
    });
  }
}
