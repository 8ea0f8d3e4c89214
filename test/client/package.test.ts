import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

/**
 * The client library as a package: its types are the ones openapi.json gives today, and
 * it builds to ESM JavaScript with declarations that Node imports as package.json says.
 */

const ROOT = join(import.meta.dirname, "..", "..");
const CLIENT = join(ROOT, "client");
const run = promisify(execFile);
const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "task-pipeline-client-package-"));
  dirs.push(dir);
  return dir;
}

describe("the client package", () => {
  it("has the types openapi.json gives (npm run client:types is up to date)", async () => {
    // Prepare
    const dir = await tempDir();
    const generated = join(dir, "schema.ts");

    // Act
    await run(bin("openapi-typescript"), [join(ROOT, "openapi.json"), "-o", generated]);
    const { stdout: formatted } = await run(
      "sh",
      ["-c", `"${bin("biome")}" format --stdin-file-path=client/src/schema.ts < "${generated}"`],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
    );

    // Assess
    const committed = await readFile(join(CLIENT, "src", "schema.ts"), "utf8");
    expect(formatted, "run `npm run client:types` and commit client/src/schema.ts").toBe(committed);
  });

  it("builds to ESM with declarations, importable as its exports say", async () => {
    // Prepare
    const outDir = await tempDir();
    const manifest = JSON.parse(await readFile(join(CLIENT, "package.json"), "utf8")) as {
      type: string;
      exports: { ".": { import: string; types: string } };
    };

    // Act
    await run(bin("tsc"), ["-p", join(CLIENT, "tsconfig.json"), "--outDir", outDir]);
    const entry = join(outDir, manifest.exports["."].import.replace("./dist/", ""));
    const module = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
    const declarations = await readFile(
      join(outDir, manifest.exports["."].types.replace("./dist/", "")),
      "utf8",
    );

    // Assess
    expect(manifest.type).toBe("module");
    expect(typeof module.createTaskPipelineClient).toBe("function");
    expect(typeof module.TaskPipelineError).toBe("function");
    expect(module.FINAL_STATUSES).toEqual(["completed", "failed", "cancelled"]);
    expect(declarations).toContain("createTaskPipelineClient");
  });
});
