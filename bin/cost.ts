import { formatTable } from "../bench/support/table";
import { parseCostArgs } from "../cost/args";
import { idleLines, type Line, perMillionTaskLines, total } from "../cost/model";
import { PRICES } from "../cost/prices";
import { environmentNames, synthesizeEnvironment } from "../cost/synth";
import { extractInventory } from "../cost/template";

// `npm run cost -- [--env=dev] [--llm-seconds=4] ...` (options in cost/args.ts): for each
// environment of cdk.json, the idle month and the cost of 1M tasks, a line per item.

/** Environments that deploy nowhere billable (LocalStack runs on a laptop). */
const NOT_BILLED = new Set(["localstack"]);

let args: ReturnType<typeof parseCostArgs>;
try {
  args = parseCostArgs(process.argv.slice(2));
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
const task = args.task;
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
  `Per task: ${task.llmSeconds} s of LLM, ${task.promptTokens} prompt + ${task.completionTokens} completion tokens, ${task.apiRequestsPerTask} API requests, ${task.executorStatementsPerTask} executor statements, ${task.publishesPerTask} real-time events, ${task.bigTaskShare * 100}% big payloads.`,
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
  const busy = perMillionTaskLines(inventory, PRICES, facts, task);
  console.log(`\n== ${name}: idle month (no tasks, 730 h)\n${table(idle, "TOTAL idle $/month")}`);
  console.log(`\n== ${name}: per 1M tasks\n${table(busy, "TOTAL $/1M tasks")}`);
  summary.push([name, usd(total(idle)), usd(total(busy))]);
}
console.log(`\n${formatTable(["environment", "idle $/month", "$/1M tasks"], summary)}`);
