import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { ERROR_MAX_CHARS } from "../tasks/byteBudgets";
import type { Task } from "../tasks/model";
import { storableText } from "../tasks/storeInputChecks";
import { METRICS } from "../telemetry/metricNames";
import type { Logger, Metrics } from "../telemetry/ports";

/**
 * Where tasks that end `failed` are reported (one message per task), so someone hears of
 * them without polling the table. The executor calls `notify` for every task it saw end
 * failed: its own final failures and expired leases it recovered out of attempts.
 */
export interface FailedTaskMessage {
  taskId: string;
  owner: string;
  type: string;
  attempts: number;
  error: string;
  /** ISO 8601. */
  failedAt: string;
}

export interface FailedTaskNotifier {
  /**
   * Reports the tasks. Never throws: a report that cannot be sent is logged and counted,
   * and the task stays `failed` all the same (the row, not the message, is the truth).
   */
  notify(tasks: readonly Task[]): Promise<void>;
}

/** When FAILED_TASKS_QUEUE_URL is not set. */
export const noFailedTaskNotifier: FailedTaskNotifier = {
  notify: async () => {},
};

/** SendMessageBatch takes at most 10 entries. */
const SQS_BATCH_SIZE = 10;

export function failedTaskMessage(
  task: Task,
  now: () => Date = () => new Date(),
): FailedTaskMessage {
  const error = task.error ?? "failed without an error message";
  return {
    taskId: task.id,
    owner: task.owner,
    type: task.type,
    attempts: task.attempts,
    // Already capped when stored; capped again for rows written by other means (SQS: 256 KiB).
    error: storableText(error, ERROR_MAX_CHARS),
    failedAt: (task.completedAt ?? now()).toISOString(),
  };
}

export interface SqsFailedTaskNotifierOptions {
  /** Created once per container by the handler (or a mock in tests). */
  sqs: SQSClient;
  queueUrl: string;
  logger: Logger;
  metrics: Metrics;
}

/** The SQS adapter: SendMessageBatch in groups of 10, one message per task. */
export function createSqsFailedTaskNotifier(
  options: SqsFailedTaskNotifierOptions,
): FailedTaskNotifier {
  const { sqs, queueUrl, logger, metrics } = options;

  const reportUnsent = (
    messages: readonly FailedTaskMessage[],
    reason: string,
    cause?: unknown,
  ) => {
    metrics.add(
      METRICS.failedTaskNotifyErrors.name,
      METRICS.failedTaskNotifyErrors.unit,
      messages.length,
    );
    for (const message of messages) {
      logger.error("failed-task message not sent; the task stays failed", {
        taskId: message.taskId,
        queueUrl,
        reason,
        ...(cause === undefined ? {} : { error: cause }),
      });
    }
  };

  const sendBatch = async (messages: readonly FailedTaskMessage[]) => {
    // Entry ids only need to be unique within the batch; the task id is also the message's.
    const byEntryId = new Map(messages.map((message, index) => [`m${index}`, message]));
    try {
      const answer = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: [...byEntryId].map(([id, message]) => ({
            Id: id,
            MessageBody: JSON.stringify(message),
          })),
        }),
      );
      // A batch call succeeds as a whole even when some entries were refused.
      for (const failure of answer.Failed ?? []) {
        const message = failure.Id === undefined ? undefined : byEntryId.get(failure.Id);
        if (message) {
          reportUnsent(
            [message],
            `${failure.Code ?? "unknown"}: ${failure.Message ?? "refused by SQS"}`,
          );
        }
      }
    } catch (error) {
      reportUnsent(messages, error instanceof Error ? error.message : String(error), error);
    }
  };

  return {
    async notify(tasks) {
      if (tasks.length === 0) return;
      const messages = tasks.map((task) => failedTaskMessage(task));
      const batches: FailedTaskMessage[][] = [];
      for (let i = 0; i < messages.length; i += SQS_BATCH_SIZE) {
        batches.push(messages.slice(i, i + SQS_BATCH_SIZE));
      }
      await Promise.all(batches.map(sendBatch));
    },
  };
}
