/**
 * Which real-time channel a task owner's events go to, defined once: the backend publishes
 * to it, the local WebSocket server and AppSync's onSubscribe handler (lib/realtime.ts)
 * allow a caller to subscribe to its own only, and clients subscribe to it.
 *
 * AppSync Events channel segments are letters, digits and dashes, at most 50 characters
 * each, at most 5 segments (https://docs.aws.amazon.com/appsync/latest/eventapi/channel-namespaces.html).
 * A JWT `sub` that is such a segment (Cognito's UUID subs are) is used as it is:
 * `/tasks/<sub>`. Any other sub gets `/tasks/h/<first 48 hex digits of SHA-256(sub)>`: one
 * segment deeper, so it can never equal a channel-safe sub's channel (192 bits against
 * collisions between hashed subs).
 */
import { createHash } from "node:crypto";

/** The channel namespace of task events (an AppSync Events channel namespace). */
export const TASKS_NAMESPACE = "tasks";

/** One channel segment as AppSync Events allows it. */
export const CHANNEL_SEGMENT = /^[A-Za-z0-9-]{1,50}$/;

/** How many hex digits of the SHA-256 a derived channel keeps (a segment holds 50 at most). */
export const HASHED_SUB_HEX_DIGITS = 48;

/** The channel of the tasks `sub` owns. */
export function channelForOwner(sub: string): string {
  if (CHANNEL_SEGMENT.test(sub)) return `/${TASKS_NAMESPACE}/${sub}`;
  const digest = createHash("sha256").update(sub, "utf8").digest("hex");
  return `/${TASKS_NAMESPACE}/h/${digest.slice(0, HASHED_SUB_HEX_DIGITS)}`;
}

/**
 * A channel path as AppSync Events accepts it: a leading slash (added when missing, as the
 * HTTP publish accepts `default/channel`), 1 to 5 segments, the last one may be `*` when
 * `wildcard` (subscribe only; publishing to a wildcard is refused).
 */
export function parseChannel(
  path: string,
  options: { wildcard: boolean },
): { path: string; segments: string[] } | undefined {
  const normalized = path.startsWith("/") ? path : `/${path}`;
  const segments = normalized.slice(1).split("/");
  if (segments.length < 2 || segments.length > 5) return undefined;
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    if (CHANNEL_SEGMENT.test(segment)) continue;
    if (segment === "*" && last && options.wildcard && index > 0) continue;
    return undefined;
  }
  return { path: normalized, segments };
}

/** Whether an event published to `channel` reaches a subscription to `pattern` (`/a/*`). */
export function channelMatches(pattern: string, channel: string): boolean {
  if (!pattern.endsWith("/*")) return pattern === channel;
  return channel.startsWith(pattern.slice(0, -1));
}
