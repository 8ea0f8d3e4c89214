import type { Task } from "../../functions/core/tasks/model";

/**
 * A whole Task for unit tests that need one without a database: a pending summarize task
 * with every timestamp at `at`, changed by `overrides`. One place to add a column to.
 */
export function aTask(overrides: Partial<Task> = {}, at = new Date(Date.UTC(2026, 0, 2))): Task {
  return {
    id: "00000000-0000-4000-8000-000000000001",
    owner: "o",
    type: "summarize",
    title: null,
    input: { text: "x" },
    status: "pending",
    priority: 0,
    runAt: at,
    attempts: 0,
    maxAttempts: 3,
    leaseOwner: null,
    leaseExpiresAt: null,
    cancelRequested: false,
    model: "llama3.2",
    result: null,
    error: null,
    idempotencyKey: null,
    progress: null,
    createdAt: at,
    updatedAt: at,
    startedAt: null,
    completedAt: null,
    firstDueAt: null,
    firstStartedAt: null,
    ...overrides,
  };
}
