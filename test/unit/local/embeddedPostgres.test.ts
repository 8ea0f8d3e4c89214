import { chmod, mkdir, mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { letServerUserReach } from "../../../functions/local/embeddedPostgres";

describe("letServerUserReach", () => {
  it("adds search permission, and only that, to private directories on the path", async () => {
    // Prepare: a checkout under `mktemp -d` (0700), as CI may clone it
    const root = await mkdtemp(join(tmpdir(), "reach-"));
    const inner = join(root, "repo", "node_modules");
    await mkdir(inner, { recursive: true });
    await chmod(root, 0o700);
    await chmod(join(root, "repo"), 0o750);
    const logged: string[] = [];

    // Act
    await letServerUserReach([join(inner, "postgres")], (line) => logged.push(line));

    // Assess
    expect((await stat(root)).mode & 0o777).toBe(0o701);
    expect((await stat(join(root, "repo"))).mode & 0o777).toBe(0o751);
    expect(logged.some((line) => line.includes(root))).toBe(true);
  });

  it("leaves directories others can already pass alone", async () => {
    const root = await mkdtemp(join(tmpdir(), "reach-"));
    await chmod(root, 0o755);
    const logged: string[] = [];
    await letServerUserReach([join(root, "data")], (line) => logged.push(line));
    expect((await stat(root)).mode & 0o777).toBe(0o755);
    expect(logged).toEqual([]);
  });
});
