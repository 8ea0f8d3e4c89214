import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  channelForOwner,
  channelMatches,
  parseChannel,
} from "../../../functions/core/realtime/channel";

/** The channel of a task owner (functions/core/realtime/channel.ts): as is when safe, hashed otherwise, and AppSync's channel path rules. */

describe("channelForOwner", () => {
  it("uses a channel-safe sub as it is (Cognito's UUID subs)", () => {
    // Act
    const channel = channelForOwner("3f8e6a2c-1b2d-4c5e-8f90-a1b2c3d4e5f6");

    // Assess
    expect(channel).toBe("/tasks/3f8e6a2c-1b2d-4c5e-8f90-a1b2c3d4e5f6");
  });

  it("hashes any other sub into a deeper channel, so it cannot equal a safe sub's", () => {
    // Prepare
    const unsafe = ["alice@example.com", "a".repeat(51), "", "x/y", "ünï"];

    // Act
    const channels = unsafe.map(channelForOwner);

    // Assess
    for (const [i, channel] of channels.entries()) {
      const hex = createHash("sha256")
        .update(unsafe[i] as string)
        .digest("hex")
        .slice(0, 48);
      expect(channel).toBe(`/tasks/h/${hex}`);
      expect(parseChannel(channel, { wildcard: false })).toBeDefined();
    }
    expect(new Set(channels).size).toBe(unsafe.length);
  });

  it("gives a 50-character sub its own channel and a 51-character one a hashed one", () => {
    // Act + Assess
    expect(channelForOwner("b".repeat(50))).toBe(`/tasks/${"b".repeat(50)}`);
    expect(channelForOwner("b".repeat(51))).toMatch(/^\/tasks\/h\/[0-9a-f]{48}$/);
  });
});

describe("parseChannel and channelMatches", () => {
  it("accepts 2 to 5 segments, adds the leading slash, and wildcards only last when allowed", () => {
    // Act + Assess
    expect(parseChannel("tasks/a", { wildcard: false })?.path).toBe("/tasks/a");
    expect(parseChannel("/tasks", { wildcard: false })).toBeUndefined();
    expect(parseChannel("/a/b/c/d/e/f", { wildcard: false })).toBeUndefined();
    expect(parseChannel("/tasks/*", { wildcard: false })).toBeUndefined();
    expect(parseChannel("/tasks/*", { wildcard: true })?.segments).toEqual(["tasks", "*"]);
    expect(parseChannel("/tasks/*/x", { wildcard: true })).toBeUndefined();
    expect(parseChannel("/tasks/a_b", { wildcard: false })).toBeUndefined();
  });

  it("matches exact channels, and a wildcard its children", () => {
    // Act + Assess
    expect(channelMatches("/tasks/a", "/tasks/a")).toBe(true);
    expect(channelMatches("/tasks/a", "/tasks/ab")).toBe(false);
    expect(channelMatches("/tasks/*", "/tasks/a")).toBe(true);
    expect(channelMatches("/tasks/*", "/other/a")).toBe(false);
  });
});
