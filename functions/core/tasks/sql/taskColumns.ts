/**
 * The columns every task statement returns, in one place, so each statement's rows decode
 * with the same `rowToTask` (see ../rows.ts). `request_hash` is internal and never returned
 * except by findByIdempotencyKey.
 */
export const TASK_COLUMNS = {
  id: "uuid",
  owner: "text",
  type: "text",
  title: "text",
  input: "jsonb",
  status: "text",
  priority: "integer",
  run_at: "timestamptz",
  attempts: "integer",
  max_attempts: "integer",
  lease_owner: "text",
  lease_expires_at: "timestamptz",
  cancel_requested: "boolean",
  model: "text",
  result: "jsonb",
  error: "text",
  idempotency_key: "text",
  created_at: "timestamptz",
  updated_at: "timestamptz",
  started_at: "timestamptz",
  completed_at: "timestamptz",
} as const;

export type TaskColumn = keyof typeof TASK_COLUMNS;
const NAMES = Object.keys(TASK_COLUMNS) as TaskColumn[];

/** `t.id, t.owner, ...` (or unqualified without an alias); all columns unless listed. */
export function taskColumns(alias?: string, columns: readonly TaskColumn[] = NAMES): string {
  return columns.map((name) => (alias ? `${alias}.${name}` : name)).join(", ");
}

/** The select list of `present` columns, with typed NULLs standing in for the others. */
export function someTaskColumns(present: readonly TaskColumn[]): string {
  return NAMES.map((name) =>
    present.includes(name) ? name : `cast(NULL AS ${TASK_COLUMNS[name]}) AS ${name}`,
  ).join(", ");
}

/**
 * Every column but `input` and `result`: how settled and recovered rows come back. The
 * executor already holds both, and a round trip must stay under the Data API's 1 MiB
 * response cap even when it recovers 100 dead workers' tasks with 56 KiB rows.
 */
export const SLIM_COLUMNS: readonly TaskColumn[] = NAMES.filter(
  (name) => name !== "input" && name !== "result",
);

/**
 * One branch of a `kind`-tagged UNION ALL (the shape `claim` and `sync` return): every
 * task column, taken from `source` when listed in `present`, else a typed NULL, so all
 * branches line up and decode the same through both SQL adapters.
 */
export function kindBranch(
  kind: string,
  source: string,
  present: readonly TaskColumn[] = NAMES,
): string {
  return `SELECT '${kind}' AS kind, ${someTaskColumns(present)} FROM ${source}`;
}
