import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  IdempotencyConflictError,
  TaskNotFoundError,
  TaskStateConflictError,
  ValidationError,
} from "../../functions/core/errors";
import { type SqlPort, uuid } from "../../functions/core/sql/port";
import { encodeCursor } from "../../functions/core/tasks/cursor";
import {
  type NewTask,
  pickupLatencyMs,
  type SettledTask,
  type Task,
  type TaskOutcome,
} from "../../functions/core/tasks/model";
import { QUEUE_STATE } from "../../functions/core/tasks/sql/queueState";
import { TaskStore } from "../../functions/core/tasks/store";
import { createTestDatabase } from "./database";
import { claimTasks, heartbeatTasks, settleTasks } from "./taskStates";

/**
 * The whole TaskStore suite as a function, so it runs once per SQL adapter: `makePort`
 * returns the port under test on the given database. Direct setup and inspection
 * (moving a lease into the past, reading a row) go through a separate pg port on the same
 * database, so what is asserted never depends on the adapter under test. The executor's
 * parts of `sync` (claim, heartbeat, settle) are also tested one at a time, through the
 * single-purpose sync calls of ./taskStates.ts.
 */
export type MakePort = (databaseUrl: string) => Promise<{ sql: SqlPort; close(): Promise<void> }>;

const OWNER = "user-a";
const OTHER_OWNER = "user-b";

export function newTask(overrides: Partial<NewTask> = {}): NewTask {
  return {
    owner: OWNER,
    type: "prompt",
    title: null,
    input: { prompt: "Say hi" },
    priority: 0,
    runAt: null,
    maxAttempts: 3,
    model: "llama3.2",
    idempotencyKey: null,
    ...overrides,
  };
}

/** A port that counts the statements sent through it. */
export function countingPort(inner: SqlPort): { sql: SqlPort; readonly count: number } {
  let count = 0;
  const sql: SqlPort = {
    query(text, params) {
      count++;
      return inner.query(text, params);
    },
    transaction: (fn) => inner.transaction(fn),
    close: () => inner.close(),
  };
  return {
    sql,
    get count() {
      return count;
    },
  };
}

/** The rejection of `promise` (fails the test when it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

async function expectFieldError(promise: Promise<unknown>, path: string): Promise<void> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).details).toEqual(
    expect.arrayContaining([expect.objectContaining({ path })]),
  );
}

export function describeTaskStore(adapterName: string, makePort: MakePort): void {
  describe(`TaskStore through ${adapterName}`, () => {
    let db: Awaited<ReturnType<typeof createTestDatabase>>;
    let port: Awaited<ReturnType<MakePort>>;
    let store: TaskStore;

    beforeAll(async () => {
      db = await createTestDatabase();
      port = await makePort(db.url);
      store = new TaskStore(port.sql);
    });
    afterAll(async () => {
      await port?.close();
      await db?.drop();
    });
    beforeEach(async () => {
      await db.truncate();
    });

    /** A row as it is in the database, read through the pg port. */
    const row = async (id: string) => {
      const [found] = await db.sql.query<Record<string, unknown>>(
        "SELECT * FROM tasks WHERE id = cast(:id AS uuid)",
        { id: uuid(id) },
      );
      return found;
    };
    const count = async (where = "true") => {
      const [result] = await db.sql.query<{ n: number }>(
        `SELECT count(*) AS n FROM tasks WHERE ${where}`,
      );
      return Number(result?.n);
    };
    /** Its worker "died": the lease ran out a second ago. */
    const expireLease = async (id: string) => {
      await db.sql.query(
        "UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = cast(:id AS uuid)",
        { id: uuid(id) },
      );
    };
    const create = async (overrides: Partial<NewTask> = {}) =>
      (await store.create(newTask(overrides))).task;
    /** Creates `n` tasks one by one (distinct created_at order) and returns them. */
    const createMany = async (n: number, overrides: Partial<NewTask> = {}) => {
      const tasks: Task[] = [];
      for (let i = 0; i < n; i++) tasks.push(await create({ title: `task ${i}`, ...overrides }));
      return tasks;
    };
    /** Claims exactly the given task (it must be the only due one). */
    const claimOne = async (workerId: string, leaseSeconds = 60) => {
      const { claimed } = await claimTasks(store, workerId, 1, leaseSeconds);
      expect(claimed).toHaveLength(1);
      return claimed[0] as Task;
    };

    describe("create", () => {
      it("creates a pending task with every field kept", async () => {
        // Prepare
        const runAt = new Date(Date.now() + 3_600_000);
        runAt.setUTCMilliseconds(123);
        const input = { prompt: "Écris « bonjour » 👋", nested: { list: [1, 2.5, "x"], q: '"' } };

        // Act
        const { task, created } = await store.create(
          newTask({ title: "greeting", input, priority: 7, runAt, maxAttempts: 5, model: "m1" }),
        );

        // Assess
        expect(created).toBe(true);
        expect(task).toMatchObject({
          owner: OWNER,
          type: "prompt",
          title: "greeting",
          input,
          status: "pending",
          priority: 7,
          attempts: 0,
          maxAttempts: 5,
          model: "m1",
          leaseOwner: null,
          leaseExpiresAt: null,
          cancelRequested: false,
          result: null,
          error: null,
          idempotencyKey: null,
          startedAt: null,
          completedAt: null,
        });
        expect(task.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(task.runAt).toBeInstanceOf(Date);
        expect(task.runAt.toISOString()).toBe(runAt.toISOString());
        expect(task.createdAt).toBeInstanceOf(Date);
        expect(await store.get(OWNER, task.id)).toEqual(task);
      });

      it("makes a task without runAt due at its creation", async () => {
        // Act
        const task = await create();

        // Assess
        expect(task.runAt.getTime()).toBe(task.createdAt.getTime());
      });

      it("returns the existing task for a repeated idempotency key and request", async () => {
        // Prepare
        const first = await store.create(
          newTask({ idempotencyKey: "key-1", input: { a: 1, b: 2 } }),
        );

        // Act: the same request, its input keys in another order
        const again = await store.create(
          newTask({ idempotencyKey: "key-1", input: { b: 2, a: 1 } }),
        );

        // Assess
        expect(first.created).toBe(true);
        expect(again.created).toBe(false);
        expect(again.task).toEqual(first.task);
        expect(await count()).toBe(1);
      });

      it("refuses a reused idempotency key with a different request", async () => {
        // Prepare
        await store.create(newTask({ idempotencyKey: "key-2", input: { prompt: "one" } }));

        // Act
        const differentInput = rejectionOf(
          store.create(newTask({ idempotencyKey: "key-2", input: { prompt: "two" } })),
        );
        const differentPriority = rejectionOf(
          store.create(newTask({ idempotencyKey: "key-2", input: { prompt: "one" }, priority: 1 })),
        );

        // Assess
        expect(await differentInput).toBeInstanceOf(IdempotencyConflictError);
        expect(await differentPriority).toBeInstanceOf(IdempotencyConflictError);
        expect(await count()).toBe(1);
      });

      it("scopes idempotency keys to their owner", async () => {
        // Prepare
        const mine = await store.create(newTask({ idempotencyKey: "shared" }));

        // Act
        const theirs = await store.create(
          newTask({ owner: OTHER_OWNER, idempotencyKey: "shared" }),
        );

        // Assess
        expect(theirs.created).toBe(true);
        expect(theirs.task.id).not.toBe(mine.task.id);
      });

      it("creates exactly one task for ten concurrent creates with one key", async () => {
        // Prepare
        const request = newTask({ idempotencyKey: "burst", input: { prompt: "once" } });

        // Act
        const results = await Promise.all(
          Array.from({ length: 10 }, () => store.create({ ...request })),
        );

        // Assess
        expect(await count()).toBe(1);
        expect(new Set(results.map((r) => r.task.id)).size).toBe(1);
        expect(results.filter((r) => r.created)).toHaveLength(1);
      });

      it("refuses an input over the size limit, naming input, and stores nothing", async () => {
        // Prepare
        const small = new TaskStore(port.sql, { maxInputBytes: 1024 });

        // Act
        const tooBig = small.create(newTask({ input: { prompt: "x".repeat(1100) } }));
        const tooBigByDefault = store.create(newTask({ input: { prompt: "x".repeat(40_000) } }));

        // Assess
        await expectFieldError(tooBig, "input");
        await expectFieldError(tooBigByDefault, "input");
        expect(await count()).toBe(0);
        expect((await small.create(newTask({ input: { prompt: "x".repeat(900) } }))).created).toBe(
          true,
        );
      });

      it("names each field PostgreSQL could not store instead of failing in SQL", async () => {
        // Act + Assess
        await expectFieldError(store.create(newTask({ input: { prompt: "nul \u0000" } })), "input");
        await expectFieldError(store.create(newTask({ input: { prompt: "\ud800" } })), "input");
        await expectFieldError(store.create(newTask({ input: undefined })), "input");
        await expectFieldError(store.create(newTask({ title: "a\u0000b" })), "title");
        await expectFieldError(store.create(newTask({ priority: 2 ** 31 })), "priority");
        await expectFieldError(store.create(newTask({ maxAttempts: 0 })), "maxAttempts");
        await expectFieldError(store.create(newTask({ runAt: new Date(Number.NaN) })), "runAt");
        await expectFieldError(
          store.create(newTask({ idempotencyKey: "k".repeat(256) })),
          "idempotencyKey",
        );
        expect(await count()).toBe(0);
        // A backslash before "u0000" is text, not an escape: stored as given.
        const literal = await create({ input: { prompt: "\\u0000 is fine" } });
        expect(literal.input).toEqual({ prompt: "\\u0000 is fine" });
      });
    });

    describe("get", () => {
      it("returns the owner's task and hides it from anyone else", async () => {
        // Prepare
        const task = await create();

        // Act
        const found = await store.get(OWNER, task.id.toUpperCase());
        const foreign = rejectionOf(store.get(OTHER_OWNER, task.id));

        // Assess
        expect(found).toEqual(task);
        expect(await foreign).toBeInstanceOf(TaskNotFoundError);
      });

      it("treats a missing or malformed id as not found", async () => {
        // Act + Assess
        expect(await rejectionOf(store.get(OWNER, randomUUID()))).toBeInstanceOf(TaskNotFoundError);
        for (const id of ["", "nope", "1", `${randomUUID()}x`, "'; DROP TABLE tasks; --"]) {
          expect(await rejectionOf(store.get(OWNER, id))).toBeInstanceOf(TaskNotFoundError);
        }
      });

      it("refuses an owner SQL could not compare, naming owner, in every owner-scoped call", async () => {
        // Prepare
        const bad = "caller\u0000";
        const id = randomUUID();

        // Act
        const rejections = await Promise.all([
          rejectionOf(store.get(bad, id)),
          rejectionOf(store.list(bad, { limit: 10 })),
          rejectionOf(store.cancel(bad, id)),
          rejectionOf(store.retry(bad, id)),
          rejectionOf(store.stats(bad, 3600)),
        ]);

        // Assess
        for (const error of rejections) {
          expect(error).toBeInstanceOf(ValidationError);
          expect((error as ValidationError).details).toEqual([
            expect.objectContaining({ path: "owner" }),
          ]);
        }
      });
    });

    describe("list", () => {
      it("pages newest first, each task exactly once, while tasks are inserted", async () => {
        // Prepare
        const original = await createMany(120);
        await createMany(3, { owner: OTHER_OWNER });
        const seen: string[] = [];
        const pages: number[] = [];

        // Act
        let cursor: string | undefined;
        do {
          const page = await store.list(OWNER, { limit: 50, cursor });
          pages.push(page.items.length);
          seen.push(...page.items.map((t) => t.id));
          cursor = page.nextCursor ?? undefined;
          await createMany(2); // newer than everything listed so far
        } while (cursor);

        // Assess
        expect(pages).toEqual([50, 50, 20]);
        expect(seen).toEqual(original.map((t) => t.id).reverse());
      });

      it("has no next cursor when the last page is exactly full", async () => {
        // Prepare
        await createMany(4);

        // Act
        const page = await store.list(OWNER, { limit: 4 });

        // Assess
        expect(page.items).toHaveLength(4);
        expect(page.nextCursor).toBeNull();
      });

      it("filters by status and type", async () => {
        // Prepare
        const [a, b] = await createMany(2);
        const summary = await create({ type: "summarize" });
        await store.cancel(OWNER, (a as Task).id);

        // Act
        const cancelled = await store.list(OWNER, { limit: 10, status: "cancelled" });
        const pendingPrompts = await store.list(OWNER, {
          limit: 10,
          status: "pending",
          type: "prompt",
        });
        const summaries = await store.list(OWNER, { limit: 10, type: "summarize" });

        // Assess
        expect(cancelled.items.map((t) => t.id)).toEqual([(a as Task).id]);
        expect(pendingPrompts.items.map((t) => t.id)).toEqual([(b as Task).id]);
        expect(summaries.items.map((t) => t.id)).toEqual([summary.id]);
      });

      it("never lists another owner's tasks", async () => {
        // Prepare
        await createMany(3, { owner: OTHER_OWNER });

        // Act
        const page = await store.list(OWNER, { limit: 100 });

        // Assess
        expect(page).toEqual({ items: [], nextCursor: null });
      });

      it("ends a page early when its inputs reach the byte budget, and continues after", async () => {
        // Prepare
        const budgeted = new TaskStore(port.sql, { maxPageBytes: 5_000 });
        const tasks = await createMany(12, { input: { prompt: "y".repeat(1_000) } });

        // Act
        const pages: Task[][] = [];
        let cursor: string | undefined;
        do {
          const page = await budgeted.list(OWNER, { limit: 100, cursor });
          pages.push(page.items);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);

        // Assess: about 1 kB each, so 4 fit under 5 kB
        expect(pages.map((p) => p.length)).toEqual([4, 4, 4]);
        expect(pages.flat().map((t) => t.id)).toEqual(tasks.map((t) => t.id).reverse());
      });

      it("keeps a page of large tasks under the Data API's 1 MiB response cap", async () => {
        // Prepare: 40 tasks with ~30 KiB inputs and ~20 KiB results, 2 MB together
        await db.sql.query(
          `INSERT INTO tasks (owner, type, input, result, status, model, completed_at)
           SELECT :owner, 'prompt', jsonb_build_object('prompt', repeat('"', 15000), 'n', i),
                  jsonb_build_object('response', repeat('r', 20000)), 'completed', 'm', now()
           FROM generate_series(1, 40) AS i`,
          { owner: OWNER },
        );

        // Act
        const seen = new Set<string>();
        let pages = 0;
        let cursor: string | undefined;
        do {
          const page = await store.list(OWNER, { limit: 100, cursor });
          pages++;
          for (const task of page.items) seen.add(task.id);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);

        // Assess
        expect(seen.size).toBe(40);
        expect(pages).toBeGreaterThan(1);
      });

      it("refuses a bad limit, status or type, naming the field", async () => {
        // Act + Assess
        for (const limit of [0, 101, 1.5, Number.NaN]) {
          await expectFieldError(store.list(OWNER, { limit }), "limit");
        }
        await expectFieldError(
          store.list(OWNER, { limit: 10, status: "done" as Task["status"] }),
          "status",
        );
        await expectFieldError(store.list(OWNER, { limit: 10, type: "" }), "type");
      });

      it("refuses malformed, forged and foreign cursors, naming cursor", async () => {
        // Prepare
        const [, second] = await createMany(2);
        const theirs = await create({ owner: OTHER_OWNER });
        const mine = await store.list(OWNER, { limit: 1 });
        expect(mine.nextCursor).not.toBeNull();
        const b64 = (text: string) => Buffer.from(text).toString("base64url");

        // Act + Assess
        const bad = [
          "not a cursor!",
          b64("garbage"),
          b64(JSON.stringify({ v: 1 })),
          b64(JSON.stringify({ v: 2, id: (second as Task).id })),
          b64(JSON.stringify({ v: 1, id: "not-a-uuid" })),
          encodeCursor(randomUUID()), // well-formed, names no task
          encodeCursor(theirs.id), // another owner's task
        ];
        for (const cursor of bad) {
          await expectFieldError(store.list(OWNER, { limit: 10, cursor }), "cursor");
        }
        await expectFieldError(
          store.list(OTHER_OWNER, { limit: 10, cursor: mine.nextCursor as string }),
          "cursor",
        );
        // The owner's own cursor still works.
        const next = await store.list(OWNER, { limit: 10, cursor: mine.nextCursor as string });
        expect(next.items).toHaveLength(1);
      });

      it("accepts its own cursor after the tasks behind it left the filter", async () => {
        // Prepare
        const [older, newer] = await createMany(2);
        const first = await store.list(OWNER, { limit: 1, status: "pending" });
        await store.cancel(OWNER, (older as Task).id);

        // Act
        const rest = await store.list(OWNER, {
          limit: 1,
          status: "pending",
          cursor: first.nextCursor as string,
        });

        // Assess
        expect(first.items.map((t) => t.id)).toEqual([(newer as Task).id]);
        expect(rest).toEqual({ items: [], nextCursor: null });
      });
    });

    describe("cancel", () => {
      it("cancels a pending task at once", async () => {
        // Prepare
        const task = await create();

        // Act
        const cancelled = await store.cancel(OWNER, task.id);

        // Assess
        expect(cancelled.status).toBe("cancelled");
        expect(cancelled.completedAt).toBeInstanceOf(Date);
        expect(cancelled.cancelRequested).toBe(false);
        expect((await claimTasks(store, "w1", 10, 60)).claimed).toEqual([]);
      });

      it("requests cancellation of a running task, twice without harm", async () => {
        // Prepare
        const task = await create();
        await claimOne("w1");

        // Act
        const first = await store.cancel(OWNER, task.id);
        const second = await store.cancel(OWNER, task.id);

        // Assess
        for (const result of [first, second]) {
          expect(result).toMatchObject({ status: "in_progress", cancelRequested: true });
          expect(result.leaseOwner).toBe("w1");
        }
        expect(await heartbeatTasks(store, "w1", [task.id], 60)).toEqual([
          { id: task.id, cancelRequested: true },
        ]);
      });

      it("refuses to cancel a finished task", async () => {
        // Prepare
        const [done, failed, cancelled] = await createMany(3);
        await claimTasks(store, "w1", 2, 60);
        await settleTasks(store, "w1", [
          { id: (done as Task).id, status: "completed", result: { ok: true } },
          { id: (failed as Task).id, status: "failed", error: "bad" },
        ]);
        await store.cancel(OWNER, (cancelled as Task).id);

        // Act + Assess
        for (const [task, status] of [
          [done, "completed"],
          [failed, "failed"],
          [cancelled, "cancelled"],
        ] as const) {
          const error = await rejectionOf(store.cancel(OWNER, (task as Task).id));
          expect(error).toBeInstanceOf(TaskStateConflictError);
          expect((error as TaskStateConflictError).details).toEqual({ status });
        }
      });

      it("treats another owner's or a malformed id as not found", async () => {
        // Prepare
        const task = await create();

        // Act + Assess
        expect(await rejectionOf(store.cancel(OTHER_OWNER, task.id))).toBeInstanceOf(
          TaskNotFoundError,
        );
        expect(await rejectionOf(store.cancel(OWNER, "x"))).toBeInstanceOf(TaskNotFoundError);
        expect((await store.get(OWNER, task.id)).status).toBe("pending");
      });
    });

    describe("retry", () => {
      it("sends a failed task back to the queue as new", async () => {
        // Prepare
        const task = await create({ runAt: new Date(Date.now() - 60_000) });
        await claimOne("w1");
        await settleTasks(store, "w1", [{ id: task.id, status: "failed", error: "model said no" }]);

        // Act
        const retried = await store.retry(OWNER, task.id);

        // Assess
        expect(retried).toMatchObject({
          status: "pending",
          attempts: 0,
          error: null,
          result: null,
          startedAt: null,
          completedAt: null,
          cancelRequested: false,
        });
        expect(retried.runAt.getTime()).toBeGreaterThan(task.runAt.getTime());
        expect((await claimOne("w2")).id).toBe(task.id);
      });

      it("sends a cancelled task back to the queue", async () => {
        // Prepare
        const task = await create();
        await store.cancel(OWNER, task.id);

        // Act
        const retried = await store.retry(OWNER, task.id);

        // Assess
        expect(retried.status).toBe("pending");
      });

      it("refuses to retry a pending, running or completed task", async () => {
        // Prepare
        const completed = await create({ priority: 2 });
        const running = await create({ priority: 1 });
        const pending = await create({ priority: 0 });
        await claimTasks(store, "w1", 2, 60);
        await settleTasks(store, "w1", [{ id: completed.id, status: "completed", result: "ok" }]);

        // Act + Assess
        for (const [task, status] of [
          [pending, "pending"],
          [running, "in_progress"],
          [completed, "completed"],
        ] as const) {
          const error = await rejectionOf(store.retry(OWNER, task.id));
          expect(error).toBeInstanceOf(TaskStateConflictError);
          expect((error as TaskStateConflictError).details).toEqual({ status });
        }
      });

      it("treats another owner's or a malformed id as not found", async () => {
        // Prepare
        const task = await create();
        await store.cancel(OWNER, task.id);

        // Act + Assess
        expect(await rejectionOf(store.retry(OTHER_OWNER, task.id))).toBeInstanceOf(
          TaskNotFoundError,
        );
        expect(await rejectionOf(store.retry(OWNER, "0"))).toBeInstanceOf(TaskNotFoundError);
      });
    });

    describe("sync: claim", () => {
      it("claims due tasks by priority, then run_at, and leases them", async () => {
        // Prepare
        const now = Date.now();
        const low = await create({ priority: 0, runAt: new Date(now - 30_000) });
        const highLater = await create({ priority: 5, runAt: new Date(now - 10_000) });
        const highEarlier = await create({ priority: 5, runAt: new Date(now - 20_000) });
        const future = await create({ priority: 9, runAt: new Date(now + 3_600_000) });

        // Act
        const first = await claimTasks(store, "w1", 2, 30);
        const second = await claimTasks(store, "w2", 10, 30);

        // Assess
        expect(first.claimed.map((t) => t.id)).toEqual([highEarlier.id, highLater.id]);
        expect(second.claimed.map((t) => t.id)).toEqual([low.id]);
        for (const task of first.claimed) {
          expect(task).toMatchObject({ status: "in_progress", attempts: 1, leaseOwner: "w1" });
          expect(task.startedAt).toBeInstanceOf(Date);
          expect((task.leaseExpiresAt as Date).getTime() - (task.startedAt as Date).getTime()).toBe(
            30_000,
          );
        }
        expect((await store.get(OWNER, future.id)).status).toBe("pending");
        expect(first.recovered).toEqual([]);
      });

      it("never hands a leased task to another worker", async () => {
        // Prepare
        await createMany(3);
        const taken = await claimTasks(store, "w1", 3, 60);

        // Act
        const again = await claimTasks(store, "w2", 3, 60);

        // Assess
        expect(taken.claimed).toHaveLength(3);
        expect(again.claimed).toEqual([]);
      });

      it("claims nothing with a limit of 0 and refuses bad arguments", async () => {
        // Prepare
        await create();

        // Act
        const none = await claimTasks(store, "w1", 0, 60);

        // Assess
        expect(none.claimed).toEqual([]);
        await expectFieldError(claimTasks(store, "w1", -1, 60), "claimLimit");
        await expectFieldError(claimTasks(store, "w1", 1, 0), "leaseSeconds");
        await expectFieldError(claimTasks(store, "", 1, 60), "workerId");
      });
      it("stops a claim early when the inputs reach the byte budget, at least one task", async () => {
        // Prepare: inputs of exactly 1,000 bytes as JSON text
        const budgeted = new TaskStore(port.sql, { maxClaimBytes: 3_000 });
        const tiny = new TaskStore(port.sql, { maxClaimBytes: 10 });
        const tasks = await createMany(5, { input: "y".repeat(998) });

        // Act
        const first = await claimTasks(budgeted, "w1", 10, 60);
        const second = await claimTasks(tiny, "w2", 10, 60);
        const rest = await claimTasks(budgeted, "w3", 10, 60);

        // Assess
        expect(first.claimed.map((t) => t.id)).toEqual(tasks.slice(0, 3).map((t) => t.id));
        expect(second.claimed.map((t) => t.id)).toEqual([(tasks[3] as Task).id]);
        expect(rest.claimed.map((t) => t.id)).toEqual([(tasks[4] as Task).id]);
        expect(first.claimed[0]?.input).toBe("y".repeat(998));
      });

      it("keeps a claim of large inputs under the Data API's 1 MiB response cap", async () => {
        // Prepare: 40 tasks of ~30 KiB, 1.2 MB together
        const big = "x".repeat(30_000);
        await db.sql.query(
          `INSERT INTO tasks (owner, type, input, model)
           SELECT :owner, 'prompt', jsonb_build_object('prompt', cast(:big AS text), 'n', i), 'm'
           FROM generate_series(1, 40) AS i`,
          { owner: OWNER, big },
        );

        // Act
        const seen = new Set<string>();
        for (;;) {
          const { claimed } = await claimTasks(store, "w1", 40, 60);
          if (claimed.length === 0) break;
          expect(claimed.length).toBeLessThan(40);
          for (const task of claimed) seen.add(task.id);
        }

        // Assess
        expect(seen.size).toBe(40);
      });
    });

    describe("sync: heartbeat", () => {
      it("extends held leases and reports cancel requests; ignores ids it does not hold", async () => {
        // Prepare
        const [a, b, theirs] = await createMany(3);
        await claimTasks(store, "w1", 2, 5);
        await claimTasks(store, "w2", 1, 5);
        await store.cancel(OWNER, (b as Task).id);
        const before = (await row((a as Task).id))?.lease_expires_at as Date;

        // Act
        const leases = await heartbeatTasks(
          store,
          "w1",
          [(a as Task).id, (b as Task).id, (theirs as Task).id, randomUUID(), "junk"],
          600,
        );

        // Assess
        expect(leases.sort((x, y) => x.id.localeCompare(y.id))).toEqual(
          [
            { id: (a as Task).id, cancelRequested: false },
            { id: (b as Task).id, cancelRequested: true },
          ].sort((x, y) => x.id.localeCompare(y.id)),
        );
        const after = (await row((a as Task).id))?.lease_expires_at as Date;
        expect(after.getTime() - before.getTime()).toBeGreaterThan(500_000);
        expect((await row((theirs as Task).id))?.lease_owner).toBe("w2");
      });

      it("drops ids that cannot be leases before SQL, in its one round trip", async () => {
        // Prepare
        const counted = countingPort(port.sql);

        // Act: a malformed id reaching SQL would be a cast error, not a lost lease
        const leases = await heartbeatTasks(new TaskStore(counted.sql), "w1", ["junk", "1"], 60);

        // Assess
        expect(leases).toEqual([]);
        expect(counted.count).toBe(1);
      });
      it("records a heartbeated task's progress with its lease, never another worker's, and clears it at the next claim", async () => {
        // Prepare
        const [mine, theirs] = await createMany(2);
        await claimTasks(store, "w1", 1, 60);
        await claimTasks(store, "w2", 1, 60);
        const progress = { step: "map", done: 3, total: 12 };

        // Act
        await store.sync({
          workerId: "w1",
          leaseSeconds: 60,
          outcomes: [],
          heartbeatIds: [(mine as Task).id, (theirs as Task).id],
          progress: { [(mine as Task).id]: progress, [(theirs as Task).id]: progress },
          claimLimit: 0,
        });
        const recorded = await store.get(OWNER, (mine as Task).id);
        const untouched = await store.get(OWNER, (theirs as Task).id);
        await expireLease((mine as Task).id);
        await claimTasks(store, "w3", 0, 60); // recovers it: pending again
        await claimTasks(store, "w3", 1, 60);
        const reclaimed = await store.get(OWNER, (mine as Task).id);

        // Assess
        expect(recorded.progress).toEqual(progress);
        expect(untouched.progress).toBeNull();
        expect(reclaimed.leaseOwner).toBe("w3");
        expect(reclaimed.progress).toBeNull();
      });

      it("refuses a malformed progress report, naming it", async () => {
        // Prepare
        const [task] = await createMany(1);
        await claimTasks(store, "w1", 1, 60);
        const id = (task as Task).id;

        // Act
        const attempt = store.sync({
          workerId: "w1",
          leaseSeconds: 60,
          outcomes: [],
          heartbeatIds: [id],
          progress: { [id]: { step: "Map; DROP", done: -1, total: 0 } },
          claimLimit: 0,
        });

        // Assess
        await expectFieldError(attempt, `progress.${id}`);
      });
    });

    describe("sync: settle", () => {
      it("completes a task: result kept, lease ended", async () => {
        // Prepare: the claimed row changes while the attempt runs (a progress report with a
        // heartbeat, a cancel request) and those changes must come back with the settle.
        const task = await create();
        const claimed = await claimOne("w1");
        await store.sync({
          workerId: "w1",
          leaseSeconds: 60,
          outcomes: [],
          heartbeatIds: [task.id],
          progress: { [task.id]: { step: "map", done: 1, total: 2 } },
          claimLimit: 0,
        });
        await store.cancel(OWNER, task.id);

        // Act
        const settled = await settleTasks(store, "w1", [
          { id: task.id, status: "completed", result: { response: "hi", usage: [1, 2] } },
        ]);

        // Assess
        const stored = await store.get(OWNER, task.id);
        expect(stored).toMatchObject({
          id: task.id,
          status: "completed",
          input: task.input,
          result: { response: "hi", usage: [1, 2] },
          error: null,
          leaseOwner: null,
          leaseExpiresAt: null,
          attempts: 1,
        });
        expect(stored.completedAt).toBeInstanceOf(Date);
        // What comes back is what can have changed since the claim: laid over the task as
        // the worker claimed it, the row as stored (but the result, which the worker has).
        expect(settled).toHaveLength(1);
        expect({ ...claimed, ...settled[0] }).toEqual({ ...stored, result: null });
        expect(settled[0]).toMatchObject({
          cancelRequested: true,
          progress: { step: "map", done: 1, total: 2 },
        });
        expect(Object.keys(settled[0] ?? {})).not.toContain("input");
      });

      it("schedules a retryable failure for later, keeping the error", async () => {
        // Prepare
        const task = await create();
        await claimOne("w1");
        const runAt = new Date(Date.now() + 3_600_000);

        // Act
        const [settled] = await settleTasks(store, "w1", [
          { id: task.id, status: "pending", error: "ollama unreachable", runAt },
        ]);

        // Assess
        expect(settled).toMatchObject({
          status: "pending",
          error: "ollama unreachable",
          leaseOwner: null,
          leaseExpiresAt: null,
          completedAt: null,
        });
        expect((settled as SettledTask).runAt.toISOString()).toBe(runAt.toISOString());
        expect(await store.get(OWNER, task.id)).toMatchObject({ attempts: 1, status: "pending" });
        expect((await claimTasks(store, "w1", 10, 60)).claimed).toEqual([]);
      });

      it("fails a retry with no attempts left, and cancels a retry whose cancel was requested", async () => {
        // Prepare
        const spent = await create({ maxAttempts: 1 });
        const doomed = await create();
        await claimTasks(store, "w1", 2, 60);
        await store.cancel(OWNER, doomed.id);
        const runAt = new Date();

        // Act
        const settled = await settleTasks(store, "w1", [
          { id: spent.id, status: "pending", error: "timeout", runAt },
          { id: doomed.id, status: "pending", error: "timeout", runAt },
        ]);

        // Assess
        const byId = new Map(settled.map((t) => [t.id, t]));
        expect(byId.get(spent.id)).toMatchObject({
          status: "failed",
          error: "timeout (no attempts left: 1 of 1)",
        });
        expect(byId.get(spent.id)?.completedAt).toBeInstanceOf(Date);
        expect(byId.get(doomed.id)).toMatchObject({ status: "cancelled" });
        expect(byId.get(doomed.id)?.error).toContain("cancelled while running");
      });

      it("fails and cancels with their reasons", async () => {
        // Prepare
        const [failed, cancelled] = await createMany(2);
        await claimTasks(store, "w1", 2, 60);

        // Act
        const settled = await settleTasks(store, "w1", [
          { id: (failed as Task).id, status: "failed", error: "unknown model" },
          { id: (cancelled as Task).id, status: "cancelled" },
        ]);

        // Assess
        const byId = new Map(settled.map((t) => [t.id, t]));
        expect(byId.get((failed as Task).id)).toMatchObject({
          status: "failed",
          error: "unknown model",
        });
        expect(byId.get((cancelled as Task).id)).toMatchObject({
          status: "cancelled",
          error: "cancelled while running",
        });
        for (const task of settled) expect(task.completedAt).toBeInstanceOf(Date);
      });

      it("writes nothing without the lease", async () => {
        // Prepare
        const task = await create();
        await claimOne("w1");

        // Act
        const byOther = await settleTasks(store, "w2", [
          { id: task.id, status: "completed", result: { stolen: true } },
        ]);
        await settleTasks(store, "w1", [
          { id: task.id, status: "completed", result: { mine: true } },
        ]);
        const twice = await settleTasks(store, "w1", [
          { id: task.id, status: "failed", error: "late" },
        ]);

        // Assess
        expect(byOther).toEqual([]);
        expect(twice).toEqual([]);
        expect(await store.get(OWNER, task.id)).toMatchObject({
          status: "completed",
          result: { mine: true },
          error: null,
        });
      });

      it("fails a task whose result is too big to store, with the reason", async () => {
        // Prepare
        const small = new TaskStore(port.sql, { maxResultBytes: 2_000 });
        const task = await create();
        await claimOne("w1");

        // Act
        const [settled] = await settleTasks(small, "w1", [
          { id: task.id, status: "completed", result: { response: "z".repeat(3_000) } },
        ]);

        // Assess
        expect(settled).toMatchObject({ status: "failed" });
        expect((await store.get(OWNER, task.id)).result).toBeNull();
        expect((settled as SettledTask).error).toMatch(
          /result is \d+ bytes as JSON, over the limit of 2000/,
        );
      });

      it("refuses duplicate outcomes and unknown statuses, naming them", async () => {
        // Prepare
        const task = await create();
        await claimOne("w1");

        // Act + Assess
        await expectFieldError(
          settleTasks(store, "w1", [
            { id: task.id, status: "failed", error: "a" },
            { id: task.id, status: "completed", result: 1 },
          ]),
          "outcomes.1.id",
        );
        await expectFieldError(
          settleTasks(store, "w1", [{ id: task.id, status: "done" } as unknown as TaskOutcome]),
          "outcomes.0.status",
        );
        expect((await store.get(OWNER, task.id)).status).toBe("in_progress");
      });
    });

    describe("sync: all at once", () => {
      it("settles, heartbeats, recovers and claims in exactly one statement", async () => {
        // Prepare
        const now = Date.now();
        const done = await create({ priority: 9, runAt: new Date(now - 5_000) });
        const running = await create({ priority: 8, runAt: new Date(now - 4_000) });
        const orphan = await create({ priority: 7, runAt: new Date(now - 3_000) });
        await claimTasks(store, "w1", 2, 60); // done, running
        await claimTasks(store, "dead", 1, 60); // orphan
        await expireLease(orphan.id);
        const next1 = await create({ priority: 1 });
        const next2 = await create({ priority: 2 });
        const counted = countingPort(port.sql);
        const syncing = new TaskStore(counted.sql);

        // Act
        const result = await syncing.sync({
          workerId: "w1",
          leaseSeconds: 60,
          outcomes: [{ id: done.id, status: "completed", result: { ok: 1 } }],
          heartbeatIds: [running.id],
          claimLimit: 5,
        });

        // Assess
        expect(counted.count).toBe(1);
        expect(result.settled.map((t) => [t.id, t.status])).toEqual([[done.id, "completed"]]);
        expect(result.leases).toEqual([{ id: running.id, cancelRequested: false }]);
        expect(result.recovered.map((t) => [t.id, t.status, t.leaseOwner])).toEqual([
          [orphan.id, "pending", null],
        ]);
        expect(result.claimed.map((t) => t.id)).toEqual([next2.id, next1.id]);
        expect(result.claimed.every((t) => t.leaseOwner === "w1")).toBe(true);
        // The recovered task is claimed by the next round trip, not this one.
        const after = await store.sync({
          workerId: "w2",
          leaseSeconds: 60,
          outcomes: [],
          heartbeatIds: [],
          claimLimit: 5,
        });
        expect(after.claimed.map((t) => [t.id, t.attempts])).toEqual([[orphan.id, 2]]);
      });

      it("keeps its own expired lease when it heartbeats it, rather than recovering it", async () => {
        // Prepare
        const task = await create();
        await claimOne("w1", 5);
        await expireLease(task.id);

        // Act
        const result = await store.sync({
          workerId: "w1",
          leaseSeconds: 60,
          outcomes: [],
          heartbeatIds: [task.id],
          claimLimit: 1,
        });

        // Assess
        expect(result.leases).toEqual([{ id: task.id, cancelRequested: false }]);
        expect(result.recovered).toEqual([]);
        expect(await store.get(OWNER, task.id)).toMatchObject({
          status: "in_progress",
          leaseOwner: "w1",
          attempts: 1,
        });
      });

      it("settles an id that is also in the heartbeat list, once", async () => {
        // Prepare
        const task = await create();
        await claimOne("w1");

        // Act
        const result = await store.sync({
          workerId: "w1",
          leaseSeconds: 60,
          outcomes: [{ id: task.id, status: "failed", error: "boom" }],
          heartbeatIds: [task.id],
          claimLimit: 0,
        });

        // Assess
        expect(result.settled.map((t) => t.status)).toEqual(["failed"]);
        expect(result.leases).toEqual([]);
      });

      it("reports a lost lease by leaving it out and does not write a lost task's outcome", async () => {
        // Prepare
        const [lost, stolen] = await createMany(2);
        await claimTasks(store, "w1", 2, 60);
        await expireLease((lost as Task).id);
        await expireLease((stolen as Task).id);
        await claimTasks(store, "w2", 0, 60); // recovers both
        await claimTasks(store, "w2", 1, 60); // and takes one of them again: both are lost to w1

        // Act
        const result = await store.sync({
          workerId: "w1",
          leaseSeconds: 60,
          outcomes: [{ id: (stolen as Task).id, status: "completed", result: "late" }],
          heartbeatIds: [(lost as Task).id],
          claimLimit: 0,
        });

        // Assess
        expect(result).toEqual({ settled: [], leases: [], claimed: [], recovered: [] });
        const rows = await Promise.all([lost, stolen].map((t) => row((t as Task).id)));
        expect(rows.map((r) => r?.result)).toEqual([null, null]);
        expect(rows.every((r) => r?.lease_owner !== "w1")).toBe(true);
      });

      it("refuses bad arguments, naming them", async () => {
        // Act + Assess
        const request = { workerId: "w1", leaseSeconds: 60, outcomes: [], heartbeatIds: [] };
        await expectFieldError(store.sync({ ...request, claimLimit: -1 }), "claimLimit");
        await expectFieldError(
          store.sync({ ...request, claimLimit: 1, leaseSeconds: 0 }),
          "leaseSeconds",
        );
        await expectFieldError(
          store.sync({
            ...request,
            claimLimit: 1,
            outcomes: [
              { id: randomUUID(), status: "pending", error: "x" } as unknown as TaskOutcome,
            ],
          }),
          "outcomes.0.runAt",
        );
      });
    });

    describe("lease expiry", () => {
      it("reclaims a task whose worker never finishes once its lease runs out", async () => {
        // Prepare: a real one-second lease, then the worker goes silent
        const task = await create();
        await claimOne("dead", 1);

        // Act: another worker polls until the lease has run out and the task is back
        let recovered: Task[] = [];
        const deadline = Date.now() + 30_000;
        while (recovered.length === 0 && Date.now() < deadline) {
          recovered = (await claimTasks(store, "alive", 0, 60)).recovered;
          if (recovered.length === 0) await new Promise((r) => setTimeout(r, 200));
        }
        const reclaimed = await claimOne("alive");

        // Assess
        expect(recovered.map((t) => [t.id, t.status])).toEqual([[task.id, "pending"]]);
        expect(recovered[0]?.error).toMatch(
          /^lease expired on attempt 1 of 3: the worker stopped heartbeating \(last lease owner: dead\)/,
        );
        expect(reclaimed).toMatchObject({ id: task.id, attempts: 2, leaseOwner: "alive" });
      });

      it("ignores the dead worker's late heartbeat, completion and failure", async () => {
        // Prepare
        const task = await create();
        await claimOne("dead");
        await expireLease(task.id);
        await claimTasks(store, "alive", 0, 60); // recovers
        await claimOne("alive");
        const before = await row(task.id);

        // Act
        const leases = await heartbeatTasks(store, "dead", [task.id], 60);
        const completed = await settleTasks(store, "dead", [
          { id: task.id, status: "completed", result: "late" },
        ]);
        const failed = await settleTasks(store, "dead", [
          { id: task.id, status: "failed", error: "late" },
        ]);

        // Assess
        expect(leases).toEqual([]);
        expect(completed).toEqual([]);
        expect(failed).toEqual([]);
        expect(await row(task.id)).toEqual(before);
      });

      it("fails a task whose lease expires more often than its attempts allow, with the reason", async () => {
        // Prepare
        const task = await create({ maxAttempts: 2 });

        // Act: two claims, two silent deaths, then recovery
        for (const worker of ["w1", "w2"]) {
          await claimTasks(store, "reaper", 0, 60); // recovers the previous attempt, if any
          await claimOne(worker);
          await expireLease(task.id);
        }
        const { recovered } = await claimTasks(store, "reaper", 10, 60);

        // Assess
        expect(recovered).toHaveLength(1);
        expect(recovered[0]).toMatchObject({
          id: task.id,
          status: "failed",
          attempts: 2,
          leaseOwner: null,
        });
        expect(recovered[0]?.error).toBe(
          "lease expired after 2 of 2 attempts: the worker stopped heartbeating (last lease owner: w2)",
        );
        expect(recovered[0]?.completedAt).toBeInstanceOf(Date);
        expect((await claimTasks(store, "reaper", 10, 60)).claimed).toEqual([]);
      });

      it("recovers 100 large dead tasks in one round trip under the Data API's 1 MiB cap", async () => {
        // Prepare: 100 tasks with ~30 KiB inputs, 3 MB together, leased by a dead worker
        await db.sql.query(
          `INSERT INTO tasks (owner, type, input, model, status, attempts, lease_owner,
                              lease_expires_at, started_at)
           SELECT :owner, 'prompt', jsonb_build_object('prompt', repeat('x', 30000), 'n', i), 'm',
                  'in_progress', 1, 'dead', now() - interval '1 second', now() - interval '1 minute'
           FROM generate_series(1, 100) AS i`,
          { owner: OWNER },
        );

        // Act
        const result = await store.sync({
          workerId: "alive",
          leaseSeconds: 60,
          outcomes: [],
          heartbeatIds: [],
          claimLimit: 0,
        });

        // Assess: whole rows but for input and result, which stay in the table
        expect(result.recovered).toHaveLength(100);
        expect(result.recovered.every((t) => t.status === "pending" && t.input === null)).toBe(
          true,
        );
        expect(await count("status = 'pending' AND length(input->>'prompt') = 30000")).toBe(100);
      });

      it("ends a task cancelled while its worker died as cancelled, not retried", async () => {
        // Prepare
        const task = await create();
        await claimOne("dead");
        await store.cancel(OWNER, task.id);
        await expireLease(task.id);

        // Act
        const { recovered } = await claimTasks(store, "alive", 10, 60);

        // Assess
        expect(recovered.map((t) => [t.id, t.status])).toEqual([[task.id, "cancelled"]]);
        expect(recovered[0]?.error).toContain("cancelled while running");
      });
    });

    describe("stats", () => {
      /** Inserts a row with times relative to the database's now(), in milliseconds ago. */
      const insertAt = async (fields: {
        owner?: string;
        status: Task["status"];
        runAgoMs: number;
        startedAgoMs?: number;
        completedAgoMs?: number;
      }) => {
        const ago = (ms: number | undefined) =>
          ms === undefined ? "NULL" : `now() - interval '${ms} milliseconds'`;
        const leased = fields.status === "in_progress";
        await db.sql.query(
          `INSERT INTO tasks (owner, type, input, status, model, run_at, started_at, completed_at,
                              first_due_at, first_started_at,
                              attempts, lease_owner, lease_expires_at)
           VALUES (:owner, 'prompt', '{}', :status, 'm', ${ago(fields.runAgoMs)},
                   ${ago(fields.startedAgoMs)}, ${ago(fields.completedAgoMs)},
                   ${fields.startedAgoMs === undefined ? "NULL" : ago(fields.runAgoMs)},
                   ${ago(fields.startedAgoMs)},
                   ${fields.startedAgoMs === undefined ? 0 : 1},
                   ${leased ? "'w'" : "NULL"}, ${leased ? "now() + interval '1 minute'" : "NULL"})`,
          { owner: fields.owner ?? OWNER, status: fields.status },
        );
      };

      it("reads the whole queue's backlog: due pending tasks and the oldest one's wait", async () => {
        // Prepare
        await insertAt({ status: "pending", runAgoMs: 30_000 });
        await insertAt({ owner: OTHER_OWNER, status: "pending", runAgoMs: 2_000 });
        await insertAt({ status: "pending", runAgoMs: -60_000 }); // not due yet
        await insertAt({ status: "in_progress", runAgoMs: 90_000, startedAgoMs: 80_000 });
        await insertAt({
          status: "completed",
          runAgoMs: 99_000,
          startedAgoMs: 98_000,
          completedAgoMs: 97_000,
        });

        // Act
        const state = await store.queueState();

        // Assess
        expect(state.queueDepth).toBe(2);
        expect(state.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(30);
        expect(state.oldestPendingAgeSeconds).toBeLessThan(90);
      });

      it("reads an empty queue as no depth and no age", async () => {
        await insertAt({
          status: "completed",
          runAgoMs: 9_000,
          startedAgoMs: 8_000,
          completedAgoMs: 7_000,
        });
        expect(await store.queueState()).toEqual({ queueDepth: 0, oldestPendingAgeSeconds: null });
      });

      it("reads the backlog through a pending-only index, never the finished rows", async () => {
        // Prepare: enough finished rows that a sequential scan would be the planner's choice
        // if the predicate matched no partial index on pending rows.
        await db.sql.query(
          `INSERT INTO tasks (owner, type, input, status, model, completed_at)
           SELECT 'bulk', 'prompt', '{}', 'completed', 'm', now() FROM generate_series(1, 5000)`,
        );
        await insertAt({ status: "pending", runAgoMs: 1_000 });
        await db.sql.query("ANALYZE tasks");

        // Act
        const plan = await db.sql.query<{ "QUERY PLAN": string }>(`EXPLAIN ${QUEUE_STATE}`);

        // Assess
        const text = plan.map((line) => line["QUERY PLAN"]).join("\n");
        // A partial index without finished rows: tasks_due_idx or tasks_fair_claim_idx.
        expect(text).toMatch(/tasks_(fair_claim|due)_idx/);
        expect(text).not.toMatch(/Seq Scan on tasks/);
      });

      it("counts by status and measures the queue, pickup and run times from known rows", async () => {
        // Prepare: pickups of 100..400 ms and runs of 1..3 s inside the hour
        await insertAt({
          status: "completed",
          runAgoMs: 60_100,
          startedAgoMs: 60_000,
          completedAgoMs: 59_000,
        });
        await insertAt({
          status: "completed",
          runAgoMs: 50_200,
          startedAgoMs: 50_000,
          completedAgoMs: 48_000,
        });
        await insertAt({
          status: "completed",
          runAgoMs: 40_300,
          startedAgoMs: 40_000,
          completedAgoMs: 37_000,
        });
        await insertAt({ status: "in_progress", runAgoMs: 30_400, startedAgoMs: 30_000 });
        // Outside the window: neither pickup nor run counts
        await insertAt({
          status: "completed",
          runAgoMs: 7_300_000,
          startedAgoMs: 7_200_000,
          completedAgoMs: 7_100_000,
        });
        await insertAt({ status: "pending", runAgoMs: 10_000 });
        await insertAt({ status: "pending", runAgoMs: 5_000 });
        await insertAt({ status: "pending", runAgoMs: -3_600_000 }); // not due yet
        await insertAt({
          status: "failed",
          runAgoMs: 1_000,
          startedAgoMs: 900,
          completedAgoMs: 800,
        });
        await insertAt({ status: "cancelled", runAgoMs: 1_000, completedAgoMs: 900 });
        await insertAt({ owner: OTHER_OWNER, status: "pending", runAgoMs: 99_000 });

        // Act
        const mine = await store.stats(OWNER, 3600);
        const everyone = await store.stats(undefined, 3600);

        // Assess
        expect(mine.counts).toEqual({
          pending: 3,
          in_progress: 1,
          completed: 4,
          failed: 1,
          cancelled: 1,
        });
        expect(mine.queueDepth).toBe(2);
        expect(mine.windowSeconds).toBe(3600);
        expect(mine.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(10);
        expect(mine.oldestPendingAgeSeconds).toBeLessThan(10 + 30); // slack for a slow test
        // pickups: 100, 200, 300, 400 (and the failed task's 100)
        const pickup = mine.pickupLatencyMs;
        expect(pickup?.count).toBe(5);
        expect(pickup?.p50).toBeCloseTo(200, 3);
        expect(pickup?.p95).toBeCloseTo(380, 3);
        expect(pickup?.p99).toBeCloseTo(396, 3);
        expect(pickup?.max).toBeCloseTo(400, 3);
        // runs of completed tasks: 1000, 2000, 3000
        const run = mine.runDurationMs;
        expect(run?.count).toBe(3);
        expect(run?.p50).toBeCloseTo(2000, 3);
        expect(run?.p95).toBeCloseTo(2900, 3);
        expect(run?.p99).toBeCloseTo(2980, 3);
        expect(run?.max).toBeCloseTo(3000, 3);
        expect(everyone.counts.pending).toBe(4);
        expect(everyone.queueDepth).toBe(3);
        expect(everyone.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(99);
      });

      it("reports zeros and nulls for an empty queue", async () => {
        // Act
        const stats = await store.stats(OWNER, 60);

        // Assess
        expect(stats).toEqual({
          counts: { pending: 0, in_progress: 0, completed: 0, failed: 0, cancelled: 0 },
          queueDepth: 0,
          oldestPendingAgeSeconds: null,
          windowSeconds: 60,
          pickupLatencyMs: null,
          runDurationMs: null,
        });
      });

      it("measures what the store itself recorded", async () => {
        // Prepare
        const task = await create();
        await claimOne("w1");
        await settleTasks(store, "w1", [{ id: task.id, status: "completed", result: {} }]);
        const settled = await store.get(OWNER, task.id);

        // Act
        const stats = await store.stats(OWNER, 600);

        // Assess
        expect(stats.counts.completed).toBe(1);
        expect(stats.pickupLatencyMs?.count).toBe(1);
        expect(stats.runDurationMs?.max).toBeCloseTo(
          (settled.completedAt as Date).getTime() - (settled.startedAt as Date).getTime(),
          -1,
        );
      });

      it("measures pickup from the first attempt only, never negative while a retry waits", async () => {
        // Prepare: a first attempt, then a retryable failure whose backoff puts run_at a
        // minute past started_at (measured as started_at - run_at, that read -60 s).
        const task = await create();
        await claimOne("w1");
        const backoff = new Date(Date.now() + 60_000);
        await settleTasks(store, "w1", [
          { id: task.id, status: "pending", error: "Ollama unreachable", runAt: backoff },
        ]);
        const first = await store.get(OWNER, task.id);
        const waiting = await store.stats(OWNER, 600);
        // The backoff ends; the second attempt starts.
        await db.sql.query(
          "UPDATE tasks SET run_at = now() - interval '1 second' WHERE id = cast(:id AS uuid)",
          {
            id: task.id,
          },
        );
        await claimOne("w2");
        const second = await store.get(OWNER, task.id);

        // Act
        const stats = await store.stats(OWNER, 600);

        // Assess
        expect(first.runAt.getTime()).toBeGreaterThan((first.startedAt as Date).getTime());
        expect(waiting.pickupLatencyMs?.count).toBe(1);
        expect(waiting.pickupLatencyMs?.p50).toBeGreaterThanOrEqual(0);
        expect(second.attempts).toBe(2);
        expect(pickupLatencyMs(second)).toBeNull();
        expect(stats.pickupLatencyMs?.count).toBe(1);
        expect(stats.pickupLatencyMs?.max).toBeCloseTo(waiting.pickupLatencyMs?.max as number, 6);
        expect(pickupLatencyMs({ ...second, attempts: 1 })).toBeCloseTo(
          (first.firstStartedAt as Date).getTime() - (first.firstDueAt as Date).getTime(),
          6,
        );
      });

      it("refuses a bad window, naming it", async () => {
        // Act + Assess
        await expectFieldError(store.stats(OWNER, 0), "windowSeconds");
        await expectFieldError(store.stats(OWNER, 1.5), "windowSeconds");
      });
    });

    describe("fair claiming, the running cap and retention", () => {
      const THIRD_OWNER = "user-c";
      /** One sync that only claims, as `workerId`, under an optional running cap. */
      const claimAs = (workerId: string, claimLimit: number, maxRunningPerOwner?: number) =>
        store
          .sync({
            workerId,
            leaseSeconds: 60,
            outcomes: [],
            heartbeatIds: [],
            claimLimit,
            maxRunningPerOwner,
          })
          .then((result) => result.claimed);
      const runningByOwner = async () => {
        const rows = await db.sql.query<{ owner: string; n: number }>(
          "SELECT owner, count(*) AS n FROM tasks WHERE status = 'in_progress' GROUP BY owner",
        );
        return Object.fromEntries(rows.map((r) => [r.owner, Number(r.n)]));
      };

      it("gives free slots round-robin across owners, whatever their backlogs", async () => {
        // Prepare: the big backlog is the oldest, so the old FIFO order would take it all.
        await createMany(5, { owner: OWNER });
        await createMany(2, { owner: OTHER_OWNER });
        await createMany(1, { owner: THIRD_OWNER });

        // Act
        const claimed = await claimAs("w1", 6);

        // Assess
        expect(claimed.map((t) => t.owner)).toEqual([
          OWNER,
          OTHER_OWNER,
          THIRD_OWNER,
          OWNER,
          OTHER_OWNER,
          OWNER,
        ]);
        expect(claimed.filter((t) => t.owner === OWNER).map((t) => t.title)).toEqual([
          "task 0",
          "task 1",
          "task 2",
        ]);
      });

      it("counts an owner's running tasks against its turn, so single-slot claims alternate", async () => {
        // Prepare
        await createMany(4, { owner: OWNER });
        await createMany(2, { owner: OTHER_OWNER });

        // Act: one slot at a time, as a busy executor claims.
        const owners: string[] = [];
        for (let i = 0; i < 5; i++) {
          const claimed = await claimAs(`w${i}`, 1);
          owners.push(...claimed.map((t) => t.owner));
        }

        // Assess
        expect(owners).toEqual([OWNER, OTHER_OWNER, OWNER, OTHER_OWNER, OWNER]);
      });

      it("serves a higher priority first, fairness only within a priority", async () => {
        // Prepare: the low-priority owner's tasks are older.
        await createMany(3, { owner: OTHER_OWNER, priority: 0 });
        await createMany(3, { owner: OWNER, priority: 5 });

        // Act
        const claimed = await claimAs("w1", 4);

        // Assess
        expect(claimed.map((t) => [t.owner, t.priority])).toEqual([
          [OWNER, 5],
          [OWNER, 5],
          [OWNER, 5],
          [OTHER_OWNER, 0],
        ]);
      });

      it("keeps each owner within the running cap under 8 concurrent claimers", async () => {
        // Prepare
        const cap = 2;
        await createMany(10, { owner: OWNER });
        await createMany(10, { owner: OTHER_OWNER });
        await createMany(1, { owner: THIRD_OWNER });

        // Act: rounds of 8 claimers at once, each asking for more than the cap allows.
        const seen: Record<string, number>[] = [];
        let claimedTotal = 0;
        for (let round = 0; round < 6; round++) {
          const claims = await Promise.all(
            Array.from({ length: 8 }, (_, i) => claimAs(`r${round}-w${i}`, 3, cap)),
          );
          claimedTotal += claims.flat().length;
          seen.push(await runningByOwner());
        }

        // Assess: never over the cap; every owner reached what it may run.
        for (const running of seen) {
          for (const n of Object.values(running)) expect(n).toBeLessThanOrEqual(cap);
        }
        expect(seen.at(-1)).toEqual({ [OWNER]: cap, [OTHER_OWNER]: cap, [THIRD_OWNER]: 1 });
        expect(claimedTotal).toBe(2 * cap + 1);
        expect(await count("status = 'pending'")).toBe(21 - claimedTotal);
      });

      it("refuses a running cap below 1, naming it", async () => {
        // Act + Assess
        await expectFieldError(claimAs("w1", 1, 0), "maxRunningPerOwner");
      });

      it("deletes only finished tasks older than the retention, oldest first, in batches", async () => {
        // Prepare: four old finished rows, one recent, one old pending, one running.
        const [done1, done2, done3, failed, recent, pending, running] = await createMany(7);
        const ids = (tasks: (Task | undefined)[]) => tasks.map((t) => (t as Task).id);
        const finish = async (task: Task | undefined, status: string, ageSeconds: number) => {
          await db.sql.query(
            `UPDATE tasks SET status = '${status}', completed_at = now() - cast(:age AS integer) * interval '1 second'
             WHERE id = cast(:id AS uuid)`,
            { id: uuid((task as Task).id), age: ageSeconds },
          );
        };
        await finish(done1, "completed", 7_400);
        await finish(failed, "failed", 7_300);
        await finish(done2, "completed", 7_200);
        await finish(done3, "cancelled", 7_100);
        await finish(recent, "completed", 60);
        // A pending row carrying an old completed_at (as a retried one might): still kept.
        await db.sql.query(
          "UPDATE tasks SET completed_at = now() - interval '1 day' WHERE id = cast(:id AS uuid)",
          { id: uuid((pending as Task).id) },
        );
        await db.sql.query("UPDATE tasks SET priority = 9 WHERE id = cast(:id AS uuid)", {
          id: uuid((running as Task).id),
        });
        const claimed = await claimOne("w1");

        // Act
        const first = await store.deleteExpired({ retentionSeconds: 3_600, batch: 2 });
        const second = await store.deleteExpired({ retentionSeconds: 3_600, batch: 2 });
        const third = await store.deleteExpired({ retentionSeconds: 3_600, batch: 2 });

        // Assess
        expect(claimed.id).toBe((running as Task).id);
        expect(first.map((t) => t.id)).toEqual(ids([done1, failed]));
        expect(second.map((t) => t.id).sort()).toEqual(ids([done2, done3]).sort());
        // Inline inputs and results: nothing stored outside the rows to delete.
        expect([...first, ...second].flatMap((t) => t.payloadKeys)).toEqual([]);
        expect(third).toEqual([]);
        const left = await db.sql.query<{ id: string }>("SELECT id FROM tasks ORDER BY id");
        expect(left.map((r) => r.id).sort()).toEqual(ids([recent, pending, running]).sort());
      });

      it("refuses a retention under 60 s or a bad batch, naming them", async () => {
        // Act + Assess
        await expectFieldError(
          store.deleteExpired({ retentionSeconds: 59, batch: 10 }),
          "retentionSeconds",
        );
        await expectFieldError(store.deleteExpired({ retentionSeconds: 60, batch: 0 }), "batch");
      });
    });
  });
}
