/**
 * The billable inventory of a synthesized CloudFormation template (the JSON object `cdk
 * synth` writes). Pure: reads resource types and properties, never logical ids, so it
 * keeps working as the stack's constructs are renamed, added or removed.
 */

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
}

export interface AuroraCluster {
  readonly id: string;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** Seconds without connections before a min-0 cluster pauses; undefined: never pauses. */
  readonly secondsUntilAutoPause: number | undefined;
}

export interface InterfaceEndpoint {
  readonly id: string;
  /** Availability zones the endpoint has a network interface in (its subnets). */
  readonly azs: number;
}

export interface Volume {
  readonly sizeGb: number;
  readonly type: string;
}

export interface Instance {
  readonly id: string;
  readonly instanceType: string;
  readonly volumes: readonly Volume[];
  /** Stopped by an alarm's ec2:stop action when idle (then idle hours are not billed). */
  readonly offWhenIdle: boolean;
}

export interface LambdaFunction {
  readonly id: string;
  readonly memoryMb: number;
  readonly architecture: "arm64" | "x86_64";
}

export interface Schedule {
  readonly id: string;
  /** Invocations per 30-day-ish month of 730 h (43,800 for `rate(1 minute)`). */
  readonly invocationsPerMonth: number;
  /** Logical ids of the Lambda functions the rule targets. */
  readonly targetFunctionIds: readonly string[];
}

export interface CodeBuildProject {
  readonly id: string;
  readonly computeType: string;
  readonly environmentType: string;
}

export interface Inventory {
  readonly auroraClusters: readonly AuroraCluster[];
  readonly interfaceEndpoints: readonly InterfaceEndpoint[];
  readonly gatewayEndpoints: number;
  readonly natGateways: number;
  readonly elasticIps: number;
  readonly instances: readonly Instance[];
  readonly kmsKeys: number;
  readonly secrets: number;
  readonly alarms: number;
  /** Distinct custom (not `AWS/`) metrics the alarms watch, as `namespace/name`. */
  readonly customMetrics: readonly string[];
  readonly dashboards: number;
  readonly logGroups: number;
  readonly dynamoDbTables: number;
  readonly sqsQueues: number;
  /** SQS event source mappings: Lambda long-polls their queues even when empty. */
  readonly sqsPollers: number;
  readonly functions: readonly LambdaFunction[];
  readonly schedules: readonly Schedule[];
  /** Functions behind API Gateway integrations (the API Lambda). */
  readonly apiFunctionIds: readonly string[];
  readonly httpApis: number;
  readonly appSyncApis: number;
  readonly s3Buckets: number;
  readonly codeBuildProjects: readonly CodeBuildProject[];
}

/** Hours in the month AWS prices by (8,760 / 12). */
export const HOURS_PER_MONTH = 730;
const MINUTES_PER_MONTH = HOURS_PER_MONTH * 60;

export function extractInventory(template: CfnTemplate): Inventory {
  const resources = Object.entries(template.Resources ?? {});
  const ofType = (type: string) => resources.filter(([, resource]) => resource.Type === type);
  const count = (type: string) => ofType(type).length;
  const props = (resource: CfnResource) => resource.Properties ?? {};

  const endpoints = ofType("AWS::EC2::VPCEndpoint");
  // CloudFormation's default VpcEndpointType is Gateway.
  const isInterface = (resource: CfnResource) => props(resource).VpcEndpointType === "Interface";
  const alarms = ofType("AWS::CloudWatch::Alarm");
  const anyStopAlarm = alarms.some(([, alarm]) => hasEc2StopAction(props(alarm).AlarmActions));

  return {
    auroraClusters: ofType("AWS::RDS::DBCluster").flatMap(([id, cluster]) => {
      const scaling = props(cluster).ServerlessV2ScalingConfiguration as
        | { MinCapacity?: unknown; MaxCapacity?: unknown; SecondsUntilAutoPause?: unknown }
        | undefined;
      if (!scaling) return [];
      return [
        {
          id,
          minCapacity: Number(scaling.MinCapacity ?? 0),
          maxCapacity: Number(scaling.MaxCapacity ?? 0),
          secondsUntilAutoPause:
            scaling.SecondsUntilAutoPause === undefined
              ? undefined
              : Number(scaling.SecondsUntilAutoPause),
        },
      ];
    }),
    interfaceEndpoints: endpoints
      .filter(([, endpoint]) => isInterface(endpoint))
      .map(([id, endpoint]) => ({ id, azs: listLength(props(endpoint).SubnetIds) })),
    gatewayEndpoints: endpoints.filter(([, endpoint]) => !isInterface(endpoint)).length,
    natGateways: count("AWS::EC2::NatGateway"),
    elasticIps: count("AWS::EC2::EIP"),
    instances: ofType("AWS::EC2::Instance").map(([id, instance]) => ({
      id,
      instanceType: String(props(instance).InstanceType ?? "unknown"),
      volumes: volumesOf(props(instance).BlockDeviceMappings),
      // Lenient on purpose: the stack has one instance, and its idle-stop alarm's dimensions
      // may reference it through a Ref, a GetAtt or a metric-math expression.
      offWhenIdle: anyStopAlarm,
    })),
    kmsKeys: count("AWS::KMS::Key"),
    secrets: count("AWS::SecretsManager::Secret"),
    alarms: alarms.length,
    customMetrics: [...new Set(alarms.flatMap(([, alarm]) => customMetricsOf(props(alarm))))],
    dashboards: count("AWS::CloudWatch::Dashboard"),
    logGroups: count("AWS::Logs::LogGroup"),
    dynamoDbTables: count("AWS::DynamoDB::Table"),
    sqsQueues: count("AWS::SQS::Queue"),
    sqsPollers: ofType("AWS::Lambda::EventSourceMapping").filter(([, mapping]) => {
      const source = props(mapping).EventSourceArn;
      if (typeof source === "string") return source.includes(":sqs:");
      return referencedIds(source).some(
        (id) => template.Resources?.[id]?.Type === "AWS::SQS::Queue",
      );
    }).length,
    functions: ofType("AWS::Lambda::Function").map(([id, fn]) => ({
      id,
      // CloudFormation's defaults: 128 MB, x86_64.
      memoryMb: Number(props(fn).MemorySize ?? 128),
      architecture: listIncludes(props(fn).Architectures, "arm64") ? "arm64" : "x86_64",
    })),
    schedules: ofType("AWS::Events::Rule").flatMap(([id, rule]) => {
      const perMonth = invocationsPerMonth(props(rule).ScheduleExpression);
      if (perMonth === undefined || props(rule).State === "DISABLED") return [];
      const targets = (props(rule).Targets ?? []) as { Arn?: unknown }[];
      return [
        {
          id,
          invocationsPerMonth: perMonth,
          targetFunctionIds: targets.flatMap((target) => referencedIds(target.Arn)),
        },
      ];
    }),
    apiFunctionIds: [
      ...new Set(
        ofType("AWS::ApiGatewayV2::Integration").flatMap(([, integration]) =>
          referencedIds(props(integration).IntegrationUri),
        ),
      ),
    ],
    httpApis: count("AWS::ApiGatewayV2::Api"),
    appSyncApis: count("AWS::AppSync::Api"),
    s3Buckets: count("AWS::S3::Bucket"),
    codeBuildProjects: ofType("AWS::CodeBuild::Project").map(([id, project]) => {
      const environment = (props(project).Environment ?? {}) as Record<string, unknown>;
      return {
        id,
        computeType: String(environment.ComputeType ?? "BUILD_GENERAL1_SMALL"),
        environmentType: String(environment.Type ?? "LINUX_CONTAINER"),
      };
    }),
  };
}

/**
 * `rate(1 minute)` → 43,800 a month; `rate(5 minutes)`, `rate(2 hours)`, `rate(1 day)` alike.
 * Cron expressions and event patterns are not counted (undefined).
 */
export function invocationsPerMonth(expression: unknown): number | undefined {
  if (typeof expression !== "string") return undefined;
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  const unitMinutes = match[2]?.startsWith("minute") ? 1 : match[2]?.startsWith("hour") ? 60 : 1440;
  return MINUTES_PER_MONTH / (value * unitMinutes);
}

/**
 * True when an alarm action is `arn:<partition>:automate:<region>:ec2:stop`, as a string or
 * an Fn::Join (CDK's Ec2Action joins Refs to AWS::Partition and AWS::Region).
 */
export function hasEc2StopAction(actions: unknown): boolean {
  if (!Array.isArray(actions)) return false;
  return actions.some((action) => /^arn:[^:]+:automate:[^:]*:ec2:stop$/.test(flatText(action)));
}

/** Renders strings and Fn::Join (references as `<ref>`) to text; anything else to its JSON. */
function flatText(value: unknown): string {
  if (typeof value === "string") return value;
  const join = (value as { "Fn::Join"?: [string, unknown[]] } | null)?.["Fn::Join"];
  if (Array.isArray(join) && Array.isArray(join[1])) return join[1].map(flatText).join(join[0]);
  if (value && typeof value === "object" && "Ref" in value) return "<ref>";
  return JSON.stringify(value);
}

function volumesOf(mappings: unknown): Volume[] {
  if (!Array.isArray(mappings)) return [];
  return mappings.flatMap((mapping: { Ebs?: { VolumeSize?: unknown; VolumeType?: unknown } }) =>
    mapping.Ebs
      ? [
          {
            // Without a size the AMI's snapshot decides; 8 GB is Amazon Linux's.
            sizeGb: Number(mapping.Ebs.VolumeSize ?? 8),
            type: String(mapping.Ebs.VolumeType ?? "gp2"),
          },
        ]
      : [],
  );
}

function customMetricsOf(alarm: Record<string, unknown>): string[] {
  const metrics: { Namespace?: unknown; MetricName?: unknown }[] = [alarm];
  for (const query of (alarm.Metrics ?? []) as { MetricStat?: { Metric?: object } }[]) {
    if (query.MetricStat?.Metric) metrics.push(query.MetricStat.Metric);
  }
  return metrics.flatMap(({ Namespace, MetricName }) =>
    typeof Namespace === "string" && typeof MetricName === "string" && !Namespace.startsWith("AWS/")
      ? [`${Namespace}/${MetricName}`]
      : [],
  );
}

function listLength(value: unknown): number {
  return Array.isArray(value) ? value.length : 0;
}

function listIncludes(value: unknown, item: string): boolean {
  return Array.isArray(value) && value.includes(item);
}

/** Logical ids a `{ Ref }` or `{ Fn::GetAtt: [id, attr] }` points at, inside `value`. */
function referencedIds(value: unknown): string[] {
  if (!value || typeof value !== "object") return [];
  const ref = (value as { Ref?: unknown }).Ref;
  if (typeof ref === "string") return ref.startsWith("AWS::") ? [] : [ref];
  const getAtt = (value as { "Fn::GetAtt"?: unknown })["Fn::GetAtt"];
  if (Array.isArray(getAtt) && typeof getAtt[0] === "string") return [getAtt[0]];
  return Object.values(value).flatMap(referencedIds);
}
