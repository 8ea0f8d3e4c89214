import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { postmasterPid, runtimeProcesses, startRuntime } from "../../testkit/localRuntime";
import { useEmbeddedRuntime } from "../support/e2eRuntime";
import { REMOTE } from "../support/e2eTarget";
import { ApiClient, isFinal } from "../support/http";

/**
 * `kill -9` in the middle of a task, then `npm start` again on the same data directory:
 * the restart stops the PostgreSQL the dead runtime left running, the task's lease
 * expires, and the task is run again and completed, once.
 */

const runtime = useEmbeddedRuntime("crash");

describe.skipIf(REMOTE)("a runtime killed mid-task", () => {
  it("completes the task once after a restart", { timeout: 300_000 }, async () => {
    // Prepare: a task whose LLM call is still running when the runtime dies.
    const { ollama } = runtime;
    const env = runtime.env();
    const token = await runtime.token("crash");
    const tag = `crash-${randomUUID()}`;
    ollama.setLatency((call) => (call.lastUserMessage.includes(tag) ? 25_000 : 0));
    const first = await startRuntime(env);
    const created = await new ApiClient(first.url).createTask(token, {
      type: "prompt",
      input: { prompt: tag },
    });
    expect(created.status).toBe(201);
    const callsFor = () => ollama.calls().filter((call) => call.lastUserMessage?.includes(tag));
    await ollama.waitFor(() => callsFor().length === 1, 90_000);

    // Act
    const killed = await first.kill();
    ollama.setLatency(0);
    const second = await startRuntime(env);
    const api = new ApiClient(second.url);
    const final = await api.waitForTask(token, created.body.id, isFinal, 120_000);

    // Assess
    expect(killed.signal).toBe("SIGKILL");
    expect(final.status).toBe("completed");
    expect(final.attempts).toBe(2);
    expect(final.result).not.toBeNull();
    // The dead runtime's call went unanswered; the second one completed the task.
    await ollama.waitFor(() => callsFor().every((call) => call.outcome !== "pending"), 30_000);
    expect(
      callsFor()
        .map((call) => call.outcome)
        .sort(),
    ).toEqual(["aborted", "completed"]);
    expect(second.output()).toContain("stopping the PostgreSQL a previous run left behind");
    const stopped = await second.interrupt();
    expect(stopped.code).toBe(0);
  });
});

describe.skipIf(REMOTE)("the embedded PostgreSQL killed under a running runtime", () => {
  it("ends in a clean exit within 30 s that says why", { timeout: 180_000 }, async () => {
    // Prepare
    const started = await startRuntime(runtime.env());
    const postmaster = postmasterPid(runtime.dataDir);
    expect(postmaster).toBeDefined();

    // Act
    const killedAt = Date.now();
    process.kill(postmaster as number, "SIGKILL");
    const exit = await started.waitForExit(30_000);
    const exitedAfterMs = Date.now() - killedAt;

    // Assess: exit code 1 with a message naming PostgreSQL, and nothing left running.
    expect(exit, started.output()).toEqual({ code: 1, signal: null });
    expect(exitedAfterMs).toBeLessThanOrEqual(30_000);
    expect(started.output()).toMatch(
      /npm start: the embedded PostgreSQL \(pid \d+\) exited unexpectedly \(signal SIGKILL\)/,
    );
    expect(runtimeProcesses(started.pid, undefined)).toEqual([]);
  });
});
