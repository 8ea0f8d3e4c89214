import type { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { RETENTION_SECONDS } from "../../functions/core/config/settings";
import { CHECKPOINT_EXPIRY_DAYS, payloadExpiryDays } from "../../lib/payloads";
import { synthesized } from "./support/synth";
import {
  actionsOf,
  type CfnResource,
  joinedText,
  lambdaEnvironment,
  pipelineFunction,
  policyStatements,
  property,
  referencedId,
  referencedIds,
  resourcesOf,
  resourcesOfType,
} from "./support/template";

/**
 * The payload bucket (lib/payloads.ts): private, encrypted, TLS only, lifecycle rules as
 * the safety net, reached from the VPC through the S3 gateway endpoint, and each Lambda
 * granted only the key prefixes it uses.
 */

/** The payload bucket (instance-mode stacks also hold Ollama's staging bucket). */
function payloadBucket(template: Template): [string, CfnResource] {
  const found = Object.entries(resourcesOfType(template, "AWS::S3::Bucket")).find(([id]) =>
    id.startsWith("PayloadsBucket"),
  );
  if (!found) throw new Error("no payload bucket");
  return found;
}

describe("the payload bucket", () => {
  it("is encrypted, private, TLS only, and expires what no task can still hold", () => {
    // Prepare
    const { template } = synthesized("dev");

    // Act
    const [bucketId, bucket] = payloadBucket(template);
    const policy = Object.values(resourcesOfType(template, "AWS::S3::BucketPolicy")).find((p) =>
      referencedIds(p.Properties?.Bucket).has(bucketId),
    );

    // Assess
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    const rules = property<{ Rules: Record<string, unknown>[] }>(
      bucket,
      "LifecycleConfiguration",
    ).Rules;
    // dev keeps finished tasks 7 days (cdk.json executor.retentionSeconds 604800).
    const payloadDays = payloadExpiryDays(604_800);
    expect(payloadDays).toBe(365 + 7 + 30);
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Prefix: "inputs/", ExpirationInDays: payloadDays }),
        expect.objectContaining({ Prefix: "results/", ExpirationInDays: payloadDays }),
        expect.objectContaining({
          Prefix: "checkpoints/",
          ExpirationInDays: CHECKPOINT_EXPIRY_DAYS,
        }),
        expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
      ]),
    );
    const statements = property<{ Statement: unknown[] }>(policy, "PolicyDocument").Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: "Deny",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    );
  });

  it("keeps prod's payloads with the stack, and empties dev's bucket on destroy", () => {
    // Act
    const [, prod] = payloadBucket(synthesized("prod").template);
    const [, dev] = payloadBucket(synthesized("dev").template);

    // Assess
    expect(prod.DeletionPolicy).toBe("Retain");
    expect(dev.DeletionPolicy).toBe("Delete");
    // prod sets no retention: the executor's default, 30 days.
    const prodRules = property<{ Rules: { Prefix?: string; ExpirationInDays?: number }[] }>(
      prod,
      "LifecycleConfiguration",
    ).Rules;
    expect(prodRules.find((r) => r.Prefix === "inputs/")?.ExpirationInDays).toBe(
      payloadExpiryDays(RETENTION_SECONDS.default),
    );
  });

  it("is reached from the isolated subnets through the S3 gateway endpoint", () => {
    // Prepare
    const { template } = synthesized("dev");
    const isolatedRouteTables = Object.entries(
      resourcesOfType(template, "AWS::EC2::SubnetRouteTableAssociation"),
    ).map(([, association]) => referencedId(association.Properties?.RouteTableId));

    // Act
    const s3 = Object.values(resourcesOfType(template, "AWS::EC2::VPCEndpoint")).find(
      (e) =>
        e.Properties?.VpcEndpointType === "Gateway" &&
        joinedText(e.Properties?.ServiceName).includes(".s3"),
    );

    // Assess
    expect(s3).toBeDefined();
    const routeTables = [...referencedIds(s3?.Properties?.RouteTableIds)];
    expect(routeTables.length).toBeGreaterThan(0);
    for (const table of routeTables) expect(isolatedRouteTables).toContain(table);
  });

  it("grants the api and the executor only the prefixes they use, on this bucket only", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [bucketId] = payloadBucket(template);
    const grantsOf = (service: string) => {
      const [, fn] = pipelineFunction(template, service);
      const role = referencedId(fn.Properties?.Role) as string;
      const byAction = new Map<string, string[]>();
      for (const statement of policyStatements(template).filter((s) => s.roles.includes(role))) {
        for (const action of actionsOf(statement).filter((a) => a.startsWith("s3:"))) {
          const resources = resourcesOf(statement).map((r) => {
            expect(referencedIds(r).has(bucketId), JSON.stringify(r)).toBe(true);
            return joinedText(r).replace(/^.*?(\/|$)/, "$1") || "<bucket>";
          });
          byAction.set(action, [...(byAction.get(action) ?? []), ...resources].sort());
        }
      }
      return { grants: Object.fromEntries(byAction), env: lambdaEnvironment(fn) };
    };

    // Act
    const api = grantsOf("api");
    const executor = grantsOf("executor");

    // Assess
    expect(api.grants).toEqual({
      "s3:PutObject": ["/inputs/*"],
      "s3:DeleteObject": ["/inputs/*"],
      "s3:GetObject": ["/inputs/*", "/results/*"],
      "s3:ListBucket": ["<bucket>"],
    });
    expect(executor.grants).toEqual({
      "s3:GetObject": ["/checkpoints/*", "/inputs/*", "/results/*"],
      "s3:PutObject": ["/checkpoints/*", "/results/*"],
      "s3:DeleteObject": ["/checkpoints/*", "/inputs/*", "/results/*"],
      "s3:ListBucket": ["<bucket>"],
    });
    expect(referencedId(api.env.PAYLOAD_BUCKET)).toBe(bucketId);
    expect(referencedId(executor.env.PAYLOAD_BUCKET)).toBe(bucketId);
  });
});
