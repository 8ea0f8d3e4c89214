import type { Task } from "../core/tasks/model";
import type { TaskView } from "./schemas";

/**
 * A task as callers see it: camelCase, ISO timestamps, and without the executor's lease
 * (which worker holds it until when is nobody else's business) or the owner (always the
 * caller).
 */
export function toTaskView(task: Task): TaskView {
  return {
    id: task.id,
    type: task.type,
    title: task.title,
    input: task.input,
    status: task.status,
    priority: task.priority,
    runAt: task.runAt.toISOString(),
    attempts: task.attempts,
    maxAttempts: task.maxAttempts,
    cancelRequested: task.cancelRequested,
    model: task.model,
    result: task.result ?? null,
    error: task.error,
    idempotencyKey: task.idempotencyKey,
    createdAt: task.createdAt.toISOString(),
    updatedAt: task.updatedAt.toISOString(),
    startedAt: task.startedAt?.toISOString() ?? null,
    completedAt: task.completedAt?.toISOString() ?? null,
  };
}
