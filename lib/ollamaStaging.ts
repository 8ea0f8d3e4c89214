import { createHash } from "node:crypto";
import { Duration, type RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import {
  BuildSpec,
  type CfnProject,
  ComputeType,
  LinuxArmBuildImage,
  LinuxBuildImage,
  Project,
} from "aws-cdk-lib/aws-codebuild";
import { type IGrantable, PolicyStatement } from "aws-cdk-lib/aws-iam";
import { BlockPublicAccess, Bucket, BucketEncryption } from "aws-cdk-lib/aws-s3";
import {
  AwsCustomResource,
  AwsCustomResourcePolicy,
  PhysicalResourceId,
} from "aws-cdk-lib/custom-resources";
import { Construct, type IConstruct } from "constructs";
import { grantObjectPrefixes } from "./bucketPrefixes";

/**
 * Ollama and its models, staged in S3 for an instance with no route to the internet
 * (lib/ollama.ts). An AWS CodeBuild project, outside the VPC, runs Ollama's own installer
 * (ollama.com/install.sh) in a build container of the instance's architecture, pulls each
 * model, and copies the installed files and the model store to the bucket under a prefix
 * named by a hash of (version, models, architecture), writing `manifest.json` last. A
 * custom resource starts the build on every deploy that changes that hash. The instance
 * then reads the prefix through the VPC's S3 gateway endpoint (free): no NAT gateway
 * ($0.045 an hour plus its IP) kept for the few minutes a year Ollama is installed.
 */
export interface OllamaStagingProps {
  readonly models: readonly string[];
  /** A pinned Ollama release (e.g. 0.12.6); omitted: the installer's latest. */
  readonly version?: string;
  readonly architecture: "arm64" | "amd64";
  readonly removalPolicy: RemovalPolicy;
  readonly autoDeleteObjects: boolean;
}

/** The construct id CDK gives AwsCustomResource's singleton Lambda. */
const AWS_CUSTOM_RESOURCE_SINGLETON = "AWS679f53fac002430cb0da5b7982bd2287";

export class OllamaStaging extends Construct {
  readonly bucket: Bucket;
  readonly project: Project;
  /** `ollama/<hash>`: what the instance reads (`manifest.json`, `ollama.tgz`, `models/`). */
  readonly prefix: string;

  constructor(scope: Construct, id: string, props: OllamaStagingProps) {
    super(scope, id);
    const hash = createHash("sha256")
      .update(JSON.stringify([props.version ?? "latest", [...props.models], props.architecture]))
      .digest("hex")
      .slice(0, 16);
    this.prefix = `ollama/${hash}`;

    this.bucket = new Bucket(this, "Bucket", {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: props.autoDeleteObjects,
      // An old prefix (models since changed) is kept a week for an instance still booting.
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
    Validations.of(this.bucket).acknowledge({
      id: "AwsSolutions-S1",
      reason:
        "Holds only Ollama's release files and public model weights, written by one CodeBuild project and read by one instance; CloudTrail records both.",
    });

    const arm = props.architecture === "arm64";
    this.project = new Project(this, "Build", {
      description: `Stages Ollama ${props.version ?? "(latest)"} and ${props.models.join(", ")} for the instance`,
      environment: {
        buildImage: arm
          ? LinuxArmBuildImage.AMAZON_LINUX_2_STANDARD_3_0
          : LinuxBuildImage.AMAZON_LINUX_2_5,
        // Models are gigabytes: the medium type's disk and memory take a 7B model.
        computeType: arm ? ComputeType.LARGE : ComputeType.MEDIUM,
      },
      timeout: Duration.minutes(90),
      environmentVariables: {
        STAGE: { value: this.bucket.s3UrlForObject(this.prefix) },
        MODELS: { value: props.models.join(" ") },
        OLLAMA_VERSION: { value: props.version ?? "" },
      },
      buildSpec: BuildSpec.fromObject({
        version: "0.2",
        phases: {
          build: {
            commands: stagingCommands(),
          },
        },
      }),
    });
    // Get and List too: `aws s3 sync` compares with what the prefix already holds.
    this.grantPrefix(this.project, ["s3:PutObject", "s3:GetObject"]);
    const projectId = Stack.of(this).getLogicalId(this.project.node.defaultChild as CfnProject);
    for (const [resource, what] of [
      [
        `arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/codebuild/<${projectId}>:*`,
        "its own log group's streams",
      ],
      [
        `arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:report-group/<${projectId}>-*`,
        "its own report groups",
      ],
    ]) {
      Validations.of(this.project).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason: `CodeBuild's default role policy: the project may write ${what}, named after the project, nothing else.`,
      });
    }
    Validations.of(this.project).acknowledge({
      id: "AwsSolutions-CB4",
      reason:
        "Build artifacts go to the staging bucket (SSE-S3), not to CodeBuild's artifact store; the build holds no secrets, only public downloads.",
    });

    const start = new AwsCustomResource(this, "Start", {
      onCreate: {
        service: "CodeBuild",
        action: "startBuild",
        parameters: { projectName: this.project.projectName },
        physicalResourceId: PhysicalResourceId.of(hash),
      },
      onUpdate: {
        service: "CodeBuild",
        action: "startBuild",
        parameters: { projectName: this.project.projectName },
        physicalResourceId: PhysicalResourceId.of(hash),
      },
      policy: AwsCustomResourcePolicy.fromSdkCalls({ resources: [this.project.projectArn] }),
      installLatestAwsSdk: false,
    });
    start.node.addDependency(this.bucket);
    // AwsCustomResource's one Lambda per stack (CDK's singleton).
    const provider = Stack.of(this).node.tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON);
    if (provider) {
      Validations.of(provider).acknowledge({
        id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        reason:
          "CDK's AwsCustomResource Lambda writes its logs with AWS's minimal logging policy; it may only start this one CodeBuild project.",
      });
    }
  }

  /** Lets the instance read its prefix, and nothing else of the bucket. */
  grantRead(grantee: IGrantable & IConstruct): void {
    this.grantPrefix(grantee, ["s3:GetObject"]);
  }

  /** `actions` on the prefix's objects, and ListBucket limited to the prefix (for sync). */
  private grantPrefix(grantee: IGrantable & IConstruct, actions: string[]): void {
    grantObjectPrefixes(
      this.bucket,
      grantee,
      actions,
      [`${this.prefix}/*`],
      "The objects of one stage (Ollama's files and the models of one settings hash): the keys are the model store's, unknown in advance.",
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ["s3:ListBucket"],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { "s3:prefix": [`${this.prefix}/*`] } },
      }),
    );
  }

  /** The `s3://` URL of the prefix, for the instance's user data. */
  get prefixUrl(): string {
    return this.bucket.s3UrlForObject(this.prefix);
  }

  /** The region the instance's `aws s3` calls name (the CLI does not read it from IMDS). */
  get region(): string {
    return Stack.of(this).region;
  }
}

/**
 * The build: Ollama's installer (it finds no GPU and no systemd in the container and just
 * installs the files), a server to pull through, then the files and the model store to S3.
 * The manifest goes last: the instance waits for it, so it never sees half a stage.
 */
export function stagingCommands(): string[] {
  return [
    "set -euo pipefail",
    'curl -fsSL https://ollama.com/install.sh | OLLAMA_VERSION="$OLLAMA_VERSION" sh',
    "export OLLAMA_MODELS=/tmp/models",
    "(ollama serve > /tmp/serve.log 2>&1 &)",
    "until curl -fsS http://127.0.0.1:11434/api/version; do sleep 1; done",
    'for model in $MODELS; do ollama pull "$model"; done',
    "tar -C /usr/local -czf /tmp/ollama.tgz bin/ollama lib/ollama",
    'aws s3 cp /tmp/ollama.tgz "$STAGE/ollama.tgz"',
    'aws s3 sync /tmp/models "$STAGE/models"',
    "ollama --version | tee /tmp/version.txt",
    'printf \'{"version":"%s","models":"%s"}\' "$(cat /tmp/version.txt)" "$MODELS" > /tmp/manifest.json',
    'aws s3 cp /tmp/manifest.json "$STAGE/manifest.json"',
  ];
}
