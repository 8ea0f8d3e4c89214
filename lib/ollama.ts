import { Fn, Validations } from "aws-cdk-lib";
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

export interface OllamaProps {
  readonly settings: OllamaSettings;
  readonly vpc: IVpc;
  /** Where the PrivateLink endpoint's network interfaces go (the isolated subnets). */
  readonly endpointSubnets: SubnetSelection;
  /** Where the instance goes: private subnets behind the NAT (instance mode only). */
  readonly instanceSubnets?: SubnetSelection;
  /** How many requests the instance serves at once (OLLAMA_NUM_PARALLEL). */
  readonly parallelRequests: number;
  /** Turn EC2 termination protection on (environments that retain their data). */
  readonly terminationProtection: boolean;
}

/**
 * The LLM server, reachable only from the clients granted with `grantConnect` (the
 * executor), on port 11434, in one of three modes:
 * - `instance`: an EC2 instance in the VPC that installs Ollama and pulls the models at
 *   boot. Installing needs the internet, so this mode (only) gives the VPC a NAT gateway;
 *   the instance has no public address and is managed through SSM Session Manager.
 * - `privateLink`: an interface endpoint to an existing endpoint service (an Ollama fleet
 *   behind an NLB, possibly in another account). No NAT, no instance to patch.
 * - `external`: a URL and nothing else, for LocalStack, whose VPC is metadata only.
 */
export class Ollama extends Construct {
  /** OLLAMA_HOST for the executor, e.g. http://ip-10-40-4-12.ec2.internal:11434. */
  readonly host: string;
  readonly instance?: Instance;
  readonly endpoint?: InterfaceVpcEndpoint;
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

    if (!props.instanceSubnets) {
      throw new Error(
        "the Ollama instance mode needs subnets with internet egress (instanceSubnets)",
      );
    }
    this.securityGroup.addEgressRule(
      Peer.anyIpv4(),
      Port.tcp(443),
      "HTTPS: Ollama install, model pulls, SSM",
    );

    const instanceType = new InstanceType(settings.instanceType);
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
      ssmSessionPermissions: true,
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
        models: settings.models,
        version: settings.version,
        parallelRequests: props.parallelRequests,
        contextLength: settings.contextLength,
      }),
      // A changed model list or Ollama version means a fresh instance that pulls them.
      userDataCausesReplacement: true,
      propagateTagsToVolumeOnCreation: true,
    });
    this.host = `http://${this.instance.instancePrivateDnsName}:${OLLAMA_PORT}`;

    Validations.of(this.instance).acknowledge({
      id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]",
      reason:
        "AWS's maintained policy for an SSM-managed instance: Session Manager replaces SSH, so the instance needs no key pair and no inbound port but 11434.",
    });
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
 * Boot script: install Ollama (optionally a pinned release), listen on all interfaces
 * (the security group is the gate), and pull each model, retrying until the registry
 * answers. Model names are validated by the settings schema (no shell metacharacters).
 */
export function ollamaUserData(options: {
  models: readonly string[];
  version?: string;
  parallelRequests: number;
  contextLength: number;
}): UserData {
  const userData = UserData.forLinux();
  const install = options.version
    ? `curl -fsSL https://ollama.com/install.sh | OLLAMA_VERSION=${options.version} sh`
    : "curl -fsSL https://ollama.com/install.sh | sh";
  userData.addCommands(
    "set -euo pipefail",
    `until ${install}; do echo "ollama install failed, retrying in 15 s"; sleep 15; done`,
    "mkdir -p /etc/systemd/system/ollama.service.d",
    "cat > /etc/systemd/system/ollama.service.d/pipeline.conf <<'EOF'",
    "[Service]",
    `Environment="OLLAMA_HOST=0.0.0.0:${OLLAMA_PORT}"`,
    `Environment="OLLAMA_NUM_PARALLEL=${options.parallelRequests}"`,
    // Keep models loaded: the executor calls every few seconds and a cold load takes long.
    'Environment="OLLAMA_KEEP_ALIVE=24h"',
    // Ollama's default context silently truncates long inputs (summarize); see settings.
    `Environment="OLLAMA_CONTEXT_LENGTH=${options.contextLength}"`,
    "EOF",
    "systemctl daemon-reload",
    "systemctl enable ollama",
    "systemctl restart ollama",
    `until curl -fsS http://127.0.0.1:${OLLAMA_PORT}/api/version; do sleep 2; done`,
    // User data runs with no HOME, and `ollama pull` panics on "$HOME is not defined"
    // (ollama/ollama#8756): the instance would boot with no model. The CLI talks to the
    // service it just started.
    "export HOME=/root",
    `export OLLAMA_HOST=127.0.0.1:${OLLAMA_PORT}`,
    ...options.models.map(
      (model) =>
        `until ollama pull ${model}; do echo "pull ${model} failed, retrying"; sleep 15; done`,
    ),
  );
  return userData;
}
