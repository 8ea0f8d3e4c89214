import { Duration, type RemovalPolicy, Validations } from "aws-cdk-lib";
import { AttributeType, BillingMode, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

/**
 * Scale to zero's two resources (docs/design.md "Scale to zero"): the wake queue, whose
 * event source mapping starts the executor the moment a task is created, and the due
 * marker, one DynamoDB item that lets the minute's tick skip the database when nothing is
 * due. The api Lambda sends wakes and lowers the marker; the executor reads and records it.
 */
export interface WakeProps {
  /** The executor's Lambda timeout: the queue's visibility timeout must cover it. */
  readonly executorTimeout: Duration;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The event source mapping's scaling cap: a burst of creates starts at most this many
 * executors from the queue (2 is its floor; docs.aws.amazon.com/lambda/latest/dg/
 * services-sqs-scaling.html "Configuring maximum concurrency for Amazon SQS event sources").
 * The functions/local/executorSchedule.ts MAX_WAKE_INVOCATIONS emulation is the same.
 */
export const WAKE_MAX_CONCURRENCY = 2;

export class Wake extends Construct {
  readonly queue: Queue;
  readonly marker: Table;

  constructor(scope: Construct, id: string, props: WakeProps) {
    super(scope, id);
    this.queue = new Queue(this, "Queue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // A wake is worth something only while its task waits; a minute covers any delay,
      // and the minute's tick is the safety net (SQS's least retention is 60 s).
      retentionPeriod: Duration.seconds(60),
      // Lambda requires at least the function's timeout; AWS advises 6 times it (a batch
      // may wait for a throttled function). Capped at SQS's 12 hours.
      visibilityTimeout: Duration.seconds(Math.min(43_200, props.executorTimeout.toSeconds() * 6)),
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.queue).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "A wake message only says 'there is work'; one that cannot be handled is worth nothing later (the minute's tick runs anyway), so no dead-letter queue.",
    });

    this.marker = new Table(this, "DueMarker", {
      partitionKey: { name: "id", type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.marker).acknowledge({
      id: "AwsSolutions-DDB3",
      reason:
        "One item, a cache of the tasks table (when work is next due): an absent item means 'read the database', so nothing needs restoring.",
    });
  }

  /** The api Lambda: sends wakes, lowers the marker (UpdateItem only). */
  grantSignal(fn: NodejsFunction): void {
    this.queue.grantSendMessages(fn);
    this.marker.grant(fn, "dynamodb:UpdateItem");
    fn.addEnvironment("WAKE_QUEUE_URL", this.queue.queueUrl);
    fn.addEnvironment("DUE_MARKER_TABLE", this.marker.tableName);
  }

  /** The executor: woken by the queue, reads and records the marker. */
  attachExecutor(fn: NodejsFunction): void {
    fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(0),
        maxConcurrency: WAKE_MAX_CONCURRENCY,
      }),
    );
    this.marker.grant(fn, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem");
    fn.addEnvironment("DUE_MARKER_TABLE", this.marker.tableName);
  }
}
