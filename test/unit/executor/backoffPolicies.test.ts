import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffCeiling, backoffDelay } from "../../../functions/core/backoff";
import {
  databaseBackoffPolicy,
  taskRetryPolicy,
} from "../../../functions/core/executor/backoffPolicies";

describe("backoffDelay", () => {
  it("doubles from the base up to the cap", () => {
    // Prepare
    const policy = { baseMs: 100, maxMs: 1_000, jitter: "none" as const };

    // Act
    const delays = [1, 2, 3, 4, 5, 6, 60, 5_000].map((attempt) => backoffDelay(policy, attempt));

    // Assess
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000]);
  });

  it("keeps full jitter in [0, ceiling) and equal jitter in [ceiling/2, ceiling]", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 80 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (baseMs, extra, attempt, r) => {
          // Prepare
          const policy = { baseMs, maxMs: baseMs + extra };
          const ceiling = backoffCeiling({ ...policy, jitter: "none" }, attempt);

          // Act
          const full = backoffDelay({ ...policy, jitter: "full" }, attempt, () => r);
          const equal = backoffDelay({ ...policy, jitter: "equal" }, attempt, () => r);

          // Assess
          expect(ceiling).toBeLessThanOrEqual(policy.maxMs);
          expect(full).toBeGreaterThanOrEqual(0);
          expect(full).toBeLessThan(Math.max(1, ceiling));
          expect(equal).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          expect(equal).toBeLessThanOrEqual(ceiling);
        },
      ),
    );
  });

  it("never waits less after a later attempt with equal jitter, whatever the random draws", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 0, max: 500_000 }),
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (baseMs, extra, attempt, r1, r2) => {
          // Prepare
          const policy = { baseMs, maxMs: baseMs + extra, jitter: "equal" as const };

          // Act
          const before = backoffDelay(policy, attempt, () => r1);
          const after = backoffDelay(policy, attempt + 1, () => r2);

          // Assess: below the cap the next floor is this ceiling; at the cap both share it.
          if (backoffCeiling(policy, attempt + 1) < policy.maxMs) {
            expect(after).toBeGreaterThanOrEqual(before);
          } else {
            expect(after).toBeGreaterThanOrEqual(Math.floor(policy.maxMs / 2));
          }
        },
      ),
    );
  });

  it("takes the task retry policy from RETRY_BASE_MS and RETRY_MAX_MS", () => {
    // Act
    const policy = taskRetryPolicy({ RETRY_BASE_MS: 2_000, RETRY_MAX_MS: 300_000 });

    // Assess
    expect(policy).toEqual({ baseMs: 2_000, maxMs: 300_000, jitter: "equal" });
    expect(backoffCeiling(policy, 3)).toBe(8_000);
    expect(backoffCeiling(policy, 20)).toBe(300_000);
  });

  it("backs off from database outages up to 5 s, or the heartbeat interval when shorter", () => {
    // Act
    const production = databaseBackoffPolicy({ LEASE_SECONDS: 60 });
    const shortLease = databaseBackoffPolicy({ LEASE_SECONDS: 3 });

    // Assess
    expect(production).toEqual({ baseMs: 250, maxMs: 5_000, jitter: "equal" });
    expect(shortLease).toEqual({ baseMs: 250, maxMs: 1_000, jitter: "equal" });
  });
});
