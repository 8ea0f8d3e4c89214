/**
 * One invocation's loop state and steps: the in-flight set, the deadlines, the sync
 * backoff and the reporting, each in its own module, put together here. runExecutor
 * (./loop.ts) drives it one turn at a time.
 *
 * Every round trip to the database is ONE `tasks.sync` statement that writes finished
 * outcomes, extends due leases (reading cancel flags) and claims into free slots. A sync
 * runs when there is something to say: an attempt finished (so a freed slot is refilled at
 * once: the LLM server is the bottleneck), a heartbeat is due (every third of the lease),
 * or a poll is due (POLL_INTERVAL_MS after a claim that found the queue empty). Outcomes
 * that finish while a sync is in flight ride the next one, which keeps the statements per
 * task near 1 (one statement settles one task and claims the next).
 */

import type { BackoffPolicy } from "../backoff";
import type { Clock } from "../clock";
import { contextLengthOf } from "../llm/models";
import type { SyncResult, Task } from "../tasks/model";
import { type AttemptEnd, runAttempt } from "./attempt";
import { BackgroundWork } from "./background";
import { databaseBackoffPolicy, taskRetryPolicy } from "./backoffPolicies";
import { CancelWatch } from "./cancelWatch";
import { BUDGET_CHECK_MS, type Deadlines } from "./deadlines";
import { idleStep } from "./idle";
import { InFlight, type RunningAttempt } from "./inflight";
import { LlmGate } from "./llmGate";
import type { ExecutorDeps, ExecutorTuning } from "./loop";
import { ExecutorMetrics } from "./metrics";
import { Recorder } from "./recorder";
import { RetentionSweep } from "./retention";
import { decideOutcome } from "./retryRules";
import { SyncBackoff } from "./syncBackoff";
import { SyncReport } from "./syncReport";

export class ExecutorRun {
  readonly inflight = new InFlight();
  readonly recorder: Recorder;
  readonly backoff: SyncBackoff;
  private readonly report: SyncReport;
  private readonly retention: RetentionSweep;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly retryPolicy: BackoffPolicy;
  private readonly heartbeatEveryMs: number;
  /** Notifications and stats queries: not awaited by the loop, awaited before returning. */
  private readonly background: BackgroundWork;
  /** Woken (aborted) when an attempt finishes or the caller stops us; renewed before a wait. */
  private wake = new AbortController();
  private nextClaimAtMs: number;
  private nextStatsAtMs: number;
  private lastFlushMs: number;
  private loopsFlushed = 0;
  private stoppedClaiming = false;
  /** The last wait only looked at the budget function: not a turn of the loop worth counting. */
  private budgetGlance = false;
  /** The last claim found nothing and nothing runs: time to ask whether to stop (./idle.ts). */
  private idleCandidate = false;
  /** While the LLM gate is closed, whether to stop was asked once already. */
  private askedIdleWhileClosed = false;
  private readonly cancelWatch: CancelWatch;
  private readonly gate: LlmGate;

  constructor(
    private readonly deps: ExecutorDeps,
    private readonly tuning: ExecutorTuning,
    readonly deadlines: Deadlines,
    readonly startMs: number,
  ) {
    this.clock = deps.clock;
    this.random = deps.random ?? Math.random;
    this.retryPolicy = taskRetryPolicy(deps.settings);
    this.heartbeatEveryMs = (deps.settings.LEASE_SECONDS * 1000) / 3;
    this.recorder = new Recorder(new ExecutorMetrics(deps.metrics));
    this.background = new BackgroundWork(deps, this.recorder);
    this.backoff = new SyncBackoff(databaseBackoffPolicy(deps.settings), this.random, startMs);
    this.report = new SyncReport({
      recorder: this.recorder,
      logger: deps.logger,
      notifyFailed: (failed) => this.background.notifyFailed(failed),
    });
    // A tick does the periodic work at once; a wake leaves it to the ticks (see loop.ts).
    const periodicFrom = (intervalMs: number) =>
      deps.trigger === "wake" ? startMs + intervalMs : startMs;
    this.cancelWatch = new CancelWatch(deps, tuning.cancelCheckMs, startMs);
    this.gate = new LlmGate(
      deps.llmProbe,
      deps.logger,
      tuning.llmRetryMs,
      deps.llmStarter,
      tuning.llmStartEveryMs,
    );
    this.retention = new RetentionSweep(
      {
        tasks: deps.tasks,
        logger: deps.logger,
        recorder: this.recorder,
        retentionSeconds: deps.settings.RETENTION_SECONDS,
        intervalMs: tuning.retentionIntervalMs,
      },
      periodicFrom(tuning.retentionIntervalMs),
    );
    this.nextClaimAtMs = Math.max(startMs, deps.firstClaimAtMs ?? startMs);
    this.nextStatsAtMs = periodicFrom(tuning.statsIntervalMs);
    this.lastFlushMs = startMs;
  }

  /**
   * Every finished attempt calls it: abort() builds its DOMException reason even on a signal
   * already aborted, which cost 8 % of the executor's CPU draining 10,000 no-op tasks.
   */
  readonly wakeUp = () => {
    if (!this.wake.signal.aborted) this.wake.abort();
  };

  /** One turn: false once the invocation is done (nothing running, or out of time). */
  async turn(): Promise<boolean> {
    if (this.wake.signal.aborted) this.wake = new AbortController();
    const { deadlines, inflight, deps } = this;
    const nowMs = this.clock.now();
    deadlines.refresh(nowMs);
    const stopRequested = deps.signal?.aborted === true;
    const claiming = nowMs < deadlines.claimUntilMs && !stopRequested;
    if (!claiming) this.noteStoppedClaiming(stopRequested, nowMs);
    if ((nowMs >= deadlines.abortAtMs || stopRequested) && inflight.runningCount > 0) {
      inflight.abortAll("deadline");
    }
    if (!claiming && inflight.runningCount === 0 && inflight.finishedCount === 0) return false;
    if (nowMs >= deadlines.giveUpAtMs) return false;

    if (!this.budgetGlance) this.recorder.count("loops");
    this.budgetGlance = false;
    this.periodic(nowMs);

    const freeSlots = claiming
      ? Math.max(0, deps.settings.MAX_CONCURRENCY - inflight.runningCount)
      : 0;
    // No claim while the LLM server does not answer: tasks wait instead of failing.
    if (freeSlots > 0 && (await this.gate.probeIfDue(nowMs))) {
      // A silent server with nothing due is no reason to stay: ask once whether to stop.
      if (!this.gate.open && !this.askedIdleWhileClosed) {
        this.askedIdleWhileClosed = true;
        this.idleCandidate = inflight.runningCount === 0 && inflight.finishedCount === 0;
      }
      return this.idleCandidate ? this.idleTurn(nowMs) : true;
    }
    const heartbeatIds = inflight.heartbeatsDue(nowMs, this.heartbeatEveryMs);
    const claimDue = freeSlots > 0 && nowMs >= this.nextClaimAtMs && this.gate.open;
    const hasWork = inflight.finishedCount > 0 || heartbeatIds.length > 0 || claimDue;
    const databaseUp = nowMs >= this.backoff.nextSyncAtMs;
    if (hasWork && databaseUp) {
      // A sync that settles outcomes or heartbeats claims too, but only through an open
      // gate: a failed attempt made it unknown, and a claim before the probe would hand the
      // next tasks to a server that is gone (each burning an attempt).
      await this.sync(this.gate.open ? freeSlots : 0, heartbeatIds);
    } else if (databaseUp && nowMs >= this.cancelWatch.nextAt(inflight)) {
      await this.cancelWatch.check(inflight, nowMs);
    } else if (this.idleCandidate && databaseUp) {
      return this.idleTurn(nowMs);
    } else {
      await this.waitForNext(nowMs, claiming, freeSlots);
    }
    return true;
  }

  /** The last claim found nothing and nothing runs: stop, or claim when work falls due. */
  private async idleTurn(nowMs: number): Promise<boolean> {
    this.idleCandidate = false;
    const { deps, inflight } = this;
    if (!deps.dueMarker || inflight.runningCount > 0 || inflight.finishedCount > 0) return true;
    const next = await idleStep({ ...deps, marker: deps.dueMarker }, nowMs, () =>
      this.recorder.count("databaseErrors"),
    );
    if (next === "stop") return false;
    if (next !== null) this.nextClaimAtMs = Math.min(this.nextClaimAtMs, Math.max(nowMs, next));
    return true;
  }

  /** Retention and the queue statistics once their interval, metrics out once a flush interval. */
  private periodic(nowMs: number): void {
    const sweep = this.retention.due(nowMs);
    if (sweep) this.background.add(sweep);
    if (this.backoff.failures === 0 && nowMs >= this.nextStatsAtMs) {
      this.nextStatsAtMs = nowMs + this.tuning.statsIntervalMs;
      this.background.readQueueStats();
    }
    if (nowMs - this.lastFlushMs >= this.tuning.metricsFlushIntervalMs) {
      this.flushMetrics();
      this.lastFlushMs = nowMs;
    }
  }

  flushMetrics(): void {
    const { metrics, counts } = this.recorder;
    metrics.count("executorLoops", counts.loops - this.loopsFlushed);
    this.loopsFlushed = counts.loops;
    metrics.flush();
  }

  /** Nothing to say yet: wait for whichever comes first. */
  private async waitForNext(nowMs: number, claiming: boolean, freeSlots: number): Promise<void> {
    const { deadlines, inflight } = this;
    let wakeAtMs = Math.min(
      inflight.finishedCount > 0 ? nowMs : Number.POSITIVE_INFINITY,
      inflight.nextHeartbeatAt(this.heartbeatEveryMs),
      freeSlots > 0 ? this.gate.claimableAt(this.nextClaimAtMs) : Number.POSITIVE_INFINITY,
      this.cancelWatch.nextAt(inflight),
    );
    wakeAtMs = Math.max(wakeAtMs, this.backoff.nextSyncAtMs);
    if (claiming) wakeAtMs = Math.min(wakeAtMs, deadlines.claimUntilMs);
    if (inflight.runningCount > 0 && nowMs < deadlines.abortAtMs) {
      wakeAtMs = Math.min(wakeAtMs, deadlines.abortAtMs);
    }
    wakeAtMs = Math.min(wakeAtMs, deadlines.giveUpAtMs);
    const glanceOnly = deadlines.watched && nowMs + BUDGET_CHECK_MS < wakeAtMs;
    if (glanceOnly) wakeAtMs = nowMs + BUDGET_CHECK_MS;
    const idle = inflight.runningCount === 0;
    await this.clock.sleep(Math.max(1, wakeAtMs - nowMs), this.wake.signal);
    this.budgetGlance = glanceOnly && !this.wake.signal.aborted;
    if (idle) this.recorder.idle(this.clock.now() - nowMs);
  }

  private noteStoppedClaiming(stopRequested: boolean, nowMs: number): void {
    if (this.stoppedClaiming) return;
    this.stoppedClaiming = true;
    this.deps.logger.info("executor stopped claiming", {
      reason: stopRequested ? "stop requested" : "remaining budget below the reserve",
      remainingMs: this.deadlines.endMs - nowMs,
      running: this.inflight.runningCount,
    });
  }

  private async sync(claimLimit: number, heartbeatIds: readonly string[]): Promise<void> {
    const { deps, inflight } = this;
    const carried = inflight.pendingOutcomes();
    const sentAtMs = this.clock.now();
    this.recorder.count("syncs");
    let result: SyncResult;
    try {
      result = await deps.tasks.sync({
        workerId: deps.workerId,
        leaseSeconds: deps.settings.LEASE_SECONDS,
        outcomes: carried.map((finished) => finished.outcome),
        heartbeatIds,
        progress: inflight.progressOf(heartbeatIds),
        claimLimit,
        maxRunningPerOwner: deps.settings.MAX_RUNNING_PER_OWNER,
      });
    } catch (error) {
      this.recorder.count("databaseErrors");
      const retryInMs = this.backoff.failed(this.clock.now(), this.deadlines.giveUpAtMs);
      deps.logger.error("sync with the database failed; backing off", {
        error,
        consecutiveFailures: this.backoff.failures,
        retryInMs,
        outcomesBuffered: carried.length,
        running: inflight.runningCount,
      });
      return;
    }
    const afterFailures = this.backoff.succeeded();
    if (afterFailures > 0) deps.logger.info("database reachable again", { afterFailures });
    inflight.forget(carried.map((finished) => finished.task.id));
    const settled = this.report.settled(carried, result.settled);
    // Every row this sync changed, told to subscribers (never waited for).
    deps.events?.statusChanged([...settled, ...result.recovered, ...result.claimed]);
    this.inflight.recordLeases(heartbeatIds, result.leases, sentAtMs, deps.logger);
    this.report.recovered(result.recovered);
    this.recorder.count("claimed", result.claimed.length);
    this.recorder.metrics.pickups(result.claimed);
    for (const task of result.claimed) this.startAttempt(task, sentAtMs);
    this.idleCandidate =
      claimLimit > 0 &&
      result.claimed.length === 0 &&
      inflight.runningCount === 0 &&
      inflight.finishedCount === 0;
    if (claimLimit > 0) {
      // A short claim means the queue is drained: poll again later, or sooner when a
      // finishing attempt syncs anyway (every sync claims into the free slots). Counted from
      // when this claim was sent, so a cycle is the poll interval, not interval + round trip
      // (with the Data API's ~150 ms round trips that kept p95 pickup above a 1 s poll).
      this.nextClaimAtMs =
        result.claimed.length < claimLimit
          ? sentAtMs + deps.settings.POLL_INTERVAL_MS
          : this.clock.now();
    }
  }

  private startAttempt(task: Task, leaseSetAtMs: number): void {
    const { deps } = this;
    const running = this.inflight.start(task, this.clock.now(), leaseSetAtMs);
    // What keeps the LLM server's instance running (lib/llmPower.ts: its idle alarm).
    this.recorder.metrics.count("llmActivity");
    void runAttempt(task, {
      registry: deps.registry,
      llm: deps.llm,
      allowedModels: deps.settings.OLLAMA_MODELS,
      signal: running.controller.signal,
      contextTokens: contextLengthOf(task.model, deps.settings),
      onOutput: deps.events ? (delta) => deps.events?.output(task, delta) : undefined,
      onProgress: (progress) => {
        running.progress = progress;
        deps.events?.progress(task, progress);
      },
      checkpoint: deps.checkpoints?.forTask(task.id),
    })
      .then((end) => this.finishAttempt(running, end))
      .catch((error: unknown) => {
        // runAttempt never throws; should bookkeeping ever fail, the lease expires and
        // recovery hands the task out again, so it is logged rather than lost.
        deps.logger.error("attempt bookkeeping failed", { error, taskId: task.id });
      });
  }

  private finishAttempt(running: RunningAttempt, end: AttemptEnd): void {
    const nowMs = this.clock.now();
    const { task } = running;
    if (end.kind === "failed" && end.retryable) this.gate.suspect();
    const outcome = decideOutcome(task, end, nowMs, this.retryPolicy, this.random);
    if (outcome) {
      this.inflight.end(task.id, { task, outcome, end, runMs: nowMs - running.startedAtMs });
    } else {
      this.inflight.end(task.id, undefined);
      this.recorder.count("leaseLost");
      this.deps.logger.warn("attempt dropped: its lease was lost to another worker", {
        taskId: task.id,
      });
    }
    this.wakeUp();
  }

  /** Waits for notifications and statistics still under way. */
  settleBackground(): Promise<void> {
    return this.background.settle();
  }
}
