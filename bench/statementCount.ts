import { createTaskTypeRegistry } from "../functions/core/taskTypes/registry";
import type { StatementCounts } from "./support/countingSqlPort";
import { startExecutorFleet } from "./support/executors";

/**
 * What an idle executor costs: one executor with nothing to do, at the default 5 s poll,
 * for a minute of wall time, its statements counted at its SQL port. With the Data API
 * every statement is a billed HTTPS round trip, and on Aurora Serverless any statement
 * keeps the database awake. (Statements per completed task under load come from the
 * queue and LLM benchmarks, which count at the same port.)
 */
export interface IdleStatementsOptions {
  freshDatabase(name: string): Promise<string>;
  durationMs: number;
  pollIntervalMs: number;
  log: (line: string) => void;
}

export interface IdleStatementsResult {
  durationMs: number;
  pollIntervalMs: number;
  statements: StatementCounts;
  statementsPerMinute: number;
}

export async function benchIdleStatements(
  options: IdleStatementsOptions,
): Promise<IdleStatementsResult> {
  const url = await options.freshDatabase("bench_idle");
  const fleet = startExecutorFleet({
    url,
    loops: 1,
    registry: createTaskTypeRegistry(),
    settings: { POLL_INTERVAL_MS: options.pollIntervalMs },
    maxRunMs: options.durationMs,
    workerPrefix: "bench-idle",
  });
  await new Promise((resolve) => setTimeout(resolve, options.durationMs));
  await fleet.stop();
  const statements = fleet.counts();
  const result: IdleStatementsResult = {
    durationMs: options.durationMs,
    pollIntervalMs: options.pollIntervalMs,
    statements,
    statementsPerMinute: (statements.statements * 60_000) / options.durationMs,
  };
  options.log(
    `idle executor: ${statements.statements} statements in ${options.durationMs / 1000} s (${JSON.stringify(statements.byLabel)})`,
  );
  return result;
}
