/**
 * What the core needs to report: a structured logger and metrics. The Lambdas pass
 * Powertools' Logger and an EMF metrics adapter; tests pass recorders.
 */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export type MetricUnit = "Count" | "Milliseconds" | "Seconds";

export interface Metrics {
  /** Adds one data point; points with the same name are aggregated per flush. */
  add(name: string, unit: MetricUnit, value: number): void;
  /** Writes what was added (as one EMF document in AWS) and starts over. */
  flush(): void;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

export const noMetrics: Metrics = {
  add() {},
  flush() {},
};
