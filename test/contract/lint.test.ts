import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

/**
 * `@redocly/cli lint` with its recommended rules (redocly.yaml) on the committed
 * openapi.json: what a frontend team's CI would run on the document before generating a
 * client from it. Zero errors and zero warnings.
 */

const ROOT = join(import.meta.dirname, "..", "..");

describe("the OpenAPI document", () => {
  it("passes @redocly/cli lint with the recommended rules, without a warning", async () => {
    // Act
    const { stdout } = await promisify(execFile)(
      join(ROOT, "node_modules", ".bin", "redocly"),
      ["lint", "openapi.json", "--format=json", "--config=redocly.yaml"],
      {
        cwd: ROOT,
        env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
      },
    );
    const report = JSON.parse(stdout) as {
      totals: { errors: number; warnings: number; ignored: number };
      problems: { ruleId: string; message: string }[];
    };

    // Assess
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 0 });
  });
});
