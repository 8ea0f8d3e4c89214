import { type AddressInfo, connect } from "node:net";
import type { Context } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LogFields, Logger } from "../../../functions/core/telemetry/ports";
import type { ApiGatewayEvent } from "../../../functions/local/apiGatewayEvent";
import { corsConfig } from "../../../functions/local/cors";
import { type ApiHandler, createApiServer } from "../../../functions/local/httpServer";
import { createJwtAuthorizer } from "../../../functions/local/jwtAuthorizer";
import { signLocalToken } from "../../../functions/local/token";
import { closeServer, listenOnLoopback } from "../../support/listen";

/**
 * The local API Gateway over real HTTP, with a handler that records what it is given and
 * answers what each test tells it to: what reaches the handler, and what never does.
 */

const SECRET = "integration-secret";
const received: { event: ApiGatewayEvent; context: Context }[] = [];
const logs: { level: keyof Logger; message: string; fields?: LogFields }[] = [];
const recordingLogger: Logger = {
  debug: (message, fields) => logs.push({ level: "debug", message, fields }),
  info: (message, fields) => logs.push({ level: "info", message, fields }),
  warn: (message, fields) => logs.push({ level: "warn", message, fields }),
  error: (message, fields) => logs.push({ level: "error", message, fields }),
};
let answer: ApiHandler = async () => ({ statusCode: 200, body: "{}" });

const server = createApiServer({
  handler: (event, context) => {
    received.push({ event, context });
    return answer(event, context);
  },
  authorizer: createJwtAuthorizer({ secret: SECRET }),
  cors: corsConfig(["http://app.example"]),
  logger: recordingLogger,
  maxPayloadBytes: 64 * 1024,
});
let baseUrl = "";

beforeAll(async () => {
  baseUrl = `http://${await listenOnLoopback(server)}`;
});
afterAll(async () => {
  await closeServer(server);
});
beforeEach(() => {
  received.length = 0;
  logs.length = 0;
  answer = async () => ({ statusCode: 200, body: "{}" });
});

const bearer = async (sub = "alice", expiresIn?: number) =>
  `Bearer ${await signLocalToken({ sub, secret: SECRET, expiresIn })}`;

describe("the local API Gateway", () => {
  it("hands an authorized request to the handler as a payload v2 event with the caller's claims", async () => {
    // Prepare
    answer = async () => ({
      statusCode: 201,
      headers: { "content-type": "application/json", "x-request-id": "r1" },
      cookies: ["seen=1; Path=/"],
      body: JSON.stringify({ ok: true }),
    });

    // Act
    const response = await fetch(`${baseUrl}/api/tasks?limit=2`, {
      method: "POST",
      headers: {
        authorization: await bearer("alice"),
        "content-type": "application/json",
        "idempotency-key": "k-1",
        cookie: "a=1; b=2",
      },
      body: JSON.stringify({ type: "summarize", input: { text: "x" } }),
    });

    // Assess
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ ok: true });
    expect(response.headers.get("set-cookie")).toBe("seen=1; Path=/");
    expect(response.headers.get("apigw-requestid")).toBeTruthy();
    expect(received).toHaveLength(1);
    const { event, context } = received[0] ?? {};
    expect(event).toMatchObject({
      version: "2.0",
      routeKey: "POST /api/tasks",
      rawPath: "/api/tasks",
      rawQueryString: "limit=2",
      queryStringParameters: { limit: "2" },
      cookies: ["a=1", "b=2"],
      isBase64Encoded: false,
      body: JSON.stringify({ type: "summarize", input: { text: "x" } }),
      requestContext: {
        http: { method: "POST", path: "/api/tasks", sourceIp: "127.0.0.1" },
        authorizer: { jwt: { claims: { sub: "alice" }, scopes: null } },
      },
    });
    expect(event?.headers["idempotency-key"]).toBe("k-1");
    expect(event?.headers.authorization).toMatch(/^Bearer /);
    expect(context?.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(context?.awsRequestId).toBeTruthy();
  });

  it.each([
    ["no token", async () => undefined],
    [
      "a token signed with another secret",
      async () => `Bearer ${await signLocalToken({ sub: "alice", secret: "wrong-secret" })}`,
    ],
    ["an expired token", async () => bearer("alice", Math.floor(Date.now() / 1000) - 5)],
    ["garbage", async () => "Bearer abc.def.ghi"],
  ])("answers 401 itself for %s, without calling the handler", async (_name, header) => {
    // Prepare
    const authorization = await header();

    // Act
    const response = await fetch(`${baseUrl}/api/tasks`, {
      headers: authorization ? { authorization } : {},
    });

    // Assess
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ message: "Unauthorized" });
    expect(received).toHaveLength(0);
  });

  it("lets /api/health through without a token and without an authorizer context", async () => {
    // Act
    const response = await fetch(`${baseUrl}/api/health`);

    // Assess
    expect(response.status).toBe(200);
    expect(received[0]?.event.routeKey).toBe("GET /api/health");
    expect(received[0]?.event.requestContext).not.toHaveProperty("authorizer");
  });

  it("sends requests no route matches to the handler through $default, without checking a token", async () => {
    // Act
    const unknown = await fetch(`${baseUrl}/api/unknown`, {
      headers: { authorization: "Bearer not-a-token" },
    });
    const wrongMethod = await fetch(`${baseUrl}/api/health`, { method: "DELETE" });

    // Assess: the handler answers them (API Gateway's $default route, lib/api.ts), so the
    // 404/405 come in the API's error shape; the gateway adds no 401 of its own.
    expect(unknown.status).toBe(200);
    expect(wrongMethod.status).toBe(200);
    expect(received.map(({ event }) => event.routeKey)).toEqual(["$default", "$default"]);
    expect(received.map(({ event }) => event.requestContext.http.method)).toEqual([
      "GET",
      "DELETE",
    ]);
    expect(received[0]?.event.requestContext.authorizer).toBeUndefined();
    expect(received[0]?.event.pathParameters).toBeUndefined();
  });

  it("answers CORS preflights itself, for allowed origins only", async () => {
    // Act
    const allowed = await fetch(`${baseUrl}/api/tasks`, {
      method: "OPTIONS",
      headers: { origin: "http://app.example", "access-control-request-method": "POST" },
    });
    const other = await fetch(`${baseUrl}/api/tasks`, {
      method: "OPTIONS",
      headers: { origin: "http://evil.example", "access-control-request-method": "POST" },
    });

    // Assess
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://app.example");
    expect(allowed.headers.get("access-control-allow-headers")).toContain("authorization");
    expect(other.status).toBe(204);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    expect(received).toHaveLength(0);
  });

  it("sets the configured CORS headers on answers in place of the handler's, as API Gateway does", async () => {
    // Prepare
    answer = async () => ({
      statusCode: 200,
      headers: { "access-control-allow-origin": "*", "content-type": "application/json" },
      body: "{}",
    });

    // Act
    const allowed = await fetch(`${baseUrl}/api/health`, {
      headers: { origin: "http://app.example" },
    });
    const other = await fetch(`${baseUrl}/api/health`, {
      headers: { origin: "http://evil.example" },
    });

    // Assess
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://app.example");
    expect(allowed.headers.get("vary")).toContain("origin");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("hides a handler that throws behind a plain 500", async () => {
    // Prepare
    answer = async () => {
      throw new Error("SELECT * FROM secrets failed");
    };

    // Act
    const response = await fetch(`${baseUrl}/api/tasks`, {
      headers: { authorization: await bearer() },
    });

    // Assess
    expect(response.status).toBe(500);
    expect(await response.text()).toBe(JSON.stringify({ message: "Internal Server Error" }));
  });

  it("passes binary bodies base64-encoded and decodes base64 answers", async () => {
    // Prepare
    answer = async (event) => ({
      statusCode: 200,
      headers: { "content-type": "application/octet-stream" },
      body: event.body ?? "",
      isBase64Encoded: true,
    });
    const bytes = Buffer.from([0, 1, 2, 250, 251]);

    // Act
    const response = await fetch(`${baseUrl}/api/tasks`, {
      method: "POST",
      headers: { authorization: await bearer(), "content-type": "application/octet-stream" },
      body: bytes,
    });

    // Assess
    expect(received[0]?.event.isBase64Encoded).toBe(true);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
  });

  it("answers 401 to a token whose JOSE header carries a line break, and goes on answering", async () => {
    // Prepare: a critical header parameter whose name is caller text with a newline.
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const header = encode({ alg: "HS256", crit: ["a\nb"], "a\nb": 1 });
    const token = `${header}.${encode({ sub: "alice", exp: 4_000_000_000 })}.c2ln`;

    // Act
    const refused = await fetch(`${baseUrl}/api/tasks`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const after = await fetch(`${baseUrl}/api/health`);

    // Assess: a 401 whose headers carry nothing of the token, and the server still answers.
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toBe(
      'Bearer error="invalid_token" error_description="malformed token"',
    );
    expect(after.status).toBe(200);
  });

  it("answers 500 when the handler's answer has a header HTTP cannot carry, and goes on answering", async () => {
    // Prepare
    answer = async () => ({ statusCode: 200, headers: { "x-echo": "a\r\nb" }, body: "{}" });

    // Act
    const broken = await fetch(`${baseUrl}/api/health`);
    answer = async () => ({ statusCode: 200, body: "{}" });
    const after = await fetch(`${baseUrl}/api/health`);

    // Assess
    expect(broken.status).toBe(500);
    expect(broken.headers.get("x-echo")).toBeNull();
    expect(await broken.json()).toEqual({ message: "Internal Server Error" });
    expect(after.status).toBe(200);
    expect(logs.filter((line) => line.level === "error")).toHaveLength(1);
  });

  it("passes a text body that is not UTF-8 base64-encoded, byte for byte", async () => {
    // Prepare: 0xe9 alone (latin-1 "é") is never UTF-8.
    const bytes = Buffer.from([...Buffer.from('{"text":"caf'), 0xe9, ...Buffer.from('"}')]);

    // Act
    await fetch(`${baseUrl}/api/tasks`, {
      method: "POST",
      headers: { authorization: await bearer(), "content-type": "application/json" },
      body: bytes,
    });

    // Assess
    expect(received[0]?.event.isBase64Encoded).toBe(true);
    expect(Buffer.from(received[0]?.event.body ?? "", "base64")).toEqual(bytes);
  });

  it.each([
    ["401", async () => fetch(`${baseUrl}/api/tasks`)],
    [
      "413",
      async () =>
        fetch(`${baseUrl}/api/tasks`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "x".repeat(64 * 1024 + 1),
        }),
    ],
  ])("sets the API's security headers on its own %s", async (status, call) => {
    // Act
    const response = await call();

    // Assess
    expect(String(response.status)).toBe(status);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
  });

  it("logs a client that leaves mid-upload as one line below ERROR", async () => {
    // Prepare
    const { port } = server.address() as AddressInfo;

    // Act: announce 1000 bytes, send 10, hang up.
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write(
          "POST /api/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n0123456789",
          () => socket.destroy(),
        );
      });
      socket.on("close", () => resolve());
      socket.on("error", reject);
    });
    await waitUntil(() => logs.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Assess
    expect(logs.filter((line) => line.level === "error" || line.level === "warn")).toEqual([]);
    expect(logs).toHaveLength(1);
    expect(logs[0]?.message).toMatch(/disconnected/);
    expect(received).toHaveLength(0);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
