/**
 * Watching a task over the deployment's real-time channel (AWS AppSync Events, or the local
 * runtime's copy of its protocol): the owner's channel carries every status change of the
 * caller's tasks and the streamed output of running ones. The protocol, as AWS documents it
 * (docs.aws.amazon.com/appsync/latest/eventapi/event-api-websocket-protocol.html): the
 * `aws-appsync-event-ws` subprotocol with the authorization as a `header-<base64url>`
 * subprotocol, `connection_init` → `connection_ack`, `subscribe` → `subscribe_success`,
 * then `data` messages whose `event` is the published JSON text.
 */
import type { Task, TaskProgress, TaskStatus } from "./types.js";

/** What a browser's `WebSocket` (or the `ws` package's, in Node) offers. */
export interface WebSocketLike {
  send(data: string): void;
  close(): void;
  addEventListener(type: "open" | "close" | "error", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
}
export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

export interface RealtimeOptions {
  /** `wss://<realtime domain>/event/realtime` (the stack's RealtimeUrl), or the local runtime's. */
  url: string;
  /** The Event API's HTTP domain (the stack's RealtimeHttpHost); the local runtime's host:port. */
  httpHost: string;
  /** Node 20 has no global WebSocket: pass the `ws` package's. */
  WebSocket?: WebSocketConstructor;
}

/** A status event: the task without input and result (GET has those). */
export type TaskSummary = Omit<Task, "input" | "result"> & { id: string; status: TaskStatus };

export type ChannelEvent =
  | { type: "status"; task: TaskSummary }
  | { type: "output"; taskId: string; attempt: number; seq: number; delta: string }
  | { type: "progress"; taskId: string; attempt: number; progress: TaskProgress };

/**
 * The owner's channel, by the backend's rule (functions/core/realtime/channel.ts; a test
 * holds the two together): `/tasks/<sub>` for a sub of letters, digits and dashes (at most
 * 50), else `/tasks/h/<48 hex digits of SHA-256(sub)>`.
 */
export async function channelForSub(sub: string): Promise<string> {
  if (/^[A-Za-z0-9-]{1,50}$/.test(sub)) return `/tasks/${sub}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(sub));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `/tasks/h/${hex.slice(0, 48)}`;
}

/** The JWT's `sub` (read, not verified: the server verifies it). */
export function subOf(token: string): string {
  const payload = token.split(".")[1] ?? "";
  const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
  const sub = (JSON.parse(json) as { sub?: unknown }).sub;
  if (typeof sub !== "string") throw new Error("the token has no sub");
  return sub;
}

const base64url = (text: string) =>
  btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/**
 * Subscribes to the caller's channel and hands each event to `onEvent` until `close()`.
 * Resolves once the subscription is confirmed; rejects when the connection or the
 * subscription is refused. `onEnd` runs once if the connection ends before `close()`.
 */
export async function subscribeToOwner(
  options: RealtimeOptions,
  token: string,
  onEvent: (event: ChannelEvent) => void,
  onEnd: () => void,
): Promise<{ close(): void }> {
  const Socket =
    options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!Socket)
    throw new Error("no WebSocket: pass one (e.g. the ws package's) as realtime.WebSocket");
  const authorization = { Authorization: token, host: options.httpHost };
  const header = base64url(JSON.stringify(authorization));
  const socket = new Socket(options.url, ["aws-appsync-event-ws", `header-${header}`]);
  const channel = await channelForSub(subOf(token));
  const id = crypto.randomUUID();
  let closed = false;

  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "connection_init" })));
    socket.addEventListener("error", () => reject(new Error("real-time connection failed")));
    socket.addEventListener("close", () => {
      reject(new Error("real-time connection closed"));
      if (!closed) onEnd();
    });
    socket.addEventListener("message", ({ data }) => {
      const message = JSON.parse(String(data)) as {
        type?: string;
        id?: string;
        event?: string;
        errors?: { message?: string }[];
      };
      if (message.type === "connection_ack") {
        socket.send(JSON.stringify({ type: "subscribe", id, channel, authorization }));
      } else if (message.type === "subscribe_success" && message.id === id) {
        resolve();
      } else if (message.type === "subscribe_error" && message.id === id) {
        reject(new Error(`subscribe refused: ${message.errors?.[0]?.message ?? "unknown"}`));
      } else if (message.type === "data" && message.id === id && message.event) {
        onEvent(JSON.parse(message.event) as ChannelEvent);
      }
    });
  }).catch((error: unknown) => {
    closed = true;
    socket.close();
    throw error;
  });

  return {
    close() {
      closed = true;
      socket.close();
    },
  };
}
