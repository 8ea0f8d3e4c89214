/**
 * The local Event API's channels: who is subscribed to what, and delivery of a publish to
 * every matching subscription (a `/tasks/*` pattern matches its children, as AppSync's
 * wildcards do). A subscription sees only what is published after it was added.
 */
import { channelMatches } from "../../core/realtime/channel";

export type Deliver = (subscriptionId: string, event: string) => void;

interface Subscription {
  pattern: string;
  subscriptionId: string;
  deliver: Deliver;
}

export class ChannelBroker {
  private readonly subscriptions = new Map<string, Subscription>();

  /** `key` is unique per connection and subscription id. */
  add(key: string, pattern: string, subscriptionId: string, deliver: Deliver): void {
    this.subscriptions.set(key, { pattern, subscriptionId, deliver });
  }

  remove(key: string): boolean {
    return this.subscriptions.delete(key);
  }

  get size(): number {
    return this.subscriptions.size;
  }

  /** Delivers each event (a JSON text) to every subscription matching `channel`; returns how many got it. */
  publish(channel: string, events: readonly string[]): number {
    let reached = 0;
    for (const subscription of this.subscriptions.values()) {
      if (!channelMatches(subscription.pattern, channel)) continue;
      reached++;
      for (const event of events) subscription.deliver(subscription.subscriptionId, event);
    }
    return reached;
  }
}
