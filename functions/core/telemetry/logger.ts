import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import type { LogFields, Logger } from "./ports";

/**
 * The Logger port over Powertools Logger: one JSON object per line with level, message,
 * timestamp, service, environment, the invocation's id and the call's fields (errors
 * formatted with name, message and stack). The level comes from POWERTOOLS_LOG_LEVEL (or
 * LOG_LEVEL, or Lambda's advanced logging controls), INFO when unset.
 */
export interface ServiceLoggerOptions {
  /** "executor" or "api". */
  service: string;
  /** The deployment's environment name (PIPELINE_ENV; "local" off AWS). */
  environment: string;
}

/** What a handler knows about its invocation; a Lambda context fits it. */
export interface InvocationInfo {
  /** The Lambda request id, or one the local runtime made up. */
  awsRequestId: string;
  functionName?: string;
}

export interface ServiceLogger extends Logger {
  readonly powertools: PowertoolsLogger;
  /**
   * A logger for one invocation: every line carries `invocationId` (and `keys`, e.g. the
   * executor's worker id). A child, not a mutation, so invocations that overlap in one
   * process (the local runtime's schedule) each keep their own id.
   */
  forInvocation(invocation: InvocationInfo, keys?: LogFields): Logger;
  /**
   * Tags this logger's following lines with the invocation instead (dropping the previous
   * invocation's keys). Fine where one invocation runs at a time (a Lambda container);
   * prefer `forInvocation` where invocations overlap.
   */
  beginInvocation(invocation: InvocationInfo, keys?: LogFields): void;
}

export function createServiceLogger(options: ServiceLoggerOptions): ServiceLogger {
  const powertools = new PowertoolsLogger({
    serviceName: options.service,
    persistentKeys: { environment: options.environment },
  });
  return adaptPowertoolsLogger(powertools);
}

/** Adapts an existing Powertools Logger (e.g. one shared with a middy middleware). */
export function adaptPowertoolsLogger(powertools: PowertoolsLogger): ServiceLogger {
  const extra = (fields: LogFields | undefined) => (fields ? [fields] : []);
  const invocationKeys = (invocation: InvocationInfo, keys: LogFields) => ({
    invocationId: invocation.awsRequestId,
    ...(invocation.functionName ? { functionName: invocation.functionName } : {}),
    ...keys,
  });
  return {
    powertools,
    debug: (message, fields) => powertools.debug(message, ...extra(fields)),
    info: (message, fields) => powertools.info(message, ...extra(fields)),
    warn: (message, fields) => powertools.warn(message, ...extra(fields)),
    error: (message, fields) => powertools.error(message, ...extra(fields)),
    forInvocation(invocation, keys = {}) {
      const child = powertools.createChild();
      child.appendPersistentKeys(invocationKeys(invocation, keys));
      return adaptPowertoolsLogger(child);
    },
    beginInvocation(invocation, keys = {}) {
      powertools.resetKeys();
      powertools.appendKeys(invocationKeys(invocation, keys));
    },
  };
}
