import type { Context } from "aws-lambda";
import {
  type ExecutorEventInput,
  scheduleEvent,
  WAKE_MESSAGE,
} from "../core/executor/scheduleEvent";
import type { Logger } from "../core/telemetry/ports";
import { createLambdaContext, type LocalLambdaContext } from "./lambdaContext";

/**
 * The local EventBridge rule and wake queue: invokes the executor handler every
 * SCHEDULE_INTERVAL_MS (the first time at once) with a tick, and on `wake()` with the wake
 * queue's SQS event, each invocation with a Lambda-like context whose budget is
 * EXECUTOR_TIMEOUT_MS. As in AWS, invocations overlap (the budget is longer than the
 * interval by design) and a failed one is logged, not retried: the next tick runs anyway.
 * Wakes start at most MAX_WAKE_INVOCATIONS invocations at once, as the queue's event source
 * mapping does (`maxConcurrency: 2`, lib/); a wake beyond that is dropped, as its message
 * would wait for one of them and find its task claimed.
 */

/** The wake queue's event source mapping's maximum concurrency (its floor in AWS is 2). */
export const MAX_WAKE_INVOCATIONS = 2;

export type ExecutorHandler = (event: ExecutorEventInput, context: Context) => Promise<unknown>;

export interface ExecutorScheduleOptions {
  handler: ExecutorHandler;
  intervalMs: number;
  timeoutMs: number;
  logger: Logger;
  /**
   * How long before its budget ends the executor aborts what still runs and writes it back
   * (the loop's reserve margin): a stop gives invocations this on top of the grace period.
   */
  windDownMs?: number;
  /** The environment name the schedule event carries. */
  environment?: string;
}

export interface StopReport {
  /** Invocations running when the stop began. */
  running: number;
  /** Those that returned within the wait. */
  returned: number;
}

export interface ExecutorSchedule {
  /** Invocations under way now. */
  readonly running: number;
  /** Invocations started so far. */
  readonly invocations: number;
  /** A task was created: start an invocation now, unless MAX_WAKE_INVOCATIONS already run. */
  wake(): void;
  /**
   * Stops the timer and cuts every running invocation's remaining time to `graceMs` plus
   * the wind-down: the executor stops claiming at once, lets in-flight tasks run for
   * `graceMs`, then aborts the rest and hands them back (pending, due at once) as it does
   * before a Lambda timeout. Waits for the invocations to return, `settleMs` at most past
   * their new deadline.
   */
  stop(graceMs: number, settleMs?: number): Promise<StopReport>;
}

const FUNCTION_NAME = "task-pipeline-executor";

export function startExecutorSchedule(options: ExecutorScheduleOptions): ExecutorSchedule {
  const running = new Map<LocalLambdaContext, Promise<void>>();
  let invocations = 0;
  let woken = 0;
  let stopped = false;
  const everySeconds = Math.max(1, Math.round(options.intervalMs / 1000));
  const tick = () => invoke(scheduleEvent(options.environment ?? "local", everySeconds));

  const invoke = (event: ExecutorEventInput, onDone?: () => void) => {
    if (stopped) return;
    invocations += 1;
    const context = createLambdaContext({
      functionName: FUNCTION_NAME,
      timeoutMs: options.timeoutMs,
    });
    const invocation = {
      awsRequestId: context.awsRequestId,
      trigger: "Records" in event ? "wake" : "tick",
    };
    const started = Date.now();
    options.logger.debug("executor invoked", invocation);
    // A Lambda past its timeout is frozen and killed; locally it can only be reported.
    const overrun = setTimeout(() => {
      options.logger.warn("executor invocation outlived its timeout", {
        ...invocation,
        timeoutMs: options.timeoutMs,
      });
    }, options.timeoutMs + 5_000);
    overrun.unref();
    const done = Promise.resolve()
      .then(() => options.handler(event, context))
      .then(
        (summary) => {
          options.logger.debug("executor returned", {
            ...invocation,
            durationMs: Date.now() - started,
            summary,
          });
        },
        (error) => {
          options.logger.error("executor invocation failed", {
            ...invocation,
            error: error,
          });
        },
      )
      .finally(() => {
        clearTimeout(overrun);
        running.delete(context);
        onDone?.();
      });
    running.set(context, done);
  };

  // The first invocation at once, as soon as the caller's current work (the banner) is done.
  const first = setImmediate(tick);
  const timer = setInterval(tick, options.intervalMs);

  return {
    get running() {
      return running.size;
    },
    get invocations() {
      return invocations;
    },
    wake() {
      if (stopped || woken >= MAX_WAKE_INVOCATIONS) return;
      woken += 1;
      const body = JSON.stringify(WAKE_MESSAGE);
      invoke({ Records: [{ eventSource: "aws:sqs", body }] }, () => {
        woken -= 1;
      });
    },
    async stop(graceMs, settleMs = 5_000) {
      stopped = true;
      clearImmediate(first);
      clearInterval(timer);
      const pending = [...running.entries()];
      const budgetMs = graceMs + (options.windDownMs ?? 0);
      for (const [context] of pending) context.shortenDeadline(budgetMs);
      let returned = 0;
      const all = Promise.all(pending.map(([, done]) => done.then(() => void returned++)));
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([
        all,
        new Promise<void>((resolve) => {
          timeout = setTimeout(resolve, budgetMs + settleMs);
        }),
      ]);
      clearTimeout(timeout);
      return { running: pending.length, returned };
    },
  };
}
