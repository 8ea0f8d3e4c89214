import { describe, expect, it } from "vitest";
import type { FinishedAttempt } from "../../../functions/core/executor/inflight";
import { ExecutorMetrics } from "../../../functions/core/executor/metrics";
import { Recorder } from "../../../functions/core/executor/recorder";
import { SyncReport } from "../../../functions/core/executor/syncReport";
import type { SettledTask, Task } from "../../../functions/core/tasks/model";
import type { LogFields, MetricUnit } from "../../../functions/core/telemetry/ports";
import { aTask } from "../../support/taskFixture";

/** A written outcome is one log line at info (failed: warn), counted and measured once. */

const at = new Date(Date.UTC(2026, 10, 28, 12));
const row = (id: string, status: Task["status"], fields: Partial<Task> = {}): Task =>
  aTask(
    { id, status, attempts: 1, startedAt: at, firstDueAt: at, firstStartedAt: at, ...fields },
    at,
  );
const finished = (task: Task, runMs: number): FinishedAttempt => ({
  task,
  outcome: { id: task.id, status: "cancelled" },
  end: { kind: "cancelled" },
  runMs,
});

const silentReport = () =>
  new SyncReport({
    recorder: new Recorder(new ExecutorMetrics({ add() {}, flush() {} })),
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    notifyFailed() {},
  });

describe("SyncReport", () => {
  it("returns each written task as its row now is: the task as claimed, with the settled columns over it", () => {
    // Prepare: t1 settled (and was asked to cancel meanwhile); t2's lease was lost
    const claimed = row("t1", "in_progress", {
      leaseOwner: "w1",
      leaseExpiresAt: new Date(at.getTime() + 60_000),
      input: { prompt: "hi" },
    });
    const lost = row("t2", "in_progress", { leaseOwner: "w1", leaseExpiresAt: at });
    const done = new Date(at.getTime() + 5_000);
    const settledRow: SettledTask = {
      id: "t1",
      status: "completed",
      error: null,
      runAt: at,
      completedAt: done,
      updatedAt: done,
      leaseOwner: null,
      leaseExpiresAt: null,
      cancelRequested: true,
      progress: { step: "map", done: 2, total: 2 },
    };

    // Act
    const written = silentReport().settled(
      [finished(claimed, 5_000), finished(lost, 5_000)],
      [settledRow],
    );

    // Assess
    expect(written).toEqual([{ ...claimed, ...settledRow }]);
    expect(written[0]).toMatchObject({
      type: "summarize",
      input: { prompt: "hi" },
      attempts: 1,
      status: "completed",
      leaseOwner: null,
      cancelRequested: true,
    });
  });

  it("logs each task outcome once, at info (failed at warn, with its reason), and counts it with its metric", () => {
    // Prepare
    const lines: { level: string; message: string; fields?: LogFields }[] = [];
    const log = (level: string) => (message: string, fields?: LogFields) =>
      lines.push({ level, message, fields });
    const points: { name: string; unit: MetricUnit; value: number }[] = [];
    const recorder = new Recorder(
      new ExecutorMetrics({
        add: (name, unit, value) => points.push({ name, unit, value }),
        flush() {},
      }),
    );
    const notified: Task[][] = [];
    const report = new SyncReport({
      recorder,
      logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
      notifyFailed: (failed) => notified.push([...failed]),
    });
    const rows = [
      row("t1", "completed"),
      row("t2", "pending", { error: "Ollama unreachable", runAt: new Date(at.getTime() + 2_000) }),
      row("t3", "failed", { error: "input does not fit" }),
      row("t4", "cancelled"),
    ];

    // Act
    report.settled(
      rows.map((r, i) => finished(r, 100 * (i + 1))),
      rows,
    );

    // Assess
    expect(lines.map((l) => [l.level, l.message, l.fields?.taskId])).toEqual([
      ["info", "task completed", "t1"],
      ["info", "task will be retried", "t2"],
      ["warn", "task failed", "t3"],
      ["info", "task cancelled", "t4"],
    ]);
    expect(lines[0]?.fields).toMatchObject({ type: "summarize", runMs: 100 });
    expect(lines[1]?.fields).toMatchObject({ error: "Ollama unreachable", runAt: rows[1]?.runAt });
    expect(lines[2]?.fields).toMatchObject({ error: "input does not fit" });
    expect(recorder.counts).toMatchObject({ completed: 1, retried: 1, failed: 1, cancelled: 1 });
    for (const name of ["TasksCompleted", "TasksRetried", "TasksFailed", "TasksCancelled"]) {
      expect(points.filter((p) => p.name === name).map((p) => p.value)).toEqual([1]);
    }
    expect(notified.map((batch) => batch.map((t) => t.id))).toEqual([["t3"]]);
  });
});
