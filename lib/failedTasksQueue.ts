import { Duration, type RemovalPolicy, Validations } from "aws-cdk-lib";
import type { IGrantable } from "aws-cdk-lib/aws-iam";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface FailedTasksQueueProps {
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Where the executor reports each task that ended `failed` (out of attempts, or a permanent
 * error): one message per task, for people or a downstream consumer to act on. The task row
 * keeps the error too, so the queue is a notification, not the record.
 */
export class FailedTasksQueue extends Construct {
  readonly queue: Queue;

  constructor(scope: Construct, id: string, props: FailedTasksQueueProps) {
    super(scope, id);
    this.queue = new Queue(this, "Queue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // SQS's maximum: two weeks for someone to look.
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.queue).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "A terminal notification queue: nothing consumes it automatically, so no message can fail processing and be redriven; the failed task itself stays in the database with its error.",
    });
  }

  get queueUrl(): string {
    return this.queue.queueUrl;
  }

  /** sqs:SendMessage (and GetQueueAttributes/GetQueueUrl) on this queue only. */
  grantSendMessages(grantee: IGrantable): void {
    this.queue.grantSendMessages(grantee);
  }
}
