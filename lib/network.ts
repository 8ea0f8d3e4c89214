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
  type SubnetConfiguration,
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
  /**
   * Give the VPC a NAT gateway and a private subnet group behind it ("ollama"). Only the
   * Ollama instance mode asks for it: installing Ollama and pulling models needs the
   * internet. The isolated subnets (executor, database) never get a route to it.
   */
  readonly internetEgressForOllama: boolean;
  readonly flowLogRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The VPC: isolated private subnets for the executor, the database and the interface
 * endpoints, each created only when a construct is granted it (the executor: RDS Data API
 * and SQS; Secrets Manager only for the secret's rotation Lambda; Session Manager's three
 * for the Ollama instance), plus the free DynamoDB gateway endpoint; no NAT unless the
 * Ollama instance needs one. Endpoints admit nobody until granted with `grantEndpointAccess`.
 */
export class Network extends Construct {
  readonly vpc: Vpc;
  /** Private subnets with no route out of the VPC: Lambdas, Aurora, endpoints. */
  readonly isolatedSubnets: SubnetSelection = { subnetGroupName: "isolated" };
  /** Private subnets behind the NAT; only present with `internetEgressForOllama`. */
  readonly egressSubnets?: SubnetSelection;
  /** The S3 gateway endpoint on the isolated subnets' route tables. */
  readonly s3Endpoint: GatewayVpcEndpoint;
  private readonly endpoints = new Map<EndpointName, InterfaceVpcEndpoint>();

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);

    const isolated: SubnetConfiguration = {
      name: "isolated",
      subnetType: SubnetType.PRIVATE_ISOLATED,
      cidrMask: 22,
    };
    const subnetConfiguration: SubnetConfiguration[] = props.internetEgressForOllama
      ? [
          // Holds the NAT gateway only: nothing launched here gets a public address.
          {
            name: "public",
            subnetType: SubnetType.PUBLIC,
            cidrMask: 26,
            mapPublicIpOnLaunch: false,
          },
          { name: "ollama", subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
          isolated,
        ]
      : [isolated];

    this.vpc = new Vpc(this, "Vpc", {
      ipAddresses: IpAddresses.cidr("10.40.0.0/16"),
      maxAzs: props.maxAzs,
      // One NAT is enough for one instance pulling models; none at all otherwise.
      natGateways: props.internetEgressForOllama ? 1 : 0,
      subnetConfiguration,
    });
    if (props.internetEgressForOllama) this.egressSubnets = { subnetGroupName: "ollama" };

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
          subnets: this.isolatedSubnets,
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
