import { createHash } from "node:crypto";
import { CustomResource, Duration, type RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import type { CfnFunction } from "aws-cdk-lib/aws-lambda";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Provider } from "aws-cdk-lib/custom-resources";
import { Construct } from "constructs";
import { loadMigrationsSync } from "../functions/core/migrations/runner";
import { PipelineFunction } from "./lambda/pipelineFunction";

export interface MigrationsProps {
  readonly environmentName: string;
  /** DB_CLUSTER_ARN, DB_SECRET_ARN, DB_NAME. */
  readonly databaseEnvironment: Readonly<Record<string, string>>;
  /** The repository's `migrations/` folder: hashed here and copied into the Lambda bundle. */
  readonly migrationsDir: string;
  /**
   * Any value that differs between deploys (the npm deploy scripts pass the time as
   * `-c migrationsRunId=...`) makes CloudFormation call the migrate Lambda again even when
   * no migration changed. Left out, synth is deterministic and the migrations run whenever
   * their content, the migrate code or the cluster changes.
   */
  readonly runId?: string;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Applies `migrations/*.sql` to the cluster through the Data API during `cdk deploy`: a
 * CloudFormation custom resource whose handler is `functions/migrate`. The runner applies
 * each file once, in order, recording a checksum, so running it again is harmless; the
 * resource's properties decide when CloudFormation calls it (see MigrationsProps.runId).
 * Deploy order: the cluster first, then the migrations, then the Lambdas that use the tables.
 */
export class Migrations extends Construct {
  readonly function: NodejsFunction;
  readonly resource: CustomResource;
  /** sha256 over the migration files' names and contents. */
  readonly migrationsHash: string;

  constructor(scope: Construct, id: string, props: MigrationsProps) {
    super(scope, id);
    this.migrationsHash = hashMigrations(props.migrationsDir);

    this.function = new PipelineFunction(this, "Handler", {
      name: "migrate",
      environmentName: props.environmentName,
      environment: { ...props.databaseEnvironment },
      // Waking a paused cluster takes ~15 s (retried up to ~30 s); the migrations themselves are small.
      timeout: Duration.minutes(5),
      memorySize: 256,
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
      functionProps: {
        description: `task-pipeline migrations (${props.environmentName}): applies migrations/*.sql on deploy`,
      },
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        // The handler reads them from $LAMBDA_TASK_ROOT/migrations.
        afterBundling: (inputDir, outputDir) => [
          `mkdir -p "${outputDir}/migrations"`,
          `cp "${inputDir}/migrations/"*.sql "${outputDir}/migrations/"`,
        ],
      },
    }).function;

    const provider = new Provider(this, "Provider", {
      onEventHandler: this.function,
      logGroup: new LogGroup(this, "ProviderLogs", {
        retention: props.logRetention,
        removalPolicy: props.removalPolicy,
      }),
    });
    Validations.of(provider).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "The custom-resource framework Lambda is CDK's own code; CDK picks its runtime, and it only relays CloudFormation events to the migrate Lambda.",
    });
    // The framework may invoke any version of the migrate function (`<arn>:*`), no other function.
    const migrateLogicalId = Stack.of(this).getLogicalId(
      this.function.node.defaultChild as CfnFunction,
    );
    Validations.of(provider).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${migrateLogicalId}.Arn>:*]`,
      reason:
        "lambda:InvokeFunction on the migrate function and its versions only (CDK's provider framework grants `<arn>:*` for qualified invocations).",
    });
    Validations.of(provider).acknowledge({
      id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      reason:
        "CDK's custom-resource framework Lambda writes its logs with AWS's minimal logging policy.",
    });

    this.resource = new CustomResource(this, "Resource", {
      serviceToken: provider.serviceToken,
      resourceType: "Custom::TaskPipelineMigrations",
      properties: {
        MigrationsHash: this.migrationsHash,
        ClusterArn: props.databaseEnvironment.DB_CLUSTER_ARN,
        DatabaseName: props.databaseEnvironment.DB_NAME,
        ...(props.runId ? { RunId: props.runId } : {}),
      },
    });
  }
}

/**
 * Deterministic: the same files give the same hash on every machine. Built from the
 * runner's own view of the folder (names, order, sequence check and line-ending-blind
 * checksums), so a checkout with CRLF endings does not re-run the custom resource and a
 * misnamed file fails synth rather than the deploy.
 */
export function hashMigrations(dir: string): string {
  const migrations = loadMigrationsSync(dir);
  if (migrations.length === 0) throw new Error(`no migrations (*.sql) in ${dir}`);
  const hash = createHash("sha256");
  for (const m of migrations) hash.update(m.name).update("\0").update(m.checksum).update("\0");
  return hash.digest("hex");
}
