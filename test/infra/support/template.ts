import type { Template } from "aws-cdk-lib/assertions";

/** A CloudFormation resource as it appears in the synthesized template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly DependsOn?: string | string[];
}

/** Every resource of `type`, by logical id. */
export function resourcesOfType(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

/** The single resource of `type` (fails when there are none or several). */
export function onlyResource(template: Template, type: string): [string, CfnResource] {
  const entries = Object.entries(resourcesOfType(template, type));
  if (entries.length !== 1) {
    throw new Error(`expected exactly one ${type}, found ${entries.length}`);
  }
  return entries[0] as [string, CfnResource];
}

/** The logical id a `{ Ref }` or `{ Fn::GetAtt: [id, attr] }` points at, if it is one. */
export function referencedId(value: unknown): string | undefined {
  if (value && typeof value === "object") {
    const ref = (value as { Ref?: unknown }).Ref;
    if (typeof ref === "string") return ref;
    const getAtt = (value as { "Fn::GetAtt"?: unknown })["Fn::GetAtt"];
    if (Array.isArray(getAtt) && typeof getAtt[0] === "string") return getAtt[0];
  }
  return undefined;
}

/** Every logical id referenced anywhere inside `value` (Ref and Fn::GetAtt; not AWS::Region and friends). */
export function referencedIds(value: unknown): Set<string> {
  const ids = new Set<string>();
  const walk = (node: unknown) => {
    const id = referencedId(node);
    if (id && !id.startsWith("AWS::")) ids.add(id);
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === "object") Object.values(node).forEach(walk);
  };
  walk(value);
  return ids;
}

/** The pipeline's own Lambdas (not CDK's custom-resource framework), keyed by service name. */
export function pipelineFunctions(template: Template): Record<string, [string, CfnResource]> {
  const byService: Record<string, [string, CfnResource]> = {};
  for (const [id, resource] of Object.entries(resourcesOfType(template, "AWS::Lambda::Function"))) {
    const variables = lambdaEnvironment(resource);
    const service = variables.POWERTOOLS_SERVICE_NAME;
    if (typeof service === "string") byService[service] = [id, resource];
  }
  return byService;
}

export function lambdaEnvironment(resource: CfnResource): Record<string, unknown> {
  const environment = resource.Properties?.Environment as
    | { Variables?: Record<string, unknown> }
    | undefined;
  return environment?.Variables ?? {};
}

/** A pipeline Lambda by service name (api, executor, migrate). */
export function pipelineFunction(template: Template, service: string): [string, CfnResource] {
  const found = pipelineFunctions(template)[service];
  if (!found) throw new Error(`no ${service} Lambda in the template`);
  return found;
}

/** IAM policy statements of the template, each with the logical ids of the roles it is attached to. */
export interface PolicyStatement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly roles: string[];
}

export function policyStatements(template: Template): PolicyStatement[] {
  const statements: PolicyStatement[] = [];
  for (const resource of Object.values(resourcesOfType(template, "AWS::IAM::Policy"))) {
    const properties = resource.Properties as {
      PolicyDocument: { Statement: Omit<PolicyStatement, "roles">[] };
      Roles?: unknown[];
    };
    const roles = (properties.Roles ?? []).map(referencedId).filter((id): id is string => !!id);
    for (const statement of properties.PolicyDocument.Statement) {
      statements.push({ ...statement, roles });
    }
  }
  return statements;
}

export const actionsOf = (statement: PolicyStatement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

export const resourcesOf = (statement: PolicyStatement): unknown[] =>
  Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];

/** Every ingress rule of every security group: inline ones and standalone resources. */
export interface IngressRule {
  readonly groupId: string | undefined;
  readonly rule: Record<string, unknown>;
}

export function ingressRules(template: Template): IngressRule[] {
  const rules: IngressRule[] = [];
  for (const [id, group] of Object.entries(resourcesOfType(template, "AWS::EC2::SecurityGroup"))) {
    const inline = (group.Properties?.SecurityGroupIngress ?? []) as Record<string, unknown>[];
    for (const rule of inline) rules.push({ groupId: id, rule });
  }
  for (const resource of Object.values(
    resourcesOfType(template, "AWS::EC2::SecurityGroupIngress"),
  )) {
    const rule = resource.Properties ?? {};
    rules.push({ groupId: referencedId(rule.GroupId), rule });
  }
  return rules;
}

/**
 * Subnets with a route out of the VPC: any route to 0.0.0.0/0 (internet or NAT gateway) in
 * the route table associated with them.
 */
export function subnetsWithRouteOut(template: Template): Set<string> {
  const tablesWithRouteOut = new Set<string>();
  for (const route of Object.values(resourcesOfType(template, "AWS::EC2::Route"))) {
    const properties = route.Properties ?? {};
    if (
      properties.DestinationCidrBlock === "0.0.0.0/0" ||
      properties.DestinationIpv6CidrBlock === "::/0"
    ) {
      const table = referencedId(properties.RouteTableId);
      if (table) tablesWithRouteOut.add(table);
    }
  }
  const subnets = new Set<string>();
  for (const association of Object.values(
    resourcesOfType(template, "AWS::EC2::SubnetRouteTableAssociation"),
  )) {
    const properties = association.Properties ?? {};
    const table = referencedId(properties.RouteTableId);
    const subnet = referencedId(properties.SubnetId);
    if (table && subnet && tablesWithRouteOut.has(table)) subnets.add(subnet);
  }
  return subnets;
}

/** The value of a CDK subnet tag (`aws-cdk:subnet-type` is Public, Private or Isolated). */
export function subnetTag(template: Template, subnetId: string, key: string): string | undefined {
  const subnet = resourcesOfType(template, "AWS::EC2::Subnet")[subnetId];
  const tags = (subnet?.Properties?.Tags ?? []) as { Key: string; Value: string }[];
  return tags.find((tag) => tag.Key === key)?.Value;
}

/** Renders an Fn::Join (as the dashboard body is) to text, with references as `<LogicalId>`. */
export function joinedText(value: unknown): string {
  if (typeof value === "string") return value;
  const id = referencedId(value);
  if (id) return `<${id}>`;
  const join = (value as { "Fn::Join"?: [string, unknown[]] } | undefined)?.["Fn::Join"];
  if (join) return join[1].map(joinedText).join(join[0]);
  return JSON.stringify(value);
}

/** A resource's property, failing with its name when the resource or the property is absent. */
export function property<T = unknown>(resource: CfnResource | undefined, name: string): T {
  const value = resource?.Properties?.[name];
  if (value === undefined) throw new Error(`the resource has no ${name}`);
  return value as T;
}
