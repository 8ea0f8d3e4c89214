import { describe, expect, it } from "vitest";
import { channelForOwner } from "../../../functions/core/realtime/channel";
import { ChannelBroker } from "../../../functions/local/realtime/broker";
import {
  CONNECTION_TIMEOUT_MS,
  ProtocolConnection,
  type ServerMessage,
} from "../../../functions/local/realtime/protocol";

/** The local Event API's WebSocket protocol, message by message (functions/local/realtime/protocol.ts). */

/** A connection whose tokens are `token-<sub>`; anything else is refused. */
function aConnection(broker = new ChannelBroker(), connectionId = "c1") {
  const sent: ServerMessage[] = [];
  const connection = new ProtocolConnection({
    connectionId,
    broker,
    kaIntervalMs: 60_000,
    send: (message) => sent.push(message),
    authorize: async (authorization) => {
      const token = authorization?.Authorization;
      return typeof token === "string" && token.startsWith("token-") ? token.slice(6) : undefined;
    },
  });
  const say = (message: unknown) => connection.handle(JSON.stringify(message));
  return { connection, sent, say, broker };
}

const auth = (sub: string) => ({ Authorization: `token-${sub}`, host: "localhost" });

describe("the local Event API's WebSocket protocol", () => {
  it("acknowledges connection_init with AppSync's connectionTimeoutMs", async () => {
    // Prepare
    const { say, sent, connection } = aConnection();

    // Act
    await say({ type: "connection_init" });
    connection.close();

    // Assess
    expect(sent).toEqual([{ type: "connection_ack", connectionTimeoutMs: CONNECTION_TIMEOUT_MS }]);
  });

  it("refuses a subscribe before connection_init, and malformed messages", async () => {
    // Prepare
    const { connection, say, sent } = aConnection();

    // Act
    await say({
      type: "subscribe",
      id: "s1",
      channel: channelForOwner("ann"),
      authorization: auth("ann"),
    });
    await connection.handle("not json");
    await say({ type: "start" });

    // Assess
    expect(sent.map((m) => m.type)).toEqual(["error", "error", "error"]);
  });

  it("lets a caller subscribe to its own channel only, and delivers data as JSON text", async () => {
    // Prepare
    const { say, sent, broker, connection } = aConnection();
    await say({ type: "connection_init" });

    // Act
    await say({
      type: "subscribe",
      id: "own",
      channel: channelForOwner("ann"),
      authorization: auth("ann"),
    });
    await say({
      type: "subscribe",
      id: "foreign",
      channel: channelForOwner("bob"),
      authorization: auth("ann"),
    });
    await say({ type: "subscribe", id: "wild", channel: "/tasks/*", authorization: auth("ann") });
    await say({ type: "subscribe", id: "noauth", channel: channelForOwner("ann") });
    await say({ type: "subscribe", id: "bad", channel: "/tasks/a b", authorization: auth("ann") });
    await say({ type: "subscribe", id: "ns", channel: "/other/ann", authorization: auth("ann") });
    broker.publish(channelForOwner("ann"), ['{"n":1}']);
    broker.publish(channelForOwner("bob"), ['{"n":2}']);
    connection.close();

    // Assess
    const answers = sent.slice(1);
    expect(answers[0]).toEqual({ type: "subscribe_success", id: "own" });
    for (const id of ["foreign", "wild", "noauth"]) {
      expect(answers).toContainEqual({
        type: "subscribe_error",
        id,
        errors: [{ errorType: "UnauthorizedException", message: expect.any(String) }],
      });
    }
    for (const id of ["bad", "ns"]) {
      expect(answers).toContainEqual(
        expect.objectContaining({
          type: "subscribe_error",
          id,
          errors: [expect.objectContaining({ errorType: "BadRequestException" })],
        }),
      );
    }
    expect(answers.filter((m) => m.type === "data")).toEqual([
      { type: "data", id: "own", event: '{"n":1}' },
    ]);
  });

  it("stops delivering after unsubscribe and after the connection closes", async () => {
    // Prepare
    const broker = new ChannelBroker();
    const first = aConnection(broker, "c1");
    const second = aConnection(broker, "c2");
    for (const c of [first, second]) {
      await c.say({ type: "connection_init" });
      await c.say({
        type: "subscribe",
        id: "s",
        channel: channelForOwner("ann"),
        authorization: auth("ann"),
      });
    }

    // Act
    await first.say({ type: "unsubscribe", id: "s" });
    await first.say({ type: "unsubscribe", id: "s" });
    second.connection.close();
    const reached = broker.publish(channelForOwner("ann"), ['{"late":true}']);
    first.connection.close();

    // Assess
    expect(first.sent.slice(-2).map((m) => m.type)).toEqual([
      "unsubscribe_success",
      "unsubscribe_error",
    ]);
    expect(reached).toBe(0);
    expect(broker.size).toBe(0);
    expect([...first.sent, ...second.sent].filter((m) => m.type === "data")).toEqual([]);
  });

  it("refuses a publish over the socket: the namespace publishes with IAM only", async () => {
    // Prepare
    const { say, sent, connection } = aConnection();
    await say({ type: "connection_init" });

    // Act
    await say({ type: "publish", id: "p", channel: channelForOwner("ann"), events: ['"x"'] });
    connection.close();

    // Assess
    expect(sent.at(-1)).toMatchObject({ type: "publish_error", id: "p" });
  });
});
