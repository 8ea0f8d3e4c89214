import { describe, expect, it } from "vitest";
import type { BackoffPolicy } from "../../../functions/core/backoff";
import { decideOutcome } from "../../../functions/core/executor/retryRules";
import type { Task } from "../../../functions/core/tasks/model";

const NOW = Date.parse("2026-11-25T00:00:00Z");
const policy: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000, jitter: "none" };
const random = () => 0.5;

const task = (attempts: number, maxAttempts = 3) =>
  ({ id: "t1", attempts, maxAttempts }) as Pick<Task, "id" | "attempts" | "maxAttempts"> as Task;

describe("decideOutcome: the retry rules (docs/design.md)", () => {
  it("writes a completed attempt's result", () => {
    const result = { model: "m", usage: { promptTokens: 1, completionTokens: 2 }, durationMs: 3 };
    expect(decideOutcome(task(1), { kind: "completed", result }, NOW, policy, random)).toEqual({
      id: "t1",
      status: "completed",
      result,
    });
  });

  it("retries a retryable failure after the backoff while attempts remain", () => {
    // Act
    const second = decideOutcome(
      task(2),
      { kind: "failed", error: "503", retryable: true },
      NOW,
      policy,
      random,
    );

    // Assess: attempt 2's ceiling is base * 2 with no jitter
    expect(second).toEqual({
      id: "t1",
      status: "pending",
      error: "503",
      runAt: new Date(NOW + 2_000),
    });
  });

  it("fails a retryable failure out of attempts, saying it gave up", () => {
    expect(
      decideOutcome(
        task(3),
        { kind: "failed", error: "503", retryable: true },
        NOW,
        policy,
        random,
      ),
    ).toEqual({
      id: "t1",
      status: "failed",
      error: "503 (gave up after 3 attempts)",
    });
  });

  it("fails a permanent failure at once, attempts left or not", () => {
    expect(
      decideOutcome(
        task(1),
        { kind: "failed", error: "model not found", retryable: false },
        NOW,
        policy,
        random,
      ),
    ).toEqual({ id: "t1", status: "failed", error: "model not found" });
  });

  it("gives an attempt interrupted at the deadline back at once, or fails it out of attempts", () => {
    expect(
      decideOutcome(task(1), { kind: "interrupted", error: "deadline" }, NOW, policy, random),
    ).toEqual({
      id: "t1",
      status: "pending",
      error: "deadline",
      runAt: new Date(NOW),
    });
    expect(
      decideOutcome(task(3), { kind: "interrupted", error: "deadline" }, NOW, policy, random),
    ).toEqual({
      id: "t1",
      status: "failed",
      error: "deadline (attempt 3 of 3)",
    });
  });

  it("cancels a cancelled attempt and writes nothing for an abandoned one", () => {
    expect(decideOutcome(task(1), { kind: "cancelled" }, NOW, policy, random)).toEqual({
      id: "t1",
      status: "cancelled",
    });
    expect(decideOutcome(task(1), { kind: "abandoned" }, NOW, policy, random)).toBeUndefined();
  });
});
