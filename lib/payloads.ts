import { Duration, type RemovalPolicy, Validations } from "aws-cdk-lib";
import { type IGrantable, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { BlockPublicAccess, Bucket, BucketEncryption } from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { TASK_LIMITS } from "../functions/api/schemas";
import { RETENTION_SECONDS } from "../functions/core/config/settings";
import { grantObjectPrefixes } from "./bucketPrefixes";

/**
 * The payload bucket (the claim check, docs/design.md "Big inputs and results"): inputs and
 * results too big for a task row, under `inputs/` and `results/`, and the executor's
 * checkpoints under `checkpoints/`. Private, encrypted, TLS only. The executor reaches it
 * through the VPC's S3 gateway endpoint (free, lib/network.ts); the api Lambda, outside the
 * VPC, directly.
 *
 * Objects are deleted with their task by retention's sweep (the executor). The lifecycle
 * rules are the safety net for objects nothing refers to (a create that crashed between
 * its PUT and its INSERT): a payload object expires once no task can still hold it, that
 * is after the furthest `runAt` (TASK_LIMITS.runAtMaxDaysAhead) plus the retention plus a
 * 30-day margin for retries; a checkpoint (only a head start for a retried attempt) after
 * 7 days.
 */
export interface PayloadsProps {
  /** RETENTION_SECONDS of the executor (default: its schema's). */
  readonly retentionSeconds?: number;
  readonly removalPolicy: RemovalPolicy;
  /** Delete the objects with the bucket (environments whose removalPolicy is destroy). */
  readonly autoDeleteObjects: boolean;
}

/** Days a payload object is kept at most (see the class comment). */
export function payloadExpiryDays(retentionSeconds: number): number {
  return TASK_LIMITS.runAtMaxDaysAhead + Math.ceil(retentionSeconds / 86_400) + 30;
}

/** A checkpoint's life: a retried attempt comes back within minutes, not a week. */
export const CHECKPOINT_EXPIRY_DAYS = 7;

export class Payloads extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: PayloadsProps) {
    super(scope, id);
    const retentionSeconds = props.retentionSeconds ?? RETENTION_SECONDS.default;
    this.bucket = new Bucket(this, "Bucket", {
      // SSE-S3: encrypted at rest at no cost; a KMS key would add $1 a month and a KMS
      // request per object read and written.
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: false,
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: props.autoDeleteObjects,
      lifecycleRules: [
        {
          id: "payloads",
          prefix: "inputs/",
          expiration: Duration.days(payloadExpiryDays(retentionSeconds)),
        },
        {
          id: "results",
          prefix: "results/",
          expiration: Duration.days(payloadExpiryDays(retentionSeconds)),
        },
        {
          id: "checkpoints",
          prefix: "checkpoints/",
          expiration: Duration.days(CHECKPOINT_EXPIRY_DAYS),
        },
        { id: "incomplete-uploads", abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    Validations.of(this.bucket).acknowledge({
      id: "AwsSolutions-S1",
      reason:
        "Server access logs would log every payload PUT and GET into another bucket; the task rows and the Lambdas' logs already say who created and read which task.",
    });
  }

  /** The api Lambda: writes inputs, reads inputs and results, deletes unreferenced inputs. */
  grantApi(fn: NodejsFunction): void {
    this.grant(fn, ["s3:PutObject", "s3:DeleteObject"], ["inputs/*"]);
    this.grant(fn, ["s3:GetObject"], ["inputs/*", "results/*"]);
    this.grantList(fn);
    fn.addEnvironment("PAYLOAD_BUCKET", this.bucket.bucketName);
  }

  /**
   * The executor: reads inputs, writes results and checkpoints, and deletes what retention
   * deletes (all three prefixes).
   */
  grantExecutor(fn: NodejsFunction): void {
    this.grant(fn, ["s3:GetObject"], ["inputs/*", "results/*", "checkpoints/*"]);
    this.grant(fn, ["s3:PutObject"], ["results/*", "checkpoints/*"]);
    this.grant(fn, ["s3:DeleteObject"], ["inputs/*", "results/*", "checkpoints/*"]);
    this.grantList(fn);
    fn.addEnvironment("PAYLOAD_BUCKET", this.bucket.bucketName);
  }

  /**
   * Without s3:ListBucket, GetObject of a missing key answers 403 AccessDenied, not 404
   * NoSuchKey (docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions"):
   * the claim check could not tell a gone payload (fail the task with the reason) from a
   * real denial. The bucket holds payloads only, so listing it reveals nothing else.
   */
  private grantList(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ["s3:ListBucket"], resources: [this.bucket.bucketArn] }),
    );
  }

  private grant(fn: NodejsFunction, actions: string[], prefixes: string[]): void {
    grantObjectPrefixes(
      this.bucket,
      fn,
      actions,
      prefixes,
      "Object keys are made per task (random UUIDs), so the grant is a key prefix of the payload bucket, no other bucket.",
    );
  }
}
