import { describe, expect, it } from "vitest";
import type { Clock } from "../../../functions/core/clock";
import { TaskCancelledError } from "../../../functions/core/errors";
import { noFailedTaskNotifier } from "../../../functions/core/executor/failedTasks";
import { type ExecutorDeps, runExecutor } from "../../../functions/core/executor/loop";
import type {
  SyncRequest,
  SyncResult,
  Task,
  TaskRepository,
} from "../../../functions/core/tasks/model";
import type { TaskTypeRegistry } from "../../../functions/core/taskTypes/registry";
import { noMetrics, silentLogger } from "../../../functions/core/telemetry/ports";
import { aTask } from "../../support/taskFixture";

/**
 * The loop's scheduling against a scripted repository and a virtual clock: what it asks
 * the database, and when, without a database or real time.
 */

/** Time moves only when the loop sleeps (an interrupted sleep moves it by nothing). */
function virtualClock(): Clock & { t: number } {
  const clock = {
    t: 1_000_000,
    now: () => clock.t,
    async sleep(ms: number, signal?: AbortSignal) {
      await Promise.resolve();
      if (!signal?.aborted) clock.t += ms;
    },
  };
  return clock;
}

function claimedTask(id: string, clock: Clock): Task {
  const now = new Date(clock.now());
  return aTask(
    {
      id,
      status: "in_progress",
      attempts: 1,
      leaseOwner: "w",
      leaseExpiresAt: now,
      startedAt: now,
      firstDueAt: now,
      firstStartedAt: now,
    },
    now,
  );
}

/** A repository whose sync answers come from `answer`; everything else is unused. */
function scriptedTasks(answer: (request: SyncRequest) => Partial<SyncResult>) {
  const syncs: SyncRequest[] = [];
  let statsCalls = 0;
  const unused = () => {
    throw new Error("not used by the executor");
  };
  const tasks: TaskRepository = {
    create: unused,
    createBatch: unused,
    get: unused,
    list: unused,
    cancel: unused,
    retry: unused,
    stats: unused,
    nextDueAt: unused,
    async cancelRequests() {
      return [];
    },
    async queueState() {
      statsCalls++;
      return { queueDepth: 0, oldestPendingAgeSeconds: null };
    },
    async deleteExpired() {
      return [];
    },
    async sync(request) {
      syncs.push({
        ...request,
        outcomes: [...request.outcomes],
        heartbeatIds: [...request.heartbeatIds],
      });
      return { settled: [], leases: [], claimed: [], recovered: [], ...answer(request) };
    },
  };
  return { tasks, syncs, statsCalls: () => statsCalls };
}

function deps(
  tasks: TaskRepository,
  clock: Clock,
  registry: Pick<TaskTypeRegistry, "run">,
  trigger?: ExecutorDeps["trigger"],
): ExecutorDeps {
  return {
    ...(trigger ? { trigger } : {}),
    tasks,
    registry,
    llm: {} as ExecutorDeps["llm"],
    clock,
    logger: silentLogger,
    metrics: noMetrics,
    notifier: noFailedTaskNotifier,
    settings: {
      LEASE_SECONDS: 60,
      MAX_CONCURRENCY: 4,
      POLL_INTERVAL_MS: 5_000,
      RETRY_BASE_MS: 2_000,
      RETRY_MAX_MS: 300_000,
      RETENTION_SECONDS: 2_592_000,
      OLLAMA_CONTEXT_LENGTH: 8_192,
      OLLAMA_CONTEXT_LENGTHS: {},
      LLM_TIMEOUT_MS: 120_000,
      OLLAMA_MODELS: ["llama3.2"],
    },
    workerId: "w",
  };
}

const neverRuns: Pick<TaskTypeRegistry, "run"> = {
  run: () => Promise.reject(new Error("no task expected")),
};

describe("runExecutor scheduling", () => {
  it("makes at most 13 statements in an idle minute: a poll every 5 s and one stats read", async () => {
    // Prepare: claim for exactly one minute (budget = 60 s + the 123 s reserve).
    const clock = virtualClock();
    const repo = scriptedTasks(() => ({}));

    // Act
    const summary = await runExecutor(deps(repo.tasks, clock, neverRuns), 60_000 + 123_000);

    // Assess
    expect(repo.syncs.length + repo.statsCalls()).toBeLessThanOrEqual(13);
    expect(repo.syncs.length).toBe(12);
    expect(repo.statsCalls()).toBe(1);
    expect(repo.syncs.every((s) => s.claimLimit === 4 && s.outcomes.length === 0)).toBe(true);
    expect(summary.idleMs).toBeGreaterThanOrEqual(55_000);
  });

  it("leaves the periodic work to the ticks when a wake starts it: no statistics read, no sweep before a whole interval", async () => {
    // Prepare: a wake's invocation that claims for 30 s and one a tick starts, alike.
    const woken = scriptedTasks(() => ({}));
    const ticked = scriptedTasks(() => ({}));
    let wokenSweeps = 0;
    let tickedSweeps = 0;
    woken.tasks.deleteExpired = async () => {
      wokenSweeps++;
      return [];
    };
    ticked.tasks.deleteExpired = async () => {
      tickedSweeps++;
      return [];
    };

    // Act
    await runExecutor(deps(woken.tasks, virtualClock(), neverRuns, "wake"), 30_000 + 123_000);
    await runExecutor(deps(ticked.tasks, virtualClock(), neverRuns, "tick"), 30_000 + 123_000);

    // Assess
    expect([woken.statsCalls(), wokenSweeps]).toEqual([0, 0]);
    expect([ticked.statsCalls(), tickedSweeps]).toEqual([1, 1]);
    expect(woken.syncs.length).toBe(ticked.syncs.length);
  });

  it("polls the same when the budget is a function it glances at every second", async () => {
    // Prepare
    const fixedClock = virtualClock();
    const fixedRepo = scriptedTasks(() => ({}));
    const fixed = await runExecutor(deps(fixedRepo.tasks, fixedClock, neverRuns), 183_000);
    const clock = virtualClock();
    const repo = scriptedTasks(() => ({}));
    const deadline = clock.now() + 183_000;

    // Act
    const summary = await runExecutor(
      deps(repo.tasks, clock, neverRuns),
      () => deadline - clock.now(),
    );

    // Assess
    expect(repo.syncs).toHaveLength(12);
    expect(summary.loops).toBe(fixed.loops);
  });

  it("aborts an attempt whose heartbeat comes back without it and writes nothing for it", async () => {
    // Prepare: one task claimed; its run waits until aborted.
    const clock = virtualClock();
    let aborts = 0;
    const registry: Pick<TaskTypeRegistry, "run"> = {
      run: (_name, _input, context) =>
        new Promise((_resolve, reject) => {
          context.signal.addEventListener("abort", () => {
            aborts++;
            reject(new TaskCancelledError());
          });
        }),
    };
    let claimed = false;
    const repo = scriptedTasks((request) => {
      if (!claimed && request.claimLimit > 0) {
        claimed = true;
        return { claimed: [claimedTask("00000000-0000-4000-8000-000000000001", clock)] };
      }
      return {}; // Every heartbeat: the lease is gone.
    });

    // Act: a short budget; the heartbeat falls due after 20 s (a third of the 60 s lease).
    const summary = await runExecutor(deps(repo.tasks, clock, registry), 123_000 + 30_000);

    // Assess
    expect(aborts).toBe(1);
    const heartbeats = repo.syncs.filter((s) => s.heartbeatIds.length > 0);
    expect(heartbeats).toHaveLength(1);
    expect(repo.syncs.every((s) => s.outcomes.length === 0)).toBe(true);
    expect(summary).toMatchObject({
      claimed: 1,
      leaseLost: 1,
      completed: 0,
      cancelled: 0,
      unsettled: 0,
    });
  });

  it("turns cancel_requested on a heartbeat into an abort and a cancelled outcome", async () => {
    // Prepare
    const clock = virtualClock();
    const id = "00000000-0000-4000-8000-000000000002";
    const registry: Pick<TaskTypeRegistry, "run"> = {
      run: (_name, _input, context) =>
        new Promise((_resolve, reject) => {
          context.signal.addEventListener("abort", () => reject(new TaskCancelledError()));
        }),
    };
    let claimed = false;
    const repo = scriptedTasks((request) => {
      if (!claimed && request.claimLimit > 0) {
        claimed = true;
        return { claimed: [claimedTask(id, clock)] };
      }
      return { leases: request.heartbeatIds.map((hid) => ({ id: hid, cancelRequested: true })) };
    });

    // Act
    await runExecutor(deps(repo.tasks, clock, registry), 123_000 + 30_000);

    // Assess: the outcome rides the next sync, and the id is not heartbeated with it.
    const withOutcome = repo.syncs.filter((s) => s.outcomes.length > 0);
    expect(withOutcome).toHaveLength(1);
    expect(withOutcome[0]?.outcomes).toEqual([{ id, status: "cancelled" }]);
    expect(withOutcome[0]?.heartbeatIds).toEqual([]);
  });
});
