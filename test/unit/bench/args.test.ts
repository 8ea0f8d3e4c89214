import { describe, expect, it } from "vitest";
import { BENCHMARK_NAMES, parseBenchArgs } from "../../../bench/support/args";

describe("parseBenchArgs", () => {
  it("runs every benchmark at full size by default", () => {
    // Prepare
    const argv: string[] = [];

    // Act
    const args = parseBenchArgs(argv);

    // Assess
    expect(args.quick).toBe(false);
    expect(args.save).toBe(false);
    expect([...args.only]).toEqual([...BENCHMARK_NAMES]);
  });

  it("takes --quick and a subset with --only", () => {
    // Prepare
    const argv = ["--quick", "--only=queue,pgboss"];

    // Act
    const args = parseBenchArgs(argv);

    // Assess
    expect(args.quick).toBe(true);
    expect(args.save).toBe(false);
    expect([...args.only]).toEqual(["queue", "pgboss"]);
  });

  it("saves only a full run of everything, the figures the README quotes", () => {
    // Prepare
    const full = ["--save"];
    const quick = ["--save", "--quick"];
    const subset = ["--only=queue", "--save"];

    // Act
    const args = parseBenchArgs(full);

    // Assess
    expect(args.save).toBe(true);
    expect(() => parseBenchArgs(quick)).toThrow(/--save needs a full run/);
    expect(() => parseBenchArgs(subset)).toThrow(/--save needs a full run/);
  });

  it("names the known benchmarks when --only names an unknown one", () => {
    // Prepare
    const argv = ["--only=queue,nope"];

    // Act
    const parse = () => parseBenchArgs(argv);

    // Assess
    expect(parse).toThrow(/--only takes .*queue, pgboss, llm, pickup, idle, api.*"queue,nope"/);
  });

  it("refuses an argument it does not know", () => {
    // Prepare
    const argv = ["--fast"];

    // Act
    const parse = () => parseBenchArgs(argv);

    // Assess
    expect(parse).toThrow(/unknown argument "--fast"/);
  });
});
