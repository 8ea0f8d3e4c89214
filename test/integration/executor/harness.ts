import { afterAll, afterEach, beforeAll } from "vitest";
import { systemClock } from "../../../functions/core/clock";
import { DatabaseUnavailableError } from "../../../functions/core/errors";
import {
  type FailedTaskNotifier,
  noFailedTaskNotifier,
} from "../../../functions/core/executor/failedTasks";
import {
  type ExecutorBudget,
  type ExecutorDeps,
  type ExecutorLoopSettings,
  type ExecutorTuning,
  runExecutor,
} from "../../../functions/core/executor/loop";
import type { ExecutorSummary } from "../../../functions/core/executor/summary";
import { createLlmClient, type LlmClient } from "../../../functions/core/llm";
import type { SqlPort } from "../../../functions/core/sql/port";
import type {
  NewTask,
  SyncRequest,
  SyncResult,
  Task,
  TaskRepository,
} from "../../../functions/core/tasks/model";
import { TaskStore } from "../../../functions/core/tasks/store";
import { createTaskTypeRegistry } from "../../../functions/core/taskTypes/registry";
import type {
  LogFields,
  Logger,
  Metrics,
  MetricUnit,
} from "../../../functions/core/telemetry/ports";
import { type OllamaTestServer, startOllamaServer } from "../../../testkit/ollamaServer";
import { type TestDatabase, useTestDatabase } from "../../support/database";

/** Shared by the executor's integration tests: small settings, recorders, task factories. */

export const OWNER = "executor-test-owner";
export const MODEL = "llama3.2";

/** Small numbers so tests are quick; nothing asserts speed. */
export function testSettings(overrides: Partial<ExecutorLoopSettings> = {}): ExecutorLoopSettings {
  return {
    LEASE_SECONDS: 3,
    MAX_CONCURRENCY: 4,
    POLL_INTERVAL_MS: 100,
    RETRY_BASE_MS: 100,
    RETRY_MAX_MS: 2_000,
    RETENTION_SECONDS: 2_592_000,
    LLM_TIMEOUT_MS: 15_000,
    OLLAMA_MODELS: [MODEL],
    OLLAMA_CONTEXT_LENGTH: 8_192,
    OLLAMA_CONTEXT_LENGTHS: {},
    ...overrides,
  };
}

/** A test file's database, Ollama test server and task store; read them inside tests. */
export interface ExecutorFixture {
  readonly db: { readonly current: TestDatabase };
  readonly server: OllamaTestServer;
  readonly store: TaskStore;
}

/**
 * Registers the calling file's database, an Ollama test server serving MODEL, and a task
 * store on the database. After each test: `reset` (if given), then the server's calls and
 * latency are reset and every task is removed.
 */
export function useExecutorFixture(options: { reset?: () => void } = {}): ExecutorFixture {
  const db = useTestDatabase();
  let server: OllamaTestServer | undefined;
  let store: TaskStore | undefined;

  beforeAll(async () => {
    server = await startOllamaServer({ models: [MODEL] });
    store = new TaskStore(db.current.sql);
  });
  const fixture: ExecutorFixture = {
    db,
    get server() {
      return defined(server, "the Ollama test server");
    },
    get store() {
      return defined(store, "the task store");
    },
  };
  afterEach(async () => {
    options.reset?.();
    fixture.server.reset();
    await db.current.truncate();
  });
  afterAll(() => server?.stop());
  return fixture;
}

export const testTuning: Partial<ExecutorTuning> = { reserveMarginMs: 1_000 };

export interface LogEntry {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields?: LogFields;
}

export function recordingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: LogEntry["level"]) => (message: string, fields?: LogFields) => {
    entries.push({ level, message, fields });
  };
  return { entries, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

export interface MetricPoint {
  name: string;
  unit: MetricUnit;
  value: number;
}

export function recordingMetrics(): Metrics & {
  points: MetricPoint[];
  flushes: number;
  sum(name: string): number;
} {
  const recorder = {
    points: [] as MetricPoint[],
    flushes: 0,
    add(name: string, unit: MetricUnit, value: number) {
      recorder.points.push({ name, unit, value });
    },
    flush() {
      recorder.flushes++;
    },
    sum(name: string) {
      return recorder.points
        .filter((p) => p.name === name)
        .reduce((total, p) => total + p.value, 0);
    },
  };
  return recorder;
}

/** A TaskRepository that records every sync (request, when, and what came back). */
export interface SyncRecord {
  request: SyncRequest;
  sentAt: number;
  result?: SyncResult;
  error?: unknown;
}

export function recordingTasks(inner: TaskRepository): TaskRepository & { syncs: SyncRecord[] } {
  const syncs: SyncRecord[] = [];
  return {
    syncs,
    create: (task) => inner.create(task),
    createBatch: (tasks, key) => inner.createBatch(tasks, key),
    get: (owner, id) => inner.get(owner, id),
    list: (owner, query) => inner.list(owner, query),
    cancel: (owner, id) => inner.cancel(owner, id),
    retry: (owner, id) => inner.retry(owner, id),
    stats: (owner, windowSeconds) => inner.stats(owner, windowSeconds),
    queueState: () => inner.queueState(),
    nextDueAt: () => inner.nextDueAt(),
    cancelRequests: (ids) => inner.cancelRequests(ids),
    deleteExpired: (request) => inner.deleteExpired(request),
    async sync(request) {
      // Copied, so the record cannot change under the test.
      const record: SyncRecord = {
        request: {
          ...request,
          outcomes: [...request.outcomes],
          heartbeatIds: [...request.heartbeatIds],
        },
        sentAt: Date.now(),
      };
      syncs.push(record);
      try {
        record.result = await inner.sync(request);
        return record.result;
      } catch (error) {
        record.error = error;
        throw error;
      }
    },
  };
}

/**
 * A SqlPort that can be cut off like a database that went away: while `down`, every call
 * fails with DatabaseUnavailableError (as the pg adapter reports a refused connection).
 */
export function severableSql(inner: SqlPort): SqlPort & { down: boolean; failures: number } {
  const port = {
    down: false,
    failures: 0,
    async query(
      sql: string,
      params?: Parameters<SqlPort["query"]>[1],
      options?: Parameters<SqlPort["query"]>[2],
    ) {
      if (port.down) {
        port.failures++;
        throw new DatabaseUnavailableError(
          "database unavailable: connect ECONNREFUSED (test outage)",
        );
      }
      return inner.query(sql, params, options);
    },
    async transaction<T>(fn: (tx: SqlPort) => Promise<T>): Promise<T> {
      if (port.down) {
        port.failures++;
        throw new DatabaseUnavailableError(
          "database unavailable: connect ECONNREFUSED (test outage)",
        );
      }
      return inner.transaction(fn);
    },
    close: () => inner.close(),
  };
  return port as SqlPort & { down: boolean; failures: number };
}

export interface LoopOptions {
  tasks: TaskRepository;
  llm: LlmClient;
  workerId: string;
  settings?: Partial<ExecutorLoopSettings>;
  tuning?: Partial<ExecutorTuning>;
  notifier?: FailedTaskNotifier;
  logger?: Logger;
  metrics?: Metrics;
  signal?: AbortSignal;
  random?: () => number;
}

export function loopDeps(options: LoopOptions): ExecutorDeps {
  return {
    tasks: options.tasks,
    registry: createTaskTypeRegistry(),
    llm: options.llm,
    clock: systemClock,
    logger: options.logger ?? recordingLogger(),
    metrics: options.metrics ?? recordingMetrics(),
    notifier: options.notifier ?? noFailedTaskNotifier,
    settings: testSettings(options.settings),
    workerId: options.workerId,
    tuning: { ...testTuning, ...options.tuning },
    signal: options.signal,
    random: options.random,
  };
}

/** Runs a loop until `stop` is aborted (or its budget ends). */
export function startLoop(
  options: Omit<LoopOptions, "signal">,
  budget: ExecutorBudget = 120_000,
): { stop: () => void; done: Promise<ExecutorSummary> } {
  const controller = new AbortController();
  const done = runExecutor(loopDeps({ ...options, signal: controller.signal }), budget);
  return { stop: () => controller.abort(), done };
}

export function llmFor(url: string, timeoutMs = 15_000): LlmClient {
  return createLlmClient({ host: url, timeoutMs });
}

export function newTask(overrides: Partial<NewTask> = {}): NewTask {
  return {
    owner: OWNER,
    type: "summarize",
    title: null,
    input: { text: "The tide came in and went out again, as tides do." },
    priority: 0,
    runAt: null,
    maxAttempts: 3,
    model: MODEL,
    idempotencyKey: null,
    ...overrides,
  };
}

export async function createTask(
  store: TaskStore,
  overrides: Partial<NewTask> = {},
): Promise<Task> {
  return (await store.create(newTask(overrides))).task;
}

/** The value, or a clear failure when a test's precondition did not hold. */
export function defined<T>(value: T | null | undefined, what = "value"): T {
  if (value === null || value === undefined) throw new Error(`expected ${what} to be present`);
  return value;
}

export async function createTasks(
  store: TaskStore,
  count: number,
  make: (index: number) => Partial<NewTask> = () => ({}),
): Promise<Task[]> {
  const created: Task[] = [];
  for (let i = 0; i < count; i++) created.push((await store.create(newTask(make(i)))).task);
  return created;
}

/** Polls `condition` every 50 ms until it holds; fails after `timeoutMs` (generous). */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function statusCounts(sql: SqlPort): Promise<Record<string, number>> {
  const rows = await sql.query<{ status: string; n: number }>(
    "SELECT status, count(*)::int AS n FROM tasks GROUP BY status",
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}
