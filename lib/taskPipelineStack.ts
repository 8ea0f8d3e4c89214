import { CfnOutput, RemovalPolicy, Stack, type StackProps, Tags } from "aws-cdk-lib";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { PipelineApi } from "./api";
import type { EnvironmentSettings } from "./config/environmentSettings";
import { Database } from "./database";
import { Executor } from "./executor";
import { FailedTasksQueue } from "./failedTasksQueue";
import { LlmPower } from "./llmPower";
import { Migrations } from "./migrations";
import { Monitoring } from "./monitoring";
import { Network } from "./network";
import { Ollama } from "./ollama";
import { projectPath } from "./paths";
import { Payloads } from "./payloads";
import { Realtime } from "./realtime";
import { Wake } from "./wake";

export interface TaskPipelineStackProps extends StackProps {
  readonly environmentName: string;
  readonly settings: EnvironmentSettings;
  /** See MigrationsProps.runId. */
  readonly migrationsRunId?: string;
}

/**
 * One deployment of the pipeline (`TaskPipeline-<env>`): it creates the concerns and wires
 * them, every permission and network path granted here, explicitly, by the construct that
 * owns the resource.
 */
export class TaskPipelineStack extends Stack {
  readonly network: Network;
  readonly database: Database;
  readonly failedTasks: FailedTasksQueue;
  readonly ollama: Ollama;
  readonly executor: Executor;
  readonly api: PipelineApi;
  readonly migrations: Migrations;
  readonly monitoring: Monitoring;
  readonly realtime: Realtime;
  readonly wake: Wake;
  readonly payloads: Payloads;
  /** The Ollama instance stopped when idle, started by work (instance mode with idleStopMinutes). */
  readonly llmPower?: LlmPower;

  constructor(scope: Construct, id: string, props: TaskPipelineStackProps) {
    super(scope, id, props);
    const { environmentName, settings } = props;
    Tags.of(this).add("project", "task-pipeline");
    Tags.of(this).add("environment", environmentName);

    const removalPolicy =
      settings.removalPolicy === "retain" ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    // The schema only admits CloudWatch's retention periods, which are RetentionDays' values.
    const logRetention = settings.logRetentionDays as RetentionDays;

    this.network = new Network(this, "Network", {
      maxAzs: settings.network.maxAzs,
      endpointAzs: settings.network.endpointAzs,
      flowLogRetention: logRetention,
      removalPolicy,
    });

    this.database = new Database(this, "Database", {
      vpc: this.network.vpc,
      subnets: this.network.isolatedSubnets,
      settings: settings.database,
      secretsManagerEndpoint:
        settings.database.secretRotationDays === undefined
          ? undefined
          : this.network.endpoint("secretsManager"),
    });

    if (this.database.rotationSecurityGroup) {
      this.network.grantEndpointAccess(this.database.rotationSecurityGroup, "secretsManager");
    }

    this.failedTasks = new FailedTasksQueue(this, "FailedTasks", { removalPolicy });

    this.ollama = new Ollama(this, "Ollama", {
      settings: settings.ollama,
      vpc: this.network.vpc,
      endpointSubnets: this.network.endpointSubnets,
      instanceSubnets: this.network.isolatedSubnets,
      removalPolicy,
      parallelRequests: settings.executor.maxConcurrency,
      terminationProtection: removalPolicy === RemovalPolicy.RETAIN,
    });

    this.migrations = new Migrations(this, "Migrations", {
      environmentName,
      databaseEnvironment: this.database.dataApiEnvironment,
      migrationsDir: projectPath("migrations"),
      runId: props.migrationsRunId,
      logRetention,
      removalPolicy,
    });
    this.database.grantDataApiAccess(this.migrations.function);
    // The writer instance must be up before the first statement.
    this.migrations.resource.node.addDependency(this.database.cluster);

    this.executor = new Executor(this, "Executor", {
      environmentName,
      settings,
      vpc: this.network.vpc,
      subnets: this.network.isolatedSubnets,
      databaseEnvironment: this.database.dataApiEnvironment,
      ollamaHost: this.ollama.host,
      failedTasksQueueUrl: this.failedTasks.queueUrl,
      logRetention,
      removalPolicy,
    });
    this.database.grantDataApiAccess(this.executor.function);
    this.failedTasks.grantSendMessages(this.executor.function);
    // The Data API reads the database secret itself (the executor only names its ARN), so
    // the executor needs no Secrets Manager endpoint: one interface endpoint fewer per AZ
    // ($7.30 a month each in us-east-1). The rotation Lambda, where rotation is on, has one.
    this.network.grantEndpointAccess(this.executor, "rdsData", "sqs");
    this.ollama.grantConnect(this.executor);
    if (
      this.ollama.instance &&
      settings.ollama.mode === "instance" &&
      settings.ollama.sessionManager
    ) {
      this.network.grantEndpointAccess(this.ollama.instance, "ssm", "ssmMessages", "ec2Messages");
    }
    // The LLM server off when idle (docs/design.md): stopped by an alarm, started on demand.
    if (
      this.ollama.instance &&
      settings.ollama.mode === "instance" &&
      settings.ollama.idleStopMinutes > 0
    ) {
      this.llmPower = new LlmPower(this, "LlmPower", {
        environmentName,
        instance: this.ollama.instance,
        idleStopMinutes: settings.ollama.idleStopMinutes,
        logRetention,
        removalPolicy,
      });
      this.llmPower.grantRequestStart(this.executor.function);
    }
    // No tick before the tables exist.
    this.executor.schedule.node.addDependency(this.migrations.resource);

    this.api = new PipelineApi(this, "Api", {
      environmentName,
      settings,
      databaseEnvironment: this.database.dataApiEnvironment,
      logRetention,
      removalPolicy,
    });
    this.database.grantDataApiAccess(this.api.function);
    // No request before the tables exist.
    this.api.stage.node.addDependency(this.migrations.resource);

    // Big inputs and results (the claim check): the api writes inputs, the executor reads
    // them and writes results, through the S3 gateway endpoint (lib/network.ts).
    this.payloads = new Payloads(this, "Payloads", {
      retentionSeconds: settings.executor.retentionSeconds,
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
    });
    this.payloads.grantApi(this.api.function);
    this.payloads.grantExecutor(this.executor.function);

    // Task events to subscribers (docs/design.md "Real time"): the api publishes directly,
    // the executor (no route out of its VPC) through the relay queue on its SQS endpoint.
    // Scale to zero: a create wakes the executor at once; a tick with nothing due reads
    // only the marker (DynamoDB, through the VPC's gateway endpoint), not the database.
    this.wake = new Wake(this, "Wake", { executorTimeout: this.executor.timeout, removalPolicy });
    this.wake.grantSignal(this.api.function);
    this.wake.attachExecutor(this.executor.function);

    this.realtime = new Realtime(this, "Realtime", {
      environmentName,
      jwtIssuer: this.api.jwtIssuer,
      jwtAudience: this.api.jwtAudience,
      logRetention,
      removalPolicy,
    });
    this.realtime.grantDirectPublish(this.api.function);
    this.realtime.grantRelayedPublish(this.executor.function);

    this.monitoring = new Monitoring(this, "Monitoring", {
      environmentName,
      settings: settings.alarms,
      executorFunction: this.executor.function,
      apiFunction: this.api.function,
      httpApi: this.api.httpApi,
      cluster: this.database.cluster,
      scheduleDeadLetterQueue: this.executor.scheduleDeadLetterQueue,
      failedTasksQueue: this.failedTasks.queue,
      removalPolicy,
    });

    new CfnOutput(this, "ApiUrl", { value: this.api.url, description: "The HTTP API's base URL" });
    if (this.api.userPool && this.api.userPoolClient) {
      new CfnOutput(this, "UserPoolId", { value: this.api.userPool.userPoolId });
      new CfnOutput(this, "UserPoolClientId", { value: this.api.userPoolClient.userPoolClientId });
    }
    new CfnOutput(this, "DashboardName", { value: this.monitoring.dashboardName });
    // What the console's config.json holds (console/, functions/local/consoleFiles.ts).
    new CfnOutput(this, "RealtimeUrl", { value: this.realtime.realtimeUrl });
    new CfnOutput(this, "RealtimeHttpHost", { value: this.realtime.api.httpDns });
    new CfnOutput(this, "FailedTasksQueueUrl", { value: this.failedTasks.queueUrl });
    new CfnOutput(this, "AlarmTopicArn", { value: this.monitoring.topic.topicArn });
    new CfnOutput(this, "DatabaseClusterArn", { value: this.database.cluster.clusterArn });
  }
}
