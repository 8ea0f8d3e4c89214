import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectPath } from "../../lib/paths";
import { pipelineFunctions, property } from "./support/template";

const run = promisify(execFile);

/**
 * The real thing, once: `cdk synth` through the CLI and cdk.json's `app` command, with no
 * AWS credentials, no Docker (a Docker binary that does not exist), esbuild bundling the
 * three Lambdas and CDK's own CloudFormation validation on. Slow (tens of seconds on a busy
 * machine), hence a single environment; the other tests synthesize all four in-process.
 */
function cdkEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("AWS_") && !key.startsWith("CDK_")) env[key] = value;
  }
  return {
    ...env,
    // Offline: nothing to find credentials in, and no instance metadata to wait for.
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
    AWS_CONFIG_FILE: "/nonexistent/config",
    AWS_EC2_METADATA_DISABLED: "true",
    // Bundling must not fall back to Docker: make any attempt fail loudly.
    CDK_DOCKER: "/nonexistent/docker",
  };
}

const cdk = (args: string[]) =>
  run(projectPath("node_modules", ".bin", "cdk"), args, {
    cwd: projectPath(),
    env: cdkEnvironment(),
    maxBuffer: 64 * 1024 * 1024,
    timeout: 540_000,
  });

describe("cdk synth through the CLI", () => {
  let outdir: string;
  let output: { stdout: string; stderr: string };

  beforeAll(async () => {
    outdir = mkdtempSync(join(tmpdir(), "task-pipeline-synth-"));
    output = await cdk(["synth", "-c", "env=dev", "--output", outdir, "--quiet"]);
  }, 600_000);

  afterAll(() => {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it("writes TaskPipeline-dev with no credentials and no Docker", () => {
    // Prepare
    const templatePath = join(outdir, "TaskPipeline-dev.template.json");

    // Act
    const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as {
      artifacts: Record<string, { type: string }>;
      missing?: unknown[];
    };

    // Assess
    expect(existsSync(templatePath)).toBe(true);
    expect(manifest.artifacts["TaskPipeline-dev"]?.type).toBe("aws:cloudformation:stack");
    expect(manifest.missing ?? []).toEqual([]);
    expect(output.stderr).not.toMatch(/docker/i);
  });

  it("bundles each Lambda with esbuild into minified ESM with a source map", () => {
    // Prepare
    const template = Template.fromJSON(
      JSON.parse(readFileSync(join(outdir, "TaskPipeline-dev.template.json"), "utf8")),
    );

    for (const [service, [, fn]] of Object.entries(pipelineFunctions(template))) {
      // Act
      const key = property<{ S3Key: string }>(fn, "Code").S3Key;
      const assetDir = join(outdir, `asset.${key.replace(/\.zip$/, "")}`);
      const bundle = readFileSync(join(assetDir, "index.mjs"), "utf8");

      // Assess
      // (booleans: a failure must not print a megabyte of bundle)
      expect(existsSync(join(assetDir, "index.mjs.map")), service).toBe(true);
      expect(bundle.startsWith("import { createRequire"), `${service}: require() banner`).toBe(
        true,
      );
      expect(bundle.includes("//# sourceMappingURL=index.mjs.map"), `${service}: source map`).toBe(
        true,
      );
      // ESM exporting `handler`, minified (unminified, esbuild prints `export {\n  handler\n}`).
      expect(
        /export\{[^}]*\b[\w$]+ as handler[,}]/.test(bundle),
        `${service}: minified ESM export`,
      ).toBe(true);
    }
  });

  it("copies migrations/ into the migrate Lambda's bundle, byte for byte", () => {
    // Prepare
    const template = Template.fromJSON(
      JSON.parse(readFileSync(join(outdir, "TaskPipeline-dev.template.json"), "utf8")),
    );
    const [, migrate] = pipelineFunctions(template).migrate ?? [];
    const key = property<{ S3Key: string }>(migrate, "Code").S3Key;
    const bundled = join(outdir, `asset.${key.replace(/\.zip$/, "")}`, "migrations");

    // Act
    const repoFiles = readdirSync(projectPath("migrations"))
      .filter((f) => f.endsWith(".sql"))
      .sort();
    const bundledFiles = readdirSync(bundled).sort();

    // Assess
    expect(repoFiles.length).toBeGreaterThan(0);
    expect(bundledFiles).toEqual(repoFiles);
    for (const file of repoFiles) {
      expect(readFileSync(join(bundled, file), "utf8")).toBe(
        readFileSync(projectPath("migrations", file), "utf8"),
      );
    }
  });

  it("refuses an unknown environment, listing the known ones", async () => {
    // Act
    const failure = await cdk([
      "synth",
      "-c",
      "env=nope",
      "--output",
      join(outdir, "nope"),
      "--quiet",
    ]).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );

    // Assess
    expect(failure?.code).not.toBe(0);
    expect(failure?.stderr).toContain(
      'unknown environment "nope": cdk.json\'s context.environments has dev, localstack, prod, staging',
    );
  }, 300_000);
});
