import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

/**
 * `npm run localstack:up` / `localstack:down` name the missing piece of Docker (CLI, daemon,
 * compose plugin) instead of docker's own "unknown shorthand flag: 'f' in -f". A fake
 * `docker` on PATH plays each piece missing.
 */

const ROOT = join(import.meta.dirname, "../../..");
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** PATH without any real docker, with `fakeDocker` (a shell script body) first when given. */
function pathWith(fakeDocker?: string): string {
  const real = (process.env.PATH ?? "").split(delimiter).filter((dir) => {
    return dir && !existsSync(join(dir, "docker"));
  });
  if (fakeDocker === undefined) return real.join(delimiter);
  const dir = mkdtempSync(join(tmpdir(), "fake-docker-"));
  dirs.push(dir);
  writeFileSync(join(dir, "docker"), `#!/bin/sh\n${fakeDocker}\n`, { mode: 0o755 });
  return [dir, ...real].join(delimiter);
}

function runDown(path: string) {
  const result = spawnSync("bash", [join(ROOT, "localstack/scripts/down.sh")], {
    env: { ...process.env, PATH: path },
    encoding: "utf8",
  });
  return { status: result.status, stderr: result.stderr, stdout: result.stdout };
}

describe("localstack scripts' Docker check", () => {
  it("names the docker CLI when there is none", () => {
    // Prepare
    const path = pathWith();

    // Act
    const result = runDown(path);

    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("missing: the docker CLI");
    expect(result.stderr).toContain("https://docs.docker.com/get-docker/");
  });

  it("names the daemon when docker info fails", () => {
    // Prepare
    const path = pathWith(
      '[ "$1" = info ] && { echo "Cannot connect to the Docker daemon" >&2; exit 1; }\nexit 0',
    );

    // Act
    const result = runDown(path);

    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("missing: a running Docker daemon (`docker info` failed)");
    expect(result.stderr).not.toContain("compose");
  });

  it("names the compose plugin when docker compose version fails", () => {
    // Prepare
    const path = pathWith(
      `[ "$1" = compose ] && { echo "unknown shorthand flag: 'f' in -f" >&2; exit 125; }\nexit 0`,
    );

    // Act
    const result = runDown(path);

    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      "missing: the docker compose plugin (`docker compose version` failed)",
    );
    expect(result.stderr).not.toContain("unknown shorthand flag");
  });

  it("runs docker compose down when all three are there", () => {
    // Prepare
    const path = pathWith('echo "docker $*"');

    // Act
    const result = runDown(path);

    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("localstack/docker-compose.yml down");
  });
});
