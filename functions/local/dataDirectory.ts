import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../core/telemetry/ports";

/**
 * The local runtime's data directory (`DATA_DIR`, `.data` by default):
 *   postgres/          the embedded PostgreSQL cluster, kept across restarts
 *   local-runtime.pid  the runtime using it now (one at a time)
 *
 * A runtime killed without a chance to clean up (SIGKILL, a crash, a closed terminal)
 * leaves its PostgreSQL running, since the server runs in its own session. The next start
 * finds it through `postmaster.pid` and stops it before starting its own.
 */

export interface DataDirectory {
  root: string;
  postgresDir: string;
  /** Gives the directory up (removes the pid file). */
  release(): Promise<void>;
}

export class DataDirectoryBusyError extends Error {}

export async function claimDataDirectory(dataDir: string, logger: Logger): Promise<DataDirectory> {
  const root = resolve(dataDir);
  const postgresDir = join(root, "postgres");
  const pidFile = join(root, "local-runtime.pid");
  await mkdir(root, { recursive: true });

  const holder = await readPid(pidFile);
  if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
    throw new DataDirectoryBusyError(
      `DATA_DIR ${root} is in use by another local runtime (pid ${holder}); stop it, or set DATA_DIR to another directory`,
    );
  }
  await writeFile(pidFile, `${process.pid}\n`);
  await stopOrphanedPostgres(postgresDir, logger);

  return {
    root,
    postgresDir,
    async release() {
      if ((await readPid(pidFile)) === process.pid) await rm(pidFile, { force: true });
    },
  };
}

/**
 * Stops the PostgreSQL a killed runtime left running on `postgresDir`: a fast shutdown
 * (SIGINT: sessions end, committed work is kept), waited for up to `timeoutMs`.
 */
async function stopOrphanedPostgres(
  postgresDir: string,
  logger: Logger,
  timeoutMs = 30_000,
): Promise<void> {
  const lockFile = join(postgresDir, "postmaster.pid");
  if (!existsSync(lockFile)) return;
  // postmaster.pid: line 1 the pid, line 2 the data directory.
  const [pidLine, dirLine] = readFileSync(lockFile, "utf8").split("\n");
  const pid = Number(pidLine);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !isPostgres(pid)) return;
  if (dirLine && resolve(dirLine) !== resolve(postgresDir)) return;

  logger.warn("stopping the PostgreSQL a previous run left behind", { pid, postgresDir });
  process.kill(pid, "SIGINT");
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      throw new Error(
        `the PostgreSQL left running on ${postgresDir} (pid ${pid}) did not stop within ${timeoutMs} ms`,
      );
    }
    await sleep(100);
  }
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, "utf8")).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user (PostgreSQL runs as `postgres` when we are root).
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Guards against a reused pid (after a reboot the file's pid may be any process). */
function isPostgres(pid: number): boolean {
  try {
    const command = existsSync(`/proc/${pid}/cmdline`)
      ? readFileSync(`/proc/${pid}/cmdline`, "utf8")
      : execFileSync("ps", ["-p", String(pid), "-o", "comm="], { encoding: "utf8" });
    return /postgres/.test(command);
  } catch {
    return false;
  }
}
