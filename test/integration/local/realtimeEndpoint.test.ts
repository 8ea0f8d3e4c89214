import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { channelForOwner } from "../../../functions/core/realtime/channel";
import { createHttpPublishTransport } from "../../../functions/core/realtime/httpPublish";
import { silentLogger } from "../../../functions/core/telemetry/ports";
import { createJwtAuthorizer } from "../../../functions/local/jwtAuthorizer";
import {
  createRealtimeEndpoint,
  type RealtimeEndpoint,
} from "../../../functions/local/realtime/server";
import { signLocalToken } from "../../../functions/local/token";
import { connectRealtime } from "../../../testkit/realtimeClient";
import { listenOnLoopback } from "../../support/listen";

/**
 * The local Event API over real sockets: the HTTP publish's rules (AppSync's: API key,
 * 1 to 5 events, JSON texts of at most 240 KB, no wildcard, an existing namespace) and a
 * publish reaching a WebSocket subscriber through the core's HTTP publish transport.
 */

const SECRET = "realtime-endpoint-test-secret";
const API_KEY = "k".repeat(32);
let server: Server;
let endpoint: RealtimeEndpoint;
let base: string;

beforeAll(async () => {
  endpoint = createRealtimeEndpoint({
    authorizer: createJwtAuthorizer({ secret: SECRET }),
    apiKey: API_KEY,
    logger: silentLogger,
  });
  server = createServer((req, res) => {
    if (!endpoint.handleHttp(req, res)) res.writeHead(404).end();
  });
  server.on("upgrade", endpoint.handleUpgrade);
  base = await listenOnLoopback(server);
});

afterAll(async () => {
  endpoint.close();
  await new Promise((resolve) => server.close(resolve));
});

async function publish(body: unknown, key: string | null = API_KEY) {
  const response = await fetch(`http://${base}/event`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { "x-api-key": key } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("the local Event API endpoint", () => {
  it("refuses publishes AppSync refuses", async () => {
    // Prepare
    const channel = channelForOwner("ann");

    // Act
    const answers = await Promise.all([
      publish({ channel, events: ['"x"'] }, null),
      publish({ channel, events: ['"x"'] }, "wrong"),
      publish({ channel, events: [] }),
      publish({ channel, events: Array(6).fill('"x"') }),
      publish({ channel, events: ["not json"] }),
      publish({ channel, events: [JSON.stringify("x".repeat(240 * 1024))] }),
      publish({ channel: "/tasks/*", events: ['"x"'] }),
      publish({ channel: "/nothing/ann", events: ['"x"'] }),
    ]);

    // Assess
    expect(answers.map((a) => a.status)).toEqual([401, 401, 400, 400, 400, 400, 400, 400]);
    expect(answers[0]?.body).toEqual({
      errors: [{ errorType: "UnauthorizedException", message: expect.any(String) }],
    });
  });

  it("delivers a publish made with the core transport to a subscriber of the channel", async () => {
    // Prepare
    const token = await signLocalToken({ sub: "ann", secret: SECRET });
    const connection = await connectRealtime(
      { url: `ws://${base}/event/realtime`, httpHost: base },
      token,
    );
    const subscription = await connection.subscribe<{ n: number }>(channelForOwner("ann"));
    const transport = createHttpPublishTransport({
      url: `http://${base}/event`,
      auth: { kind: "apiKey", apiKey: API_KEY },
    });

    // Act
    await transport.publish("tasks/ann", ['{"n":1}', '{"n":2}']);
    await subscription.waitFor((events) => events.length === 2, 10_000);
    connection.close();

    // Assess
    expect(subscription.events).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it("refuses a handshake without the event subprotocol or with a bad token", async () => {
    // Act
    const bad = await connectRealtime(
      { url: `ws://${base}/event/realtime`, httpHost: base },
      "nope",
    ).catch((error: unknown) => String(error));

    // Assess
    expect(bad).toContain("401");
  });
});
