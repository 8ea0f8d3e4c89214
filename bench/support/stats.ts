/**
 * The few statistics the benchmarks report: nearest-rank percentiles (a reported p95 is a
 * value that was actually observed, never an interpolation between two) and rates.
 */

export interface Distribution {
  count: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of `sorted` (ascending): the smallest value with at least p% at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError("percentile of an empty sample");
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100 (got ${p})`);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) throw new RangeError("distribution of an empty sample");
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    min: sorted[0] as number,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] as number,
    mean: sum / sorted.length,
  };
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median of an empty sample");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The item with the highest score (the first of equals); `items` must not be empty. */
export function bestOf<T>(items: readonly T[], score: (item: T) => number): T {
  return items.reduce((best, item) => (score(item) > score(best) ? item : best));
}

/** Events per second over `elapsedMs`; 0 when nothing happened. */
export function perSecond(count: number, elapsedMs: number): number {
  if (count === 0) return 0;
  if (!(elapsedMs > 0)) throw new RangeError(`elapsed time must be positive (got ${elapsedMs})`);
  return (count * 1000) / elapsedMs;
}

/** Rounds for display and JSON: figures with more digits than this only add noise. */
export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * Arrival times (ms from the start) of a Poisson process of `ratePerSecond` over
 * `durationMs`: independent, exponentially distributed gaps, so tasks land at every phase
 * of the executor's poll cycle. `random` is injectable so tests are deterministic.
 */
export function poissonArrivals(
  ratePerSecond: number,
  durationMs: number,
  random: () => number = Math.random,
): number[] {
  if (!(ratePerSecond > 0)) throw new RangeError("arrival rate must be positive");
  const arrivals: number[] = [];
  let at = 0;
  for (;;) {
    at += (-Math.log(1 - random()) / ratePerSecond) * 1000;
    if (at >= durationMs) return arrivals;
    arrivals.push(at);
  }
}
