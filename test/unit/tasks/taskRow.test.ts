import { describe, expect, it } from "vitest";
import { rowToSettledTask, rowToTask, TASK_COLUMNS } from "../../../functions/core/tasks/taskRow";
import { aTask } from "../../support/taskFixture";

/**
 * The row decoder: a row of the right types decodes without zod's per-field cost, and
 * the result is the same; anything else still goes through zod, which names the column.
 */

const at = new Date("2026-11-29T03:20:49.123Z");

/** A row as the pg adapter returns one (snake_case, Dates, objects for jsonb). */
function row(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const task = aTask(
    {
      status: "in_progress",
      attempts: 1,
      leaseOwner: "w1",
      leaseExpiresAt: at,
      startedAt: at,
      firstDueAt: at,
      firstStartedAt: at,
    },
    at,
  );
  return {
    ...Object.fromEntries(TASK_COLUMNS.map(([field, c]) => [c.sql, task[field]])),
    ...overrides,
  };
}

describe("rowToTask", () => {
  it("maps every column to its field, a missing jsonb to null", () => {
    // Prepare
    const input = row({ result: undefined });

    // Act
    const task = rowToTask(input);

    // Assess
    expect(task).toMatchObject({
      id: input.id,
      runAt: at,
      maxAttempts: 3,
      leaseOwner: "w1",
      cancelRequested: false,
      result: null,
      firstStartedAt: at,
    });
    expect(Object.keys(task)).toHaveLength(TASK_COLUMNS.length);
  });

  it("decodes a reported progress, and checks it", () => {
    expect(rowToTask(row({ progress: { step: "map", done: 2, total: 5 } })).progress).toEqual({
      step: "map",
      done: 2,
      total: 5,
    });
    expect(() => rowToTask(row({ progress: { step: "map", done: -1, total: 5 } }))).toThrow(
      /progress/,
    );
  });

  it.each([
    ["run_at", "2026-11-29 03:20:49+00"],
    ["run_at", new Date(Number.NaN)],
    ["attempts", "1"],
    ["attempts", 1.5],
    ["status", "running"],
    ["cancel_requested", "false"],
    ["owner", null],
    ["id", undefined],
  ])("refuses %s = %j, naming the column", (column, value) => {
    expect(() => rowToTask(row({ [column]: value }))).toThrow(new RegExp(column));
  });
});

describe("rowToSettledTask", () => {
  it("keeps the id and the columns that change after a claim, and checks them", () => {
    // Prepare: a settled row as sync returns it, every other column a typed NULL
    const settled = row({
      status: "completed",
      lease_owner: null,
      lease_expires_at: null,
      completed_at: at,
    });

    // Act
    const task = rowToSettledTask(settled);

    // Assess
    expect(Object.keys(task).sort()).toEqual(
      [
        "id",
        "status",
        "runAt",
        "leaseOwner",
        "leaseExpiresAt",
        "cancelRequested",
        "error",
        "progress",
        "updatedAt",
        "completedAt",
      ].sort(),
    );
    expect(task).toMatchObject({ status: "completed", completedAt: at, leaseOwner: null });
    expect(() => rowToSettledTask({ ...settled, completed_at: "yesterday" })).toThrow(
      /completed_at/,
    );
  });
});
