import { type Duration, type RemovalPolicy, Validations } from "aws-cdk-lib";
import { Architecture, Runtime } from "aws-cdk-lib/aws-lambda";
import {
  type ICommandHooks,
  NodejsFunction,
  type NodejsFunctionProps,
  OutputFormat,
} from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { METRIC_NAMESPACE } from "../../functions/core/telemetry/metricNames";
import { projectPath } from "../paths";

export interface PipelineFunctionProps {
  /** `functions/<name>/handler.ts` is the entry; also the service name in logs and metrics. */
  readonly name: "api" | "executor" | "migrate" | "realtimeRelay" | "llmStarter";
  /** The deployment environment's name (PIPELINE_ENV, the metrics' `environment` dimension). */
  readonly environmentName: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  /** Extra bundling steps, e.g. copying `migrations/` next to the migrate handler. */
  readonly commandHooks?: ICommandHooks;
  /** VPC placement, reserved concurrency, async invocation settings... passed through. */
  readonly functionProps?: Partial<NodejsFunctionProps>;
}

/**
 * Every Lambda of the pipeline, built the same way: TypeScript bundled by the LOCAL esbuild
 * (never Docker, so synth works on a machine without it), arm64, Node 22, minified ESM with
 * source maps, and an explicit log group whose retention comes from the settings.
 */
export class PipelineFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, "Logs", {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    this.function = new NodejsFunction(this, "Function", {
      entry: projectPath("functions", props.name, "handler.ts"),
      handler: "handler",
      projectRoot: projectPath(),
      depsLockFilePath: projectPath("package-lock.json"),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      logGroup: this.logGroup,
      environment: {
        ...props.environment,
        PIPELINE_ENV: props.environmentName,
        POWERTOOLS_SERVICE_NAME: props.name,
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        NODE_OPTIONS: "--enable-source-maps",
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        // ESM output; CommonJS dependencies that call require() get a real one.
        banner:
          "import { createRequire as __pipelineCreateRequire } from 'node:module'; const require = __pipelineCreateRequire(import.meta.url);",
        mainFields: ["module", "main"],
        target: "node22",
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Bundle the AWS SDK instead of using the runtime's copy: the deployed code runs the
        // exact SDK version the tests ran (the Data API adapter depends on its error names).
        bundleAwsSDK: true,
        // pg's optional native binding: never installed, never loaded (the Lambdas use the Data API).
        externalModules: ["pg-native"],
        commandHooks: props.commandHooks,
      },
      ...props.functionProps,
    });

    Validations.of(this.function).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "Pinned to Node.js 22 on purpose: the code base is built and tested on Node 20/22 and the runtime is raised deliberately, not by whichever runtime is newest at synth time.",
    });
    Validations.of(this.function).acknowledge({
      id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      reason:
        "AWS's own minimal policy for a Lambda to write its CloudWatch logs (CreateLogStream/PutLogEvents); every other permission is granted per resource by the constructs.",
    });
  }
}
