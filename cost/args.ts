/**
 * `npm run cost -- [--env=dev] [--llm-seconds=4] [--prompt-tokens=600]
 * [--completion-tokens=250] [--api-requests=3] [--executor-statements=1.05] [--publishes=3]
 * [--big-task-share=0]`: the environment to price (default: all) and the per-task workload.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { DEFAULT_TASK_ARGS, type TaskArgs } from "./model";

const number = (min: number, max: number) =>
  z.coerce.number({ error: "must be a number" }).min(min).max(max);

const ArgsSchema = z.object({
  env: z.string().optional(),
  "llm-seconds": number(0, 900).default(DEFAULT_TASK_ARGS.llmSeconds),
  "prompt-tokens": number(0, 1_000_000).default(DEFAULT_TASK_ARGS.promptTokens),
  "completion-tokens": number(0, 1_000_000).default(DEFAULT_TASK_ARGS.completionTokens),
  "api-requests": number(0, 100).default(DEFAULT_TASK_ARGS.apiRequestsPerTask),
  "executor-statements": number(0, 100).default(DEFAULT_TASK_ARGS.executorStatementsPerTask),
  publishes: number(0, 100).default(DEFAULT_TASK_ARGS.publishesPerTask),
  "big-task-share": number(0, 1).default(DEFAULT_TASK_ARGS.bigTaskShare),
});

export interface CostArgs {
  /** One environment, or undefined for every one in cdk.json. */
  readonly env: string | undefined;
  readonly task: TaskArgs;
}

/** Throws an Error naming each bad option (`--llm-seconds: must be a number`). */
export function parseCostArgs(argv: readonly string[]): CostArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(
      Object.keys(ArgsSchema.shape).map((key) => [key, { type: "string" as const }]),
    ),
  });
  const parsed = ArgsSchema.safeParse(values);
  if (!parsed.success) {
    throw new Error(
      parsed.error.issues.map((issue) => `--${issue.path.join(".")}: ${issue.message}`).join("\n"),
    );
  }
  const options = parsed.data;
  return {
    env: options.env,
    task: {
      ...DEFAULT_TASK_ARGS,
      llmSeconds: options["llm-seconds"],
      promptTokens: options["prompt-tokens"],
      completionTokens: options["completion-tokens"],
      apiRequestsPerTask: options["api-requests"],
      executorStatementsPerTask: options["executor-statements"],
      publishesPerTask: options.publishes,
      bigTaskShare: options["big-task-share"],
    },
  };
}
