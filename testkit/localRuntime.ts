import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePort } from "../functions/local/embeddedPostgres";
import { waitFor } from "./waitFor";

/**
 * Starts `npm start`'s program (bin/local.ts) as a child process, as a user would, and
 * controls it like a terminal does: Ctrl-C goes to its whole process group, SIGKILL to it
 * alone. Its output is kept for the test's messages.
 */

const REPO_ROOT = resolve(import.meta.dirname, "..");

/** Quick settings for tests: an invocation a second, short polls and leases. */
export const FAST_RUNTIME_ENV: Readonly<Record<string, string>> = {
  SCHEDULE_INTERVAL_MS: "1000",
  POLL_INTERVAL_MS: "200",
  LEASE_SECONDS: "5",
  LLM_TIMEOUT_MS: "30000",
  EXECUTOR_TIMEOUT_MS: "40000",
  RETRY_BASE_MS: "200",
  RETRY_MAX_MS: "1000",
  SHUTDOWN_GRACE_MS: "5000",
  EMBEDDED_POSTGRES_PORT: "0",
  LOCAL_JWT_SECRET: "e2e-local-secret",
};

export interface RuntimeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RuntimeProcess {
  readonly url: string;
  readonly pid: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  readonly exited: Promise<RuntimeExit>;
  /** Ctrl-C as a terminal sends it: SIGINT to the whole process group. Waits for the exit. */
  interrupt(timeoutMs?: number): Promise<RuntimeExit>;
  /** SIGTERM to the process (as a service manager does). Waits for the exit. */
  terminate(timeoutMs?: number): Promise<RuntimeExit>;
  /** Waits for it to exit by itself; throws (with its output) when it does not in time. */
  waitForExit(timeoutMs: number): Promise<RuntimeExit>;
  /** SIGKILL: no chance to clean up (its PostgreSQL, in its own session, survives). */
  kill(): Promise<RuntimeExit>;
}

const started = new Set<RuntimeProcess>();

/**
 * How the runtime is started: its program directly (`node`), or `npm start` as a user types
 * it (`npm`: then `pid` is npm's, and npm runs the program through `sh -c`).
 */
export type RuntimeLauncher = "node" | "npm";

/** Spawns bin/local.ts with `env` on top of this process's environment; does not wait. */
export function spawnRuntime(
  env: Record<string, string>,
  launcher: RuntimeLauncher = "node",
): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<RuntimeExit>;
} {
  const [command, args] =
    launcher === "npm"
      ? ["npm", ["start"]]
      : [process.execPath, ["--import", "tsx", "bin/local.ts"]];
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    // Its own process group, so a "Ctrl-C" reaches it and its children as in a terminal.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<RuntimeExit>((resolveExit) => {
    child.once("exit", (code, signal) => resolveExit({ code, signal }));
  });
  return { child, output: () => output, exited };
}

/**
 * Starts the local runtime and waits until `GET /api/health` answers 200. PORT is picked
 * free unless `env` names one.
 */
export async function startRuntime(
  env: Record<string, string>,
  options: { startTimeoutMs?: number; launcher?: RuntimeLauncher } = {},
): Promise<RuntimeProcess> {
  const port = env.PORT ?? String(await freePort());
  const { child, output, exited } = spawnRuntime(
    { ...FAST_RUNTIME_ENV, ...env, PORT: port },
    options.launcher,
  );
  const url = `http://127.0.0.1:${port}`;
  let exit: RuntimeExit | undefined;
  void exited.then((value) => {
    exit = value;
  });

  const waitExit = async (timeoutMs: number) => {
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      exited,
      new Promise<undefined>((resolveTimeout) => {
        timer = setTimeout(() => resolveTimeout(undefined), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!result)
      throw new Error(`the local runtime did not exit within ${timeoutMs} ms:\n${output()}`);
    started.delete(runtime);
    return result;
  };

  const runtime: RuntimeProcess = {
    url,
    pid: child.pid ?? -1,
    output,
    exited,
    interrupt: (timeoutMs = 60_000) => {
      if (!exit) process.kill(-(child.pid ?? 0), "SIGINT");
      return waitExit(timeoutMs);
    },
    waitForExit: (timeoutMs) => waitExit(timeoutMs),
    terminate: (timeoutMs = 60_000) => {
      if (!exit) child.kill("SIGTERM");
      return waitExit(timeoutMs);
    },
    kill: () => {
      if (!exit) child.kill("SIGKILL");
      return waitExit(10_000);
    },
  };
  started.add(runtime);

  try {
    const healthy = waitFor(
      async () => {
        const response = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2_000) });
        return response.status === 200;
      },
      {
        timeoutMs: options.startTimeoutMs ?? 90_000,
        intervalMs: 250,
        what: "the local runtime's health check",
      },
    );
    const died = exited.then((value) => {
      throw new Error(`the local runtime exited before it was healthy (${JSON.stringify(value)})`);
    });
    await Promise.race([healthy, died]);
    died.catch(() => {});
  } catch (error) {
    if (!exit) child.kill("SIGKILL");
    started.delete(runtime);
    throw new Error(`${(error as Error).message}\n--- its output ---\n${output()}`);
  }
  return runtime;
}

/** For afterAll: stops whatever a failed test left running (gracefully, then by force). */
export async function stopAllRuntimes(): Promise<void> {
  await Promise.all(
    [...started].map(async (runtime) => {
      try {
        await runtime.interrupt(60_000);
      } catch {
        await runtime.kill().catch(() => {});
      }
    }),
  );
}

/** The pid in the embedded PostgreSQL's lock file under `dataDir` (undefined when none). */
export function postmasterPid(dataDir: string): number | undefined {
  const lockFile = join(dataDir, "postgres", "postmaster.pid");
  if (!existsSync(lockFile)) return undefined;
  const pid = Number(readFileSync(lockFile, "utf8").split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Every live process of a runtime: those in the process group a launcher started (npm,
 * its shell, node) and those in its PostgreSQL's session (the postmaster leads its own,
 * its backends are in it). From `ps`, so zombies awaiting their parent count as gone.
 */
export function runtimeProcesses(processGroup: number, postmaster: number | undefined): number[] {
  const rows = execFileSync("ps", ["-e", "-o", "pid=,pgid=,sid=,stat="], { encoding: "utf8" });
  return rows
    .split("\n")
    .map((row) => row.trim().split(/\s+/))
    .filter(([, , , stat]) => stat !== undefined && !stat.startsWith("Z"))
    .filter(([, pgid, sid]) => Number(pgid) === processGroup || Number(sid) === postmaster)
    .map(([pid]) => Number(pid));
}

/**
 * Stops a PostgreSQL a SIGKILLed runtime left on `dataDir` (the runtime's next start does
 * this too; this is the test's own cleanup when no restart follows).
 */
export function stopLeftoverPostgres(dataDir: string): void {
  const lockFile = join(dataDir, "postgres", "postmaster.pid");
  if (!existsSync(lockFile)) return;
  const pid = Number(readFileSync(lockFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, "SIGINT");
  } catch {}
}
