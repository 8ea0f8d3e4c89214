import { App, Validations } from "aws-cdk-lib";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { describe, expect, it } from "vitest";
import { addTaskPipeline } from "../../lib/pipelineApp";
import {
  cdkJsonContext,
  ENVIRONMENT_NAMES,
  environmentIn,
  synthesize,
  synthesized,
} from "./support/synth";
import {
  actionsOf,
  ingressRules,
  onlyResource,
  pipelineFunction,
  policyStatements,
  property,
  referencedId,
  referencedIds,
  resourcesOf,
  resourcesOfType,
} from "./support/template";

/**
 * The AwsSolutions rules this app acknowledges, each justified where it is made (lib/).
 * A new acknowledgment must be added here on purpose, in review.
 */
const ACKNOWLEDGED_RULES = new Set([
  "AwsSolutions-APIG4", // GET /api/health and GET /api/openapi.json are public
  "AwsSolutions-COG2", // MFA optional where settings say so (dev, localstack)
  "AwsSolutions-COG8", // Essentials feature plan
  "AwsSolutions-EC29", // no termination protection on disposable environments
  // the Ollama instance, when its settings turn Session Manager on
  "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]",
  "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
  "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
  "AwsSolutions-IAM5[Resource::<migrate function>.Arn>:*]", // provider may invoke the migrate function's versions
  "AwsSolutions-IAM5[Resource::*]", // the LLM starter's PutMetricData (no resource; namespace condition)
  "AwsSolutions-L1", // Node.js 22 pinned
  "AwsSolutions-RDS10", // no deletion protection on disposable environments
  "AwsSolutions-RDS11", // default port, reachable by no client
  "AwsSolutions-SMG4", // no rotation where settings set none
  "AwsSolutions-SQS3", // the DLQs, the terminal failed-tasks queue, the wake queue
  "AwsSolutions-DDB3", // the due marker: one item, a cache of the tasks table
  "AwsSolutions-S1", // the payload bucket: no server access logs
  // the payload bucket's key prefixes, granted per prefix to the api and the executor
  "AwsSolutions-IAM5[Resource::<payload bucket>.Arn>/inputs/*]",
  "AwsSolutions-IAM5[Resource::<payload bucket>.Arn>/results/*]",
  "AwsSolutions-IAM5[Resource::<payload bucket>.Arn>/checkpoints/*]",
  // Ollama's stage: one prefix per settings hash; CodeBuild's own log group and reports
  "AwsSolutions-IAM5[Resource::<staging bucket>.Arn>/ollama/<hash>/*]",
  "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/codebuild/<staging build>:*]",
  "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:report-group/<staging build>-*]",
  "AwsSolutions-CB4", // the staging build writes to the SSE-S3 bucket, holds no secrets
]);

/** AwsSolutions acknowledgments in the construct tree: rule id → reasons. */
function acknowledgments(root: IConstruct): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [key, reason] of Object.entries(entry.data as Record<string, string>)) {
        // Logical ids are hashes: name the one finding that contains one by what it is.
        const id = key
          .replace(/^annotation::/i, "")
          .replace(/<MigrationsHandlerFunction[0-9A-F]{8}\.Arn>/, "<migrate function>.Arn>")
          .replace(/<PayloadsBucket[0-9A-F]{8}\.Arn>/, "<payload bucket>.Arn>")
          .replace(
            /<OllamaStagingBucket[0-9A-F]{8}\.Arn>\/ollama\/[0-9a-f]{16}/,
            "<staging bucket>.Arn>/ollama/<hash>",
          )
          .replace(/<OllamaStagingBuild[0-9A-F]{8}>/, "<staging build>");
        if (!id.startsWith("AwsSolutions-")) continue; // CDK's own CloudFormation-Validate ones
        found.set(id, [...(found.get(id) ?? []), String(reason)]);
      }
    }
  }
  return found;
}

describe("network exposure", () => {
  it("has no ingress from 0.0.0.0/0 or ::/0 anywhere: every inbound rule names a security group", () => {
    for (const name of ENVIRONMENT_NAMES) {
      // Prepare
      const { template } = synthesized(name);

      // Act
      const rules = ingressRules(template);

      // Assess
      expect(rules.length, name).toBeGreaterThan(0);
      for (const { rule } of rules) {
        expect(rule.CidrIp, name).toBeUndefined();
        expect(rule.CidrIpv6, name).toBeUndefined();
        expect(
          referencedId(rule.SourceSecurityGroupId),
          `${name}: ${JSON.stringify(rule)}`,
        ).toBeDefined();
      }
    }
  });
});

describe("IAM", () => {
  it("scopes every rds-data, secretsmanager and sqs statement to the cluster, secret and queue it serves", () => {
    for (const name of ENVIRONMENT_NAMES) {
      // Prepare
      const { template } = synthesized(name);
      const [clusterId] = onlyResource(template, "AWS::RDS::DBCluster");
      const [secretAttachmentId] = onlyResource(
        template,
        "AWS::SecretsManager::SecretTargetAttachment",
      );
      const queueIds = Object.keys(resourcesOfType(template, "AWS::SQS::Queue"));
      const expectedTarget: Record<string, (resource: unknown) => boolean> = {
        "rds-data": (resource) =>
          referencedIds(resource).size === 1 && referencedIds(resource).has(clusterId),
        secretsmanager: (resource) => referencedId(resource) === secretAttachmentId,
        sqs: (resource) => queueIds.includes(referencedId(resource) as string),
      };

      // Act
      const statements = policyStatements(template).filter((statement) =>
        actionsOf(statement).some((action) => (action.split(":")[0] as string) in expectedTarget),
      );

      // Assess
      expect(statements.length, name).toBeGreaterThanOrEqual(5);
      for (const statement of statements) {
        const services = new Set(
          actionsOf(statement).map((action) => action.split(":")[0] as string),
        );
        expect(services.size, JSON.stringify(statement)).toBe(1);
        const [service] = [...services] as [string];
        for (const resource of resourcesOf(statement)) {
          expect(resource, `${name}: ${service}`).not.toBe("*");
          expect(expectedTarget[service]?.(resource), `${name}: ${JSON.stringify(statement)}`).toBe(
            true,
          );
        }
      }
    }
  });

  it("grants each Lambda only what it uses: the wake queue, the due marker and the payload bucket to the api and the executor, AppSync publish to the api and the relay only", () => {
    // Prepare
    const { template } = synthesized("dev");
    const roleOf = (service: string) =>
      referencedId(pipelineFunction(template, service)[1].Properties?.Role) as string;
    const servicesOf = (role: string) =>
      new Set(
        policyStatements(template)
          .filter((statement) => statement.roles.includes(role))
          .flatMap((statement) => actionsOf(statement).map((action) => action.split(":")[0])),
      );

    // Act
    const granted = Object.fromEntries(
      ["api", "executor", "migrate", "realtimeRelay"].map((service) => [
        service,
        servicesOf(roleOf(service)),
      ]),
    );

    // Assess
    expect(granted.api).toEqual(
      new Set(["rds-data", "secretsmanager", "appsync", "sqs", "dynamodb", "s3"]),
    );
    expect(granted.migrate).toEqual(new Set(["rds-data", "secretsmanager"]));
    expect(granted.executor).toEqual(
      new Set(["rds-data", "secretsmanager", "sqs", "dynamodb", "s3"]),
    );
    // The relay reads its queue and publishes; it never touches the database.
    expect(granted.realtimeRelay).toEqual(new Set(["sqs", "appsync"]));
  });
});

describe("queues", () => {
  it("encrypts every queue (failed tasks, schedule DLQ, real-time relay, wake, LLM start and its DLQ) and refuses plain-HTTP access to them", () => {
    for (const name of ["dev", "prod"] as const) {
      // Prepare
      const { template } = synthesized(name);
      const queues = resourcesOfType(template, "AWS::SQS::Queue");
      const policies = Object.values(resourcesOfType(template, "AWS::SQS::QueuePolicy"));

      for (const [queueId, queue] of Object.entries(queues)) {
        // Act
        const policy = policies.find((p) => referencedIds(p.Properties?.Queues).has(queueId));
        const statements = property<{ Statement: Record<string, unknown>[] }>(
          policy,
          "PolicyDocument",
        ).Statement;

        // Assess
        expect(queue.Properties?.SqsManagedSseEnabled, queueId).toBe(true);
        expect(statements).toContainEqual(
          expect.objectContaining({
            Effect: "Deny",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        );
      }
      // Plus the LLM start queue and its DLQ where the instance stops when idle (dev).
      const llmPower = name === "dev" ? 2 : 0;
      expect(Object.keys(queues), name).toHaveLength(4 + llmPower);
    }
  });

  it("prod retains its queues, log groups, user pool and alarm key", () => {
    // Prepare
    const { template } = synthesized("prod");

    for (const type of [
      "AWS::SQS::Queue",
      "AWS::Logs::LogGroup",
      "AWS::Cognito::UserPool",
      "AWS::KMS::Key",
    ]) {
      // Act
      const resources = Object.values(resourcesOfType(template, type));

      // Assess
      expect(resources.length, type).toBeGreaterThan(0);
      for (const resource of resources) expect(resource.DeletionPolicy, type).toBe("Retain");
    }
  });
});

describe("cdk-nag AwsSolutions", () => {
  it("reports no unacknowledged finding in any environment", () => {
    for (const name of ENVIRONMENT_NAMES) {
      // Prepare
      const { app } = synthesized(name);

      // Act
      const report = new AwsSolutionsChecks().validateScope(app);

      // Assess
      expect(
        report.violations.map(
          (v) => `${v.severity} ${v.ruleName} at ${v.violatingResources[0]?.constructPath}`,
        ),
        name,
      ).toEqual([]);
      expect(report.success).toBe(true);
    }
  });

  it("acknowledges only the registered rules, each with a reason", () => {
    // Prepare
    const all = new Map<string, string[]>();

    // dev with Session Manager on too: its acknowledgment exists only then.
    const withSessionManager = synthesize("dev", {
      editContext: (context) => {
        environmentIn(context, "dev").ollama.sessionManager = true;
      },
    }).app;

    // Act
    for (const app of [
      ...ENVIRONMENT_NAMES.map((name) => synthesized(name).app),
      withSessionManager,
    ]) {
      for (const [id, reasons] of acknowledgments(app)) {
        all.set(id, [...(all.get(id) ?? []), ...reasons]);
      }
    }

    // Assess
    expect(new Set(all.keys())).toEqual(ACKNOWLEDGED_RULES);
    for (const [id, reasons] of all) {
      for (const reason of reasons) expect(reason.length, id).toBeGreaterThanOrEqual(40);
    }
  });

  it("prod needs none of the environment-dependent acknowledgments: it satisfies those rules", () => {
    // Prepare
    const { app } = synthesized("prod");

    // Act
    const acknowledged = new Set(acknowledgments(app).keys());

    // Assess
    for (const rule of [
      "AwsSolutions-RDS10",
      "AwsSolutions-SMG4",
      "AwsSolutions-COG2",
      "AwsSolutions-EC29",
    ]) {
      expect(acknowledged.has(rule), rule).toBe(false);
    }
  });

  it("fails synthesis on an unacknowledged finding", () => {
    // Prepare: the real app, plus one queue that breaks AwsSolutions-SQS2/SQS4.
    const app = new App({
      context: { ...cdkJsonContext(), env: "localstack", "aws:cdk:bundling-stacks": [] },
      builtinCloudFormationValidation: false,
    });
    const stack = addTaskPipeline(app);
    new Queue(stack, "PlainQueue", { encryption: QueueEncryption.UNENCRYPTED });

    // Act
    const synth = () => app.synth();

    // Assess
    expect(synth).toThrow(/AwsSolutions-SQS4/);
  });
});
