import { describe, expect, it } from "vitest";
import { LlmGate, START_REQUEST_EVERY_MS } from "../../../functions/core/executor/llmGate";
import type { LlmStarter } from "../../../functions/core/llm/starter";
import { type Logger, silentLogger } from "../../../functions/core/telemetry/ports";

/**
 * The gate asks for the LLM server to be started when it closes, then at most once every
 * START_REQUEST_EVERY_MS (60 s) while it stays closed; a starter's failure changes nothing
 * but a warning. Time is the numbers passed in (a fake clock).
 */

const refusing = () => Promise.reject(new Error("connect ECONNREFUSED 10.0.1.5:11434"));

function countingStarter(fail = false): LlmStarter & { calls: number } {
  const starter = {
    calls: 0,
    async requestStart() {
      starter.calls += 1;
      if (fail) throw new Error("AccessDenied: sqs:SendMessage");
    },
  };
  return starter;
}

describe("LlmGate's start requests", () => {
  it("asks for a start when it closes, then at most once a minute while closed", async () => {
    // Prepare
    const starter = countingStarter();
    const gate = new LlmGate(refusing, silentLogger, 2_000, starter);
    const asked: number[] = [];

    // Act: probe every 2 s for 150 s, as the loop does while the server is silent.
    for (let nowMs = 0; nowMs <= 150_000; nowMs += 2_000) {
      const before = starter.calls;
      expect(await gate.probeIfDue(nowMs)).toBe(true);
      if (starter.calls > before) asked.push(nowMs);
    }

    // Assess
    expect(START_REQUEST_EVERY_MS).toBe(60_000);
    expect(gate.open).toBe(false);
    expect(asked).toEqual([0, 60_000, 120_000]);
  });

  it("asks nothing while the server answers, and again when it goes silent a minute later", async () => {
    // Prepare
    const starter = countingStarter();
    let up = true;
    const gate = new LlmGate(
      () => (up ? Promise.resolve({ version: "0.12.6" }) : refusing()),
      silentLogger,
      2_000,
      starter,
    );

    // Act
    await gate.probeIfDue(0);
    const whileUp = starter.calls;
    up = false;
    gate.suspect();
    await gate.probeIfDue(70_000);

    // Assess
    expect(whileUp).toBe(0);
    expect(starter.calls).toBe(1);
  });

  it("keeps probing, and opens once the server answers, when the starter fails", async () => {
    // Prepare
    const starter = countingStarter(true);
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (message) => warnings.push(message) };
    let up = false;
    const gate = new LlmGate(() => (up ? Promise.resolve({}) : refusing()), logger, 2_000, starter);

    // Act
    await gate.probeIfDue(0);
    await gate.probeIfDue(2_000);
    await gate.probeIfDue(60_000);
    up = true;
    const probed = await gate.probeIfDue(62_000);

    // Assess
    expect(probed).toBe(true);
    expect(gate.open).toBe(true);
    expect(starter.calls).toBe(2);
    expect(warnings.filter((w) => w.startsWith("could not ask"))).toHaveLength(2);
  });

  it("honours a shorter interval when given one (the integration tests' tuning)", async () => {
    // Prepare
    const starter = countingStarter();
    const gate = new LlmGate(refusing, silentLogger, 100, starter, 500);

    // Act
    for (let nowMs = 0; nowMs < 1_000; nowMs += 100) await gate.probeIfDue(nowMs);

    // Assess
    expect(starter.calls).toBe(2);
  });
});
