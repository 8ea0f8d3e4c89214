import { describe, expect, it } from "vitest";
import {
  fromLambdaResult,
  type IncomingApiRequest,
  isTextContentType,
  toApiGatewayEvent,
} from "../../../functions/local/apiGatewayEvent";
import { matchRoute } from "../../../functions/local/routes";

const request = (overrides: Partial<IncomingApiRequest> = {}): IncomingApiRequest => ({
  method: "GET",
  url: "/api/tasks",
  rawHeaders: ["Host", "localhost:3000", "User-Agent", "curl/8.5.0"],
  body: Buffer.alloc(0),
  sourceIp: "127.0.0.1",
  requestId: "req-1",
  receivedAt: Date.UTC(2026, 2, 12, 19, 3, 58),
  host: "localhost:3000",
  ...overrides,
});

const authorizer = { jwt: { claims: { sub: "alice", exp: "1787996002" }, scopes: null } };

describe("toApiGatewayEvent", () => {
  it("fills the payload v2 fields as API Gateway does", () => {
    // Prepare
    const route = matchRoute("GET", "/api/tasks/3f1c%2D9");
    if (!route) throw new Error("route should match");

    // Act
    const event = toApiGatewayEvent(
      request({ url: "/api/tasks/3f1c%2D9?status=pending&limit=5" }),
      route,
      authorizer,
    );

    // Assess
    expect(event).toMatchObject({
      version: "2.0",
      routeKey: "GET /api/tasks/{id}",
      rawPath: "/api/tasks/3f1c%2D9",
      rawQueryString: "status=pending&limit=5",
      queryStringParameters: { status: "pending", limit: "5" },
      pathParameters: { id: "3f1c-9" },
      isBase64Encoded: false,
      requestContext: {
        routeKey: "GET /api/tasks/{id}",
        stage: "$default",
        requestId: "req-1",
        time: "12/Mar/2026:19:03:58 +0000",
        timeEpoch: Date.UTC(2026, 2, 12, 19, 3, 58),
        http: {
          method: "GET",
          path: "/api/tasks/3f1c%2D9",
          sourceIp: "127.0.0.1",
          userAgent: "curl/8.5.0",
        },
        authorizer,
      },
    });
    expect(event.body).toBeUndefined();
    expect(event.cookies).toBeUndefined();
  });

  it("lowercases header names, joins repeated ones with commas and moves cookies out", () => {
    // Prepare
    const rawHeaders = [
      ...["X-Custom", "a", "x-custom", "b"],
      ...["Cookie", "theme=dark; session=abc", "Cookie", "lang=en"],
      ...["Content-Type", "application/json"],
    ];

    // Act
    const event = toApiGatewayEvent(
      request({ method: "POST", rawHeaders, body: Buffer.from('{"type":"prompt"}') }),
      { routeKey: "POST /api/tasks", pathParameters: undefined, authorized: true },
      authorizer,
    );

    // Assess
    expect(event.headers["x-custom"]).toBe("a,b");
    expect(event.headers["content-type"]).toBe("application/json");
    expect(event.headers.cookie).toBeUndefined();
    expect(event.cookies).toEqual(["theme=dark", "session=abc", "lang=en"]);
    expect(event.body).toBe('{"type":"prompt"}');
    expect(event.isBase64Encoded).toBe(false);
    expect(event.pathParameters).toBeUndefined();
  });

  it("joins repeated query parameters with commas and decodes them", () => {
    // Act
    const event = toApiGatewayEvent(
      request({ url: "/api/tasks?type=a&type=b%20c&empty=" }),
      { routeKey: "GET /api/tasks", pathParameters: undefined, authorized: true },
      authorizer,
    );

    // Assess
    expect(event.queryStringParameters).toEqual({ type: "a,b c", empty: "" });
    expect(event.rawQueryString).toBe("type=a&type=b%20c&empty=");
  });

  it("sends binary and untyped bodies base64-encoded", () => {
    // Prepare
    const bytes = Buffer.from([0xff, 0x00, 0x10]);

    // Act
    const untyped = toApiGatewayEvent(
      request({ method: "POST", body: bytes }),
      { routeKey: "POST /api/tasks", pathParameters: undefined, authorized: true },
      authorizer,
    );

    // Assess
    expect(untyped.isBase64Encoded).toBe(true);
    expect(Buffer.from(untyped.body ?? "", "base64")).toEqual(bytes);
    expect(isTextContentType("application/json; charset=utf-8")).toBe(true);
    expect(isTextContentType("application/problem+json")).toBe(true);
    expect(isTextContentType("text/plain")).toBe(true);
    expect(isTextContentType("application/octet-stream")).toBe(false);
    expect(isTextContentType(undefined)).toBe(false);
  });

  it("leaves the authorizer out on public routes", () => {
    // Act
    const event = toApiGatewayEvent(
      request({ url: "/api/health" }),
      { routeKey: "GET /api/health", pathParameters: undefined, authorized: false },
      undefined,
    );

    // Assess
    expect("authorizer" in event.requestContext).toBe(false);
  });
});

describe("matchRoute", () => {
  it("matches the route table's methods and templates only", () => {
    expect(matchRoute("POST", "/api/tasks/abc/cancel")).toMatchObject({
      routeKey: "POST /api/tasks/{id}/cancel",
      pathParameters: { id: "abc" },
      authorized: true,
    });
    expect(matchRoute("GET", "/api/health")).toMatchObject({ authorized: false });
    expect(matchRoute("DELETE", "/api/tasks/abc")).toEqual({
      routeKey: "$default",
      pathParameters: undefined,
      authorized: false,
    });
    expect(matchRoute("GET", "/api/tasks/")).toMatchObject({ routeKey: "$default" });
    expect(matchRoute("GET", "/api/nope")).toMatchObject({ routeKey: "$default" });
  });
});

describe("fromLambdaResult", () => {
  it("writes a structured result: status, headers, cookies, base64 body", () => {
    // Act
    const answer = fromLambdaResult({
      statusCode: 201,
      headers: { "Content-Type": "image/png", "X-Count": 3 },
      cookies: ["a=1; HttpOnly", "b=2"],
      body: Buffer.from([1, 2, 3]).toString("base64"),
      isBase64Encoded: true,
    });

    // Assess
    expect(answer.statusCode).toBe(201);
    expect(answer.headers["content-type"]).toEqual(["image/png"]);
    expect(answer.headers["x-count"]).toEqual(["3"]);
    expect(answer.headers["set-cookie"]).toEqual(["a=1; HttpOnly", "b=2"]);
    expect(answer.body).toEqual(Buffer.from([1, 2, 3]));
  });

  it("treats a result without statusCode as a 200 JSON body", () => {
    // Act
    const object = fromLambdaResult({ hello: "world" });
    const text = fromLambdaResult("plain");

    // Assess
    expect(object.statusCode).toBe(200);
    expect(object.headers["content-type"]).toEqual(["application/json"]);
    expect(JSON.parse(object.body.toString())).toEqual({ hello: "world" });
    expect(text.body.toString()).toBe("plain");
  });
});
