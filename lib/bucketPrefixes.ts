import { Stack, Validations } from "aws-cdk-lib";
import { type IGrantable, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { Bucket, CfnBucket } from "aws-cdk-lib/aws-s3";
import type { IConstruct } from "constructs";

/**
 * Grants `actions` on the objects under each key prefix (`inputs/*`) of one bucket, and
 * acknowledges cdk-nag's IAM5 for exactly those prefixes: keys under them are made at run
 * time (random UUIDs, a model store's files), so the prefix is the narrowest grant there is.
 * The one place the payload bucket and Ollama's stage write such grants.
 */
export function grantObjectPrefixes(
  bucket: Bucket,
  grantee: IGrantable & IConstruct,
  actions: string[],
  prefixes: string[],
  reason: string,
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions,
      resources: prefixes.map((prefix) => bucket.arnForObjects(prefix)),
    }),
  );
  const bucketId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnBucket);
  for (const prefix of prefixes) {
    Validations.of(grantee).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}]`,
      reason,
    });
  }
}
