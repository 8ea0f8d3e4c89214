import { z } from "zod";
import { type Task, TaskStatusSchema } from "./model";

/**
 * Decodes a `tasks` row (snake_case, as both SQL adapters return it) into a Task. Parsed
 * with zod rather than cast: if an adapter ever hands back a timestamp as a string or a
 * count as a string, this fails loudly here instead of leaking a wrong type to callers.
 */
const timestamp = z.date();

const TaskRowSchema = z
  .object({
    id: z.string(),
    owner: z.string(),
    type: z.string(),
    title: z.string().nullable(),
    input: z.unknown(),
    status: TaskStatusSchema,
    priority: z.number().int(),
    run_at: timestamp,
    attempts: z.number().int(),
    max_attempts: z.number().int(),
    lease_owner: z.string().nullable(),
    lease_expires_at: timestamp.nullable(),
    cancel_requested: z.boolean(),
    model: z.string(),
    result: z.unknown(),
    error: z.string().nullable(),
    idempotency_key: z.string().nullable(),
    created_at: timestamp,
    updated_at: timestamp,
    started_at: timestamp.nullable(),
    completed_at: timestamp.nullable(),
  })
  .transform(
    (row): Task => ({
      id: row.id,
      owner: row.owner,
      type: row.type,
      title: row.title,
      input: row.input,
      status: row.status,
      priority: row.priority,
      runAt: row.run_at,
      attempts: row.attempts,
      maxAttempts: row.max_attempts,
      leaseOwner: row.lease_owner,
      leaseExpiresAt: row.lease_expires_at,
      cancelRequested: row.cancel_requested,
      model: row.model,
      result: row.result ?? null,
      error: row.error,
      idempotencyKey: row.idempotency_key,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      startedAt: row.started_at,
      completedAt: row.completed_at,
    }),
  );

export function rowToTask(row: unknown): Task {
  return TaskRowSchema.parse(row);
}
