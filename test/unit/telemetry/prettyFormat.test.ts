import { afterEach, describe, expect, it, vi } from "vitest";
import { SettingsError } from "../../../functions/core/errors";
import { createEmfMetrics } from "../../../functions/core/telemetry/emf";
import { createServiceLogger, resolveOutputFormat } from "../../../functions/core/telemetry/logger";
import { METRICS } from "../../../functions/core/telemetry/metricNames";
import { captureOutput } from "../../support/captureOutput";

/** At a terminal: one short line per event, no EMF documents; JSON everywhere else. */

const PLAIN = { format: "pretty", color: false } as const;
const TIME = "\\d{2}:\\d{2}:\\d{2}\\.\\d{3}";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("the pretty log format", () => {
  it("prints time, level, service, message, task id, duration and the other fields on one line", () => {
    // Prepare
    vi.stubEnv("POWERTOOLS_LOG_LEVEL", "INFO");
    const logger = createServiceLogger({
      service: "executor",
      environment: "local",
      output: PLAIN,
    });
    const invocation = logger.forInvocation({ awsRequestId: "req-1", functionName: "executor" });
    const out = captureOutput();

    // Act
    invocation.info("task will be retried", {
      taskId: "3f0c9a52-1111-4222-8333-444455556666",
      runMs: 1234,
      type: "summarize",
      attempts: 2,
      error: new Error("ollama answered 500"),
    });
    out.restore();

    // Assess
    expect(out.lines).toHaveLength(1);
    const [line] = out.lines;
    expect(line).toMatch(
      new RegExp(
        `^${TIME}  INFO   executor  task will be retried  task=3f0c9a52-1111-4222-8333-444455556666 1234ms type=summarize attempts=2 error="Error: ollama answered 500"$`,
      ),
    );
    expect(line).not.toContain("req-1");
    expect(line).not.toContain("environment");
  });

  it("keeps a line short: long values cut, more than six other fields counted, seconds past 10 s", () => {
    // Prepare
    vi.stubEnv("POWERTOOLS_LOG_LEVEL", "INFO");
    const logger = createServiceLogger({ service: "api", environment: "local", output: PLAIN });
    const out = captureOutput();

    // Act
    logger.info("many", {
      durationMs: 12_345,
      text: "x".repeat(200),
      a: 1,
      b: 2,
      c: 3,
      d: 4,
      e: { workerId: "2026/11/28/[$LATEST]e68e2c06", nested: true },
      f: 6,
      g: 7,
    });
    out.restore();

    // Assess
    const [line] = out.lines;
    expect(line).toContain(`12.3s text=${"x".repeat(59)}…`);
    expect(line).toContain('e={"nested":true}');
    expect(line).toContain("+2 more");
    expect(line).not.toContain("f=6");
    expect(line?.length).toBeLessThan(160);
  });

  it("colours the level unless told not to, and sends warnings to stderr", () => {
    // Prepare
    vi.stubEnv("POWERTOOLS_LOG_LEVEL", "INFO");
    const coloured = createServiceLogger({
      service: "api",
      environment: "local",
      output: { format: "pretty", color: true },
    });
    const plain = createServiceLogger({ service: "api", environment: "local", output: PLAIN });
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);

    // Act
    coloured.warn("CORS: origin refused");
    plain.warn("CORS: origin refused");
    plain.info("request");
    const errorLines = stderr.mock.calls.map(([chunk]) => String(chunk));
    const outputLines = stdout.mock.calls.map(([chunk]) => String(chunk));
    stderr.mockRestore();
    stdout.mockRestore();

    // Assess
    const [colouredLine, plainLine] = errorLines;
    expect(colouredLine).toContain("\u001b[33mWARN \u001b[0m");
    expect(plainLine).not.toContain("\u001b[");
    expect(outputLines).toEqual([expect.stringMatching(/ INFO +api +request\n$/)]);
  });

  it("prints no EMF documents", () => {
    // Prepare
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
    const metrics = createEmfMetrics({ service: "executor", environment: "local", output: PLAIN });
    const out = captureOutput();

    // Act
    metrics.add(METRICS.tasksCompleted.name, METRICS.tasksCompleted.unit, 1);
    metrics.flush();
    out.restore();

    // Assess
    expect(out.lines).toEqual([]);
  });
});

describe("resolveOutputFormat", () => {
  it("is pretty at a terminal and JSON elsewhere; LOG_FORMAT overrides either way", () => {
    // Prepare
    const cases = [
      { env: {}, terminal: true },
      { env: {}, terminal: false },
      { env: { LOG_FORMAT: "json" }, terminal: true },
      { env: { LOG_FORMAT: "pretty" }, terminal: false },
    ];

    // Act
    const formats = cases.map(({ env, terminal }) => resolveOutputFormat(env, terminal).format);

    // Assess
    expect(formats).toEqual(["pretty", "json", "json", "pretty"]);
  });

  it("turns colour off when NO_COLOR is set", () => {
    // Prepare
    const env = { NO_COLOR: "1" };

    // Act
    const withNoColor = resolveOutputFormat(env, true);
    const without = resolveOutputFormat({}, true);

    // Assess
    expect(withNoColor).toEqual({ format: "pretty", color: false });
    expect(without).toEqual({ format: "pretty", color: true });
  });

  it("rejects another LOG_FORMAT, naming the setting and what it takes", () => {
    // Prepare
    const env = { LOG_FORMAT: "text" };

    // Act
    const act = () => resolveOutputFormat(env, true);

    // Assess
    expect(act).toThrow(SettingsError);
    expect(act).toThrow('LOG_FORMAT must be "json" or "pretty" (got "text")');
  });
});
