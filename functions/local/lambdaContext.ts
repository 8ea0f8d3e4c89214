import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";

/**
 * A Lambda `context` for handlers run by the local runtime. Its time budget counts down from
 * the invocation's start like the Lambda timeout does, and can be cut short (the runtime
 * does so on shutdown: a handler that watches `getRemainingTimeInMillis()` winds down as
 * it would before a timeout).
 */
export interface LocalLambdaContext extends Context {
  /** Brings the deadline forward to `ms` from now (never pushes it back). */
  shortenDeadline(ms: number): void;
}

export interface LambdaContextOptions {
  functionName: string;
  timeoutMs: number;
  awsRequestId?: string;
  now?: () => number;
}

export function createLambdaContext(options: LambdaContextOptions): LocalLambdaContext {
  const now = options.now ?? Date.now;
  let deadline = now() + options.timeoutMs;
  const requestId = options.awsRequestId ?? randomUUID();
  const day = new Date(now()).toISOString().slice(0, 10).replace(/-/g, "/");
  const unsupported = (name: string) => () => {
    throw new Error(`context.${name}() is not supported: return or throw from the handler`);
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: options.functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${options.functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `${day}/[$LATEST]${requestId.replace(/-/g, "")}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    shortenDeadline(ms: number) {
      deadline = Math.min(deadline, now() + Math.max(0, ms));
    },
    done: unsupported("done"),
    fail: unsupported("fail"),
    succeed: unsupported("succeed"),
  };
}
