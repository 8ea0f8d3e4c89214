import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { TaskExecutionError } from "../../../functions/core/errors";
import { runExecutor } from "../../../functions/core/executor/loop";
import { payloadCheckpoints } from "../../../functions/core/payloads/checkpoints";
import { ClaimCheckTasks } from "../../../functions/core/payloads/claimCheckTasks";
import { FileSystemPayloadStore } from "../../../functions/core/payloads/fileSystemPayloadStore";
import { noTaskEvents, type TaskEvents } from "../../../functions/core/realtime/port";
import type { TaskProgress } from "../../../functions/core/tasks/model";
import { createTaskTypeRegistry } from "../../../functions/core/taskTypes/registry";
import type { TaskType } from "../../../functions/core/taskTypes/types";
import {
  createTask,
  defined,
  llmFor,
  loopDeps,
  OWNER,
  useExecutorFixture,
  waitUntil,
} from "./harness";

/**
 * Progress and checkpoints through the real executor, store and payload directory: a task
 * type of steps reports each one (published at once, stored with the next heartbeat) and
 * keeps finished steps in its checkpoint, so the attempt after a failure starts where the
 * failed one stopped.
 */

const ctx = useExecutorFixture();

/** Steps of 250 ms; the first attempt fails after `failAfter` of them. */
const StepsInputSchema = z.object({ steps: z.int().min(1), failAfter: z.int().optional() });
type StepsInput = z.infer<typeof StepsInputSchema>;
const StateSchema = z.object({ done: z.int() });

function stepsType(worked: number[]): TaskType<StepsInput, { steps: number }> {
  return {
    name: "steps",
    description: "Counts steps, keeping finished ones across attempts.",
    input: StepsInputSchema,
    output: z.object({ steps: z.number() }),
    async run(input, { checkpoint, onProgress }) {
      const saved = StateSchema.safeParse(await checkpoint?.load());
      const from = saved.success ? saved.data.done : 0;
      for (let step = from; step < input.steps; step++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        worked.push(step);
        onProgress?.({ step: "map", done: step + 1, total: input.steps });
        await checkpoint?.save({ done: step + 1 });
        if (from === 0 && step + 1 === input.failAfter) {
          throw new TaskExecutionError("step failed (test)", true);
        }
      }
      return {
        steps: input.steps,
        model: "none",
        usage: { promptTokens: 0, completionTokens: 0 },
        durationMs: 0,
      };
    },
  };
}

describe("progress and checkpoints", () => {
  let root = "";
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "checkpoints-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("publishes each step, stores the latest with a heartbeat, and resumes a retry from the checkpoint", async () => {
    // Prepare
    const payloads = new FileSystemPayloadStore(root);
    const tasks = new ClaimCheckTasks(ctx.store, payloads);
    const worked: number[] = [];
    const published: TaskProgress[] = [];
    const events: TaskEvents = {
      ...noTaskEvents,
      progress: (_task, progress) => published.push(progress),
    };
    const task = await createTask(ctx.store, { type: "steps", input: { steps: 8, failAfter: 3 } });
    const stored: (TaskProgress | null)[] = [];
    const controller = new AbortController();
    const deps = {
      ...loopDeps({
        tasks,
        llm: llmFor(ctx.server.url),
        workerId: "w-progress",
        // A heartbeat every 300 ms (LEASE_SECONDS / 3 at 1 s), retried 100 ms after the failure.
        settings: { LEASE_SECONDS: 1, RETRY_BASE_MS: 100, RETRY_MAX_MS: 100 },
        signal: controller.signal,
      }),
      registry: createTaskTypeRegistry([stepsType(worked)]),
      events,
      checkpoints: payloadCheckpoints(payloads),
    };

    // Act
    const done = runExecutor(deps, 60_000);
    await waitUntil(async () => {
      const now = await ctx.store.get(OWNER, task.id);
      stored.push(now.progress);
      return now.status === "completed";
    }, 30_000);
    controller.abort();
    await done;
    const finished = await ctx.store.get(OWNER, task.id);

    // Assess
    expect(finished.result).toMatchObject({ steps: 8 });
    expect(finished.attempts).toBe(2);
    // Steps 0-2 in the first attempt, 3-7 in the second: none done twice.
    expect(worked).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(published.map((p) => p.done)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const seen = stored.filter((p): p is TaskProgress => p !== null);
    expect(seen.length).toBeGreaterThan(0);
    for (const progress of seen) expect(progress).toMatchObject({ step: "map", total: 8 });
    expect(defined(seen.at(-1)).done).toBeGreaterThanOrEqual(1);
    expect(await readdir(join(root, "checkpoints"))).toEqual([`${task.id}.json`]);
  });
});
