import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../functions/core/telemetry/ports";
import { corsConfig } from "../../../functions/local/cors";
import { type ApiHandler, createApiServer } from "../../../functions/local/httpServer";
import { createJwtAuthorizer } from "../../../functions/local/jwtAuthorizer";
import { signLocalToken } from "../../../functions/local/token";
import { closeServer, listenOnLoopback } from "../../support/listen";

/**
 * The local gateway is as strict as Lambda where API Gateway's own 10 MB does not show:
 * Lambda's synchronous invocation takes at most 6 MB each way
 * (docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). The event is measured
 * as Lambda receives it: the body JSON-escaped once more inside the event.
 */

const SECRET = "limits-secret";
let calls = 0;
let answer: ApiHandler = async () => ({ statusCode: 200, body: "{}" });
const server = createApiServer({
  handler: (event, context) => {
    calls += 1;
    return answer(event, context);
  },
  authorizer: createJwtAuthorizer({ secret: SECRET }),
  cors: corsConfig(["http://app.example"]),
  logger: silentLogger,
});
let baseUrl = "";

beforeAll(async () => {
  baseUrl = `http://${await listenOnLoopback(server)}`;
});
afterAll(async () => {
  await closeServer(server);
});
beforeEach(() => {
  calls = 0;
  answer = async () => ({ statusCode: 200, body: "{}" });
});

const post = async (body: string) =>
  fetch(`${baseUrl}/api/tasks`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${await signLocalToken({ sub: "alice", secret: SECRET })}`,
      "content-type": "application/json",
    },
    body,
  });

describe("Lambda's 6 MB, in the local gateway", () => {
  it("hands a 5 MB body to the handler, and refuses one whose event passes 6 MB with a 413", async () => {
    // Act
    const fits = await post("a".repeat(5_000_000));
    const fitsCalls = calls;
    // 3.5 MB of quotes is 7 MB once escaped in the event: under API Gateway's 10 MB.
    const escaped = await post('"'.repeat(3_500_000));

    // Assess
    expect(fits.status).toBe(200);
    expect(fitsCalls).toBe(1);
    expect(escaped.status).toBe(413);
    expect(await escaped.json()).toEqual({ message: expect.any(String) });
    expect(calls).toBe(1);
  });

  it("answers API Gateway's 500 when the handler's response passes 6 MB serialized", async () => {
    // Prepare: 3.2 MB of quotes serializes to 6.4 MB
    answer = async () => ({ statusCode: 200, body: '"'.repeat(3_200_000) });

    // Act
    const response = await post("{}");

    // Assess
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: "Internal Server Error" });
  });

  it("passes a base64 answer of 4.5 MB (6 MB encoded) through, decoded", async () => {
    // Prepare
    const bytes = Buffer.alloc(4_500_000, 0x22);
    answer = async () => ({
      statusCode: 200,
      isBase64Encoded: true,
      body: bytes.toString("base64"),
    });

    // Act
    const response = await post("{}");

    // Assess
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
  });
});
