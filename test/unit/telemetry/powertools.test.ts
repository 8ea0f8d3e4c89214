import { afterEach, describe, expect, it, vi } from "vitest";
import { createEmfMetrics } from "../../../functions/core/telemetry/emf";
import { createServiceLogger } from "../../../functions/core/telemetry/logger";
import { METRIC_NAMESPACE, METRICS } from "../../../functions/core/telemetry/metricNames";
import { captureOutput } from "../../support/captureOutput";

/** The Powertools adapters write what CloudWatch reads: EMF documents and JSON log lines. */

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("createEmfMetrics", () => {
  it("writes one EMF document in the pipeline namespace with exactly the service and environment dimensions", () => {
    // Prepare
    vi.stubEnv("POWERTOOLS_DEV", "");
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
    const metrics = createEmfMetrics({ service: "executor", environment: "staging" });
    const out = captureOutput();

    // Act
    metrics.add(METRICS.tasksCompleted.name, METRICS.tasksCompleted.unit, 2);
    metrics.add(METRICS.tasksCompleted.name, METRICS.tasksCompleted.unit, 3);
    metrics.add(METRICS.runDuration.name, METRICS.runDuration.unit, 1234);
    metrics.flush();
    out.restore();

    // Assess
    const documents = out.json().filter((d) => d._aws);
    expect(documents).toHaveLength(1);
    const [doc] = documents;
    expect(doc._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: METRIC_NAMESPACE,
        Dimensions: [["service", "environment"]],
        Metrics: expect.arrayContaining([
          { Name: "TasksCompleted", Unit: "Count" },
          { Name: "RunDuration", Unit: "Milliseconds" },
        ]),
      },
    ]);
    expect(doc).toMatchObject({
      service: "executor",
      environment: "staging",
      TasksCompleted: [2, 3],
      RunDuration: 1234,
    });
  });

  it("also writes a per-instance metric at once with the InstanceId dimension (the idle alarm's EC2 action needs it)", () => {
    // Prepare
    vi.stubEnv("POWERTOOLS_DEV", "");
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
    const metrics = createEmfMetrics({
      service: "executor",
      environment: "dev",
      output: { format: "json", color: false },
      perInstance: { instanceId: "i-0123456789abcdef0", names: [METRICS.llmActivity.name] },
    });
    const out = captureOutput();

    // Act
    metrics.add(METRICS.llmActivity.name, METRICS.llmActivity.unit, 1);
    metrics.add(METRICS.tasksClaimed.name, METRICS.tasksClaimed.unit, 1);
    metrics.flush();
    out.restore();

    // Assess
    const documents = out.json().filter((d) => d._aws);
    const perInstance = documents.filter((d) => d.InstanceId !== undefined);
    expect(perInstance).toHaveLength(1);
    expect(perInstance[0]._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: METRIC_NAMESPACE,
        Dimensions: [["service", "environment", "InstanceId"]],
        Metrics: [{ Name: "LlmActivity", Unit: "Count" }],
      },
    ]);
    expect(perInstance[0]).toMatchObject({ InstanceId: "i-0123456789abcdef0", LlmActivity: 1 });
    // The usual document keeps both, with the usual dimensions only.
    const usual = documents.filter((d) => d.InstanceId === undefined);
    expect(usual).toHaveLength(1);
    expect(usual[0]).toMatchObject({ LlmActivity: 1, TasksClaimed: 1 });
  });

  it("writes nothing when nothing was added since the last flush", () => {
    // Prepare
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
    const metrics = createEmfMetrics({ service: "executor", environment: "local" });
    const out = captureOutput();

    // Act
    metrics.flush();
    out.restore();

    // Assess
    expect(out.lines).toEqual([]);
  });
});

describe("createServiceLogger", () => {
  it("writes JSON lines carrying each invocation's own id, the environment and the call's fields", () => {
    // Prepare
    vi.stubEnv("POWERTOOLS_LOG_LEVEL", "DEBUG");
    vi.stubEnv("POWERTOOLS_DEV", "");
    const logger = createServiceLogger({ service: "executor", environment: "dev" });
    const out = captureOutput();

    // Act
    const first = logger.forInvocation({ awsRequestId: "req-1" }, { workerId: "w-1" });
    const second = logger.forInvocation({ awsRequestId: "req-2" });
    first.info("executor started", { budgetMs: 1000 });
    second.error("sync failed", { error: new Error("connection refused") });
    logger.info("between invocations");
    out.restore();

    // Assess
    const [a, b, c] = out.json();
    expect(a).toMatchObject({
      level: "INFO",
      message: "executor started",
      service: "executor",
      environment: "dev",
      invocationId: "req-1",
      workerId: "w-1",
      budgetMs: 1000,
    });
    expect(b).toMatchObject({
      level: "ERROR",
      invocationId: "req-2",
      environment: "dev",
      error: { message: "connection refused" },
    });
    expect(b.workerId).toBeUndefined();
    expect(c).toMatchObject({ message: "between invocations", environment: "dev" });
    expect(c.invocationId).toBeUndefined();
  });

  it("retags the logger itself with beginInvocation, dropping the previous invocation's keys", () => {
    // Prepare
    vi.stubEnv("POWERTOOLS_LOG_LEVEL", "INFO");
    vi.stubEnv("POWERTOOLS_DEV", "");
    const logger = createServiceLogger({ service: "migrate", environment: "dev" });
    const out = captureOutput();

    // Act
    logger.beginInvocation({ awsRequestId: "req-1" }, { stack: "s-1" });
    logger.info("one");
    logger.beginInvocation({ awsRequestId: "req-2" });
    logger.info("two");
    out.restore();

    // Assess
    const [one, two] = out.json();
    expect(one).toMatchObject({ invocationId: "req-1", stack: "s-1", environment: "dev" });
    expect(two).toMatchObject({ invocationId: "req-2", environment: "dev" });
    expect(two.stack).toBeUndefined();
  });
});
