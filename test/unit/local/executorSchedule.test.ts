import type { Context } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import type { ExecutorEventInput } from "../../../functions/core/executor/scheduleEvent";
import { silentLogger } from "../../../functions/core/telemetry/ports";
import {
  type ExecutorSchedule,
  startExecutorSchedule,
} from "../../../functions/local/executorSchedule";

/** Polls until `check` holds; generous, so a busy machine never fails it. */
async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A handler that runs like the executor: until its remaining time falls below a reserve. */
function budgetWatchingHandler(reserveMs: number) {
  const calls: { event: ExecutorEventInput; context: Context }[] = [];
  const handler = async (event: ExecutorEventInput, context: Context) => {
    calls.push({ event, context });
    while (context.getRemainingTimeInMillis() > reserveMs) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return { stoppedWith: context.getRemainingTimeInMillis() };
  };
  return { calls, handler };
}

let schedule: ExecutorSchedule | undefined;
afterEach(async () => {
  await schedule?.stop(0, 0);
  schedule = undefined;
});

describe("the local executor schedule", () => {
  it("invokes at once, then every interval, with overlapping invocations and a Lambda-like context", async () => {
    // Prepare
    const { calls, handler } = budgetWatchingHandler(0);

    // Act
    schedule = startExecutorSchedule({
      handler,
      intervalMs: 100,
      timeoutMs: 60_000,
      logger: silentLogger,
    });

    // Assess
    await waitFor(() => calls.length >= 3);
    expect(schedule.running).toBeGreaterThanOrEqual(3);
    const first = calls[0];
    expect(first?.event).toEqual({
      kind: "task-pipeline.executor.tick",
      environment: "local",
      everySeconds: 1,
    });
    expect(first?.context.functionName).toBe("task-pipeline-executor");
    expect(first?.context.logStreamName).toContain("[$LATEST]");
    const remaining = first?.context.getRemainingTimeInMillis() ?? 0;
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(60_000);
    expect(new Set(calls.map((call) => call.context.awsRequestId)).size).toBe(calls.length);
  });

  it("invokes the first time without waiting for the interval", async () => {
    // Prepare
    const { calls, handler } = budgetWatchingHandler(0);

    // Act
    schedule = startExecutorSchedule({
      handler,
      intervalMs: 3_600_000,
      timeoutMs: 60_000,
      logger: silentLogger,
    });

    // Assess: an hour-long interval would time this wait out.
    await waitFor(() => calls.length === 1);
    expect(schedule.invocations).toBe(1);
  });

  it("on stop, cuts every running invocation's budget to the grace period and waits for them", async () => {
    // Prepare
    const { calls, handler } = budgetWatchingHandler(100);
    schedule = startExecutorSchedule({
      handler,
      intervalMs: 50,
      timeoutMs: 600_000,
      logger: silentLogger,
    });
    await waitFor(() => calls.length >= 2);

    // Act
    const report = await schedule.stop(300, 60_000);
    const invocationsAtStop = schedule.invocations;
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Assess
    expect(report.running).toBeGreaterThanOrEqual(2);
    expect(report.returned).toBe(report.running);
    expect(schedule.running).toBe(0);
    expect(schedule.invocations).toBe(invocationsAtStop);
    for (const { context } of calls)
      expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(300);
  });

  it("stops waiting after grace and settle time for an invocation that never returns", async () => {
    // Prepare
    let calls = 0;
    const handler = () => {
      calls += 1;
      return new Promise<never>(() => {});
    };
    schedule = startExecutorSchedule({
      handler,
      intervalMs: 60_000,
      timeoutMs: 60_000,
      logger: silentLogger,
    });
    await waitFor(() => calls === 1);

    // Act
    const report = await schedule.stop(50, 50);

    // Assess
    expect(report).toEqual({ running: 1, returned: 0 });
  });

  it("logs a failed invocation and keeps the schedule going", async () => {
    // Prepare
    const errors: string[] = [];
    let calls = 0;
    const handler = async () => {
      calls += 1;
      throw new Error(`boom ${calls}`);
    };

    // Act
    schedule = startExecutorSchedule({
      handler,
      intervalMs: 50,
      timeoutMs: 60_000,
      logger: { ...silentLogger, error: (message) => errors.push(message) },
    });
    await waitFor(() => calls >= 2 && errors.length >= 2);

    // Assess
    expect(errors[0]).toBe("executor invocation failed");
  });
});
