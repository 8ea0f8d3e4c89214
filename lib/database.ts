import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import {
  type InterfaceVpcEndpoint,
  type IVpc,
  SecurityGroup,
  type SubnetSelection,
} from "aws-cdk-lib/aws-ec2";
import type { IGrantable } from "aws-cdk-lib/aws-iam";
import {
  AuroraPostgresEngineVersion,
  ClusterInstance,
  Credentials,
  DatabaseCluster,
  DatabaseClusterEngine,
  type DatabaseSecret,
} from "aws-cdk-lib/aws-rds";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import type { EnvironmentSettings } from "./config/environmentSettings";

export interface DatabaseProps {
  readonly vpc: IVpc;
  readonly subnets: SubnetSelection;
  readonly settings: EnvironmentSettings["database"];
  /** Used only with `settings.secretRotationDays`: the rotation Lambda calls Secrets Manager at its address. */
  readonly secretsManagerEndpoint?: InterfaceVpcEndpoint;
}

/**
 * Aurora PostgreSQL Serverless v2 with the RDS Data API on. Nothing connects to it over
 * the network: every caller (api, executor, migrate) goes through the Data API with the
 * cluster's secret, so its security group admits nobody but the optional rotation Lambda.
 */
export class Database extends Construct {
  readonly cluster: DatabaseCluster;
  readonly secret: ISecret;
  readonly databaseName: string;
  /** The rotation Lambda's group, when the settings ask for rotation (grant it the Secrets Manager endpoint). */
  readonly rotationSecurityGroup?: SecurityGroup;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const settings = props.settings;
    this.databaseName = settings.name;

    // Neither ingress (Data API only) nor egress (Aurora needs none).
    const securityGroup = new SecurityGroup(this, "SecurityGroup", {
      vpc: props.vpc,
      description: "Aurora cluster: reached only through the RDS Data API",
      allowAllOutbound: false,
    });

    const removalPolicy = {
      destroy: RemovalPolicy.DESTROY,
      snapshot: RemovalPolicy.SNAPSHOT,
      retain: RemovalPolicy.RETAIN,
    }[settings.removalPolicy];

    this.cluster = new DatabaseCluster(this, "Cluster", {
      // 17.4+: pauses at 0 ACU and has the Data API on Serverless v2.
      engine: DatabaseClusterEngine.auroraPostgres({
        version: AuroraPostgresEngineVersion.VER_17_4,
      }),
      writer: ClusterInstance.serverlessV2("Writer", {
        publiclyAccessible: false,
        autoMinorVersionUpgrade: true,
      }),
      serverlessV2MinCapacity: settings.minCapacity,
      // Only meaningful at 0 ACU (docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/
      // aurora-serverless-v2-auto-pause.html).
      ...(settings.minCapacity === 0
        ? { serverlessV2AutoPauseDuration: Duration.seconds(settings.autoPauseSeconds) }
        : {}),
      serverlessV2MaxCapacity: settings.maxCapacity,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [securityGroup],
      credentials: Credentials.fromGeneratedSecret("pipeline_admin"),
      defaultDatabaseName: settings.name,
      enableDataApi: true,
      storageEncrypted: true,
      iamAuthentication: true,
      deletionProtection: settings.deletionProtection,
      removalPolicy,
      backup: { retention: Duration.days(settings.backupRetentionDays) },
      copyTagsToSnapshot: true,
    });
    if (!this.cluster.secret) throw new Error("the cluster was created without a secret");
    this.secret = this.cluster.secret;
    // `cluster.secret` is the secret's attachment; the secret itself is the cluster's child.
    // A retained cluster without its secret could not be reached by the Data API.
    const generatedSecret = this.cluster.node.findChild("Secret") as DatabaseSecret;
    generatedSecret.applyRemovalPolicy(
      removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    );

    if (settings.secretRotationDays !== undefined) {
      // Secrets Manager's rotation Lambda (deployed from its Serverless Application
      // Repository app) runs in the isolated subnets: it reaches the cluster on its port and
      // Secrets Manager through the endpoint, nothing else.
      this.rotationSecurityGroup = new SecurityGroup(this, "RotationSecurityGroup", {
        vpc: props.vpc,
        description: "Secret rotation Lambda: to the cluster and the Secrets Manager endpoint only",
        allowAllOutbound: false,
      });
      this.cluster.addRotationSingleUser({
        automaticallyAfter: Duration.days(settings.secretRotationDays),
        vpcSubnets: props.subnets,
        endpoint: props.secretsManagerEndpoint,
        securityGroup: this.rotationSecurityGroup,
      });
    } else {
      Validations.of(generatedSecret).acknowledge({
        id: "AwsSolutions-SMG4",
        reason:
          "This environment sets no database.secretRotationDays: its secret is read only by the Data API on behalf of the pipeline's own Lambdas; production environments set a rotation period.",
      });
    }

    Validations.of(this.cluster).acknowledge({
      id: "AwsSolutions-RDS11",
      reason:
        "The port is reachable by no client: the cluster's security group has no ingress from the pipeline (every query goes through the RDS Data API over HTTPS), so a non-default port would hide nothing.",
    });
    if (!settings.deletionProtection) {
      Validations.of(this.cluster).acknowledge({
        id: "AwsSolutions-RDS10",
        reason:
          "This environment sets database.deletionProtection false: it is disposable (dev, LocalStack); staging and prod turn deletion protection on.",
      });
    }
  }

  /** DB_CLUSTER_ARN, DB_SECRET_ARN and DB_NAME: what the Data API adapter reads. */
  get dataApiEnvironment(): Record<string, string> {
    return {
      DB_CLUSTER_ARN: this.cluster.clusterArn,
      DB_SECRET_ARN: this.secret.secretArn,
      DB_NAME: this.databaseName,
    };
  }

  /** rds-data statements on this cluster and read access to its secret, nothing broader. */
  grantDataApiAccess(grantee: IGrantable): void {
    this.cluster.grantDataApiAccess(grantee);
  }
}
