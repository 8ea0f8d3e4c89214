import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { waitFor } from "../../testkit/waitFor";
import { useInProcessRuntime } from "../support/inProcessRuntime";
import { createSpecValidator, operations } from "../support/openApiSpec";

/**
 * The spec says what comes back: every route is driven over HTTP through the local gateway
 * and the real handler (the local runtime, in process) into each status it can answer,
 * and every answer is checked against openapi.json: the status is documented for that
 * operation, the body fits the documented schema, the required headers are there. Then
 * each documented status must have been seen, or be one this runtime cannot produce (with
 * the reason and where else it is tested).
 */

const MAX_BODY_BYTES = 4_096;
const runtime = useInProcessRuntime({
  MAX_BODY_BYTES: String(MAX_BODY_BYTES),
  MAX_PENDING_PER_OWNER: "40",
});
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const spec = createSpecValidator();

/** Documented statuses this runtime cannot be made to answer, and why. */
const NOT_PROVOKED: Record<string, string> = {
  "429":
    "API Gateway's throttling: the local gateway does not throttle (lib/api.ts sets it; test/infra/api.test.ts)",
  "500": "a bug: the error handler's 500 is tested in test/integration/api/handler.test.ts",
  "503":
    "the database down: test/integration/api/health.test.ts and test/integration/executor/databaseOutage.test.ts",
};

const seen = new Map<string, Set<number>>();
const problems: string[] = [];

interface Call {
  operationId: string;
  method: string;
  path: string;
  token?: string | null;
  body?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

async function call({ operationId, method, path, token, body, contentType, headers }: Call) {
  const response = await send(method, runtime.url + path, body, {
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(body !== undefined ? { "content-type": contentType ?? "application/json" } : {}),
    ...headers,
  });
  const parsed = response.text ? JSON.parse(response.text) : undefined;
  problems.push(...spec.check(operationId, response.status, parsed, response.headers));
  const statuses = seen.get(operationId) ?? new Set<number>();
  seen.set(operationId, statuses);
  statuses.add(response.status);
  return { status: response.status, body: parsed, headers: response.headers };
}

/** node:http, since fetch refuses a GET with a body (which a client may still send). */
function send(
  method: string,
  url: string,
  body: string | Buffer | undefined,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Headers; text: string }> {
  return new Promise((resolve, reject) => {
    const length = body === undefined ? {} : { "content-length": String(Buffer.byteLength(body)) };
    const req = request(url, { method, headers: { ...headers, ...length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) answerHeaders.set(name, String(value));
        }
        resolve({
          status: res.statusCode ?? 0,
          headers: answerHeaders,
          text: Buffer.concat(chunks).toString("utf8"),
        });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

const pathOf = (template: string, id: string) => template.replace("{id}", id);

async function createTask(token: string, input: unknown = { topic: "contracts" }) {
  const answer = await call({
    operationId: "createTask",
    method: "POST",
    path: "/api/tasks",
    token,
    body: JSON.stringify({ type: "generate_content", input }),
  });
  expect(answer.status).toBe(201);
  return answer.body as { id: string; status: string };
}

describe("every answer of every route", () => {
  it("is documented, with the body shape it really has", async () => {
    // Prepare
    const token = await runtime.token(`contract-${randomUUID()}`);
    const other = await runtime.token(`contract-other-${randomUUID()}`);
    // The gateway passes any verified token; the handler refuses a subject it cannot store.
    const unusableSubject = await runtime.token("x".repeat(300));
    const ops = operations();

    // Act: what any request can get, on every operation.
    for (const op of ops) {
      const path = pathOf(op.path, randomUUID());
      const auth = op.responses["401"] ? token : undefined;
      await call({ ...op, operationId: op.operationId, path, token: auth, body: "{" });
      await call({ ...op, path, token: auth, body: "a=b", contentType: "text/plain" });
      await call({ ...op, path, token: auth, body: "x".repeat(MAX_BODY_BYTES + 1) });
      if (op.responses["401"]) {
        await call({ ...op, path });
        await call({ ...op, path, token: "not-a-jwt" });
        await call({ ...op, path, token: unusableSubject });
      }
    }

    // Act: each route's own answers.
    await call({ operationId: "getHealth", method: "GET", path: "/api/health" });
    await call({ operationId: "getOpenApiDocument", method: "GET", path: "/api/openapi.json" });
    await call({ operationId: "getMetrics", method: "GET", path: "/api/metrics", token });
    const created = await createTask(token);
    const summarize = await call({
      operationId: "createTask",
      method: "POST",
      path: "/api/tasks",
      token,
      body: JSON.stringify({ type: "summarize", input: { text: "A long text. ".repeat(20) } }),
      headers: { "idempotency-key": `key-${created.id}` },
    });
    await call({
      operationId: "createTask",
      method: "POST",
      path: "/api/tasks",
      token,
      body: JSON.stringify({ type: "summarize", input: { text: "A long text. ".repeat(20) } }),
      headers: { "idempotency-key": `key-${created.id}` },
    });
    await call({
      operationId: "createTask",
      method: "POST",
      path: "/api/tasks",
      token,
      body: JSON.stringify({ type: "summarize", input: { text: "Another text." } }),
      headers: { "idempotency-key": `key-${created.id}` },
    });
    await call({
      operationId: "createTask",
      method: "POST",
      path: "/api/tasks",
      token,
      body: JSON.stringify({ type: "generate_content", input: {}, priority: 1.5 }),
    });
    const batch = (tasks: unknown[], key?: string, who = token) =>
      call({
        operationId: "createTasks",
        method: "POST",
        path: "/api/tasks/batch",
        token: who,
        body: JSON.stringify({ tasks }),
        ...(key ? { headers: { "idempotency-key": key } } : {}),
      });
    const due = { type: "prompt", input: { prompt: "batch" }, runAt: inAnHour() };
    const batchKey = `batch-${created.id}`;
    await batch([due, due], batchKey);
    await batch([due, due], batchKey);
    await batch([due], batchKey);
    await batch([due, { type: "prompt", input: {} }]);
    // The cap: MAX_PENDING_PER_OWNER is 40 here; a fresh caller asks for 41.
    const capped = await runtime.token(`contract-capped-${randomUUID()}`);
    await batch(
      Array.from({ length: 41 }, () => due),
      undefined,
      capped,
    );
    await call({
      operationId: "createTask",
      method: "POST",
      path: "/api/tasks",
      token: capped,
      body: JSON.stringify(due),
    });
    await batch(
      Array.from({ length: 40 }, () => due),
      undefined,
      capped,
    );
    await call({
      operationId: "createTask",
      method: "POST",
      path: "/api/tasks",
      token: capped,
      body: JSON.stringify(due),
    });
    await call({ operationId: "listTasks", method: "GET", path: "/api/tasks?limit=0", token });
    await call({ operationId: "listTasks", method: "GET", path: "/api/tasks?limit=2", token });
    for (const id of [created.id, "not-a-uuid"]) {
      await call({ operationId: "getTask", method: "GET", path: `/api/tasks/${id}`, token: other });
    }
    const done = await waitFor(
      async () => {
        const answer = await call({
          operationId: "getTask",
          method: "GET",
          path: `/api/tasks/${summarize.body.id}`,
          token,
        });
        return answer.body.status === "completed" ? answer.body : undefined;
      },
      { timeoutMs: 30_000, what: "the summarize task to complete" },
    );
    await call({ operationId: "listTasks", method: "GET", path: "/api/tasks", token });
    const later = await call({
      operationId: "createTask",
      method: "POST",
      path: "/api/tasks",
      token,
      body: JSON.stringify({
        type: "prompt",
        input: { prompt: "Later." },
        runAt: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    });
    const act = (operationId: string, id: string) =>
      call({
        operationId,
        method: "POST",
        path: `/api/tasks/${id}/${operationId.replace("Task", "")}`,
        token,
      });
    for (const operationId of ["cancelTask", "retryTask"]) await act(operationId, randomUUID());
    await act("cancelTask", done.id); // completed: a conflict
    await act("retryTask", later.body.id); // pending: a conflict
    await act("cancelTask", later.body.id); // pending: cancelled
    await act("retryTask", later.body.id); // cancelled: pending again
    await call({ operationId: "getMetrics", method: "GET", path: "/api/metrics", token });

    // Assess: every answer fits the spec.
    expect(problems).toEqual([]);
    expect(done.result).toMatchObject({ summary: expect.any(String) });

    // Assess: every documented status was answered, or cannot be here.
    const missing = ops.flatMap((op) =>
      Object.keys(op.responses)
        .filter((status) => !seen.get(op.operationId)?.has(Number(status)))
        .filter((status) => !NOT_PROVOKED[status])
        .map((status) => `${op.operationId} ${status}`),
    );
    expect(missing).toEqual([]);
  });
});

describe("requests no route describes", () => {
  it.each([
    ["an unknown path", "GET", "/api/nope", 404],
    ["a trailing slash", "GET", "/api/tasks/", 404],
    ["a method the path lacks", "PUT", "/api/tasks", 405],
    ["a method the public health check lacks", "DELETE", "/api/health", 405],
  ])("answers %s in the API's error shape, with a request id", async (_, method, path, status) => {
    // Act
    const response = await fetch(runtime.url + path, { method });
    const body = (await response.json()) as { error: { code: string }; requestId: string };

    // Assess
    expect(response.status).toBe(status);
    expect(spec.checkComponent("Error", body)).toEqual([]);
    expect(body.error.code).toBe(status === 404 ? "not_found" : "method_not_allowed");
    expect(response.headers.get("x-request-id")).toBe(body.requestId);
    if (status === 405) expect(response.headers.get("allow")).toMatch(/GET|POST/);
  });
});
