import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

/**
 * What a frontend developer does first: generate types from the committed openapi.json
 * with openapi-typescript's default options, and write code against them. The program
 * below must type-check with tsc's strict settings; its `@ts-expect-error` lines must stay
 * errors (an unknown error code, a create without its input), so looser types fail too.
 */

const ROOT = join(import.meta.dirname, "..", "..");
const run = promisify(execFile);
const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);

const PROGRAM = `
import type { components, paths } from "./schema";

type CreateBody = paths["/api/tasks"]["post"]["requestBody"]["content"]["application/json"];
type Task = components["schemas"]["Task"];
type ApiError = components["schemas"]["Error"];
type Unauthorized = paths["/api/tasks"]["get"]["responses"][401]["content"]["application/json"];
type Page = paths["/api/tasks"]["get"]["responses"][200]["content"]["application/json"];

// Defaulted fields (priority, maxAttempts) need not be sent.
export const body: CreateBody = { type: "summarize", input: { text: "A text to summarize." } };

// A task narrows by its type to its own input and result.
export function summaryOf(task: Task): string | undefined {
  if (task.type !== "summarize") return undefined;
  const words: number | undefined = task.input.maxWords;
  return task.result ? \`\${task.result.summary} (\${words ?? "any"} words)\` : undefined;
}

// An error narrows by its code to its details.
export function explain(answer: ApiError): string {
  const { error } = answer;
  switch (error.code) {
    case "validation_failed":
      return error.details.map((issue) => issue.path).join(", ");
    case "conflict":
      return \`the task is \${error.details.status}\`;
    case "payload_too_large":
      return \`at most \${error.details.maxBytes} bytes\`;
    default:
      return \`\${error.code}: \${error.message} (\${answer.requestId})\`;
  }
}

// A 401 is the handler's error or API Gateway's own.
export function reason(answer: Unauthorized): string {
  return "error" in answer ? answer.error.code : answer.message;
}

export const counts = (page: Page) => page.items.map((task) => task.status);

// @ts-expect-error not a code the API answers
export const unknownCode: ApiError["error"]["code"] = "teapot";
// @ts-expect-error a create needs its input
export const noInput: CreateBody = { type: "prompt" };
`;

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a client generated from openapi.json with openapi-typescript's defaults", () => {
  it("types tasks by their type, errors by their code, and type-checks a program", async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), "task-pipeline-client-"));
    const schema = join(dir, "schema.ts");
    await run(bin("openapi-typescript"), [join(ROOT, "openapi.json"), "-o", schema], { cwd: ROOT });
    await writeFile(join(dir, "program.ts"), PROGRAM);

    // Act
    const checked = await run(
      bin("tsc"),
      [
        "--noEmit",
        "--strict",
        "--exactOptionalPropertyTypes",
        "--noUncheckedIndexedAccess",
        "--target",
        "es2022",
        "--module",
        "esnext",
        "--moduleResolution",
        "bundler",
        "--skipLibCheck",
        join(dir, "program.ts"),
      ],
      { cwd: dir },
    ).then(
      () => "",
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );

    // Assess
    expect(checked).toBe("");
  });
});
