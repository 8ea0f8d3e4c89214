/**
 * The local runtime's AppSync Events endpoint, on its HTTP server: the WebSocket endpoint
 * `ws://HOST:PORT/event/realtime` (./protocol.ts) and the HTTP publish `POST /event`.
 *
 * As AppSync (https://docs.aws.amazon.com/appsync/latest/eventapi/event-api-websocket-protocol.html):
 * the handshake must offer the `aws-appsync-event-ws` subprotocol and the authorization as
 * a `header-<base64url(JSON)>` subprotocol (`{"Authorization": <JWT>, "host": ...}`); a
 * missing or bad one is refused at the handshake (401). Tokens are the local runtime's
 * HS256 ones (../jwtAuthorizer.ts), with or without `Bearer `.
 *
 * The publish (https://docs.aws.amazon.com/appsync/latest/eventapi/publish-http.html):
 * `{"channel", "events": [...]}` with 1 to 5 events, each a JSON text of at most 240 KB, to
 * a channel without wildcards in an existing namespace. The `tasks` namespace publishes with
 * IAM in AWS; here with the runtime's API key (`x-api-key`), which only the runtime's own
 * handlers are given.
 */
import { randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { z } from "zod";
import { parseChannel, TASKS_NAMESPACE } from "../../core/realtime/channel";
import { MAX_EVENT_BYTES, MAX_EVENTS_PER_PUBLISH } from "../../core/realtime/events";
import type { Logger } from "../../core/telemetry/ports";
import type { JwtAuthorizer } from "../jwtAuthorizer";
import { ChannelBroker } from "./broker";
import { ProtocolConnection } from "./protocol";

export const REALTIME_PATH = "/event/realtime";
export const PUBLISH_PATH = "/event";
export const EVENT_SUBPROTOCOL = "aws-appsync-event-ws";

/** 5 events of 240 KB in JSON text form, escaped: anything above cannot be a valid publish. */
const MAX_PUBLISH_BODY_BYTES = 4 * 1024 * 1024;

const PublishBodySchema = z.object({
  channel: z.string().min(1),
  events: z.array(z.string()).min(1).max(MAX_EVENTS_PER_PUBLISH),
});

export interface RealtimeEndpoint {
  /** Takes `POST /event`; false for any other request. */
  handleHttp(req: IncomingMessage, res: ServerResponse): boolean;
  /** The HTTP server's `upgrade` listener. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  readonly broker: ChannelBroker;
  close(): void;
}

export function createRealtimeEndpoint(options: {
  authorizer: JwtAuthorizer;
  apiKey: string;
  logger: Logger;
  /** How often `ka` is sent (AppSync: about every minute). */
  kaIntervalMs?: number;
}): RealtimeEndpoint {
  const broker = new ChannelBroker();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_PUBLISH_BODY_BYTES,
    handleProtocols: (protocols) => (protocols.has(EVENT_SUBPROTOCOL) ? EVENT_SUBPROTOCOL : false),
  });
  const kaIntervalMs = options.kaIntervalMs ?? 60_000;

  async function subOf(authorization: Record<string, unknown> | undefined) {
    const token = authorization?.Authorization ?? authorization?.authorization;
    if (typeof token !== "string") return undefined;
    const bearer = /^Bearer /i.test(token) ? token : `Bearer ${token}`;
    const result = await options.authorizer.authorize(bearer);
    return result.authorized ? result.context.jwt.claims.sub : undefined;
  }

  function refuse(socket: Duplex, status: number, text: string): void {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  }

  return {
    broker,

    handleUpgrade(req, socket, head) {
      const path = (req.url ?? "").split("?")[0];
      if (path !== REALTIME_PATH) return refuse(socket, 404, "Not Found");
      const offered = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
      const header = offered.find((p) => p.startsWith("header-"));
      if (!offered.includes(EVENT_SUBPROTOCOL) || !header) {
        return refuse(socket, 400, "Bad Request");
      }
      let authorization: Record<string, unknown> | undefined;
      try {
        authorization = JSON.parse(Buffer.from(header.slice(7), "base64url").toString("utf8"));
      } catch {
        return refuse(socket, 401, "Unauthorized");
      }
      void subOf(authorization).then((sub) => {
        if (sub === undefined) return refuse(socket, 401, "Unauthorized");
        wss.handleUpgrade(req, socket, head, (ws) => {
          const connection = new ProtocolConnection({
            connectionId: randomUUID(),
            broker,
            kaIntervalMs,
            authorize: subOf,
            send: (message) => {
              if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
            },
          });
          // Messages are handled one at a time, in order (a subscribe awaits its token check).
          let chain = Promise.resolve();
          ws.on("message", (data) => {
            chain = chain
              .then(() => connection.handle(data.toString()))
              .catch((error) => {
                options.logger.error("real-time message failed", { error });
              });
          });
          ws.on("close", () => connection.close());
          ws.on("error", () => connection.close());
        });
      });
    },

    handleHttp(req, res) {
      const path = (req.url ?? "").split("?")[0];
      if (path !== PUBLISH_PATH) return false;
      void answerPublish(req, res, options.apiKey, broker).catch((error) => {
        options.logger.error("real-time publish failed in the local endpoint", { error });
        if (!res.headersSent)
          send(res, 500, errorsBody("InternalFailureException", "internal error"));
      });
      return true;
    },

    close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}

async function answerPublish(
  req: IncomingMessage,
  res: ServerResponse,
  apiKey: string,
  broker: ChannelBroker,
): Promise<void> {
  const body = await readBody(req);
  if ((req.method ?? "").toUpperCase() !== "POST") {
    return send(res, 405, errorsBody("BadRequestException", "publish is POST /event"));
  }
  if (!sameKey(req.headers["x-api-key"], apiKey)) {
    return send(
      res,
      401,
      errorsBody("UnauthorizedException", "You are not authorized to make this call."),
    );
  }
  if (body === undefined)
    return send(res, 413, errorsBody("BadRequestException", "body too large"));
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return send(res, 400, errorsBody("BadRequestException", "the body is not JSON"));
  }
  const parsed = PublishBodySchema.safeParse(json);
  if (!parsed.success) {
    return send(
      res,
      400,
      errorsBody(
        "BadRequestException",
        `channel and 1 to ${MAX_EVENTS_PER_PUBLISH} events (JSON texts) are required`,
      ),
    );
  }
  const channel = parseChannel(parsed.data.channel, { wildcard: false });
  if (!channel) return send(res, 400, errorsBody("BadRequestException", "invalid channel path"));
  if (channel.segments[0] !== TASKS_NAMESPACE) {
    return send(
      res,
      400,
      errorsBody("BadRequestException", `no channel namespace ${channel.segments[0]}`),
    );
  }
  for (const [index, event] of parsed.data.events.entries()) {
    if (Buffer.byteLength(event) > MAX_EVENT_BYTES) {
      return send(res, 400, errorsBody("BadRequestException", `event ${index} is over 240 KB`));
    }
    try {
      JSON.parse(event);
    } catch {
      return send(res, 400, errorsBody("BadRequestException", `event ${index} is not a JSON text`));
    }
  }
  broker.publish(channel.path, parsed.data.events);
  send(res, 200, {
    failed: [],
    successful: parsed.data.events.map((_, index) => ({ identifier: randomUUID(), index })),
  });
}

function sameKey(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function errorsBody(errorType: string, message: string) {
  return { errors: [{ errorType, message }] };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_PUBLISH_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > MAX_PUBLISH_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
