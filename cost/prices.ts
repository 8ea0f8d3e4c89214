/**
 * The price table `npm run cost` multiplies by: AWS list prices, us-east-1, on-demand, in
 * USD, read on `asOf`. Each entry names the page it was read from. The figures were taken
 * from the brief's list and the AWS pricing pages as remembered on that date; this checkout
 * has no internet, so an entry whose figure could not be confirmed against a stored copy of
 * its page says so in `note`. Re-read the pages and bump `asOf` when you change a figure.
 * Free tiers are ignored on purpose: the table prices an account that has used them up.
 */

export interface Price {
  readonly usd: number;
  /** What one `usd` buys, e.g. "ACU-hour" or "1M requests". */
  readonly unit: string;
  readonly source: string;
  readonly note?: string;
}

export interface PriceTable {
  readonly region: string;
  /** The date the pages were read (YYYY-MM-DD). */
  readonly asOf: string;
  readonly items: Readonly<Record<PriceKey, Price>>;
  /** EC2 Linux on-demand, per instance-hour, by instance type. */
  readonly ec2OnDemandHour: Readonly<Record<string, Price>>;
}

const AURORA = "https://aws.amazon.com/rds/aurora/pricing/";
const LAMBDA = "https://aws.amazon.com/lambda/pricing/";
const PRIVATELINK = "https://aws.amazon.com/privatelink/pricing/";
const VPC = "https://aws.amazon.com/vpc/pricing/";
const EC2 = "https://aws.amazon.com/ec2/pricing/on-demand/";
const EBS = "https://aws.amazon.com/ebs/pricing/";
const CLOUDWATCH = "https://aws.amazon.com/cloudwatch/pricing/";
const DYNAMODB = "https://aws.amazon.com/dynamodb/pricing/on-demand/";
const S3 = "https://aws.amazon.com/s3/pricing/";
const UNVERIFIED = "not confirmed against a stored copy of the page (no internet here)";

export const PRICE_KEYS = [
  "auroraServerlessV2AcuHour",
  "auroraStorageGbMonth",
  "auroraIoPerMillion",
  "dataApiPerMillion",
  "lambdaArmGbSecond",
  "lambdaX86GbSecond",
  "lambdaRequestsPerMillion",
  "interfaceEndpointAzHour",
  "interfaceEndpointGb",
  "gatewayEndpoint",
  "natGatewayHour",
  "natGatewayGb",
  "publicIpv4Hour",
  "ebsGp3GbMonth",
  "kmsKeyMonth",
  "secretMonth",
  "alarmStandardMonth",
  "dashboardMonth",
  "customMetricMonth",
  "logsIngestionGb",
  "dynamoDbWritePerMillion",
  "dynamoDbReadPerMillion",
  "sqsRequestsPerMillion",
  "httpApiPerMillion",
  "appSyncEventsOperationsPerMillion",
  "appSyncConnectionMinutesPerMillion",
  "s3StandardGbMonth",
  "s3PutPerThousand",
  "s3GetPerThousand",
  "codeBuildArmSmallMinute",
  "codeBuildLinuxSmallMinute",
  "eventBridgeScheduleRule",
] as const;
export type PriceKey = (typeof PRICE_KEYS)[number];

export const PRICES: PriceTable = {
  region: "us-east-1",
  asOf: "2026-11-29",
  items: {
    auroraServerlessV2AcuHour: {
      usd: 0.12,
      unit: "ACU-hour",
      source: AURORA,
      note: "Aurora Standard; I/O-Optimized is 0.156",
    },
    auroraStorageGbMonth: { usd: 0.1, unit: "GB-month", source: AURORA },
    auroraIoPerMillion: { usd: 0.2, unit: "1M I/O requests", source: AURORA },
    dataApiPerMillion: {
      usd: 0.35,
      unit: "1M requests",
      source: AURORA,
      note: `"Data API" section: first 1B requests/month; ${UNVERIFIED}`,
    },
    lambdaArmGbSecond: { usd: 0.0000133334, unit: "GB-second (arm64)", source: LAMBDA },
    lambdaX86GbSecond: { usd: 0.0000166667, unit: "GB-second (x86_64)", source: LAMBDA },
    lambdaRequestsPerMillion: { usd: 0.2, unit: "1M requests", source: LAMBDA },
    interfaceEndpointAzHour: { usd: 0.01, unit: "endpoint-AZ-hour", source: PRIVATELINK },
    interfaceEndpointGb: { usd: 0.01, unit: "GB processed", source: PRIVATELINK },
    gatewayEndpoint: {
      usd: 0,
      unit: "endpoint-month",
      source: "https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html",
      note: "gateway endpoints (S3, DynamoDB) carry no charge",
    },
    natGatewayHour: { usd: 0.045, unit: "NAT gateway-hour", source: VPC },
    natGatewayGb: { usd: 0.045, unit: "GB processed", source: VPC },
    publicIpv4Hour: {
      usd: 0.005,
      unit: "public IPv4 address-hour",
      source: VPC,
      note: "charged since 2024-02-01, in use or idle",
    },
    ebsGp3GbMonth: { usd: 0.08, unit: "GB-month (gp3)", source: EBS },
    kmsKeyMonth: {
      usd: 1,
      unit: "customer managed key-month",
      source: "https://aws.amazon.com/kms/pricing/",
    },
    secretMonth: {
      usd: 0.4,
      unit: "secret-month",
      source: "https://aws.amazon.com/secrets-manager/pricing/",
    },
    alarmStandardMonth: {
      usd: 0.1,
      unit: "standard-resolution alarm metric-month",
      source: CLOUDWATCH,
    },
    dashboardMonth: {
      usd: 3,
      unit: "dashboard-month",
      source: CLOUDWATCH,
      note: "the first 3 dashboards of an account are free (not applied)",
    },
    customMetricMonth: { usd: 0.3, unit: "custom metric-month (first 10k)", source: CLOUDWATCH },
    logsIngestionGb: { usd: 0.5, unit: "GB ingested (standard)", source: CLOUDWATCH },
    dynamoDbWritePerMillion: {
      usd: 0.625,
      unit: "1M write request units",
      source: DYNAMODB,
      note: "on-demand, halved in Nov 2024",
    },
    dynamoDbReadPerMillion: { usd: 0.125, unit: "1M read request units", source: DYNAMODB },
    sqsRequestsPerMillion: {
      usd: 0.4,
      unit: "1M requests (standard)",
      source: "https://aws.amazon.com/sqs/pricing/",
      note: "FIFO queues are 0.50; each 64 KB chunk is one request",
    },
    httpApiPerMillion: {
      usd: 1,
      unit: "1M HTTP API requests (first 300M)",
      source: "https://aws.amazon.com/api-gateway/pricing/",
    },
    appSyncEventsOperationsPerMillion: {
      usd: 1,
      unit: "1M Event API operations (publish, broadcast)",
      source: "https://aws.amazon.com/appsync/pricing/",
      note: UNVERIFIED,
    },
    appSyncConnectionMinutesPerMillion: {
      usd: 0.08,
      unit: "1M connection-minutes",
      source: "https://aws.amazon.com/appsync/pricing/",
      note: "read on the page's GraphQL example (same rate for Events)",
    },
    s3StandardGbMonth: { usd: 0.023, unit: "GB-month (Standard, first 50 TB)", source: S3 },
    s3PutPerThousand: { usd: 0.005, unit: "1k PUT/POST/LIST requests", source: S3 },
    s3GetPerThousand: { usd: 0.0004, unit: "1k GET requests", source: S3 },
    codeBuildArmSmallMinute: {
      usd: 0.0034,
      unit: "build-minute (arm1.small)",
      source: "https://aws.amazon.com/codebuild/pricing/",
      note: UNVERIFIED,
    },
    codeBuildLinuxSmallMinute: {
      usd: 0.005,
      unit: "build-minute (general1.small, Linux)",
      source: "https://aws.amazon.com/codebuild/pricing/",
    },
    eventBridgeScheduleRule: {
      usd: 0,
      unit: "scheduled rule invocation",
      source: "https://aws.amazon.com/eventbridge/pricing/",
      note: "scheduled rules on the default bus are free",
    },
  },
  ec2OnDemandHour: {
    "m7g.xlarge": { usd: 0.1632, unit: "instance-hour (Linux)", source: EC2 },
    "g5.xlarge": { usd: 1.006, unit: "instance-hour (Linux)", source: EC2 },
  },
};
