import type { SendMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { createQueuePublishTransport } from "../../../functions/core/realtime/queueRelay";
import { silentLogger } from "../../../functions/core/telemetry/ports";
import { relay } from "../../../functions/realtimeRelay/handler";

/** The executor's publishes through the FIFO relay queue, and the relay Lambda's publishing. */

const record = (body: string, messageId = "m") =>
  ({ body, messageId }) as unknown as SQSEvent["Records"][number];

describe("the relay queue transport", () => {
  it("sends one FIFO message per publish, grouped by channel, each distinct", async () => {
    // Prepare
    const sent: SendMessageCommand["input"][] = [];
    const transport = createQueuePublishTransport({
      sqs: { send: async (command: SendMessageCommand) => sent.push(command.input) } as never,
      queueUrl: "https://sqs.eu-west-1.amazonaws.com/1/relay.fifo",
    });

    // Act
    await transport.publish("/tasks/ann", ['{"n":1}', '{"n":2}']);
    await transport.publish("/tasks/ann", ['{"n":3}']);

    // Assess
    expect(sent.map((m) => m.MessageGroupId)).toEqual(["/tasks/ann", "/tasks/ann"]);
    expect(JSON.parse(sent[0]?.MessageBody as string)).toEqual({
      channel: "/tasks/ann",
      events: ['{"n":1}', '{"n":2}'],
    });
    expect(sent[0]?.MessageDeduplicationId).not.toBe(sent[1]?.MessageDeduplicationId);
  });
});

describe("the relay Lambda", () => {
  it("publishes each message in order, and counts and skips one it cannot publish", async () => {
    // Prepare
    const published: Array<[string, readonly string[]]> = [];
    const points: string[] = [];
    const event = {
      Records: [
        record(JSON.stringify({ channel: "/tasks/ann", events: ['"a"'] }), "1"),
        record("not json", "2"),
        record(JSON.stringify({ channel: "/tasks/ann", events: ['"b"'] }), "3"),
      ],
    } as SQSEvent;

    // Act
    await relay(event, {
      transport: {
        publish: async (channel, events) => {
          published.push([channel, events]);
        },
      },
      logger: silentLogger,
      metrics: { add: (name) => points.push(name), flush() {} },
    });

    // Assess
    expect(published).toEqual([
      ["/tasks/ann", ['"a"']],
      ["/tasks/ann", ['"b"']],
    ]);
    expect(points.sort()).toEqual([
      "RealtimePublishErrors",
      "RealtimePublishes",
      "RealtimePublishes",
    ]);
  });
});
