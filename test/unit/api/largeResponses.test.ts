import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { ApiContext, ApiEvent, ApiResult } from "../../../functions/api/http";
import { acceptsGzip, largeResponses } from "../../../functions/api/middlewares/largeResponses";

/** Big answers leave base64 (4/3 whatever the escapes), gzipped when the client accepts it. */

type AfterRequest = Parameters<NonNullable<ReturnType<typeof largeResponses>["after"]>>[0];

function run(body: string, acceptEncoding?: string): ApiResult {
  const request = {
    event: { headers: acceptEncoding ? { "accept-encoding": acceptEncoding } : {} } as ApiEvent,
    context: {} as ApiContext,
    response: { statusCode: 200, headers: { "content-type": "application/json" }, body },
    error: null,
    internal: {},
  } as unknown as AfterRequest;
  largeResponses({ aboveBytes: 100 }).after?.(request);
  return request.response as ApiResult;
}

describe("largeResponses", () => {
  it("leaves an answer at the threshold as it is", () => {
    // Act
    const answer = run("x".repeat(100), "gzip");
    // Assess
    expect(answer.isBase64Encoded).toBeUndefined();
    expect(answer.body).toBe("x".repeat(100));
  });

  it("gzips a bigger one for a client that accepts gzip, base64 for API Gateway", () => {
    // Prepare
    const body = JSON.stringify({ text: '"quoted"'.repeat(100) });
    // Act
    const answer = run(body, "br, gzip;q=0.8");
    // Assess
    expect(answer.isBase64Encoded).toBe(true);
    expect(answer.headers["content-encoding"]).toBe("gzip");
    expect(answer.headers.vary).toBe("accept-encoding");
    expect(gunzipSync(Buffer.from(answer.body as string, "base64")).toString("utf8")).toBe(body);
  });

  it("sends a bigger one to a client without gzip as plain base64, exactly 4/3 of it", () => {
    // Prepare: every byte a quote, which JSON would escape to two
    const body = '"'.repeat(3000);
    // Act
    const answer = run(body, "gzip;q=0, identity");
    // Assess
    expect(answer.isBase64Encoded).toBe(true);
    expect(answer.headers["content-encoding"]).toBeUndefined();
    expect((answer.body as string).length).toBe(4000);
    expect(Buffer.from(answer.body as string, "base64").toString("utf8")).toBe(body);
  });

  it("reads Accept-Encoding as HTTP does", () => {
    expect(acceptsGzip(undefined)).toBe(false);
    expect(acceptsGzip("gzip")).toBe(true);
    expect(acceptsGzip("GZIP, deflate")).toBe(true);
    expect(acceptsGzip("deflate, br")).toBe(false);
    expect(acceptsGzip("gzip;q=0")).toBe(false);
    expect(acceptsGzip("*")).toBe(true);
  });
});
