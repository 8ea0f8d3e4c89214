import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";
import { DatabaseUnavailableError } from "../../../functions/core/errors";
import { WAKE_MESSAGE } from "../../../functions/core/executor/scheduleEvent";
import type { LogFields, Logger } from "../../../functions/core/telemetry/ports";
import { createMemoryDueMarker } from "../../../functions/core/wake/memoryDueMarker";
import type { DueMarker } from "../../../functions/core/wake/ports";
import { createSqsWaker } from "../../../functions/core/wake/sqsWaker";
import { prepareTaskDue, signalTaskDue } from "../../../functions/core/wake/taskDue";

/** What the API does around a create: lower the marker, and wake an executor for work due now. */

const NOW = 1_800_000_000_000;

function recordingLogger() {
  const entries: { level: string; message: string; fields?: LogFields }[] = [];
  const at = (level: string) => (message: string, fields?: LogFields) => {
    entries.push({ level, message, fields });
  };
  const logger: Logger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
  return Object.assign(logger, { entries });
}

function counting() {
  let wakes = 0;
  return {
    waker: {
      wake: async () => {
        wakes++;
      },
    },
    wakes: () => wakes,
  };
}

describe("a task made due", () => {
  it("wakes an executor when it is due now, and only lowers the marker when it is due later", async () => {
    // Prepare
    const marker = createMemoryDueMarker();
    await marker.record(null, 0);
    const { waker, wakes } = counting();
    const signals = { marker, waker, logger: recordingLogger(), now: () => NOW };

    // Act
    await signalTaskDue(signals, "now", NOW + 200);
    const afterNow = wakes();
    await signalTaskDue(signals, "later", NOW + 180_000);

    // Assess
    expect(afterNow).toBe(1);
    expect(wakes()).toBe(1);
    expect((await marker.read()).dueAtMs).toBe(NOW + 200);
  });

  it("refuses the write (a 503) when the marker cannot be lowered before it", async () => {
    // Prepare
    const broken: DueMarker = {
      read: async () => ({ known: true, dueAtMs: null, version: 1 }),
      lower: async () => {
        throw new Error("ProvisionedThroughputExceededException");
      },
      record: async () => false,
    };
    const signals = { marker: broken, waker: counting().waker, logger: recordingLogger() };

    // Act
    const preparing = prepareTaskDue(signals, NOW);

    // Assess
    await expect(preparing).rejects.toBeInstanceOf(DatabaseUnavailableError);
  });

  it("never fails a stored task: a failed wake or lower after the commit is logged", async () => {
    // Prepare
    const logger = recordingLogger();
    const signals = {
      marker: { ...createMemoryDueMarker(), lower: () => Promise.reject(new Error("throttled")) },
      waker: { wake: () => Promise.reject(new Error("queue gone")) },
      logger,
      now: () => NOW,
    };

    // Act
    await signalTaskDue(signals, "task-1", NOW);

    // Assess
    expect(logger.entries.map((e) => [e.level, e.message])).toEqual([
      ["error", "could not lower the due marker; the task waits for a database read"],
      ["warn", "could not wake an executor; the next tick picks the task up"],
    ]);
  });
});

describe("the SQS waker", () => {
  it("sends the wake message the executor's event schema parses", async () => {
    // Prepare
    const sqs = mockClient(SQSClient);
    sqs.on(SendMessageCommand).resolves({ MessageId: "m-1" });
    const queueUrl = "https://sqs.us-east-1.amazonaws.com/123456789012/task-pipeline-dev-wake";

    // Act
    await createSqsWaker({ sqs: new SQSClient({}), queueUrl }).wake();

    // Assess
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toEqual({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify(WAKE_MESSAGE),
    });
  });
});
