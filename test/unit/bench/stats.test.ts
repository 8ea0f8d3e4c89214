import { describe, expect, it } from "vitest";
import {
  distribution,
  median,
  percentile,
  perSecond,
  poissonArrivals,
  round,
} from "../../../bench/support/stats";

describe("median", () => {
  it("takes the middle value, or the mean of the two middle ones, whatever the order", () => {
    // Act
    const odd = median([15_000, 9_000, 12_000]);
    const even = median([4, 1, 3, 2]);

    // Assess
    expect([odd, even]).toEqual([12_000, 2.5]);
    expect(() => median([])).toThrow(RangeError);
  });
});

describe("percentile", () => {
  it("takes the nearest rank, so every reported value was observed", () => {
    // Prepare
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100

    // Act
    const p50 = percentile(sorted, 50);
    const p95 = percentile(sorted, 95);
    const p99 = percentile(sorted, 99);
    const p100 = percentile(sorted, 100);

    // Assess
    expect([p50, p95, p99, p100]).toEqual([50, 95, 99, 100]);
  });

  it("rounds the rank up on small samples", () => {
    // Prepare
    const sorted = [10, 20, 30];

    // Act
    const p50 = percentile(sorted, 50);
    const p95 = percentile(sorted, 95);
    const p0 = percentile(sorted, 0);

    // Assess: rank ceil(1.5) = 2, ceil(2.85) = 3, and p0 is the minimum.
    expect([p50, p95, p0]).toEqual([20, 30, 10]);
  });

  it("refuses an empty sample and a percentile outside 0..100", () => {
    // Prepare
    const sorted = [1, 2, 3];

    // Act
    const empty = () => percentile([], 50);
    const tooHigh = () => percentile(sorted, 101);
    const notANumber = () => percentile(sorted, Number.NaN);

    // Assess
    expect(empty).toThrow(/empty sample/);
    expect(tooHigh).toThrow(/0\.\.100/);
    expect(notANumber).toThrow(/0\.\.100/);
  });
});

describe("distribution", () => {
  it("sorts its input and summarises it without changing it", () => {
    // Prepare
    const values = [5, 1, 4, 2, 3];

    // Act
    const summary = distribution(values);

    // Assess
    expect(summary).toEqual({ count: 5, min: 1, p50: 3, p95: 5, p99: 5, max: 5, mean: 3 });
    expect(values).toEqual([5, 1, 4, 2, 3]);
  });
});

describe("perSecond", () => {
  it("turns a count over milliseconds into a rate", () => {
    // Prepare
    const count = 10_000;

    // Act
    const rate = perSecond(count, 2_500);

    // Assess
    expect(rate).toBe(4_000);
  });

  it("is zero when nothing happened and refuses a non-positive duration otherwise", () => {
    // Prepare
    const nothing = 0;

    // Act
    const idle = perSecond(nothing, 0);
    const instant = () => perSecond(5, 0);

    // Assess
    expect(idle).toBe(0);
    expect(instant).toThrow(/positive/);
  });
});

describe("round", () => {
  it("keeps the given number of decimals", () => {
    // Prepare
    const value = 1.23456;

    // Act
    const rounded = [round(value), round(value, 0), round(value, 3)];

    // Assess
    expect(rounded).toEqual([1.23, 1, 1.235]);
  });
});

describe("poissonArrivals", () => {
  it("spaces arrivals by exponential gaps and stops before the duration", () => {
    // Prepare: a constant draw of 1 - e^-1 makes every gap exactly 1 / rate seconds.
    const draw = 1 - Math.exp(-1);

    // Act
    const arrivals = poissonArrivals(2, 2_000, () => draw);

    // Assess: gaps of 500 ms; the one at 2000 ms is not before the end.
    expect(arrivals.map((at) => Math.round(at))).toEqual([500, 1000, 1500]);
  });

  it("averages about rate × duration arrivals", () => {
    // Prepare: a seeded generator, so the sample is the same on every run.
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };

    // Act
    const arrivals = poissonArrivals(5, 600_000, random);

    // Assess: 3000 expected; a Poisson count's standard deviation is sqrt(3000) ≈ 55.
    expect(arrivals.length).toBeGreaterThan(2_800);
    expect(arrivals.length).toBeLessThan(3_200);
    expect(arrivals.every((at, i) => i === 0 || at > (arrivals[i - 1] as number))).toBe(true);
  });
});
