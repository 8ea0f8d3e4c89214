import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../functions/core/telemetry/ports";
import { claimDataDirectory, DataDirectoryBusyError } from "../../../functions/local/dataDirectory";

/** The local runtime's claim on its data directory, with real processes as other holders. */

const dirs: string[] = [];
const children: ChildProcess[] = [];
const newDir = () => {
  const dir = join(tmpdir(), `task-pipeline-datadir-${randomUUID()}`);
  dirs.push(dir);
  return dir;
};

afterEach(async () => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("claimDataDirectory", () => {
  it("creates the directory, records this process, and lets go on release", async () => {
    // Prepare
    const dir = newDir();

    // Act
    const claimed = await claimDataDirectory(dir, silentLogger);
    const recorded = await readFile(join(dir, "local-runtime.pid"), "utf8");
    await claimed.release();

    // Assess
    expect(claimed.postgresDir).toBe(join(dir, "postgres"));
    expect(Number(recorded)).toBe(process.pid);
    expect(existsSync(join(dir, "local-runtime.pid"))).toBe(false);
  });

  it("refuses a directory another live runtime holds, naming its pid", async () => {
    // Prepare: a live process stands in for the other runtime.
    const dir = newDir();
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    children.push(other);
    await claimDataDirectory(dir, silentLogger);
    await writeFile(join(dir, "local-runtime.pid"), `${other.pid}\n`);

    // Act
    const second = claimDataDirectory(dir, silentLogger);

    // Assess
    await expect(second).rejects.toBeInstanceOf(DataDirectoryBusyError);
    await expect(second).rejects.toThrow(`pid ${other.pid}`);
  });

  it("takes over from a runtime that died without releasing", async () => {
    // Prepare: a process that has exited left its pid behind.
    const dir = newDir();
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => dead.once("exit", resolve));
    await claimDataDirectory(dir, silentLogger);
    await writeFile(join(dir, "local-runtime.pid"), `${dead.pid}\n`);

    // Act
    const claimed = await claimDataDirectory(dir, silentLogger);

    // Assess
    expect(Number(await readFile(join(dir, "local-runtime.pid"), "utf8"))).toBe(process.pid);
    await claimed.release();
  });
});
