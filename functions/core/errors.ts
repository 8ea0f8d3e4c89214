/**
 * Every error the core raises on purpose, by name. Handlers map these to answers
 * (the API's error handler: 4xx; the executor: retry or fail); anything else is a bug
 * and is hidden behind a plain 500.
 */

export class PipelineError extends Error {
  /** A stable, machine-readable code, e.g. `not_found`; also the API's `error.code`. */
  readonly code: string;
  readonly details?: unknown;

  constructor(code: string, message: string, options?: { details?: unknown; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options?.details;
  }
}

/** A setting (environment variable or cdk.json value) is missing or malformed. */
export class SettingsError extends PipelineError {
  constructor(message: string, details?: unknown) {
    super("invalid_settings", message, { details });
  }
}

/** Input that does not fit: a field, a query parameter, a cursor, a size limit. */
export class ValidationError extends PipelineError {
  constructor(message: string, details?: unknown) {
    super("validation_failed", message, { details });
  }
}

/** The task does not exist for this caller (another caller's task included). */
export class TaskNotFoundError extends PipelineError {
  constructor(readonly taskId: string) {
    super("not_found", `task ${taskId} not found`);
  }
}

/** The task's state does not allow the operation (cancel a completed task, retry a pending one). */
export class TaskStateConflictError extends PipelineError {
  constructor(
    readonly taskId: string,
    readonly status: string,
    operation: string,
  ) {
    super("conflict", `cannot ${operation} task ${taskId}: it is ${status}`, {
      details: { status },
    });
  }
}

/** The same Idempotency-Key was used before with a different request. */
export class IdempotencyConflictError extends PipelineError {
  constructor(readonly idempotencyKey: string) {
    super(
      "idempotency_conflict",
      `Idempotency-Key "${idempotencyKey}" was already used with a different request`,
    );
  }
}

/** The database could not be reached or failed in a way worth retrying later. */
export class DatabaseUnavailableError extends PipelineError {
  constructor(message: string, cause?: unknown) {
    super("database_unavailable", message, { cause });
  }
}

/** A migration file was changed after it was applied, or is otherwise unusable. */
export class MigrationError extends PipelineError {
  constructor(message: string, details?: unknown) {
    super("migration_failed", message, { details });
  }
}

/**
 * A task's work failed. `retryable` decides between a retry with backoff (Ollama
 * unreachable, timeout, 5xx, unparsable model output) and a final failure (unknown model,
 * 4xx, input that does not fit its type).
 */
export class TaskExecutionError extends PipelineError {
  constructor(
    message: string,
    readonly retryable: boolean,
    cause?: unknown,
  ) {
    super(retryable ? "task_retryable" : "task_failed", message, { cause });
  }
}

/** The task was cancelled while it ran; its LLM call was aborted. */
export class TaskCancelledError extends PipelineError {
  constructor(message = "task cancelled") {
    super("cancelled", message);
  }
}

/** The owner has as many unfinished tasks as MAX_PENDING_PER_OWNER allows. */
export class TooManyTasksError extends PipelineError {
  constructor(
    readonly limit: number,
    readonly unfinished: number,
  ) {
    super(
      "too_many_tasks",
      `you have ${unfinished} unfinished tasks; at most ${limit} may be pending or running at once. Try again when some have finished`,
      { details: { limit, unfinished } },
    );
  }
}

/**
 * A big input or result kept outside its row (the claim check, core/payloads) cannot be
 * read: its object is gone or does not match its reference. The API hides it behind a
 * 500 (and logs it); the executor fails the task with this reason, since retrying cannot
 * bring the object back.
 */
export class PayloadUnavailableError extends PipelineError {
  constructor(
    readonly key: string,
    reason: "not_found" | "corrupt",
    message: string,
  ) {
    super(`payload_${reason}`, message);
  }
}

/** A value is over its size limit: the whole body, or one field (`input`, `tasks.3.input`). */
export class PayloadTooLargeError extends PipelineError {
  constructor(message: string, details: { maxBytes: number; field?: string }) {
    super("payload_too_large", message, { details });
  }
}
