/**
 * Scale to zero (docs/design.md "Scale to zero"): two small ports that let an idle
 * pipeline leave the database alone and still start new work at once.
 *
 * - The **due marker** records the earliest time the executor may have work (a pending
 *   task's due time, a running task's lease expiry). The schedule's ticks read it, not the
 *   database: a tick with nothing due before the next one returns at once, so an idle
 *   Aurora cluster can pause. In AWS it is a DynamoDB item, reached from the VPC through the
 *   free gateway endpoint; locally it lives in the runtime's memory.
 * - The **waker** starts an executor the moment a task is created, instead of at the next
 *   tick: an SQS message in AWS (the queue's event source mapping runs the executor, at
 *   most 2 at once however many tasks arrive), a direct invocation locally.
 *
 * The marker's rule: it is never later than the earliest work. Whoever makes work due
 * lowers it (`lower`, after the work is committed); only an executor that has just read
 * the database raises it (`record`), and only if nobody lowered it since it looked
 * (`version`). An absent marker means "unknown": the executor reads the database.
 */

export interface MarkerState {
  /** False when nothing was ever recorded: the database must be read. */
  known: boolean;
  /** The earliest time work may be due (ms since the epoch); null when none is. */
  dueAtMs: number | null;
  /** Changes on every lower and record; `record` succeeds only against the version it read. */
  version: number;
}

export interface DueMarker {
  read(): Promise<MarkerState>;
  /** Work falls due at `atMs`: the marker becomes at most that (and its version moves on). */
  lower(atMs: number): Promise<void>;
  /**
   * After a read of the database that began after `read()` returned `version`: the next
   * due time it found (null: none). False (and nothing written) when the marker changed
   * since, which means new work arrived meanwhile.
   */
  record(dueAtMs: number | null, version: number): Promise<boolean>;
}

export interface Waker {
  /** Starts an executor soon (bounded: a burst of wakes starts at most a few). */
  wake(): Promise<void>;
}

/** No marker configured: every tick reads the database, as before scale to zero. */
export const noDueMarker: DueMarker = {
  read: async () => ({ known: false, dueAtMs: null, version: 0 }),
  lower: async () => {},
  record: async () => false,
};

export const noWaker: Waker = { wake: async () => {} };
