import { MetricUnit, Metrics as PowertoolsMetrics } from "@aws-lambda-powertools/metrics";
import { type OutputFormat, processOutputFormat } from "./logger";
import { METRIC_NAMESPACE } from "./metricNames";
import type { Metrics } from "./ports";

/**
 * The Metrics port over Powertools Metrics: CloudWatch Embedded Metric Format documents on
 * stdout, which Lambda's log pipeline turns into metrics with no API call. Every metric
 * lands in METRIC_NAMESPACE with exactly the dimensions { service, environment }, the ones
 * the dashboard and alarms query (metricNames.ts).
 *
 * Off AWS the documents are just JSON lines; set POWERTOOLS_METRICS_DISABLED=true to
 * silence them (Powertools also disables them when POWERTOOLS_DEV is set). With the pretty
 * log format (a terminal, logger.ts) nothing is printed: a ~1 KB document per executor
 * invocation is noise to a person, and nothing reads metrics from a terminal.
 */
export interface EmfMetricsOptions {
  /** "executor" or "api". */
  service: string;
  /** The deployment's environment name (PIPELINE_ENV; "local" off AWS). */
  environment: string;
  /** Default: this process's (processOutputFormat); pretty prints no documents. */
  output?: OutputFormat;
  /**
   * These metrics are also emitted, each value at once, with an InstanceId dimension added
   * ({ service, environment, InstanceId }): a CloudWatch alarm's EC2 action (lib/llmPower.ts)
   * only acts on a metric that names the instance ("any custom metrics that include the
   * InstanceId= dimension": docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
   * UsingAlarmActions.html).
   */
  perInstance?: { instanceId: string; names: readonly string[] };
}

const UNITS = {
  Count: MetricUnit.Count,
  Milliseconds: MetricUnit.Milliseconds,
  Seconds: MetricUnit.Seconds,
} as const;

export interface EmfMetrics extends Metrics {
  /** The underlying Powertools instance (for its middy middleware, if a handler wants it). */
  readonly powertools: PowertoolsMetrics;
}

export function createEmfMetrics(options: EmfMetricsOptions): EmfMetrics {
  const powertools = new PowertoolsMetrics({
    namespace: METRIC_NAMESPACE,
    serviceName: options.service,
    defaultDimensions: { environment: options.environment },
  });
  if ((options.output ?? processOutputFormat()).format === "pretty") {
    return { powertools, add() {}, flush() {} };
  }
  let stored = false;
  return {
    powertools,
    add(name, unit, value) {
      // Powertools writes a document by itself once a metric holds 100 values.
      powertools.addMetric(name, UNITS[unit], value);
      stored = true;
      const perInstance = options.perInstance;
      if (perInstance?.names.includes(name)) {
        // A single metric is written as its own document when added.
        const single = powertools.singleMetric();
        single.addDimension("InstanceId", perInstance.instanceId);
        single.addMetric(name, UNITS[unit], value);
      }
    },
    flush() {
      // Powertools warns on an empty flush; an idle loop's flush is not worth a warning.
      if (!stored) return;
      stored = false;
      powertools.publishStoredMetrics();
    },
  };
}
