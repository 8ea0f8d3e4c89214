/**
 * The events pushed to a task owner's channel (docs/design.md "Real time"), as zod schemas
 * the publisher builds with and clients can parse with:
 *
 * - `{"type": "status", "task": {...}}` on every status change; `task` is the API's task
 *   view without its bulky fields (input and result), derived from the one row definition
 *   (../tasks/taskRow.ts), so a list view can update from it alone;
 * - `{"type": "output", "taskId", "attempt", "seq", "delta"}` while a task runs: `seq`
 *   counts from 0 within an attempt, `delta` is the next piece of the LLM's text;
 * - `{"type": "progress", "taskId", "attempt", "progress": {step, done, total}}` as a long
 *   task advances (each chunk of a long summarize); the task's `progress` field holds the
 *   latest one too, as of the executor's last heartbeat.
 */
import { z } from "zod";
import { TaskProgressSchema, TaskStatusSchema } from "../tasks/model";
import { TASK_COLUMNS, type Task } from "../tasks/taskRow";

/**
 * AppSync Events' limits: 5 events per HTTP publish and 240 KB per event
 * (https://docs.aws.amazon.com/appsync/latest/eventapi/publish-http.html; the per-event size
 * in the AppSync service quotas, https://docs.aws.amazon.com/general/latest/gr/appsync.html).
 */
export const MAX_EVENTS_PER_PUBLISH = 5;
export const MAX_EVENT_BYTES = 240 * 1024;

/** The columns a status event's task carries: in the API view, and not bulky. */
const SUMMARY_COLUMNS = TASK_COLUMNS.filter(([, c]) => c.api && !c.bulky);

/** The task in a status event: every view column but input and result. */
export const TaskSummarySchema = z
  .object({
    id: z.string(),
    status: TaskStatusSchema,
  })
  .catchall(z.unknown());
export type TaskSummary = z.infer<typeof TaskSummarySchema>;

export function toTaskSummary(task: Task): TaskSummary {
  return Object.fromEntries(
    SUMMARY_COLUMNS.map(([field, c]) => {
      const value = task[field];
      if (c.kind === "timestamp")
        return [field, value instanceof Date ? value.toISOString() : null];
      return [field, value ?? null];
    }),
  ) as TaskSummary;
}

export const StatusEventSchema = z.object({
  type: z.literal("status"),
  task: TaskSummarySchema,
});
export type StatusEvent = z.infer<typeof StatusEventSchema>;

export const OutputEventSchema = z.object({
  type: z.literal("output"),
  taskId: z.string(),
  /** The attempt the text belongs to (a retry starts its text over, at seq 0). */
  attempt: z.int(),
  seq: z.int().min(0),
  delta: z.string(),
});
export type OutputEvent = z.infer<typeof OutputEventSchema>;

export const ProgressEventSchema = z.object({
  type: z.literal("progress"),
  taskId: z.string(),
  attempt: z.int(),
  progress: TaskProgressSchema,
});
export type ProgressEvent = z.infer<typeof ProgressEventSchema>;

export const TaskEventSchema = z.discriminatedUnion("type", [
  StatusEventSchema,
  OutputEventSchema,
  ProgressEventSchema,
]);
export type TaskEvent = z.infer<typeof TaskEventSchema>;
