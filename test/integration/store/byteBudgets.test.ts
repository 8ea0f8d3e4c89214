import type { RDSDataClient } from "@aws-sdk/client-rds-data";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ValidationError } from "../../../functions/core/errors";
import { createDataApiSqlPort } from "../../../functions/core/sql/dataApiAdapter";
import type { SqlPort } from "../../../functions/core/sql/port";
import {
  ERROR_MAX_CHARS,
  INLINE_INPUT_BYTES,
  INLINE_RESULT_BYTES,
  RESPONSE_LIMIT,
  ROW_LIMIT,
  ROW_MAX_BYTES,
  TEXT_MAX_CHARS,
} from "../../../functions/core/tasks/byteBudgets";
import type { NewTask, Task } from "../../../functions/core/tasks/model";
import { printedJsonBytes } from "../../../functions/core/tasks/printedJson";
import { TaskStore } from "../../../functions/core/tasks/store";
import { TASK_COLUMNS } from "../../../functions/core/tasks/taskRow";
import { type DataApiServer, startDataApiServer } from "../../support/dataApiServer";
import { useTestDatabase } from "../../support/database";

/**
 * Every byte budget (functions/core/tasks/byteBudgets.ts) holds through the Data API adapter
 * on the strict test endpoint (64 KB rows, 1 MiB responses), whatever the JSON's shape:
 * inputs and results that print bigger than their compact JSON (`[1, 1, ...]`, `": "` after
 * every key, numbers written out in full, 3- and 4-byte characters) sit exactly at their
 * budget, beside an error at its cap and every text column at 255 three-byte characters;
 * such tasks are created, claimed, settled, listed and read back.
 */

/** 3 UTF-8 bytes per UTF-16 unit, the most a capped text column can take. */
const WIDE = "日";
const wide = (length: number, tail = "") => `${WIDE.repeat(length - tail.length)}${tail}`;
const OWNER = wide(TEXT_MAX_CHARS);
const WORKER = wide(TEXT_MAX_CHARS, "w");
const MAX_ERROR = wide(ERROR_MAX_CHARS);

/** Shapes that print bigger than their compact JSON, each sized by a count. */
const SHAPES: Record<string, (n: number) => unknown> = {
  ones: (n) => Array(n).fill(1),
  emptyPairs: (n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, [[], []]])),
  deeplyNested: (n) =>
    Array.from({ length: n }, () => {
      let value: unknown = [0];
      for (let depth = 0; depth < 30; depth++) value = { a: value, b: [false, null] };
      return value;
    }),
  unicode: (n) => Array(n).fill("日本😀é"),
  bigNumbers: (n) => Array.from({ length: n }, (_, i) => (i % 2 ? 1e300 : 5e-324)),
};

/**
 * The shape at exactly `bytes` as PostgreSQL prints it: the largest count that fits, then an
 * ASCII pad (one byte a character) to fill the rest.
 */
function atBudget(shape: (n: number) => unknown, bytes: number): unknown {
  const sized = (n: number) => ({ shape: shape(n), pad: "" });
  let low = 0;
  let high = 1;
  while ((printedJsonBytes(sized(high)) ?? 0) <= bytes) high *= 2;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if ((printedJsonBytes(sized(middle)) ?? 0) <= bytes) low = middle;
    else high = middle;
  }
  const value = sized(low);
  value.pad = "x".repeat(bytes - (printedJsonBytes(value) ?? 0));
  return value;
}

describe("byte budgets through the Data API", () => {
  const db = useTestDatabase();
  let server: DataApiServer;
  let client: RDSDataClient;
  let sql: SqlPort;
  let store: TaskStore;

  beforeAll(async () => {
    server = await startDataApiServer({ databaseUrl: db.current.url });
    client = server.createClient();
    sql = createDataApiSqlPort({
      client,
      resourceArn: server.resourceArn,
      secretArn: server.secretArn,
      database: server.database,
    });
    store = new TaskStore(sql);
  });
  afterAll(async () => {
    await sql?.close();
    client?.destroy();
    await server?.close();
  });
  beforeEach(async () => {
    await db.current.truncate();
  });

  const widest = (input: unknown, key: string): NewTask => ({
    owner: OWNER,
    type: wide(TEXT_MAX_CHARS, "t"),
    title: wide(TEXT_MAX_CHARS, "T"),
    input,
    priority: 0,
    runAt: null,
    maxAttempts: 2,
    model: wide(TEXT_MAX_CHARS, "m"),
    idempotencyKey: wide(TEXT_MAX_CHARS, key),
  });
  const sync = (outcomes: Parameters<TaskStore["sync"]>[0]["outcomes"], claimLimit: number) =>
    store.sync({ workerId: WORKER, leaseSeconds: 300, outcomes, heartbeatIds: [], claimLimit });
  const printedRow = async (id: string) => {
    const [row] = await db.current.sql.query<{ input: number; result: number; error: number }>(
      `SELECT octet_length(input::text) AS input, octet_length(result::text) AS result,
              octet_length(error) AS error
       FROM tasks WHERE id = cast(:id AS uuid)`,
      { id },
    );
    return { input: Number(row?.input), result: Number(row?.result), error: Number(row?.error) };
  };

  it.each(Object.keys(SHAPES))(
    "creates, claims, retries, completes, lists and reads back a %s task at its budgets",
    async (name) => {
      // Prepare
      const shape = SHAPES[name] as (n: number) => unknown;
      const input = atBudget(shape, INLINE_INPUT_BYTES);
      const result = atBudget(shape, INLINE_RESULT_BYTES);
      const { task } = await store.create(widest(input, "k"));

      // Act: a retry that keeps an error at its cap, then a completion at the result budget
      const first = await sync([], 1);
      await sync([{ id: task.id, status: "pending", error: MAX_ERROR, runAt: new Date(0) }], 0);
      const withError = await printedRow(task.id);
      const second = await sync([], 1);
      const done = await sync([{ id: task.id, status: "completed", result }], 0);
      const read = await store.get(OWNER, task.id);
      const page = await store.list(OWNER, { limit: 100 });

      // Assess
      expect(first.claimed.map((t) => t.id)).toEqual([task.id]);
      expect(withError).toEqual({
        input: INLINE_INPUT_BYTES,
        result: 0,
        error: 3 * ERROR_MAX_CHARS,
      });
      expect(second.claimed[0]).toMatchObject({ id: task.id, error: MAX_ERROR, input });
      expect(done.settled[0]).toMatchObject({ id: task.id, status: "completed" });
      expect(read).toMatchObject({ status: "completed", input, result, error: null });
      expect(page.items.map((t: Task) => t.id)).toEqual([task.id]);
      expect(await printedRow(task.id)).toMatchObject({
        input: INLINE_INPUT_BYTES,
        result: INLINE_RESULT_BYTES,
      });
    },
  );

  it("refuses an input one printed byte over its budget, naming input, though its JSON is smaller", async () => {
    // Prepare: `[1, 1, ...]` prints 1.5 times its compact JSON
    const over = atBudget(SHAPES.ones as (n: number) => unknown, INLINE_INPUT_BYTES + 1);

    // Act
    const create = store.create(widest(over, "o"));

    // Assess
    expect(JSON.stringify(over).length).toBeLessThan(INLINE_INPUT_BYTES);
    await expect(create).rejects.toBeInstanceOf(ValidationError);
    await expect(create).rejects.toMatchObject({
      details: [expect.objectContaining({ path: "input" })],
    });
  });

  it("fails a task whose result prints over its budget with the reason, and the sync goes on", async () => {
    // Prepare
    const { task } = await store.create(widest({ prompt: "hi" }, "r"));
    await sync([], 1);
    const over = atBudget(SHAPES.bigNumbers as (n: number) => unknown, INLINE_RESULT_BYTES + 1);

    // Act
    const settled = await sync([{ id: task.id, status: "completed", result: over }], 0);

    // Assess
    expect(JSON.stringify(over).length).toBeLessThan(INLINE_RESULT_BYTES / 10);
    expect(settled.settled[0]).toMatchObject({ status: "failed" });
    expect((await store.get(OWNER, task.id)).result).toBeNull();
    expect(settled.settled[0]?.error).toMatch(/result is \d+ bytes as JSON, over the limit/);
  });

  it("claims, lists and reads rows holding input, result and error all at their maxima", async () => {
    // Prepare: a row the store never writes (a result beside an error), every bulky column
    // and text column at its maximum, 12 of them pending: the widest rows there can be
    const input = atBudget(SHAPES.unicode as (n: number) => unknown, INLINE_INPUT_BYTES);
    const result = atBudget(SHAPES.emptyPairs as (n: number) => unknown, INLINE_RESULT_BYTES);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const { task } = await store.create(widest(input, String.fromCharCode(65 + i)));
      ids.push(task.id);
    }
    await db.current.sql.query("UPDATE tasks SET result = cast(:result AS jsonb), error = :error", {
      result: JSON.stringify(result),
      error: `${"cancelled while running; its last attempt failed: "}${MAX_ERROR}`,
    });

    // Act
    const claimed: string[] = [];
    for (let round = 0; round < 12 && claimed.length < 12; round++) {
      claimed.push(...(await sync([], 12)).claimed.map((t) => t.id));
    }
    const pages: Task[][] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list(OWNER, { limit: 100, cursor });
      pages.push(page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const read = await store.get(OWNER, ids[0] as string);
    // Every column of the row as PostgreSQL prints it (what the Data API counts)
    const [width] = await db.current.sql.query<{ bytes: number }>(
      `SELECT max(${TASK_COLUMNS.map(([, c]) => `coalesce(octet_length(${c.sql}::text), 0)`).join(" + ")}) AS bytes
       FROM tasks`,
    );

    // Assess
    expect(Number(width?.bytes)).toBeGreaterThan(ROW_MAX_BYTES - 1_000);
    expect(Number(width?.bytes)).toBeLessThanOrEqual(ROW_LIMIT);
    expect(new Set(claimed)).toEqual(new Set(ids));
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flat()).toHaveLength(12);
    expect(read).toMatchObject({ input, result });
  });
  it("keeps a sync's whole response under 1 MiB when the claim budget alone would not", async () => {
    // Prepare: 10 small tasks running under WORKER (claimed first: higher priority), and 20
    // of the widest rows pending; a store whose claim budget (8 MiB) would take all 20
    const input = atBudget(SHAPES.ones as (n: number) => unknown, INLINE_INPUT_BYTES);
    const result = atBudget(SHAPES.bigNumbers as (n: number) => unknown, INLINE_RESULT_BYTES);
    for (let i = 0; i < 10; i++) {
      await store.create({ ...widest({ small: i }, `s${i}`), priority: 1 });
    }
    for (let i = 0; i < 20; i++) await store.create(widest(input, `b${i}`));
    await db.current.sql.query(
      "UPDATE tasks SET result = cast(:result AS jsonb), error = :error WHERE priority = 0",
      { result: JSON.stringify(result), error: MAX_ERROR },
    );
    const running = (await sync([], 10)).claimed;
    const generous = new TaskStore(sql, { maxClaimBytes: 8 * 1024 * 1024 });

    // Act: the 10 settle with errors at their cap in the same statement that claims
    const answer = await generous.sync({
      workerId: WORKER,
      leaseSeconds: 300,
      outcomes: running.map((t) => ({ id: t.id, status: "failed" as const, error: MAX_ERROR })),
      heartbeatIds: [],
      claimLimit: 20,
    });
    const measure = (ids: string[], columns: string) =>
      db.current.sql.query<{ bytes: number }>(
        `SELECT coalesce(sum(${columns}), 0) AS bytes FROM tasks
         WHERE id IN (SELECT cast(value AS uuid) FROM jsonb_array_elements_text(cast(:ids AS jsonb)))`,
        { ids: JSON.stringify(ids) },
      );
    const all = TASK_COLUMNS.map(([, c]) => `coalesce(octet_length(${c.sql}::text), 0)`);
    // A settled row is its id and the columns that change after a claim (SettledTask).
    const settledColumns = TASK_COLUMNS.filter(
      ([field, c]) => field === "id" || c.changesAfterClaim,
    ).map(([, c]) => `coalesce(octet_length(${c.sql}::text), 0)`);
    const [claimedBytes] = await measure(
      answer.claimed.map((t) => t.id),
      all.join(" + "),
    );
    const [settledBytes] = await measure(
      answer.settled.map((t) => t.id),
      settledColumns.join(" + "),
    );

    // Assess
    expect(running).toHaveLength(10);
    expect(answer.settled).toHaveLength(10);
    expect(answer.claimed.length).toBeGreaterThan(0);
    expect(answer.claimed.length).toBeLessThan(20);
    expect(Number(claimedBytes?.bytes) + Number(settledBytes?.bytes)).toBeLessThanOrEqual(
      RESPONSE_LIMIT,
    );
  });
});
