import { createLlmClient } from "../functions/core/llm";
import { createTaskTypeRegistry } from "../functions/core/taskTypes/registry";
import { startOllamaServer } from "../testkit/ollamaServer";
import type { StatementCounts } from "./support/countingSqlPort";
import { inParallel, openTaskCreator } from "./support/createTasks";
import { BENCH_MODEL, startExecutorFleet } from "./support/executors";
import { perSecond } from "./support/stats";
import { TaskRows, waitUntil } from "./support/taskRows";

/**
 * The figure that matters for real work: is the LLM server ever idle while tasks wait?
 * The Ollama test server answers every call after a fixed latency and generates at most
 * `capacity` at once (more queue, as Ollama does beyond OLLAMA_NUM_PARALLEL); one executor
 * with MAX_CONCURRENCY = capacity drains a backlog of real `summarize` tasks through the
 * real Ollama client. The ideal is capacity / latency tasks per second; every gap between
 * an answer and the next call to the freed slot shows up as a shortfall.
 */
export interface LlmUtilizationOptions {
  freshDatabase(name: string): Promise<string>;
  tasks: number;
  latencyMs: number;
  capacity: number;
  log: (line: string) => void;
}

export interface LlmUtilizationResult {
  tasks: number;
  completed: number;
  latencyMs: number;
  capacity: number;
  maxConcurrency: number;
  elapsedMs: number;
  tasksPerSecond: number;
  idealTasksPerSecond: number;
  utilization: number;
  /** The most calls the server generated at once (at most the capacity). */
  maxActiveCalls: number;
  llmCalls: number;
  statements: StatementCounts;
  statementsPerTask: number;
}

export async function benchLlmUtilization(
  options: LlmUtilizationOptions,
): Promise<LlmUtilizationResult> {
  const url = await options.freshDatabase("bench_llm");
  const ollama = await startOllamaServer({
    models: [BENCH_MODEL],
    latency: options.latencyMs,
    capacity: options.capacity,
  });
  const rows = await TaskRows.open(url);
  const registry = createTaskTypeRegistry();
  const creator = openTaskCreator(url, registry, BENCH_MODEL);
  try {
    await inParallel(options.tasks, 8, (i) =>
      creator.create("summarize", {
        text: `Benchmark text number ${i}: the executor keeps every slot of the LLM server busy.`,
      }),
    );

    const idealTasksPerSecond = options.capacity / (options.latencyMs / 1000);
    const idealMs = (options.tasks / idealTasksPerSecond) * 1000;
    const capMs = idealMs * 2 + 10_000;
    const fleet = startExecutorFleet({
      url,
      loops: 1,
      registry,
      llm: createLlmClient({ host: ollama.url, timeoutMs: 30_000 }),
      settings: { MAX_CONCURRENCY: options.capacity },
      maxRunMs: capMs,
      workerPrefix: "bench-llm",
    });
    // Stopped in any case: loops left running would work on a database being torn down.
    await waitUntil(async () => (await rows.completedCount()) >= options.tasks, capMs, 100).finally(
      () => fleet.stop(),
    );
    const statements = fleet.counts();
    const { completed, elapsedMs } = await rows.drainWindow();
    const tasksPerSecond = completed > 0 ? perSecond(completed, elapsedMs) : 0;
    const result: LlmUtilizationResult = {
      tasks: options.tasks,
      completed,
      latencyMs: options.latencyMs,
      capacity: options.capacity,
      maxConcurrency: options.capacity,
      elapsedMs,
      tasksPerSecond,
      idealTasksPerSecond,
      utilization: tasksPerSecond / idealTasksPerSecond,
      maxActiveCalls: ollama.stats.maxActive,
      llmCalls: ollama.stats.totalCalls,
      statements,
      statementsPerTask: completed > 0 ? statements.statements / completed : Number.NaN,
    };
    options.log(
      `llm: ${tasksPerSecond.toFixed(2)} tasks/s of an ideal ${idealTasksPerSecond} (${(result.utilization * 100).toFixed(1)}%), ${completed}/${options.tasks} completed, ${result.statementsPerTask.toFixed(3)} statements/task`,
    );
    return result;
  } finally {
    await creator.close();
    await rows.close();
    await ollama.stop();
  }
}
