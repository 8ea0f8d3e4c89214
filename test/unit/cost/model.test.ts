import { describe, expect, it } from "vitest";
import {
  DEFAULT_TASK_ARGS,
  type EnvironmentFacts,
  idleLines,
  type Line,
  perMillionTaskLines,
  total,
} from "../../../cost/model";
import { PRICES } from "../../../cost/prices";
import { extractInventory, type Inventory } from "../../../cost/template";

/** An inventory with nothing in it; each test adds the items it prices. */
const EMPTY: Inventory = extractInventory({ Resources: {} });
const INSTANCE_FACTS: EnvironmentFacts = { ollamaMode: "instance", llmParallel: 2 };

const lineFor = (lines: readonly Line[], prefix: string): Line => {
  const found = lines.filter((line) => line.item.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one "${prefix}" line, got ${found.length}`);
  return found[0] as Line;
};

describe("idleLines", () => {
  it("prices 2 interface endpoints in 1 AZ at 2 × 730 h × $0.01", () => {
    // Prepare
    const inventory: Inventory = {
      ...EMPTY,
      interfaceEndpoints: [
        { id: "A", azs: 1 },
        { id: "B", azs: 1 },
      ],
    };

    // Act
    const lines = idleLines(inventory, PRICES, INSTANCE_FACTS);

    // Assess
    expect(lineFor(lines, "Interface VPC endpoints").usd).toBeCloseTo(14.6, 10);
    expect(total(lines)).toBeCloseTo(14.6, 10);
  });

  it("keeps a 0.5 ACU minimum warm all month and charges nothing for a pausing cluster", () => {
    // Prepare
    const warm: Inventory = {
      ...EMPTY,
      auroraClusters: [
        { id: "C", minCapacity: 0.5, maxCapacity: 16, secondsUntilAutoPause: undefined },
      ],
    };
    const pausing: Inventory = {
      ...EMPTY,
      auroraClusters: [{ id: "C", minCapacity: 0, maxCapacity: 2, secondsUntilAutoPause: 300 }],
    };

    // Act
    const warmLines = idleLines(warm, PRICES, INSTANCE_FACTS);
    const pausingLines = idleLines(pausing, PRICES, INSTANCE_FACTS);

    // Assess: 0.5 ACU × $0.12 × 730 h = $43.80; storage 1 GB × $0.10 either way.
    expect(lineFor(warmLines, "Aurora Serverless v2").usd).toBeCloseTo(43.8, 10);
    expect(lineFor(warmLines, "Aurora Serverless v2").note).toContain("no ~15 s resume");
    expect(lineFor(pausingLines, "Aurora Serverless v2").usd).toBe(0);
    expect(lineFor(pausingLines, "Aurora storage").usd).toBeCloseTo(0.1, 10);
  });

  it("charges an instance stopped by an alarm nothing for compute but its EBS volume", () => {
    // Prepare
    const instance = {
      id: "I",
      instanceType: "m7g.xlarge",
      volumes: [{ sizeGb: 40, type: "gp3" }],
    };
    const stopped: Inventory = { ...EMPTY, instances: [{ ...instance, offWhenIdle: true }] };
    const running: Inventory = { ...EMPTY, instances: [{ ...instance, offWhenIdle: false }] };

    // Act
    const stoppedLines = idleLines(stopped, PRICES, INSTANCE_FACTS);
    const runningLines = idleLines(running, PRICES, INSTANCE_FACTS);

    // Assess: 40 GB × $0.08 = $3.20; 730 h × $0.1632 = $119.136.
    expect(lineFor(stoppedLines, "EC2 m7g.xlarge").usd).toBe(0);
    expect(lineFor(stoppedLines, "EBS").usd).toBeCloseTo(3.2, 10);
    expect(lineFor(runningLines, "EC2 m7g.xlarge").usd).toBeCloseTo(119.136, 10);
  });

  it("prices the NAT gateway with its address, and the executor's minute ticks", () => {
    // Prepare
    const inventory: Inventory = {
      ...EMPTY,
      natGateways: 1,
      elasticIps: 1,
      functions: [{ id: "Executor", memoryMb: 512, architecture: "arm64" }],
      schedules: [{ id: "Tick", invocationsPerMonth: 43_800, targetFunctionIds: ["Executor"] }],
    };

    // Act
    const lines = idleLines(inventory, PRICES, INSTANCE_FACTS);

    // Assess: 730 × $0.045 = $32.85 and 730 × $0.005 = $3.65;
    // 43,800 ticks × 1 s × 0.5 GB × $0.0000133334 = $0.29200146; 0.0438M × $0.20 = $0.00876.
    expect(lineFor(lines, "NAT gateways").usd).toBeCloseTo(32.85, 10);
    expect(lineFor(lines, "Public IPv4").usd).toBeCloseTo(3.65, 10);
    expect(lineFor(lines, "Lambda executor ticks: duration").usd).toBeCloseTo(0.29200146, 8);
    expect(lineFor(lines, "Lambda executor ticks: requests").usd).toBeCloseTo(0.00876, 10);
  });

  it("refuses an instance type the price table lacks, naming the file", () => {
    // Prepare
    const inventory: Inventory = {
      ...EMPTY,
      instances: [{ id: "I", instanceType: "x9.huge", volumes: [], offWhenIdle: false }],
    };

    // Act
    const act = () => idleLines(inventory, PRICES, INSTANCE_FACTS);

    // Assess
    expect(act).toThrow(/x9\.huge.*cost\/prices\.ts/);
  });
});

describe("perMillionTaskLines", () => {
  const withInstance: Inventory = {
    ...EMPTY,
    instances: [{ id: "I", instanceType: "m7g.xlarge", volumes: [], offWhenIdle: true }],
  };

  it("bills the LLM instance for tasks × seconds / parallel requests", () => {
    // Prepare
    const args = { ...DEFAULT_TASK_ARGS, llmSeconds: 4 };

    // Act
    const lines = perMillionTaskLines(withInstance, PRICES, INSTANCE_FACTS, args);

    // Assess: 1M × 4 s / 2 / 3600 = 555.56 h × $0.1632 = $90.67.
    expect(lineFor(lines, "EC2 m7g.xlarge LLM hours").usd).toBeCloseTo(
      (1e6 * 4 * 0.1632) / 7200,
      8,
    );
    expect(lineFor(lines, "EC2 m7g.xlarge LLM hours").usd).toBeCloseTo(90.67, 2);
  });

  it("leaves a privateLink fleet unpriced and says so", () => {
    // Prepare
    const facts: EnvironmentFacts = { ollamaMode: "privateLink", llmParallel: 8 };

    // Act
    const lines = perMillionTaskLines(withInstance, PRICES, facts, DEFAULT_TASK_ARGS);

    // Assess
    expect(lines.some((line) => line.item.startsWith("EC2"))).toBe(false);
    expect(lineFor(lines, "LLM (privateLink)")).toMatchObject({ usd: 0 });
    expect(lineFor(lines, "LLM (privateLink)").note).toContain("external fleet, not priced");
  });

  it("prices requests, executor waiting time and Aurora's busy capacity above its minimum", () => {
    // Prepare
    const inventory: Inventory = {
      ...EMPTY,
      httpApis: 1,
      dynamoDbTables: 1,
      functions: [
        { id: "Executor", memoryMb: 512, architecture: "arm64" },
        { id: "Api", memoryMb: 1024, architecture: "x86_64" },
      ],
      apiFunctionIds: ["Api"],
      schedules: [{ id: "Tick", invocationsPerMonth: 43_800, targetFunctionIds: ["Executor"] }],
      auroraClusters: [{ id: "C", minCapacity: 0, maxCapacity: 2, secondsUntilAutoPause: 300 }],
    };
    const warm: Inventory = {
      ...inventory,
      auroraClusters: [
        { id: "C", minCapacity: 0.5, maxCapacity: 16, secondsUntilAutoPause: undefined },
      ],
    };
    const args = {
      ...DEFAULT_TASK_ARGS,
      llmSeconds: 4,
      apiRequestsPerTask: 3,
      apiMilliseconds: 50,
    };

    // Act
    const lines = perMillionTaskLines(inventory, PRICES, INSTANCE_FACTS, args);
    const warmLines = perMillionTaskLines(warm, PRICES, INSTANCE_FACTS, args);

    // Assess
    // 3M requests × $1.00/M; 3M × 0.05 s × 1 GB × $0.0000166667 (x86) = $2.500005.
    expect(lineFor(lines, "API Gateway").usd).toBeCloseTo(3, 10);
    expect(lineFor(lines, "Lambda api: duration").usd).toBeCloseTo(2.500005, 8);
    // 1M × 4 s × 0.5 GB × $0.0000133334 = $26.6668.
    expect(lineFor(lines, "Lambda executor: duration").usd).toBeCloseTo(26.6668, 8);
    // (2 + 1.05) statements × 1M × $0.35/M = $1.0675; 2 writes × $0.625 = $1.25.
    expect(lineFor(lines, "Aurora Data API").usd).toBeCloseTo(1.0675, 10);
    expect(lineFor(lines, "DynamoDB").usd).toBeCloseTo(1.25, 10);
    // 555.56 busy h × 0.5 ACU × $0.12 = $33.33; a 0.5 ACU minimum already pays it.
    expect(lineFor(lines, "Aurora compute while busy").usd).toBeCloseTo(33.333333, 5);
    expect(lineFor(warmLines, "Aurora compute while busy").usd).toBe(0);
  });

  it("charges S3 requests only for the share of big payloads", () => {
    // Prepare
    const inventory: Inventory = { ...EMPTY, s3Buckets: 1 };

    // Act
    const none = perMillionTaskLines(inventory, PRICES, INSTANCE_FACTS, DEFAULT_TASK_ARGS);
    const tenth = perMillionTaskLines(inventory, PRICES, INSTANCE_FACTS, {
      ...DEFAULT_TASK_ARGS,
      bigTaskShare: 0.1,
    });

    // Assess: 100k PUTs × $0.005/1k = $0.50; 100k GETs × $0.0004/1k = $0.04.
    expect(total(none)).toBe(0);
    expect(lineFor(tenth, "S3 PUTs").usd).toBeCloseTo(0.5, 10);
    expect(lineFor(tenth, "S3 GETs").usd).toBeCloseTo(0.04, 10);
  });
});
