import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { SettingsError, ValidationError } from "../../../functions/core/errors";
import { scheduleEvent } from "../../../functions/core/executor/scheduleEvent";
import { TaskStore } from "../../../functions/core/tasks/store";
import { METRIC_NAMESPACE } from "../../../functions/core/telemetry/metricNames";
import { closeExecutorContainer, handler } from "../../../functions/executor/handler";
import { type OllamaTestServer, startOllamaServer } from "../../../testkit/ollamaServer";
import { captureOutput } from "../../support/captureOutput";
import { useTestDatabase } from "../../support/database";
import { createTask, MODEL, OWNER } from "./harness";

/** The Lambda handler, as the schedule (or the local runtime) invokes it. */

const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/failed-tasks";
const db = useTestDatabase();
const sqsMock = mockClient(SQSClient);
let server: OllamaTestServer;

beforeAll(async () => {
  server = await startOllamaServer({ models: [MODEL] });
});
afterEach(async () => {
  sqsMock.reset();
  server.reset();
  vi.unstubAllEnvs();
  await closeExecutorContainer();
  await db.current.truncate();
});
afterAll(() => server.stop());

function lambdaContext(requestId: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    awsRequestId: requestId,
    functionName: "task-pipeline-executor",
    logStreamName: "2026/01/01/[$LATEST]abc123",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  } as Context;
}

function stubEnvironment(overrides: Record<string, string> = {}) {
  const env: Record<string, string> = {
    DATABASE_URL: db.current.url,
    OLLAMA_HOST: server.url,
    OLLAMA_MODEL: MODEL,
    OLLAMA_MODELS: `${MODEL},mystery-model`,
    LLM_TIMEOUT_MS: "1000",
    LEASE_SECONDS: "5",
    POLL_INTERVAL_MS: "100",
    FAILED_TASKS_QUEUE_URL: QUEUE_URL,
    PIPELINE_ENV: "test",
    AWS_REGION: "eu-west-1",
    POWERTOOLS_DEV: "",
    POWERTOOLS_METRICS_DISABLED: "false",
    POWERTOOLS_LOG_LEVEL: "INFO",
    ...overrides,
  };
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
}

describe("executor handler", () => {
  it("runs due tasks for the invocation's remaining time and returns the summary", async () => {
    // Prepare
    stubEnvironment();
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const store = new TaskStore(db.current.sql);
    const ok = await createTask(store);
    const unknown = await createTask(store, { model: "mystery-model" });
    const out = captureOutput();

    // Act: 6 s, of which LLM_TIMEOUT_MS + 3 s are the reserve: it claims for about 2 s.
    let summary: Awaited<ReturnType<typeof handler>>;
    try {
      summary = await handler(scheduleEvent("test"), lambdaContext("req-handler-1", 6_000));
    } finally {
      out.restore();
    }

    // Assess
    expect(summary).toMatchObject({
      workerId: "2026/01/01/[$LATEST]abc123/req-handler-1",
      claimed: 2,
      completed: 1,
      failed: 1,
    });
    expect(summary.durationMs).toBeLessThan(6_000);
    expect((await store.get(OWNER, ok.id)).status).toBe("completed");
    expect((await store.get(OWNER, unknown.id)).status).toBe("failed");
    const bodies = sqsMock
      .commandCalls(SendMessageBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? [])
      .map((e) => JSON.parse(e.MessageBody ?? "null"));
    expect(bodies).toEqual([expect.objectContaining({ taskId: unknown.id, attempts: 1 })]);
    const written = out.jsonLines();
    const logs = written.filter((line) => typeof line.message === "string");
    expect(logs.find((l) => l.message === "executor finished")).toMatchObject({
      service: "executor",
      environment: "test",
      invocationId: "req-handler-1",
    });
    const emf = written.filter((line) => line._aws);
    expect(emf.length).toBeGreaterThan(0);
    expect(emf[0]._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: METRIC_NAMESPACE,
      Dimensions: [["service", "environment"]],
    });
    expect(
      emf.reduce(
        (n, doc) =>
          n + [doc.TasksCompleted ?? []].flat().reduce((a: number, b: number) => a + b, 0),
        0,
      ),
    ).toBe(1);
  });

  it("rejects an event that is not the schedule's, naming the field, and touches no task", async () => {
    // Prepare
    stubEnvironment();
    const task = await createTask(new TaskStore(db.current.sql));
    const out = captureOutput();

    // Act
    let failure: unknown;
    try {
      await handler(
        { kind: "something.else", environment: "test" },
        lambdaContext("req-bad-event", 6_000),
      );
    } catch (error) {
      failure = error;
    } finally {
      out.restore();
    }

    // Assess
    expect(failure).toBeInstanceOf(ValidationError);
    expect((failure as Error).message).toContain("kind");
    expect(out.jsonLines().some((l) => l.message === "rejected: not an executor event")).toBe(true);
    expect(await new TaskStore(db.current.sql).get(OWNER, task.id)).toMatchObject({
      status: "pending",
      attempts: 0,
    });
  });

  it("fails with the setting's name when a setting is bad", async () => {
    // Prepare
    stubEnvironment({ MAX_CONCURRENCY: "0" });

    // Act
    const failure = await handler(
      scheduleEvent("test"),
      lambdaContext("req-bad-setting", 6_000),
    ).catch((e) => e);

    // Assess
    expect(failure).toBeInstanceOf(SettingsError);
    expect(failure.message).toContain("MAX_CONCURRENCY");
  });
});
