import { describe, expect, it } from "vitest";
import { createHttpPublishTransport } from "../../../functions/core/realtime/httpPublish";

/**
 * AppSync Events' HTTP publish as the backend makes it: the body AWS documents, SigV4 for
 * service `appsync` (IAM) or `x-api-key` (local), and a 200 that lists failed events taken
 * as the failure it is.
 */

interface Captured {
  url: string;
  headers: Record<string, string>;
  body: string;
}

function fakeFetch(answer: { status: number; body: unknown }) {
  const calls: Captured[] = [];
  const fetch = (async (url: URL, init: RequestInit) => {
    calls.push({
      url: String(url),
      headers: init.headers as Record<string, string>,
      body: String(init.body),
    });
    return new Response(JSON.stringify(answer.body), { status: answer.status });
  }) as unknown as typeof globalThis.fetch;
  return { calls, fetch };
}

const ok = { status: 200, body: { successful: [{ identifier: "1", index: 0 }], failed: [] } };

describe("the HTTP publish transport", () => {
  it("signs with SigV4 for appsync in the API's region", async () => {
    // Prepare
    const wire = fakeFetch(ok);
    const transport = createHttpPublishTransport({
      url: "https://abc.appsync-api.eu-west-1.amazonaws.com/event",
      auth: {
        kind: "iam",
        region: "eu-west-1",
        credentials: async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" }),
      },
      fetch: wire.fetch,
    });

    // Act
    await transport.publish("/tasks/ann", ['{"n":1}']);

    // Assess
    const [call] = wire.calls;
    expect(call?.url).toBe("https://abc.appsync-api.eu-west-1.amazonaws.com/event");
    expect(JSON.parse(call?.body as string)).toEqual({
      channel: "/tasks/ann",
      events: ['{"n":1}'],
    });
    expect(call?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/appsync\/aws4_request, SignedHeaders=.*host.*, Signature=[0-9a-f]{64}$/,
    );
    expect(call?.headers["x-amz-date"]).toMatch(/^\d{8}T\d{6}Z$/);
    expect(call?.headers["x-amz-content-sha256"] ?? "").not.toBe("UNSIGNED-PAYLOAD");
    expect(call?.headers).not.toHaveProperty("host");
  });

  it("sends the API key instead when given one, and fails on refused events", async () => {
    // Prepare
    const wire = fakeFetch({
      status: 200,
      body: { successful: [], failed: [{ identifier: "1", code: 400, message: "too large" }] },
    });
    const transport = createHttpPublishTransport({
      url: "http://127.0.0.1:3000/event",
      auth: { kind: "apiKey", apiKey: "k".repeat(32) },
      fetch: wire.fetch,
    });

    // Act
    const failure = await transport.publish("/tasks/ann", ['"x"']).catch((error: unknown) => error);

    // Assess
    expect(wire.calls[0]?.headers["x-api-key"]).toBe("k".repeat(32));
    expect(wire.calls[0]?.headers).not.toHaveProperty("authorization");
    expect(String(failure)).toContain("refused 1 event");
  });

  it("fails on a non-2xx answer, naming the status", async () => {
    // Prepare
    const wire = fakeFetch({
      status: 401,
      body: { errors: [{ errorType: "UnauthorizedException" }] },
    });
    const transport = createHttpPublishTransport({
      url: "http://127.0.0.1:3000/event",
      auth: { kind: "apiKey", apiKey: "k".repeat(32) },
      fetch: wire.fetch,
    });

    // Act
    const failure = await transport.publish("/tasks/ann", ['"x"']).catch((error: unknown) => error);

    // Assess
    expect(String(failure)).toContain("401");
  });
});
