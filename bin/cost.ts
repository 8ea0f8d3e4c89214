import { parseArgs } from "node:util";
import { z } from "zod";
import { formatTable } from "../bench/support/table";
import { DEFAULT_TASK_ARGS, idleLines, type Line, perMillionTaskLines, total } from "../cost/model";
import { PRICES } from "../cost/prices";
import { environmentNames, synthesizeEnvironment } from "../cost/synth";
import { extractInventory } from "../cost/template";

// `npm run cost -- [--env=dev] [--llm-seconds=4] [--prompt-tokens=600] [--completion-tokens=250]
//   [--api-requests=3] [--executor-statements=1.05] [--publishes=3] [--big-task-share=0]`:
// for each environment of cdk.json, the idle month and the cost of 1M tasks, a line per item.

/** Environments that deploy nowhere billable (LocalStack runs on a laptop). */
const NOT_BILLED = new Set(["localstack"]);

const number = (min: number, max: number) => z.coerce.number().min(min).max(max);
const ArgsSchema = z.object({
  env: z.string().optional(),
  "llm-seconds": number(0, 900).default(DEFAULT_TASK_ARGS.llmSeconds),
  "prompt-tokens": number(0, 1e6).default(DEFAULT_TASK_ARGS.promptTokens),
  "completion-tokens": number(0, 1e6).default(DEFAULT_TASK_ARGS.completionTokens),
  "api-requests": number(0, 100).default(DEFAULT_TASK_ARGS.apiRequestsPerTask),
  "executor-statements": number(0, 100).default(DEFAULT_TASK_ARGS.executorStatementsPerTask),
  publishes: number(0, 100).default(DEFAULT_TASK_ARGS.publishesPerTask),
  "big-task-share": number(0, 1).default(DEFAULT_TASK_ARGS.bigTaskShare),
});

const { values } = parseArgs({
  options: Object.fromEntries(
    Object.keys(ArgsSchema.shape).map((key) => [key, { type: "string" as const }]),
  ),
});
const parsed = ArgsSchema.safeParse(values);
if (!parsed.success) {
  console.error(parsed.error.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("\n"));
  process.exit(2);
}
const args = parsed.data;
const taskArgs = {
  ...DEFAULT_TASK_ARGS,
  llmSeconds: args["llm-seconds"],
  promptTokens: args["prompt-tokens"],
  completionTokens: args["completion-tokens"],
  apiRequestsPerTask: args["api-requests"],
  executorStatementsPerTask: args["executor-statements"],
  publishesPerTask: args.publishes,
  bigTaskShare: args["big-task-share"],
};

const names = environmentNames();
if (args.env !== undefined && !names.includes(args.env)) {
  console.error(`--env: cdk.json's environments are ${names.join(", ")} (got "${args.env}")`);
  process.exit(2);
}

const usd = (value: number) => `$${value.toFixed(2)}`;
const table = (lines: readonly Line[], totalLabel: string) =>
  formatTable(
    ["item", "USD", "assumption", "source"],
    [
      ...lines.map((line) => [line.item, usd(line.usd), line.note, line.source]),
      [totalLabel, usd(total(lines)), "", ""],
    ],
  );

console.log(
  `Prices: ${PRICES.region}, on-demand, read ${PRICES.asOf} (cost/prices.ts); free tiers not applied.`,
);
console.log(
  `Per task: ${taskArgs.llmSeconds} s of LLM, ${taskArgs.promptTokens} prompt + ${taskArgs.completionTokens} completion tokens, ${taskArgs.apiRequestsPerTask} API requests, ${taskArgs.executorStatementsPerTask} executor statements, ${taskArgs.publishesPerTask} real-time events, ${taskArgs.bigTaskShare * 100}% big payloads.`,
);
const summary: string[][] = [];
for (const name of args.env ? [args.env] : names) {
  if (NOT_BILLED.has(name)) {
    console.log(`\n== ${name}: not a deployable AWS bill (LocalStack), skipped`);
    summary.push([name, "-", "-"]);
    continue;
  }
  const { template, facts } = synthesizeEnvironment(name);
  const inventory = extractInventory(template);
  const idle = idleLines(inventory, PRICES, facts);
  const busy = perMillionTaskLines(inventory, PRICES, facts, taskArgs);
  console.log(`\n== ${name}: idle month (no tasks, 730 h)\n${table(idle, "TOTAL idle $/month")}`);
  console.log(`\n== ${name}: per 1M tasks\n${table(busy, "TOTAL $/1M tasks")}`);
  summary.push([name, usd(total(idle)), usd(total(busy))]);
}
console.log(`\n${formatTable(["environment", "idle $/month", "$/1M tasks"], summary)}`);
