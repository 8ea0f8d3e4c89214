/**
 * One WebSocket connection of the local Event API, speaking AppSync Events' protocol
 * (https://docs.aws.amazon.com/appsync/latest/eventapi/event-api-websocket-protocol.html):
 * `connection_init` → `connection_ack` with `connectionTimeoutMs`, then `ka` every
 * kaIntervalMs; `subscribe` {id, channel, authorization} → `subscribe_success` or
 * `subscribe_error`; events as `data` {id, event: JSON text}; `unsubscribe` →
 * `unsubscribe_success`. Every subscribe carries its own authorization, checked as the
 * connection's was, then the namespace's onSubscribe rule: a caller may subscribe to its
 * own channel only (channelForOwner), so wildcards are refused too. Publishing over the
 * socket is refused: the `tasks` namespace publishes with IAM only (the backend).
 */
import { z } from "zod";
import { channelForOwner, parseChannel, TASKS_NAMESPACE } from "../../core/realtime/channel";
import type { ChannelBroker } from "./broker";

/** What AppSync tells clients: no `ka` for this long means the connection is gone. */
export const CONNECTION_TIMEOUT_MS = 300_000;

/** A subscribe or publish authorization: the header-based form (`Authorization`, `host`). */
const AuthorizationSchema = z.record(z.string(), z.unknown());

const ClientMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("connection_init") }),
  z.object({
    type: z.literal("subscribe"),
    id: z.string().min(1).max(128),
    channel: z.string().min(1),
    authorization: AuthorizationSchema.optional(),
  }),
  z.object({ type: z.literal("unsubscribe"), id: z.string().min(1).max(128) }),
  z.object({ type: z.literal("publish"), id: z.string().min(1).max(128) }).loose(),
]);

export interface ErrorEntry {
  errorType: string;
  message: string;
}

export type ServerMessage =
  | { type: "connection_ack"; connectionTimeoutMs: number }
  | { type: "ka" }
  | { type: "subscribe_success" | "unsubscribe_success"; id: string }
  | {
      type: "subscribe_error" | "unsubscribe_error" | "publish_error";
      id: string;
      errors: ErrorEntry[];
    }
  | { type: "data"; id: string; event: string }
  | { type: "error"; errors: ErrorEntry[] };

export interface ConnectionDeps {
  /** A unique id of this connection (keys its subscriptions in the broker). */
  connectionId: string;
  broker: ChannelBroker;
  send(message: ServerMessage): void;
  /** The caller's JWT `sub` when the authorization is valid, else undefined. */
  authorize(authorization: Record<string, unknown> | undefined): Promise<string | undefined>;
  kaIntervalMs: number;
}

const unauthorized = (): ErrorEntry[] => [
  { errorType: "UnauthorizedException", message: "You are not authorized to make this call." },
];
const badRequest = (message: string): ErrorEntry[] => [
  { errorType: "BadRequestException", message },
];

export class ProtocolConnection {
  private initialized = false;
  private readonly subscriptions = new Set<string>();
  private ka: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly deps: ConnectionDeps) {}

  async handle(raw: string): Promise<void> {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      this.deps.send({ type: "error", errors: badRequest("the message is not JSON") });
      return;
    }
    const parsed = ClientMessageSchema.safeParse(json);
    if (!parsed.success) {
      this.deps.send({ type: "error", errors: badRequest("unknown or malformed message") });
      return;
    }
    const message = parsed.data;
    if (message.type === "connection_init") {
      this.initialized = true;
      this.deps.send({ type: "connection_ack", connectionTimeoutMs: CONNECTION_TIMEOUT_MS });
      this.ka ??= setInterval(() => this.deps.send({ type: "ka" }), this.deps.kaIntervalMs);
      this.ka.unref?.();
      return;
    }
    if (!this.initialized) {
      this.deps.send({ type: "error", errors: badRequest("send connection_init first") });
      return;
    }
    if (message.type === "subscribe") {
      await this.subscribe(message.id, message.channel, message.authorization);
    } else if (message.type === "unsubscribe") {
      const known = this.subscriptions.delete(message.id);
      this.deps.broker.remove(this.key(message.id));
      this.deps.send(
        known
          ? { type: "unsubscribe_success", id: message.id }
          : {
              type: "unsubscribe_error",
              id: message.id,
              errors: badRequest("no such subscription"),
            },
      );
    } else {
      this.deps.send({ type: "publish_error", id: message.id, errors: unauthorized() });
    }
  }

  private async subscribe(
    id: string,
    channel: string,
    authorization: Record<string, unknown> | undefined,
  ): Promise<void> {
    const fail = (errors: ErrorEntry[]) => this.deps.send({ type: "subscribe_error", id, errors });
    if (this.subscriptions.has(id)) return fail(badRequest("a subscription with this id exists"));
    const parsed = parseChannel(channel, { wildcard: true });
    if (!parsed) return fail(badRequest("the channel is not a valid channel path"));
    if (parsed.segments[0] !== TASKS_NAMESPACE) {
      return fail(badRequest(`no channel namespace ${parsed.segments[0]}`));
    }
    const sub = await this.deps.authorize(authorization);
    // The namespace's onSubscribe rule (lib/realtime.ts): one's own channel only.
    if (sub === undefined || channelForOwner(sub) !== parsed.path) return fail(unauthorized());
    this.subscriptions.add(id);
    this.deps.broker.add(this.key(id), parsed.path, id, (subscriptionId, event) =>
      this.deps.send({ type: "data", id: subscriptionId, event }),
    );
    this.deps.send({ type: "subscribe_success", id });
  }

  /** The connection closed: its subscriptions and keep-alive go. */
  close(): void {
    if (this.ka) clearInterval(this.ka);
    for (const id of this.subscriptions) this.deps.broker.remove(this.key(id));
    this.subscriptions.clear();
  }

  private key(id: string): string {
    return `${this.deps.connectionId}:${id}`;
  }
}
