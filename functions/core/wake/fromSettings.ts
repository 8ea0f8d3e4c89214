/**
 * The wake ports a Lambda uses, from its settings: DynamoDB and SQS when the stack set
 * DUE_MARKER_TABLE and WAKE_QUEUE_URL, else none (every tick reads the database).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { WakeSettings } from "../config/settings";
import { createDynamoDueMarker } from "./dynamoDueMarker";
import { type DueMarker, noDueMarker, noWaker, type Waker } from "./ports";
import { createSqsWaker } from "./sqsWaker";

export interface WakePorts {
  marker: DueMarker;
  waker: Waker;
  /** Whether a marker is really kept (an idle executor stops only then). */
  scaleToZero: boolean;
}

export function wakePortsFromSettings(settings: WakeSettings): WakePorts {
  const marker = settings.DUE_MARKER_TABLE
    ? createDynamoDueMarker({
        client: new DynamoDBClient({}),
        tableName: settings.DUE_MARKER_TABLE,
      })
    : noDueMarker;
  const waker = settings.WAKE_QUEUE_URL
    ? createSqsWaker({ sqs: new SQSClient({}), queueUrl: settings.WAKE_QUEUE_URL })
    : noWaker;
  return { marker, waker, scaleToZero: settings.DUE_MARKER_TABLE !== undefined };
}
