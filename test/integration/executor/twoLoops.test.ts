import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPgSqlPort } from "../../../functions/core/sql/pgAdapter";
import type { SqlPort } from "../../../functions/core/sql/port";
import { TaskStore } from "../../../functions/core/tasks/store";
import { type OllamaTestServer, startOllamaServer } from "../../../testkit/ollamaServer";
import { useTestDatabase } from "../../support/database";
import { llmFor, MODEL, recordingTasks, startLoop, statusCounts, waitUntil } from "./harness";

/** Two executor loops at once (as overlapping invocations are) share one queue safely. */

const db = useTestDatabase();
let server: OllamaTestServer;
const pools: SqlPort[] = [];

beforeAll(async () => {
  server = await startOllamaServer({ models: [MODEL] });
});
afterAll(async () => {
  await server.stop();
  await Promise.all(pools.map((pool) => pool.close()));
});

describe("two executor loops over one queue", () => {
  it("complete each of 500 tasks exactly once, with one LLM call per task", async () => {
    // Prepare: 500 tasks, each with its own text so every LLM call maps back to its task.
    const count = 500;
    await db.current.sql.query(
      `INSERT INTO tasks (owner, type, input, model)
       SELECT 'fleet-owner', 'summarize', jsonb_build_object('text', 'Task number ' || n || ' of the fleet.'), :model
       FROM generate_series(1, :count) AS n`,
      { model: MODEL, count },
    );
    server.setLatency(() => Math.floor(Math.random() * 20));
    // Each loop with its own pool, as two Lambda invocations would have.
    const loops = ["fleet-a", "fleet-b"].map((workerId) => {
      const pool = createPgSqlPort({ connectionString: db.current.url, max: 3 });
      pools.push(pool);
      const tasks = recordingTasks(new TaskStore(pool));
      return {
        tasks,
        run: startLoop({
          tasks,
          llm: llmFor(server.url),
          workerId,
          settings: { MAX_CONCURRENCY: 8 },
        }),
      };
    });

    // Act
    await waitUntil(
      async () => (await statusCounts(db.current.sql)).completed === count,
      120_000,
      `${count} completed tasks`,
    );
    for (const loop of loops) loop.run.stop();
    const summaries = await Promise.all(loops.map((loop) => loop.run.done));

    // Assess: every task completed, on its first attempt, by exactly one of the loops.
    const rows = await db.current.sql.query<{
      id: string;
      status: string;
      attempts: number;
      text: string;
    }>("SELECT id, status, attempts, input->>'text' AS text FROM tasks");
    expect(rows).toHaveLength(count);
    expect(rows.every((row) => row.status === "completed" && row.attempts === 1)).toBe(true);
    const claimedIds = loops.flatMap((loop) =>
      loop.tasks.syncs.flatMap((s) => s.result?.claimed ?? []).map((t) => t.id),
    );
    expect(claimedIds).toHaveLength(count);
    expect(new Set(claimedIds).size).toBe(count);
    expect(summaries.reduce((n, s) => n + s.completed, 0)).toBe(count);
    expect(summaries.every((s) => s.claimed > 0)).toBe(true);
    // The LLM server saw exactly one call per task.
    expect(server.stats.totalCalls).toBe(count);
    const prompts = server.calls().map((call) => call.lastUserMessage ?? "");
    for (const row of rows) {
      expect(prompts.filter((prompt) => prompt.includes(`${row.text}`))).toHaveLength(1);
    }
    for (const summary of summaries) {
      expect(summary).toMatchObject({ failed: 0, retried: 0, leaseLost: 0, databaseErrors: 0 });
    }
  });
});
