/**
 * A minimal AppSync Events WebSocket client, following AWS's protocol page
 * (https://docs.aws.amazon.com/appsync/latest/eventapi/event-api-websocket-protocol.html)
 * and nothing else, so it works unchanged against AppSync and the local runtime: the
 * `aws-appsync-event-ws` subprotocol with the JWT as a `header-<base64url>` subprotocol,
 * `connection_init` → `connection_ack`, `subscribe` (each with its authorization) →
 * `subscribe_success` / `subscribe_error`, `data` events, `unsubscribe`.
 * Used by the e2e tests and the bench; the lead's client library can reuse it.
 *
 * Not aws-amplify's `events` (aws-amplify 6.22.1, @aws-amplify/api-graphql 4.10.1): it cannot
 * reach a plain-http endpoint, as dist/esm/Providers/AWSWebSocketProvider/appsyncUrl.mjs
 * turns every endpoint into `wss://` (line 5 `const protocol = 'wss://'`, lines 31-32
 * `.replace('https://', protocol).replace('http://', protocol)`), and it opens the socket
 * with the global `WebSocket` (AWSWebSocketProvider/index.mjs line 717), which Node 20 has
 * only behind --experimental-websocket.
 */
import { randomUUID } from "node:crypto";
import WebSocket from "ws";

export interface RealtimeEndpointInfo {
  /** `wss://<realtime domain>/event/realtime`, or the local runtime's `ws://HOST:PORT/event/realtime`. */
  url: string;
  /** The Event API's HTTP domain (the `host` of the authorization). */
  httpHost: string;
}

export interface SubscriptionError {
  errorType: string;
  message: string;
}

export class RealtimeSubscriptionError extends Error {
  constructor(readonly errors: SubscriptionError[]) {
    super(`subscribe refused: ${errors.map((e) => `${e.errorType}: ${e.message}`).join("; ")}`);
  }
}

export interface Subscription<T = unknown> {
  readonly id: string;
  /** Every event received so far, parsed, in arrival order. */
  readonly events: T[];
  /** Resolves once `predicate` holds for the events received (checked on each arrival). */
  waitFor(predicate: (events: readonly T[]) => boolean, timeoutMs?: number): Promise<void>;
  unsubscribe(): Promise<void>;
}

export interface RealtimeConnection {
  subscribe<T = unknown>(channel: string): Promise<Subscription<T>>;
  close(): void;
  /** `ka` messages received (keep-alive). */
  readonly keepAlives: number;
}

/** The authorization object the protocol carries: header-based, as for a JWT auth mode. */
export function authorizationFor(token: string, httpHost: string): Record<string, string> {
  return { Authorization: token, host: httpHost };
}

/** The subprotocols a browser or Node client offers when it opens the socket. */
export function subprotocolsFor(token: string, httpHost: string): string[] {
  const header = Buffer.from(JSON.stringify(authorizationFor(token, httpHost))).toString(
    "base64url",
  );
  return ["aws-appsync-event-ws", `header-${header}`];
}

interface Waiter {
  check(): boolean;
}

export async function connectRealtime(
  endpoint: RealtimeEndpointInfo,
  token: string,
  options: { timeoutMs?: number } = {},
): Promise<RealtimeConnection> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const ws = new WebSocket(endpoint.url, subprotocolsFor(token, endpoint.httpHost));
  const pending = new Map<string, { resolve: (m: Record<string, unknown>) => void }>();
  const handlers = new Map<string, (event: string) => void>();
  let keepAlives = 0;

  const acked = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no connection_ack in time")), timeoutMs);
    ws.on("open", () => ws.send(JSON.stringify({ type: "connection_init" })));
    ws.on("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`the WebSocket handshake was refused: ${res.statusCode}`));
    });
    ws.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.on("message", (data) => {
      const message = JSON.parse(data.toString()) as Record<string, unknown>;
      const id = typeof message.id === "string" ? message.id : undefined;
      if (message.type === "connection_ack") {
        clearTimeout(timer);
        resolve();
      } else if (message.type === "ka") {
        keepAlives++;
      } else if (message.type === "data" && id) {
        handlers.get(id)?.(String(message.event));
      } else if (id && pending.has(id)) {
        pending.get(id)?.resolve(message);
        pending.delete(id);
      }
    });
  });
  await acked;

  const request = (message: Record<string, unknown> & { id: string }) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${message.type}`)), timeoutMs);
      pending.set(message.id, {
        resolve: (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
      });
      ws.send(JSON.stringify(message));
    });

  return {
    get keepAlives() {
      return keepAlives;
    },
    async subscribe<T>(channel: string): Promise<Subscription<T>> {
      const id = randomUUID();
      const events: T[] = [];
      const waiters = new Set<Waiter>();
      handlers.set(id, (event) => {
        events.push(JSON.parse(event) as T);
        for (const waiter of waiters) if (waiter.check()) waiters.delete(waiter);
      });
      const answer = await request({
        type: "subscribe",
        id,
        channel,
        authorization: authorizationFor(token, endpoint.httpHost),
      });
      if (answer.type !== "subscribe_success") {
        handlers.delete(id);
        throw new RealtimeSubscriptionError((answer.errors as SubscriptionError[]) ?? []);
      }
      return {
        id,
        events,
        waitFor(predicate, waitMs = 60_000) {
          return new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => {
              waiters.delete(waiter);
              reject(new Error(`events did not arrive in ${waitMs} ms (got ${events.length})`));
            }, waitMs);
            const waiter: Waiter = {
              check: () => {
                if (!predicate(events)) return false;
                clearTimeout(timer);
                resolve();
                return true;
              },
            };
            if (!waiter.check()) waiters.add(waiter);
          });
        },
        async unsubscribe() {
          await request({ type: "unsubscribe", id });
          handlers.delete(id);
        },
      };
    },
    close() {
      ws.close();
    },
  };
}
