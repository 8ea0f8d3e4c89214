/**
 * The task repository with the claim check: wraps the TaskStore (whose rows stay within the
 * Data API's 64 KB) and keeps inputs and results over the inline budgets in the payload
 * store, so the API and the executor read and write whole values as before.
 *
 * - create / createBatch: an input over INLINE_INPUT_BYTES (or reference-shaped, see
 *   ./claimCheck.ts) is written first, then the row with its reference; when the insert
 *   does not keep it (a replay answered by the existing task, a refusal, an error) the
 *   object is deleted again. One PUT per big input.
 * - get / cancel / retry / list: references are loaded (one GET each); a list page stops
 *   early, with its cursor, once the payloads it loaded reach LIST_LOADED_BYTES.
 * - sync: a completed result over INLINE_RESULT_BYTES is written before the settle (one
 *   PUT); a result the settle did not write (the lease was lost) is deleted. Claimed tasks
 *   come back with their inputs loaded; one whose input cannot be read (gone, corrupt) is
 *   failed with the reason by a second sync.
 * - deleteExpired: the deleted rows' objects and checkpoints go with them (one
 *   DeleteObjects per 1,000 keys; S3 does not charge DELETE requests).
 */
import { PayloadTooLargeError, PayloadUnavailableError, ValidationError } from "../errors";
import type { FieldIssue } from "../fieldIssues";
import {
  INLINE_INPUT_BYTES,
  INLINE_RESULT_BYTES,
  LIST_LOADED_BYTES,
  MAX_INPUT_BYTES,
  MAX_RESULT_BYTES,
} from "../tasks/byteBudgets";
import { encodeCursor } from "../tasks/cursor";
import type {
  ExpiredTask,
  ListTasksQuery,
  NewTask,
  QueueState,
  SyncRequest,
  SyncResult,
  Task,
  TaskOutcome,
  TaskPage,
  TaskRepository,
  TaskStats,
} from "../tasks/model";
import { printedJsonBytes } from "../tasks/printedJson";
import { jsonProblem } from "../tasks/storeInputChecks";
import type { Logger } from "../telemetry/ports";
import {
  checkpointKey,
  isPayloadRef,
  loadPayload,
  type Offloaded,
  offloadPlan,
} from "./claimCheck";
import type { PayloadStore } from "./port";

/** S3 requests one task's payloads may have in flight at once (a list page loads ≤ 100). */
const LOAD_CONCURRENCY = 8;

export class ClaimCheckTasks implements TaskRepository {
  constructor(
    private readonly inner: TaskRepository,
    private readonly store: PayloadStore,
    private readonly logger?: Logger,
  ) {}

  async create(newTask: NewTask): Promise<{ task: Task; created: boolean }> {
    const [plan] = this.planInputs([newTask], (issue) => issue);
    const prepared = plan as PlannedTask;
    await this.write([prepared.offloaded]);
    let answer: { task: Task; created: boolean };
    try {
      answer = await this.inner.create(prepared.task);
    } catch (error) {
      await this.discard([prepared.offloaded]);
      throw error;
    }
    // A replay: the task that exists keeps its own object; this one is not referenced.
    if (!answer.created) await this.discard([prepared.offloaded]);
    return {
      task: await this.resolve(answer.task, writtenValues([prepared])),
      created: answer.created,
    };
  }

  async createBatch(
    newTasks: readonly NewTask[],
    idempotencyKey: string | null,
  ): Promise<{ tasks: Task[]; created: boolean }> {
    const plans = this.planInputs(newTasks, (issue, i) => `tasks.${i}.${issue}`);
    const offloaded = plans.map((plan) => plan.offloaded);
    await this.write(offloaded);
    let answer: { tasks: Task[]; created: boolean };
    try {
      answer = await this.inner.createBatch(
        plans.map((plan) => plan.task),
        idempotencyKey,
      );
    } catch (error) {
      await this.discard(offloaded);
      throw error;
    }
    if (!answer.created) await this.discard(offloaded);
    return {
      tasks: await mapLimited(answer.tasks, (task) => this.resolve(task, writtenValues(plans))),
      created: answer.created,
    };
  }

  async get(owner: string, id: string): Promise<Task> {
    return this.resolve(await this.inner.get(owner, id));
  }

  async cancel(owner: string, id: string): Promise<Task> {
    return this.resolve(await this.inner.cancel(owner, id));
  }

  async retry(owner: string, id: string): Promise<Task> {
    return this.resolve(await this.inner.retry(owner, id));
  }

  async list(owner: string, query: ListTasksQuery): Promise<TaskPage> {
    const page = await this.inner.list(owner, query);
    // Keep the longest prefix whose offloaded payloads fit LIST_LOADED_BYTES (the first task
    // always: alone it is no bigger than a GET); the cursor then points after the last kept.
    let loaded = 0;
    let kept = 0;
    for (const task of page.items) {
      const bytes = offloadedBytes(task);
      if (kept > 0 && loaded + bytes > LIST_LOADED_BYTES) break;
      loaded += bytes;
      kept += 1;
    }
    const items = await this.resolveAll(page.items.slice(0, kept));
    if (kept === page.items.length) return { items, nextCursor: page.nextCursor };
    return { items, nextCursor: encodeCursor((items.at(-1) as Task).id) };
  }

  async sync(request: SyncRequest): Promise<SyncResult> {
    const outcomes = request.outcomes.map((outcome) => this.planResult(outcome));
    const offloaded = outcomes.map((plan) => plan.offloaded);
    await this.write(offloaded);
    let result: SyncResult;
    try {
      result = await this.inner.sync({
        ...request,
        outcomes: outcomes.map((plan) => plan.outcome),
      });
    } catch (error) {
      await this.discard(offloaded);
      throw error;
    }
    const settled = new Set(result.settled.map((task) => task.id));
    await this.discard(
      outcomes.filter((plan) => !settled.has(plan.outcome.id)).map((plan) => plan.offloaded),
    );
    return { ...result, claimed: await this.claimedWithInputs(request, result.claimed) };
  }

  async deleteExpired(request: {
    retentionSeconds: number;
    batch: number;
  }): Promise<ExpiredTask[]> {
    const expired = await this.inner.deleteExpired(request);
    const keys = expired.flatMap((task) => [...task.payloadKeys, checkpointKey(task.id)]);
    if (keys.length > 0) {
      await this.store.delete(keys);
    }
    return expired;
  }

  stats(owner: string | undefined, windowSeconds: number): Promise<TaskStats> {
    return this.inner.stats(owner, windowSeconds);
  }

  queueState(): Promise<QueueState> {
    return this.inner.queueState();
  }

  nextDueAt(): Promise<Date | null> {
    return this.inner.nextDueAt();
  }

  cancelRequests(ids: readonly string[]): Promise<string[]> {
    return this.inner.cancelRequests(ids);
  }

  /**
   * Checks each input against MAX_INPUT_BYTES (413 naming the field) and what jsonb could
   * not hold (400), and plans the offload of those over the inline budget.
   */
  private planInputs(
    tasks: readonly NewTask[],
    path: (field: string, index: number) => string,
  ): PlannedTask[] {
    const problems: FieldIssue[] = [];
    const plans = tasks.map((task, index) => {
      const printed = safePrintedBytes(task.input);
      if (printed !== undefined && printed > MAX_INPUT_BYTES) {
        throw new PayloadTooLargeError(
          `${path("input", index)} is ${printed} bytes as JSON, over the limit of ${MAX_INPUT_BYTES} bytes`,
          { maxBytes: MAX_INPUT_BYTES, field: path("input", index) },
        );
      }
      const problem = jsonProblem(task.input, MAX_INPUT_BYTES);
      if (problem !== null) {
        problems.push({ path: path("input", index), message: `input ${problem}` });
        return { task, offloaded: undefined, input: task.input };
      }
      const offloaded = offloadPlan("input", task.input, INLINE_INPUT_BYTES);
      return {
        task: offloaded ? { ...task, input: offloaded.ref } : task,
        offloaded,
        input: task.input,
      };
    });
    if (problems.length > 0) {
      throw new ValidationError(
        `invalid task: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
        problems,
      );
    }
    return plans;
  }

  /** A completed result over the inline budget is offloaded; over MAX_RESULT_BYTES it fails. */
  private planResult(outcome: TaskOutcome): { outcome: TaskOutcome; offloaded?: Offloaded } {
    if (outcome.status !== "completed") return { outcome };
    // One measure for both checks: over MAX_RESULT_BYTES, or not storable at all.
    const problem = jsonProblem(outcome.result ?? null, MAX_RESULT_BYTES);
    if (problem !== null) {
      return {
        outcome: { id: outcome.id, status: "failed", error: `the task's result ${problem}` },
      };
    }
    const offloaded = offloadPlan("result", outcome.result, INLINE_RESULT_BYTES);
    return offloaded ? { outcome: { ...outcome, result: offloaded.ref }, offloaded } : { outcome };
  }

  /** Claimed tasks with their inputs; one whose input is unreadable is failed with the reason. */
  private async claimedWithInputs(request: SyncRequest, claimed: Task[]): Promise<Task[]> {
    const loaded = await mapLimited(claimed, async (task) => {
      try {
        return { task: await this.resolve(task) };
      } catch (error) {
        if (!(error instanceof PayloadUnavailableError)) throw error;
        return { task, unreadable: error.message };
      }
    });
    const unreadable = loaded.filter((entry) => entry.unreadable !== undefined);
    if (unreadable.length > 0) {
      this.logger?.warn("claimed tasks whose input cannot be read; failing them", {
        ids: unreadable.map((entry) => entry.task.id),
      });
      await this.inner.sync({
        workerId: request.workerId,
        leaseSeconds: request.leaseSeconds,
        outcomes: unreadable.map((entry) => ({
          id: entry.task.id,
          status: "failed",
          error: `the task's input cannot be read: ${entry.unreadable}`,
        })),
        heartbeatIds: [],
        claimLimit: 0,
      });
    }
    return loaded.filter((entry) => entry.unreadable === undefined).map((entry) => entry.task);
  }

  /**
   * The task with its references loaded. `written`: values this call just wrote, by key,
   * used instead of reading them back (a replay's task holds another key, and is read).
   */
  private async resolve(
    task: Task,
    written: ReadonlyMap<string, unknown> = new Map(),
  ): Promise<Task> {
    const own = isPayloadRef(task.input) ? written.get(task.input.$ref) : undefined;
    const [input, result] = await Promise.all([
      own !== undefined ? own : this.load(task.input),
      this.load(task.result),
    ]);
    return input === task.input && result === task.result ? task : { ...task, input, result };
  }

  private resolveAll(tasks: readonly Task[]): Promise<Task[]> {
    return mapLimited(tasks, (task) => this.resolve(task));
  }

  private async load(value: unknown): Promise<unknown> {
    if (!isPayloadRef(value)) return value;
    return loadPayload(this.store, value);
  }

  private async write(plans: readonly (Offloaded | undefined)[]): Promise<void> {
    const present = plans.filter((plan): plan is Offloaded => plan !== undefined);
    await mapLimited(present, (plan) => this.store.put(plan.ref.$ref, plan.bytes));
  }

  /** Deletes objects nothing refers to; a failure only leaves an orphan, so it is logged. */
  private async discard(plans: readonly (Offloaded | undefined)[]): Promise<void> {
    const keys = plans.flatMap((plan) => (plan ? [plan.ref.$ref] : []));
    if (keys.length === 0) return;
    try {
      await this.store.delete(keys);
    } catch (error) {
      this.logger?.warn("deleting unreferenced payloads failed; they stay as orphans", {
        keys,
        error,
      });
    }
  }
}

interface PlannedTask {
  /** The task as the row takes it: a reference in place of an offloaded input. */
  task: NewTask;
  offloaded: Offloaded | undefined;
  /** The input as the caller sent it. */
  input: unknown;
}

/** The inputs the plans wrote, by their keys. */
function writtenValues(plans: readonly PlannedTask[]): Map<string, unknown> {
  return new Map(
    plans.flatMap((plan) => (plan.offloaded ? [[plan.offloaded.ref.$ref, plan.input]] : [])),
  );
}

/** Bytes a task's offloaded payloads take once loaded (inline ones are in the page's budget). */
function offloadedBytes(task: Task): number {
  return [task.input, task.result].filter(isPayloadRef).reduce((sum, ref) => sum + ref.bytes, 0);
}

function safePrintedBytes(value: unknown): number | undefined {
  try {
    return printedJsonBytes(value);
  } catch {
    return undefined; // not serializable: jsonProblem names it
  }
}

/** `items` mapped with at most LOAD_CONCURRENCY calls in flight, in order. */
async function mapLimited<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOAD_CONCURRENCY, items.length) }, worker));
  return results;
}
