/**
 * A task as callers see it, derived from the task row's definition (core/tasks/taskRow.ts):
 * the columns marked `api`, camelCase, timestamps as ISO text, each with its OpenAPI
 * description. Left out: the executor's lease (which worker holds it until when is nobody
 * else's business) and the owner (always the caller). schemas.ts names the shape
 * TaskViewSchema; toTaskView fills it.
 */
import { z } from "zod";
import { TaskProgressSchema, TaskStatusSchema } from "../core/tasks/model";
import {
  type ColumnKind,
  TASK_COLUMNS,
  type TASK_ROW,
  type Task,
  type TaskField,
} from "../core/tasks/taskRow";
import type { TaskView } from "./schemas";

/** The JSON schema of each column kind in the view. */
const VIEW_KINDS = {
  uuid: () => z.guid(),
  text: () => z.string(),
  status: () => TaskStatusSchema,
  integer: () => z.int(),
  boolean: () => z.boolean(),
  timestamp: () => z.iso.datetime(),
  json: () => z.unknown(),
  progress: () => TaskProgressSchema,
} satisfies Record<ColumnKind, () => z.ZodType>;

type Row = typeof TASK_ROW;
type ViewField = { [F in TaskField]: Row[F] extends { api: object } ? F : never }[TaskField];
type ViewSchemaOf<C> = C extends { kind: infer K extends ColumnKind }
  ? C extends { nullable: true }
    ? z.ZodNullable<ReturnType<(typeof VIEW_KINDS)[K]>>
    : ReturnType<(typeof VIEW_KINDS)[K]>
  : never;

const VIEW_COLUMNS = TASK_COLUMNS.filter(([, c]) => c.api);

/** The view's zod shape, field by field in the table's order (TaskViewSchema in schemas.ts). */
export function taskViewShape(): { [F in ViewField]: ViewSchemaOf<Row[F]> } {
  return Object.fromEntries(
    VIEW_COLUMNS.map(([field, c]) => {
      const base: z.ZodType = VIEW_KINDS[c.kind]();
      // json columns are `unknown`, which includes null already.
      const schema = c.nullable && c.kind !== "json" ? base.nullable() : base;
      const description = c.api?.description;
      return [field, description === undefined ? schema : schema.describe(description)];
    }),
  ) as { [F in ViewField]: ViewSchemaOf<Row[F]> };
}

export function toTaskView(task: Task): TaskView {
  return Object.fromEntries(
    VIEW_COLUMNS.map(([field, c]) => {
      const value = task[field];
      if (c.kind === "timestamp")
        return [field, value instanceof Date ? value.toISOString() : null];
      return [field, value ?? null];
    }),
  ) as TaskView;
}
