import { describe, expect, it } from "vitest";
import { DEFAULT_TASK_ARGS, idleLines, perMillionTaskLines } from "../../../cost/model";
import { PRICES } from "../../../cost/prices";
import { cdkJsonContext, environmentNames, synthesizeEnvironment } from "../../../cost/synth";
import { extractInventory } from "../../../cost/template";
import { loadEnvironment } from "../../../lib/config/loadEnvironment";

describe("npm run cost against the real dev stack", () => {
  // One synth (a few seconds) for the file.
  const dev = synthesizeEnvironment("dev");
  const inventory = extractInventory(dev.template);

  it("finds the billable core of the stack in the synthesized template", () => {
    // Prepare: the dev environment as cdk.json sets it.
    const settings = loadEnvironment(cdkJsonContext().environments, "dev").settings;

    // Act
    const executorIds = inventory.schedules.flatMap((schedule) => schedule.targetFunctionIds);

    // Assess
    expect(inventory.auroraClusters.map((c) => c.minCapacity)).toEqual([
      settings.database.minCapacity,
    ]);
    expect(inventory.schedules.map((s) => s.invocationsPerMonth)).toEqual([43_800]);
    expect(executorIds).toHaveLength(1);
    expect(inventory.functions.find((fn) => fn.id === executorIds[0])?.memoryMb).toBe(
      settings.executor.memoryMb,
    );
    expect(inventory.apiFunctionIds).toHaveLength(1);
    expect(inventory.interfaceEndpoints.length).toBeGreaterThan(0);
    if (settings.ollama.mode === "instance") {
      expect(inventory.instances.map((i) => i.instanceType)).toEqual([
        settings.ollama.instanceType,
      ]);
    }
  });

  it("gives every line item a finite, non-negative amount and a source", () => {
    // Prepare
    const facts = dev.facts;

    // Act
    const lines = [
      ...idleLines(inventory, PRICES, facts),
      ...perMillionTaskLines(inventory, PRICES, facts, DEFAULT_TASK_ARGS),
    ];

    // Assess
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      expect(Number.isFinite(line.usd), line.item).toBe(true);
      expect(line.usd, line.item).toBeGreaterThanOrEqual(0);
      expect(line.source, line.item).toMatch(/^https:\/\//);
      expect(line.note, line.item).not.toBe("");
    }
  });
});

describe("the price table", () => {
  it("has an on-demand price for every instance type cdk.json names", () => {
    // Prepare
    const context = cdkJsonContext();

    // Act
    const types = environmentNames(context).flatMap((name) => {
      const { ollama } = loadEnvironment(context.environments, name).settings;
      return ollama.mode === "instance" ? [ollama.instanceType] : [];
    });

    // Assess
    expect(types.length).toBeGreaterThan(0);
    for (const type of types) expect(PRICES.ec2OnDemandHour[type], type).toBeDefined();
  });

  it("dates itself and cites an https source for every price", () => {
    // Prepare
    const prices = [...Object.values(PRICES.items), ...Object.values(PRICES.ec2OnDemandHour)];

    // Act
    const bad = prices.filter(
      (price) => !price.source.startsWith("https://") || !(price.usd >= 0) || price.unit === "",
    );

    // Assess
    expect(PRICES.region).toBe("us-east-1");
    expect(PRICES.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(bad).toEqual([]);
  });
});
