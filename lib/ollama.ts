import { Fn, RemovalPolicy, Validations } from "aws-cdk-lib";
import {
  AmazonLinuxCpuType,
  BlockDeviceVolume,
  EbsDeviceVolumeType,
  type IConnectable,
  Instance,
  InstanceArchitecture,
  InstanceType,
  InterfaceVpcEndpoint,
  InterfaceVpcEndpointService,
  type IVpc,
  MachineImage,
  OperatingSystemType,
  Peer,
  Port,
  SecurityGroup,
  type SubnetSelection,
  UserData,
} from "aws-cdk-lib/aws-ec2";
import { Construct } from "constructs";
import type { OllamaSettings } from "./config/environmentSettings";
import { OLLAMA_PORT } from "./config/ollamaSettings";
import { OllamaStaging } from "./ollamaStaging";

export interface OllamaProps {
  readonly settings: OllamaSettings;
  readonly vpc: IVpc;
  /** Where the PrivateLink endpoint's network interfaces go (the isolated subnets). */
  readonly endpointSubnets: SubnetSelection;
  /** Where the instance goes (instance mode): the isolated subnets, no route out. */
  readonly instanceSubnets: SubnetSelection;
  readonly removalPolicy: RemovalPolicy;
  /** How many requests the instance serves at once (OLLAMA_NUM_PARALLEL). */
  readonly parallelRequests: number;
  /** Turn EC2 termination protection on (environments that retain their data). */
  readonly terminationProtection: boolean;
}

/**
 * The LLM server, reachable only from the clients granted with `grantConnect` (the
 * executor), on port 11434, in one of three modes:
 * - `instance`: an EC2 instance in an isolated subnet (no route out, no public address)
 *   that installs Ollama and its models at first boot from the S3 stage
 *   (lib/ollamaStaging.ts) through the S3 gateway endpoint. Session Manager only when the
 *   settings opt in (`sessionManager`).
 * - `privateLink`: an interface endpoint to an existing endpoint service (an Ollama fleet
 *   behind an NLB, possibly in another account). No NAT, no instance to patch.
 * - `external`: a URL and nothing else, for LocalStack, whose VPC is metadata only.
 */
export class Ollama extends Construct {
  /** OLLAMA_HOST for the executor, e.g. http://ip-10-40-4-12.ec2.internal:11434. */
  readonly host: string;
  readonly instance?: Instance;
  readonly endpoint?: InterfaceVpcEndpoint;
  readonly staging?: OllamaStaging;
  readonly securityGroup?: SecurityGroup;
  private readonly externalPort?: number;

  constructor(scope: Construct, id: string, props: OllamaProps) {
    super(scope, id);
    const settings = props.settings;

    if (settings.mode === "external") {
      this.host = settings.host;
      const url = new URL(settings.host);
      this.externalPort = Number(url.port || (url.protocol === "https:" ? 443 : 80));
      return;
    }

    this.securityGroup = new SecurityGroup(this, "SecurityGroup", {
      vpc: props.vpc,
      description: `Ollama: port ${OLLAMA_PORT} from the executor only`,
      // The instance downloads Ollama and models over HTTPS and talks to SSM over HTTPS;
      // nothing else leaves it. An endpoint needs no egress at all.
      allowAllOutbound: false,
    });

    if (settings.mode === "privateLink") {
      this.endpoint = new InterfaceVpcEndpoint(this, "Endpoint", {
        vpc: props.vpc,
        service: new InterfaceVpcEndpointService(settings.endpointServiceName, OLLAMA_PORT),
        subnets: props.endpointSubnets,
        securityGroups: [this.securityGroup],
        privateDnsEnabled: false,
        open: false,
      });
      // Entries look like "Z1HUB23UULQXV:vpce-0abc-1xyz.vpce-svc-0123.eu-west-1.vpce.amazonaws.com":
      // the first one is the regional name, valid in every AZ.
      const dnsName = Fn.select(
        1,
        Fn.split(":", Fn.select(0, this.endpoint.vpcEndpointDnsEntries)),
      );
      this.host = `http://${dnsName}:${OLLAMA_PORT}`;
      return;
    }

    // HTTPS out, where the isolated subnet's routes lead: the S3 gateway endpoint (the
    // stage) and, with Session Manager on, its interface endpoints. There is no route to
    // the internet (lib/network.ts), so that is all this rule reaches.
    this.securityGroup.addEgressRule(
      Peer.anyIpv4(),
      Port.tcp(443),
      "HTTPS to S3 (the stage) and the SSM endpoints; the subnet has no route out",
    );

    const instanceType = new InstanceType(settings.instanceType);
    this.staging = new OllamaStaging(this, "Staging", {
      models: settings.models,
      version: settings.version,
      architecture: instanceType.architecture === InstanceArchitecture.ARM_64 ? "arm64" : "amd64",
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: props.removalPolicy === RemovalPolicy.DESTROY,
    });
    const machineImage = settings.amiSsmParameter
      ? MachineImage.fromSsmParameter(settings.amiSsmParameter, { os: OperatingSystemType.LINUX })
      : MachineImage.latestAmazonLinux2023({
          cpuType:
            instanceType.architecture === InstanceArchitecture.ARM_64
              ? AmazonLinuxCpuType.ARM_64
              : AmazonLinuxCpuType.X86_64,
        });

    this.instance = new Instance(this, "Instance", {
      vpc: props.vpc,
      vpcSubnets: props.instanceSubnets,
      instanceType,
      machineImage,
      securityGroup: this.securityGroup,
      associatePublicIpAddress: false,
      requireImdsv2: true,
      ssmSessionPermissions: settings.sessionManager,
      detailedMonitoring: true,
      disableApiTermination: props.terminationProtection,
      blockDevices: [
        {
          deviceName: "/dev/xvda",
          volume: BlockDeviceVolume.ebs(settings.volumeGb, {
            encrypted: true,
            volumeType: EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
      userData: ollamaUserData({
        stage: this.staging.prefixUrl,
        region: this.staging.region,
        parallelRequests: props.parallelRequests,
        contextLength: settings.contextLength,
      }),
      // A changed model list or Ollama version means a fresh instance that pulls them.
      userDataCausesReplacement: true,
      propagateTagsToVolumeOnCreation: true,
    });
    this.host = `http://${this.instance.instancePrivateDnsName}:${OLLAMA_PORT}`;
    this.staging.grantRead(this.instance);

    if (settings.sessionManager) {
      Validations.of(this.instance).acknowledge({
        id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]",
        reason:
          "AWS's maintained policy for an SSM-managed instance: Session Manager replaces SSH, so the instance needs no key pair and no inbound port but 11434.",
      });
    }
    if (!props.terminationProtection) {
      Validations.of(this.instance).acknowledge({
        id: "AwsSolutions-EC29",
        reason:
          "Termination protection follows the environment's removalPolicy: a disposable environment (removalPolicy destroy) must be deletable by `cdk destroy`; environments that retain data turn it on.",
      });
    }
  }

  /** Lets `client` open connections to Ollama (port 11434), and nobody else. */
  grantConnect(client: IConnectable): void {
    if (this.securityGroup) {
      // Both sides: ingress here, and egress on the client's group (which allows no other).
      this.securityGroup.connections.allowFrom(
        client,
        Port.tcp(OLLAMA_PORT),
        "Ollama from the executor",
      );
    } else if (this.externalPort !== undefined) {
      client.connections.allowTo(
        Peer.anyIpv4(),
        Port.tcp(this.externalPort),
        "to the external Ollama",
      );
    }
  }
}

/**
 * First-boot script (cloud-init runs it once; a stopped and started instance keeps its
 * volume, so Ollama and the models are there at every later boot): wait for the stage's
 * manifest (the CodeBuild run may still be going on a first deploy), install Ollama's files
 * as its installer lays them out, sync the models, and run it as a systemd service
 * listening on all interfaces (the security group is the gate).
 */
export function ollamaUserData(options: {
  /** `s3://bucket/ollama/<hash>` (lib/ollamaStaging.ts). */
  stage: string;
  region: string;
  parallelRequests: number;
  contextLength: number;
}): UserData {
  const userData = UserData.forLinux();
  const s3 = `aws s3 --region ${options.region}`;
  userData.addCommands(
    "set -euo pipefail",
    `STAGE="${options.stage}"`,
    `until ${s3} cp "$STAGE/manifest.json" /tmp/ollama-manifest.json; do echo "waiting for the Ollama stage"; sleep 30; done`,
    `${s3} cp "$STAGE/ollama.tgz" /tmp/ollama.tgz`,
    "tar -C /usr/local -xzf /tmp/ollama.tgz",
    "id ollama || useradd -r -s /bin/false -U -m -d /usr/share/ollama ollama",
    "mkdir -p /usr/share/ollama/models",
    `${s3} sync "$STAGE/models" /usr/share/ollama/models`,
    "chown -R ollama:ollama /usr/share/ollama",
    "cat > /etc/systemd/system/ollama.service <<'EOF'",
    "[Unit]",
    "Description=Ollama",
    "After=network-online.target",
    "[Service]",
    "ExecStart=/usr/local/bin/ollama serve",
    "User=ollama",
    "Group=ollama",
    "Restart=always",
    "RestartSec=3",
    'Environment="OLLAMA_MODELS=/usr/share/ollama/models"',
    `Environment="OLLAMA_HOST=0.0.0.0:${OLLAMA_PORT}"`,
    `Environment="OLLAMA_NUM_PARALLEL=${options.parallelRequests}"`,
    // Keep models loaded: the executor calls every few seconds and a cold load takes long.
    'Environment="OLLAMA_KEEP_ALIVE=24h"',
    // The server-wide default; the executor also sends num_ctx per call (per model).
    `Environment="OLLAMA_CONTEXT_LENGTH=${options.contextLength}"`,
    "[Install]",
    "WantedBy=multi-user.target",
    "EOF",
    "systemctl daemon-reload",
    "systemctl enable --now ollama",
    `until curl -fsS http://127.0.0.1:${OLLAMA_PORT}/api/version; do sleep 2; done`,
  );
  return userData;
}
