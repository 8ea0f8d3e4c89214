import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { spawnRuntime } from "../../testkit/localRuntime";
import { createTestDatabase } from "../support/database";
import { REMOTE } from "../support/e2eTarget";

/**
 * `npm start` with a bad setting, as a user meets it: the process stops before starting
 * anything, exit code 1, one line naming the setting, no stack trace.
 */

async function runUntilExit(env: Record<string, string>) {
  const { output, exited } = spawnRuntime(env);
  const exit = await exited;
  return { exit, output: output() };
}

describe.skipIf(REMOTE)("a bad setting", () => {
  it.each([
    [{ PORT: "eighty" }, /PORT must be a whole number \(got "eighty"\)/],
    [{ LEASE_SECONDS: "1" }, /LEASE_SECONDS must be at least 5 \(got "1"\)/],
    [{ OLLAMA_HOST: "localhost 11434" }, /OLLAMA_HOST must be a URL/],
    [{ DATABASE_URL: "mysql://db" }, /DATABASE_URL must start with postgres:\/\//],
    [{ SHUTDOWN_GRACE_MS: "-5" }, /SHUTDOWN_GRACE_MS must be at least 0/],
  ])("%o stops the start with a message naming it", async (env, message) => {
    // Act
    const { exit, output } = await runUntilExit(env);

    // Assess
    expect(exit).toEqual({ code: 1, signal: null });
    expect(output).toMatch(message);
    expect(output).not.toMatch(/^\s+at /m);
  });

  it("names a database it cannot reach, without its password", async () => {
    // Act
    const { exit, output } = await runUntilExit({
      DATABASE_URL: "postgres://app:s3cret-pw@127.0.0.1:1/tasks",
    });

    // Assess
    expect(exit).toEqual({ code: 1, signal: null });
    expect(output).toMatch(
      /npm start: could not start: could not apply migrations to DATABASE_URL/,
    );
    expect(output).not.toContain("s3cret-pw");
    expect(output).not.toMatch(/^\s+at /m);
  });

  it("names a port that is taken", async () => {
    // Prepare
    const database = await createTestDatabase();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;

    // Act
    const { exit, output } = await runUntilExit({
      PORT: String(port),
      DATABASE_URL: database.url,
    }).finally(async () => {
      blocker.close();
      await database.drop();
    });

    // Assess
    expect(exit).toEqual({ code: 1, signal: null });
    expect(output).toContain(`PORT ${port} is already in use`);
  });
});
