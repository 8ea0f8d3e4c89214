import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createPgSqlPort } from "../../functions/core/sql/pgAdapter";
import { startEmbeddedPostgres } from "../../functions/local/embeddedPostgres";
import {
  postmasterPid,
  type RuntimeProcess,
  runtimeProcesses,
  startRuntime,
} from "../../testkit/localRuntime";
import { useEmbeddedRuntime } from "../support/e2eRuntime";
import { REMOTE } from "../support/e2eTarget";
import { ApiClient, type TaskView } from "../support/http";

/**
 * Ctrl-C while tasks run, on the embedded PostgreSQL (`npm start` as a newcomer runs it):
 * the terminal's SIGINT reaches the runtime's whole process group; in-flight tasks get
 * SHUTDOWN_GRACE_MS, then go back to pending; nothing is left in_progress; the next start
 * sees every task and finishes the work.
 */

const runtime = useEmbeddedRuntime("stop");

describe.skipIf(REMOTE)("Ctrl-C during work", () => {
  it("leaves no task in_progress, and a restart sees every task and finishes them", {
    timeout: 300_000,
  }, async () => {
    // Prepare: slow tasks in flight, quick ones done, future ones waiting.
    const { dataDir, ollama } = runtime;
    const env = runtime.env({ SHUTDOWN_GRACE_MS: "1000" });
    const token = await runtime.token("stop");
    ollama.setLatency((call) => (call.lastUserMessage.includes("slow") ? 25_000 : 0));
    const first = await startRuntime(env);
    const api = new ApiClient(first.url);
    const create = async (task: Record<string, unknown>) => {
      const answer = await api.createTask(token, task);
      expect(answer.status).toBe(201);
      return answer.body;
    };
    const quick = await Promise.all(
      [1, 2].map((n) => create({ type: "summarize", input: { text: `quick ${n}` } })),
    );
    for (const task of quick)
      await api.waitForTask(token, task.id, (t) => t.status === "completed", 90_000);
    const slow = await Promise.all(
      [1, 2, 3].map((n) => create({ type: "prompt", input: { prompt: `slow ${n}` } })),
    );
    const later = await create({
      type: "summarize",
      input: { text: "not yet" },
      runAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    for (const task of slow)
      await api.waitForTask(token, task.id, (t) => t.status === "in_progress", 90_000);

    // Act
    const exit = await first.interrupt(120_000);

    // Assess: a clean exit, and in the database it left behind no task in_progress.
    expect(exit).toEqual({ code: 0, signal: null });
    const rows = await readTasksAtRest(dataDir);
    expect(rows.filter((row) => row.status === "in_progress")).toEqual([]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const task of slow) {
      expect(byId.get(task.id)).toMatchObject({ status: "pending", lease_owner: null });
    }
    for (const task of quick) expect(byId.get(task.id)?.status).toBe("completed");
    expect(byId.get(later.id)?.status).toBe("pending");

    // Act: start again, the LLM quick now.
    ollama.setLatency(0);
    const second = await startRuntime(env);
    const again = new ApiClient(second.url);
    const finished = await Promise.all(
      slow.map((task) =>
        again.waitForTask(token, task.id, (t) => t.status === "completed", 120_000),
      ),
    );
    const listed = await again.listAll(token);

    // Assess: every task is there; the interrupted ones ran again and completed.
    const all: TaskView[] = [...quick, ...slow, later];
    expect(new Set(listed.map((task) => task.id))).toEqual(new Set(all.map((task) => task.id)));
    expect(listed.find((task) => task.id === later.id)?.status).toBe("pending");
    for (const task of finished) expect(task.result).not.toBeNull();
    expect((await second.interrupt()).code).toBe(0);
  });
});

/**
 * `npm start` as a user runs it: npm runs the program through `sh -c`, and passes SIGINT and
 * SIGTERM on to it; a terminal's Ctrl-C reaches npm and the program both. One signal, to the
 * pid the user sees or to the whole group, must stop every process of the runtime, the
 * grace period included, and leave no task in_progress.
 */
describe.skipIf(REMOTE)("npm start and one signal", () => {
  const GRACE_MS = 2_000;

  it.each<[string, (started: RuntimeProcess) => void]>([
    ["SIGTERM to npm's pid", (started) => process.kill(started.pid, "SIGTERM")],
    ["one Ctrl-C (SIGINT to the process group)", (started) => process.kill(-started.pid, "SIGINT")],
  ])(
    "%s stops every process within SHUTDOWN_GRACE_MS + 5 s, no task left in_progress",
    {
      timeout: 240_000,
    },
    async (_name, signal) => {
      // Prepare: a task whose LLM call outlasts the grace period.
      const { dataDir, ollama } = runtime;
      const tag = `signal-${randomUUID()}`;
      ollama.setLatency((call) => (call.lastUserMessage.includes("signal-") ? 60_000 : 0));
      const token = await runtime.token("signal");
      const started = await startRuntime(runtime.env({ SHUTDOWN_GRACE_MS: String(GRACE_MS) }), {
        launcher: "npm",
      });
      const api = new ApiClient(started.url);
      const created = await api.createTask(token, { type: "prompt", input: { prompt: tag } });
      expect(created.status).toBe(201);
      await api.waitForTask(token, created.body.id, (t) => t.status === "in_progress", 90_000);
      const postmaster = postmasterPid(dataDir);
      expect(runtimeProcesses(started.pid, postmaster).length).toBeGreaterThanOrEqual(3);

      // Act
      const sentAt = Date.now();
      signal(started);
      while (runtimeProcesses(started.pid, postmaster).length > 0) {
        if (Date.now() - sentAt > GRACE_MS + 30_000) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const stoppedAfterMs = Date.now() - sentAt;
      const exit = await started.exited;

      // Assess
      expect(runtimeProcesses(started.pid, postmaster)).toEqual([]);
      expect(stoppedAfterMs, started.output()).toBeLessThanOrEqual(GRACE_MS + 5_000);
      expect(exit.code, started.output()).toBe(0);
      expect(started.output()).not.toContain("again: stopping now");
      const rows = await readTasksAtRest(dataDir);
      expect(rows.filter((row) => row.status === "in_progress")).toEqual([]);
      expect(rows.find((row) => row.id === created.body.id)).toMatchObject({
        status: "pending",
        lease_owner: null,
      });
    },
  );
});

interface TaskRow {
  id: string;
  status: string;
  lease_owner: string | null;
}

/** Reads the tasks table straight from the stopped runtime's data directory. */
async function readTasksAtRest(dir: string): Promise<TaskRow[]> {
  const server = await startEmbeddedPostgres({ dataDir: join(dir, "postgres"), persistent: true });
  const sql = createPgSqlPort({ connectionString: server.url("tasks"), max: 1 });
  try {
    return await sql.query<TaskRow & Record<string, unknown>>(
      "SELECT id, status, lease_owner FROM tasks",
    );
  } finally {
    await sql.close();
    await server.stop();
  }
}
