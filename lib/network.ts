import type { RemovalPolicy } from "aws-cdk-lib";
import {
  FlowLogDestination,
  FlowLogTrafficType,
  type GatewayVpcEndpoint,
  GatewayVpcEndpointAwsService,
  type IConnectable,
  InterfaceVpcEndpoint,
  InterfaceVpcEndpointAwsService,
  IpAddresses,
  type SubnetSelection,
  SubnetType,
  Vpc,
} from "aws-cdk-lib/aws-ec2";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";

/** The AWS services the pipeline reaches from inside the VPC, each through its own endpoint. */
export type EndpointName =
  | "rdsData"
  | "secretsManager"
  | "sqs"
  | "ssm"
  | "ssmMessages"
  | "ec2Messages";

const ENDPOINT_SERVICES: Record<EndpointName, InterfaceVpcEndpointAwsService> = {
  rdsData: InterfaceVpcEndpointAwsService.RDS_DATA,
  secretsManager: InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  sqs: InterfaceVpcEndpointAwsService.SQS,
  ssm: InterfaceVpcEndpointAwsService.SSM,
  ssmMessages: InterfaceVpcEndpointAwsService.SSM_MESSAGES,
  ec2Messages: InterfaceVpcEndpointAwsService.EC2_MESSAGES,
};

export interface NetworkProps {
  readonly maxAzs: number;
  /** AZs whose isolated subnets get the interface endpoints (default: maxAzs). */
  readonly endpointAzs?: number;
  readonly flowLogRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The VPC: isolated private subnets only (no internet gateway, no NAT) for the executor,
 * the database, the Ollama instance and the interface endpoints. Each interface endpoint
 * is created only when a construct is granted it (the executor: RDS Data API and SQS;
 * Secrets Manager only for the secret's rotation Lambda; Session Manager's three for the
 * Ollama instance when its settings opt in), in `endpointAzs` AZs; the DynamoDB and S3
 * gateway endpoints are free. Endpoints admit nobody until granted with `grantEndpointAccess`.
 */
export class Network extends Construct {
  readonly vpc: Vpc;
  /** Private subnets with no route out of the VPC: Lambdas, Aurora, endpoints. */
  readonly isolatedSubnets: SubnetSelection = { subnetGroupName: "isolated" };
  /** Where interface endpoints go: the isolated subnets of the first `endpointAzs` AZs. */
  readonly endpointSubnets: SubnetSelection;
  /** The S3 gateway endpoint on the isolated subnets' route tables. */
  readonly s3Endpoint: GatewayVpcEndpoint;
  private readonly endpoints = new Map<EndpointName, InterfaceVpcEndpoint>();

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);

    this.vpc = new Vpc(this, "Vpc", {
      ipAddresses: IpAddresses.cidr("10.40.0.0/16"),
      maxAzs: props.maxAzs,
      natGateways: 0,
      // No public subnet, hence no internet gateway: nothing in this VPC reaches the
      // internet. Ollama and its models come through S3 (lib/ollamaStaging.ts).
      subnetConfiguration: [
        { name: "isolated", subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 22 },
      ],
    });
    const isolated = this.vpc.selectSubnets(this.isolatedSubnets).subnets;
    this.endpointSubnets = { subnets: isolated.slice(0, props.endpointAzs ?? isolated.length) };

    // DynamoDB (the executor's due marker, lib/wake.ts) through a gateway endpoint: free, and
    // no NAT or interface endpoint needed to reach it from the isolated subnets.
    this.vpc.addGatewayEndpoint("DynamoDbEndpoint", {
      service: GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [this.isolatedSubnets],
    });

    // S3 (the payload bucket, lib/payloads.ts) the same way: a gateway endpoint is free,
    // where an interface endpoint costs $7.30 a month per AZ.
    this.s3Endpoint = this.vpc.addGatewayEndpoint("S3Endpoint", {
      service: GatewayVpcEndpointAwsService.S3,
      subnets: [this.isolatedSubnets],
    });

    const flowLogs = new LogGroup(this, "FlowLogs", {
      retention: props.flowLogRetention,
      removalPolicy: props.removalPolicy,
    });
    this.vpc.addFlowLog("FlowLog", {
      destination: FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: FlowLogTrafficType.ALL,
    });
  }

  /**
   * Lets `client` reach each named AWS service through its interface endpoint (created on
   * first use, with private DNS so the SDK's default hostnames resolve to it). The endpoint's
   * security group admits port 443 from `client` and from nobody else.
   */
  grantEndpointAccess(client: IConnectable, ...names: EndpointName[]): void {
    for (const name of names) {
      this.endpoint(name).connections.allowDefaultPortFrom(client, `HTTPS to the ${name} endpoint`);
    }
  }

  /** The endpoint for `name`, created on first use. */
  endpoint(name: EndpointName): InterfaceVpcEndpoint {
    let endpoint = this.endpoints.get(name);
    if (!endpoint) {
      endpoint = new InterfaceVpcEndpoint(
        this,
        `${name[0]?.toUpperCase()}${name.slice(1)}Endpoint`,
        {
          vpc: this.vpc,
          service: ENDPOINT_SERVICES[name],
          subnets: this.endpointSubnets,
          privateDnsEnabled: true,
          // No blanket "from the VPC CIDR" rule: access is granted client by client.
          open: false,
        },
      );
      this.endpoints.set(name, endpoint);
    }
    return endpoint;
  }
}
