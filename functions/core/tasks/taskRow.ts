/**
 * The task row, defined once: per column of `tasks`, its SQL name, its kind (which gives
 * the SQL type used for typed NULLs and the zod decoder), and what it is to callers:
 * whether the create writes it (`settable`), whether it is left out of the executor's
 * recovered rows (`bulky`), whether its settled rows carry it (`changesAfterClaim`), and
 * whether it is in the HTTP API's view (`api`, with the OpenAPI description). Everything
 * else is derived from TASK_ROW: the `Task`, `NewTask` and `SettledTask` types, the select
 * lists every statement returns, the row decoders, the create's INSERT
 * (./sql/insertTasks.ts), its request fingerprint (./requestHash.ts) and the API view
 * (functions/api/taskView.ts).
 *
 * Adding a caller-settable column: a migration, an entry here, and what decides about its
 * value (the store's guard in ./storeInputChecks.ts, the API's create body schema and route).
 * `request_hash` is internal: not a Task field, read only by findByIdempotencyKeys.
 */
import { z } from "zod";
import { FIXED_COLUMNS_MAX_BYTES } from "./byteBudgets";
import { TaskProgressSchema, TaskStatusSchema } from "./model";

const isString = (value: unknown) => typeof value === "string";

const STATUSES: ReadonlySet<unknown> = new Set(TaskStatusSchema.options);

/**
 * How a column is stored and decoded. Rows are checked rather than cast: `plain` accepts
 * only what `decoder` accepts unchanged, and a row all of whose columns pass it is taken as
 * is; any other row goes through the decoders (zod), which name the failing column. So if
 * an adapter ever hands back a timestamp or a count as a string, this fails loudly here.
 * Why two: the sync returns 2,000 rows at a time, zod's parse allocated two objects per
 * field of each, and the garbage collector was the largest item in the executor's profile.
 */
const KINDS = {
  uuid: { sqlType: "uuid", decoder: () => z.string(), plain: isString },
  text: { sqlType: "text", decoder: () => z.string(), plain: isString },
  status: { sqlType: "text", decoder: () => TaskStatusSchema, plain: (v) => STATUSES.has(v) },
  integer: {
    sqlType: "integer",
    decoder: () => z.number().int(),
    plain: (v) => Number.isSafeInteger(v),
  },
  boolean: { sqlType: "boolean", decoder: () => z.boolean(), plain: (v) => typeof v === "boolean" },
  timestamp: {
    sqlType: "timestamptz",
    decoder: () => z.date(),
    plain: (v) => v instanceof Date && !Number.isNaN(v.getTime()),
  },
  /** A small, bounded object (counted in FIXED_COLUMNS_MAX_BYTES, not measured); a reported
   *  one always goes through zod. */
  progress: { sqlType: "jsonb", decoder: () => TaskProgressSchema, plain: () => false },
  /** A missing value reads as null; `unknown` already includes null, so never `nullable`. */
  json: {
    sqlType: "jsonb",
    decoder: () => z.unknown().transform((value): unknown => value ?? null),
    plain: (v) => v !== undefined,
  },
} as const satisfies Record<
  string,
  { sqlType: string; decoder: () => z.ZodType; plain: (value: unknown) => boolean }
>;
export type ColumnKind = keyof typeof KINDS;

interface ColumnOptions {
  nullable?: true;
  /** Written by the create from NewTask. */
  settable?: true;
  /** SQL for a settable column's value when NewTask holds null (NewTask's field is then nullable). */
  insertDefault?: string;
  /** Left out (a typed NULL) of the rows sync returns for recovered tasks. */
  bulky?: true;
  /**
   * Can differ, by the time a settle returns the row, from the claimed row the executor
   * holds: the settle writes it, or a heartbeat or a cancel did while the attempt ran. With
   * the id, the only columns of a settled row (./model.ts SettledTask).
   */
  changesAfterClaim?: true;
  /** In the HTTP API's task view, with its OpenAPI description. */
  api?: { description?: string };
}

export interface TaskColumn<K extends ColumnKind = ColumnKind> extends ColumnOptions {
  sql: string;
  kind: K;
}

function column<const K extends ColumnKind, const O extends ColumnOptions>(
  sql: string,
  kind: K,
  options: O,
): { sql: string; kind: K } & O {
  return { sql, kind, ...options };
}

const api = (description?: string) => ({ api: description === undefined ? {} : { description } });

export const TASK_ROW = {
  id: column("id", "uuid", api("The task's id (a UUID).")),
  /** The caller who created the task: never in the view (always the caller). */
  owner: column("owner", "text", { settable: true }),
  type: column("type", "text", { settable: true, ...api() }),
  title: column("title", "text", { nullable: true, settable: true, ...api() }),
  input: column("input", "json", {
    settable: true,
    bulky: true,
    ...api("The input as accepted at create time."),
  }),
  status: column("status", "status", { changesAfterClaim: true, ...api() }),
  priority: column("priority", "integer", { settable: true, ...api() }),
  /** Not before: the claim skips the task until then (also the retry backoff's target).
   *  A create without it makes the task due at once. */
  runAt: column("run_at", "timestamp", {
    settable: true,
    changesAfterClaim: true,
    insertDefault: "now()",
    ...api("Not before: when the task is (or was) due."),
  }),
  /** Claims so far: incremented by every claim, reset by retry. */
  attempts: column("attempts", "integer", api("Attempts so far (reset by retry).")),
  maxAttempts: column("max_attempts", "integer", { settable: true, ...api() }),
  /** The executor's lease: which worker holds the task until when; nobody else's business. */
  leaseOwner: column("lease_owner", "text", { nullable: true, changesAfterClaim: true }),
  leaseExpiresAt: column("lease_expires_at", "timestamp", {
    nullable: true,
    changesAfterClaim: true,
  }),
  cancelRequested: column("cancel_requested", "boolean", {
    changesAfterClaim: true,
    ...api("Cancel was asked while the task ran."),
  }),
  model: column("model", "text", { settable: true, ...api() }),
  result: column("result", "json", {
    bulky: true,
    ...api("The task type's result, once completed; null before."),
  }),
  error: column("error", "text", {
    nullable: true,
    changesAfterClaim: true,
    ...api("Why the last attempt failed, if it did."),
  }),
  idempotencyKey: column("idempotency_key", "text", { nullable: true, settable: true, ...api() }),
  /** The latest progress its executor reported (sync's heartbeat); cleared by each claim. */
  progress: column("progress", "progress", {
    nullable: true,
    changesAfterClaim: true,
    ...api(
      "How far the running attempt is, as its executor last reported it; null when not reported.",
    ),
  }),
  createdAt: column("created_at", "timestamp", api()),
  updatedAt: column("updated_at", "timestamp", { changesAfterClaim: true, ...api() }),
  /** Start of the latest attempt (set by every claim). */
  startedAt: column("started_at", "timestamp", {
    nullable: true,
    ...api("Start of the latest attempt."),
  }),
  /** When the task reached a final status. */
  completedAt: column("completed_at", "timestamp", {
    nullable: true,
    changesAfterClaim: true,
    ...api("When the task reached a final status."),
  }),
  /**
   * Pickup latency's two ends (migrations/0002_pickup.sql), set by the claim that makes the
   * first attempt: when the task became due for it (the later of its creation and its runAt)
   * and when it started. Internal: /api/metrics reports the latency, not these.
   */
  firstDueAt: column("first_due_at", "timestamp", { nullable: true }),
  firstStartedAt: column("first_started_at", "timestamp", { nullable: true }),
};

type Row = typeof TASK_ROW;
export type TaskField = keyof Row;

type Decoded<C> = C extends { kind: infer K extends ColumnKind }
  ?
      | z.output<ReturnType<(typeof KINDS)[K]["decoder"]>>
      | (C extends { nullable: true } ? null : never)
  : never;

/** A row of `tasks`, camelCase, as every statement returns it. */
export type Task = { -readonly [F in TaskField]: Decoded<Row[F]> };

type SettableField = { [F in TaskField]: Row[F] extends { settable: true } ? F : never }[TaskField];

/** What the store needs to create a task; defaults (model, priority...) already applied. */
export type NewTask = {
  [F in SettableField]: Row[F] extends { insertDefault: string } ? Task[F] | null : Task[F];
};

type SettledField =
  | "id"
  | { [F in TaskField]: Row[F] extends { changesAfterClaim: true } ? F : never }[TaskField];

/**
 * A task as a settle returns it: its id and the columns that can have changed since the
 * claim (`changesAfterClaim`). The executor holds the rest, as claimed; merged, they are
 * the row as it now is (functions/core/executor/syncReport.ts).
 */
export type SettledTask = Pick<Task, SettledField>;

/** Every column, as [field, column] in the table's order. */
export const TASK_COLUMNS = Object.entries(TASK_ROW) as Array<[TaskField, TaskColumn]>;
const isSettledColumn = (c: TaskColumn) =>
  c.sql === TASK_ROW.id.sql || c.changesAfterClaim === true;
const SETTLED_COLUMNS = TASK_COLUMNS.filter(([, c]) => isSettledColumn(c));
export const SETTABLE_COLUMNS = TASK_COLUMNS.filter(([, c]) => c.settable) as Array<
  [SettableField, TaskColumn]
>;

export const sqlTypeOf = (c: TaskColumn): string => KINDS[c.kind].sqlType;

/**
 * The select list of every task column, qualified by `alias` when given. Columns for which
 * `present` says no become typed NULLs under their own name, so rows of different
 * statements (or of the branches of one UNION ALL) line up and decode the same through
 * both SQL adapters.
 */
export function taskColumns(
  alias?: string,
  present: (c: TaskColumn) => boolean = () => true,
): string {
  return TASK_COLUMNS.map(([, c]) =>
    present(c)
      ? alias
        ? `${alias}.${c.sql}`
        : c.sql
      : `cast(NULL AS ${sqlTypeOf(c)}) AS ${c.sql}`,
  ).join(", ");
}

/**
 * Every column but the bulky ones (input and result), as typed NULLs: how recovered rows
 * come back. The executor that recovers a dead worker's task does not run it, and a round
 * trip must stay under the Data API's 1 MiB response cap even when it recovers 100 tasks
 * whose inputs and results are at their budgets (./byteBudgets.ts).
 */
export const slimTaskColumns = (alias?: string) => taskColumns(alias, (c) => !c.bulky);

/** The columns slimTaskColumns keeps, alone: what an UPDATE of a slim row RETURNs. */
export const slimColumnsOnly = (alias: string) =>
  TASK_COLUMNS.filter(([, c]) => !c.bulky)
    .map(([, c]) => `${alias}.${c.sql}`)
    .join(", ");

/**
 * A settled row's select list: the id and the columns that can change after the claim, the
 * others typed NULLs (SettledTask). Small, as a settle answers for up to 1,000 outcomes at
 * once, and everything else the executor already holds.
 */
export const settledTaskColumns = (alias?: string) => taskColumns(alias, isSettledColumn);

/** The columns settledTaskColumns keeps, alone: what the settle's UPDATE RETURNs. */
export const settledColumnsOnly = (alias: string) =>
  SETTLED_COLUMNS.map(([, c]) => `${alias}.${c.sql}`).join(", ");

/** SQL for a settled row's size as the Data API counts it (see rowBytesSql). */
export const settledRowBytesSql = (alias: string) => rowBytesSql(alias, isSettledColumn);

/**
 * SQL for a row's size as the Data API counts it (./byteBudgets.ts): its text and jsonb
 * columns measured as PostgreSQL prints them, every other column at its printed maximum
 * (FIXED_COLUMNS_MAX_BYTES). Columns for which `present` says no are NULLs in that row and
 * count nothing. `alias` qualifies the columns.
 */
export function rowBytesSql(alias: string, present: (c: TaskColumn) => boolean = () => true) {
  const measured = TASK_COLUMNS.filter(([, c]) => present(c) && c.kind !== "status").flatMap(
    ([, c]) => {
      if (c.kind === "text") return [`coalesce(octet_length(${alias}.${c.sql}), 0)`];
      if (c.kind === "json") return [`coalesce(octet_length(${alias}.${c.sql}::text), 0)`];
      return [];
    },
  );
  return [...measured, String(FIXED_COLUMNS_MAX_BYTES)].join(" + ");
}

/**
 * A decoder of rows carrying `columns` (snake_case, as both SQL adapters return them) into
 * objects of their camelCase fields. Rows are checked rather than cast: a row all of whose
 * columns pass their kind's `plain` check is taken as is; anything else (a reported
 * progress, a missing jsonb, a value of the wrong type) goes through zod, which checks it in
 * full and names the column when it fails.
 */
function rowDecoder<T>(columns: ReadonlyArray<readonly [TaskField, TaskColumn]>) {
  const pick = (row: Record<string, unknown>): T => {
    const picked: Record<string, unknown> = {};
    for (const [field, c] of columns) picked[field] = row[c.sql];
    return picked as T;
  };
  const schema = z
    .object(
      Object.fromEntries(
        columns.map(([, c]) => {
          const decoder = KINDS[c.kind].decoder();
          return [c.sql, c.nullable ? decoder.nullable() : decoder];
        }),
      ),
    )
    .transform((row) => pick(row));
  const checks = columns.map(([, c]) => {
    const plain: (value: unknown) => boolean = KINDS[c.kind].plain;
    return { sql: c.sql, ok: c.nullable ? (v: unknown) => v === null || plain(v) : plain };
  });
  return (row: unknown): T => {
    if (typeof row === "object" && row !== null) {
      const fields = row as Record<string, unknown>;
      if (checks.every((check) => check.ok(fields[check.sql]))) return pick(fields);
    }
    return schema.parse(row);
  };
}

/** Decodes a whole `tasks` row into a Task. */
export const rowToTask: (row: unknown) => Task = rowDecoder<Task>(TASK_COLUMNS);

/** Decodes a settled row (settledTaskColumns) into a SettledTask. */
export const rowToSettledTask: (row: unknown) => SettledTask =
  rowDecoder<SettledTask>(SETTLED_COLUMNS);
