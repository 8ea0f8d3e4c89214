import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PayloadTooLargeError, ValidationError } from "../../functions/core/errors";
import { isPayloadRef } from "../../functions/core/payloads/claimCheck";
import { ClaimCheckTasks } from "../../functions/core/payloads/claimCheckTasks";
import { FileSystemPayloadStore } from "../../functions/core/payloads/fileSystemPayloadStore";
import { uuid } from "../../functions/core/sql/port";
import {
  INLINE_INPUT_BYTES,
  INLINE_RESULT_BYTES,
  LIST_LOADED_BYTES,
  MAX_INPUT_BYTES,
  MAX_RESULT_BYTES,
} from "../../functions/core/tasks/byteBudgets";
import type { Task } from "../../functions/core/tasks/model";
import { TaskStore } from "../../functions/core/tasks/store";
import { createTestDatabase } from "./database";
import type { MakePort } from "./storeSuite";
import { newTask } from "./storeSuite";
import { claimTasks, settleTasks } from "./taskStates";

/**
 * The claim check (functions/core/payloads) over the real TaskStore, through one SQL
 * adapter, with the payload store on a real directory: what the rows hold (read through
 * a separate pg port), what the directory holds, and what callers get back.
 */
export function describeClaimCheck(adapterName: string, makePort: MakePort): void {
  describe(`the claim check through ${adapterName}`, () => {
    let db: Awaited<ReturnType<typeof createTestDatabase>>;
    let port: Awaited<ReturnType<MakePort>>;
    let root = "";
    let payloads: FileSystemPayloadStore;
    let tasks: ClaimCheckTasks;

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
      if (root) await rm(root, { recursive: true, force: true });
      root = await mkdtemp(join(tmpdir(), "claim-check-"));
      payloads = new FileSystemPayloadStore(root);
      tasks = new ClaimCheckTasks(new TaskStore(port.sql), payloads);
    });

    /** The input and result columns as stored, with their printed sizes. */
    const stored = async (id: string) => {
      const [row] = await db.sql.query<{
        input: unknown;
        result: unknown;
        input_bytes: number;
        result_bytes: number | null;
      }>(
        `SELECT input, result, octet_length(input::text) AS input_bytes,
                octet_length(result::text) AS result_bytes
         FROM tasks WHERE id = cast(:id AS uuid)`,
        { id: uuid(id) },
      );
      if (!row) throw new Error(`task ${id} is not in the table`);
      return row;
    };
    /** Every object in the payload directory, as `inputs/<uuid>.json` keys. */
    const objects = async () => {
      const keys: string[] = [];
      for (const folder of ["inputs", "results", "checkpoints"]) {
        const names = await readdir(join(root, folder)).catch(() => [] as string[]);
        keys.push(...names.map((name) => `${folder}/${name}`));
      }
      return keys.sort();
    };
    const text = (bytes: number) =>
      "lorem ipsum dolor sit amet ".repeat(bytes / 27 + 1).slice(0, bytes);
    const bigInput = (bytes = 200_000) => ({ prompt: text(bytes) });

    it("keeps a big input outside the row and gives it back whole, byte for byte", async () => {
      // Prepare
      const input = { prompt: `${text(1_000_000)} "quotes" \\ é 🎉` };
      // Act
      const { task, created } = await tasks.create(newTask({ input }));
      const read = await tasks.get(task.owner, task.id);
      // Assess
      expect(created).toBe(true);
      expect(task.input).toEqual(input);
      expect(JSON.stringify(read.input)).toBe(JSON.stringify(input));
      const row = await stored(task.id);
      expect(isPayloadRef(row.input)).toBe(true);
      expect(Number(row.input_bytes)).toBeLessThan(200);
      expect(await objects()).toEqual([(row.input as { $ref: string }).$ref]);
    });

    it("keeps an input at the inline budget in the row", async () => {
      // Prepare: printed JSON of {"prompt": "..."} exactly INLINE_INPUT_BYTES
      const input = { prompt: "a".repeat(INLINE_INPUT_BYTES - '{"prompt": ""}'.length) };
      // Act
      const { task } = await tasks.create(newTask({ input }));
      // Assess
      expect(Number((await stored(task.id)).input_bytes)).toBe(INLINE_INPUT_BYTES);
      expect(await objects()).toEqual([]);
    });

    it("refuses an input over MAX_INPUT_BYTES with a 413 naming it, and stores nothing", async () => {
      // Prepare
      const input = { prompt: "a".repeat(MAX_INPUT_BYTES) };
      // Act
      const single = tasks.create(newTask({ input }));
      const batch = tasks.createBatch([newTask(), newTask({ input })], null);
      // Assess
      await expect(single).rejects.toBeInstanceOf(PayloadTooLargeError);
      await expect(single).rejects.toMatchObject({
        code: "payload_too_large",
        details: { maxBytes: MAX_INPUT_BYTES, field: "input" },
      });
      await expect(batch).rejects.toMatchObject({ details: { field: "tasks.1.input" } });
      expect(await objects()).toEqual([]);
      const [count] = await db.sql.query<{ n: number }>("SELECT count(*) AS n FROM tasks");
      expect(Number(count?.n)).toBe(0);
    });

    it("answers a replayed big create with the first task and leaves no second object", async () => {
      // Prepare
      const request = newTask({ input: bigInput(), idempotencyKey: "big-1" });
      const first = await tasks.create(request);
      // Act
      const replay = await tasks.create({ ...request, input: bigInput() });
      const conflict = tasks.create({ ...request, input: bigInput(200_001) });
      // Assess
      expect(replay.created).toBe(false);
      expect(replay.task.id).toBe(first.task.id);
      expect(replay.task.input).toEqual(request.input);
      await expect(conflict).rejects.toMatchObject({ code: "idempotency_conflict" });
      expect(await objects()).toHaveLength(1);
    });

    it("stores a caller's reference-shaped input behind a real reference", async () => {
      // Prepare: a forged reference to another object, and that object
      const victim = await tasks.create(newTask({ input: bigInput() }));
      const victimRef = (await stored(victim.task.id)).input as { $ref: string };
      const forged = { $ref: victimRef.$ref };
      // Act
      const { task } = await tasks.create(newTask({ input: forged }));
      const read = await tasks.get(task.owner, task.id);
      // Assess
      expect(read.input).toEqual(forged);
      const row = await stored(task.id);
      expect((row.input as { $ref: string }).$ref).not.toBe(victimRef.$ref);
    });

    it("hands the executor whole inputs, keeps a big result outside the row, fails one over the limit", async () => {
      // Prepare
      const big = await tasks.create(newTask({ input: bigInput() }));
      const over = await tasks.create(newTask());
      const { claimed } = await claimTasks(tasks, "w1", 10, 60);
      const result = { answer: text(INLINE_RESULT_BYTES + 1_000) };
      // Act
      const settled = await settleTasks(tasks, "w1", [
        { id: big.task.id, status: "completed", result },
        { id: over.task.id, status: "completed", result: { answer: "a".repeat(MAX_RESULT_BYTES) } },
      ]);
      const read = await tasks.get(big.task.owner, big.task.id);
      const failed = await tasks.get(over.task.owner, over.task.id);
      // Assess
      expect(claimed.find((t) => t.id === big.task.id)?.input).toEqual(big.task.input);
      expect(settled).toHaveLength(2);
      expect(read.result).toEqual(result);
      expect(isPayloadRef((await stored(big.task.id)).result)).toBe(true);
      expect(failed.status).toBe("failed");
      expect(failed.error).toMatch(`over the limit of ${MAX_RESULT_BYTES} bytes`);
      expect((await objects()).filter((key) => key.startsWith("results/"))).toHaveLength(1);
    });

    it("deletes the result of a settle whose lease was lost", async () => {
      // Prepare
      const { task } = await tasks.create(newTask());
      await claimTasks(tasks, "w1", 1, 60);
      // Act: w2 never held the lease
      const settled = await settleTasks(tasks, "w2", [
        { id: task.id, status: "completed", result: { answer: text(INLINE_RESULT_BYTES * 2) } },
      ]);
      // Assess
      expect(settled).toEqual([]);
      expect(await objects()).toEqual([]);
    });

    it("fails a claimed task whose input object is gone, with the reason", async () => {
      // Prepare
      const gone = await tasks.create(newTask({ input: bigInput() }));
      const fine = await tasks.create(newTask());
      const ref = (await stored(gone.task.id)).input as { $ref: string };
      await rm(join(root, ref.$ref));
      // Act
      const { claimed } = await claimTasks(tasks, "w1", 10, 60);
      const failed = await tasks.get(gone.task.owner, gone.task.id).catch((e: unknown) => e);
      const [row] = await db.sql.query<{ status: string; error: string }>(
        "SELECT status, error FROM tasks WHERE id = cast(:id AS uuid)",
        { id: uuid(gone.task.id) },
      );
      // Assess
      expect(claimed.map((t) => t.id)).toEqual([fine.task.id]);
      expect(row?.status).toBe("failed");
      expect(row?.error).toMatch(/^the task's input cannot be read: payload inputs\/.* not found$/);
      expect(failed).toMatchObject({ code: "payload_not_found" });
    });

    it("refuses an object that no longer matches its reference", async () => {
      // Prepare
      const { task } = await tasks.create(newTask({ input: bigInput() }));
      const ref = (await stored(task.id)).input as { $ref: string };
      await writeFile(join(root, ref.$ref), JSON.stringify(bigInput()).replace("lorem", "LOREM"));
      // Act
      const read = tasks.get(task.owner, task.id);
      // Assess
      await expect(read).rejects.toMatchObject({ code: "payload_corrupt" });
    });

    it("stops a list page once its loaded payloads reach LIST_LOADED_BYTES, and goes on from there", async () => {
      // Prepare: three tasks of 40 % of the budget each, newest first in the list
      const size = Math.floor(LIST_LOADED_BYTES * 0.4);
      const made: Task[] = [];
      for (let i = 0; i < 3; i++) {
        made.push((await tasks.create(newTask({ input: bigInput(size), title: `t${i}` }))).task);
      }
      // Act
      const first = await tasks.list("user-a", { limit: 10 });
      const second = await tasks.list("user-a", { limit: 10, cursor: first.nextCursor ?? "" });
      // Assess
      expect(first.items.map((t) => t.title)).toEqual(["t2", "t1"]);
      expect(first.nextCursor).not.toBeNull();
      expect(second.items.map((t) => t.title)).toEqual(["t0"]);
      expect(second.nextCursor).toBeNull();
      expect(second.items[0]?.input).toEqual(made[0]?.input);
    });

    it("deletes a task's objects and checkpoint with it when retention deletes the row", async () => {
      // Prepare
      const kept = await tasks.create(newTask({ input: bigInput() }));
      const old = await tasks.create(newTask({ input: bigInput() }));
      await claimTasks(tasks, "w1", 10, 60);
      await settleTasks(tasks, "w1", [
        { id: old.task.id, status: "completed", result: { answer: text(INLINE_RESULT_BYTES * 2) } },
      ]);
      await payloads.put(`checkpoints/${old.task.id}.json`, new TextEncoder().encode("{}"));
      await db.sql.query(
        "UPDATE tasks SET completed_at = now() - interval '2 hours' WHERE id = cast(:id AS uuid)",
        { id: uuid(old.task.id) },
      );
      const keptRef = ((await stored(kept.task.id)).input as { $ref: string }).$ref;
      // Act
      const expired = await tasks.deleteExpired({ retentionSeconds: 3_600, batch: 10 });
      // Assess
      expect(expired.map((t) => t.id)).toEqual([old.task.id]);
      expect(expired[0]?.payloadKeys).toHaveLength(2);
      expect(await objects()).toEqual([keptRef]);
    });

    it("names an input jsonb cannot hold, big or not", async () => {
      // Act
      const attempt = tasks.create(newTask({ input: { prompt: `${text(100_000)}\u0000` } }));
      // Assess
      await expect(attempt).rejects.toBeInstanceOf(ValidationError);
      await expect(attempt).rejects.toMatchObject({
        details: [expect.objectContaining({ path: "input" })],
      });
      expect(await objects()).toEqual([]);
    });
  });
}
