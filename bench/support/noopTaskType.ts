import { z } from "zod";
import type { AnyTaskType } from "../../functions/core/taskTypes/registry";

/**
 * A task type that does nothing, registered through the public registry API like any
 * other type: with it, the queue's own cost (claim, settle, statements) is all there is
 * to measure. Its result carries the envelope every result carries.
 */
export const NOOP_TASK_TYPE = "bench_noop";

export const noopTaskType: AnyTaskType = {
  name: NOOP_TASK_TYPE,
  description: "Does nothing; for measuring the queue itself.",
  input: z.object({}),
  output: z.object({}),
  run: async (_input, context) => ({
    model: context.model,
    usage: { promptTokens: 0, completionTokens: 0 },
    durationMs: 0,
  }),
};

/** The no-op type taking `delayMs` per task, as an LLM call of that latency would. */
export function delayedNoopTaskType(name: string, delayMs: number): AnyTaskType {
  return {
    ...noopTaskType,
    name,
    description: `Waits ${delayMs} ms and does nothing; for measuring who gets the slots.`,
    run: async (input, context) => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return { ...(await noopTaskType.run(input, context)), durationMs: delayMs };
    },
  };
}
