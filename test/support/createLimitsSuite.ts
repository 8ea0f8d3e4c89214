import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  IdempotencyConflictError,
  TooManyTasksError,
  ValidationError,
} from "../../functions/core/errors";
import { TaskStore } from "../../functions/core/tasks/store";
import { createTestDatabase } from "./database";
import { type MakePort, newTask } from "./storeSuite";

/**
 * Creating many tasks and the per-owner cap, through one SQL adapter (run by
 * test/integration/store/pg.test.ts and dataApi.test.ts): a batch is one statement, all or
 * none, in order; the cap on unfinished tasks holds under concurrent creates.
 */
export function describeCreateLimits(adapterName: string, makePort: MakePort): void {
  describe(`batch create and the owner's cap through ${adapterName}`, () => {
    let db: Awaited<ReturnType<typeof createTestDatabase>>;
    let port: Awaited<ReturnType<MakePort>>;

    beforeAll(async () => {
      db = await createTestDatabase();
      port = await makePort(db.url);
    });
    afterAll(async () => {
      await port?.close();
      await db?.drop();
    });
    beforeEach(async () => {
      await db.truncate();
    });

    const count = async (owner: string) => {
      const [row] = await db.sql.query<{ n: number }>(
        "SELECT count(*) AS n FROM tasks WHERE owner = :owner",
        { owner },
      );
      return Number(row?.n ?? 0);
    };

    it("lets exactly the cap's number in under 20 concurrent creates", async () => {
      // Prepare: a cap of 7, 2 unfinished already.
      const store = new TaskStore(port.sql, { maxUnfinishedPerOwner: 7 });
      await store.create(newTask({ owner: "capped" }));
      await store.create(newTask({ owner: "capped" }));

      // Act
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => store.create(newTask({ owner: "capped" }))),
      );

      // Assess
      const refused = results.filter((r) => r.status === "rejected");
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(5);
      expect(refused).toHaveLength(15);
      for (const r of refused)
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(TooManyTasksError);
      expect(await count("capped")).toBe(7);
    });

    it("counts only unfinished tasks, and answers an idempotent replay at the cap", async () => {
      // Prepare: the cap is reached by a keyed create; one task finished long ago.
      const store = new TaskStore(port.sql, { maxUnfinishedPerOwner: 1 });
      await db.sql.query(
        "INSERT INTO tasks (owner, type, input, status, model, completed_at) VALUES ('replay', 'prompt', '{}', 'completed', 'm', now())",
      );
      const first = await store.create(newTask({ owner: "replay", idempotencyKey: "k-1" }));

      // Act
      const replay = await store.create(newTask({ owner: "replay", idempotencyKey: "k-1" }));
      const beyond = await store.create(newTask({ owner: "replay" })).catch((e: unknown) => e);

      // Assess
      expect(replay).toEqual({ task: first.task, created: false });
      expect(beyond).toBeInstanceOf(TooManyTasksError);
      expect(beyond).toMatchObject({ limit: 1, unfinished: 1 });
    });

    it("creates a batch in one statement, in order, and a whole batch over the cap not at all", async () => {
      // Prepare
      const store = new TaskStore(port.sql, { maxUnfinishedPerOwner: 10 });
      const items = Array.from({ length: 8 }, (_, i) =>
        newTask({ owner: "batch", title: `item ${i}` }),
      );

      // Act
      const made = await store.createBatch(items, null);
      const over = await store
        .createBatch(
          Array.from({ length: 3 }, () => newTask({ owner: "batch" })),
          null,
        )
        .catch((e: unknown) => e);

      // Assess
      expect(made.created).toBe(true);
      expect(made.tasks.map((t) => t.title)).toEqual(items.map((t) => t.title));
      expect(over).toBeInstanceOf(TooManyTasksError);
      expect(await count("batch")).toBe(8);
    });

    it("replays a keyed batch, and refuses the key with another batch (fewer items included)", async () => {
      // Prepare
      const store = new TaskStore(port.sql);
      const items = [
        newTask({ owner: "keyed", title: "a" }),
        newTask({ owner: "keyed", title: "b" }),
      ];
      const first = await store.createBatch(items, "batch-key");

      // Act
      const replay = await store.createBatch(items, "batch-key");
      const fewer = await store
        .createBatch(items.slice(0, 1), "batch-key")
        .catch((e: unknown) => e);
      const other = await store
        .createBatch([items[0] ?? newTask(), newTask({ owner: "keyed", title: "c" })], "batch-key")
        .catch((e: unknown) => e);

      // Assess
      expect(replay).toEqual({ tasks: first.tasks, created: false });
      expect(fewer).toBeInstanceOf(IdempotencyConflictError);
      expect(other).toBeInstanceOf(IdempotencyConflictError);
      expect(await count("keyed")).toBe(2);
    });

    it("creates nothing when one item cannot be stored, naming it by its position", async () => {
      // Prepare: item 2 has a NUL in its title.
      const store = new TaskStore(port.sql);
      const items = [
        newTask({ owner: "bad" }),
        newTask({ owner: "bad" }),
        newTask({ owner: "bad", title: "nul\u0000" }),
      ];

      // Act
      const error = await store.createBatch(items, null).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).details).toEqual([
        expect.objectContaining({ path: "tasks.2.title" }),
      ]);
      expect(await count("bad")).toBe(0);
    });
  });
}
