import { describe, expect, it } from "vitest";
import type { LogFields, Logger } from "../../../functions/core/telemetry/ports";
import { applyCorsHeaders, corsConfig, preflightHeaders } from "../../../functions/local/cors";

/** The local gateway's CORS says which origin it refused: the browser only says "Failed to fetch". */

function recordingLogger() {
  const warnings: { message: string; fields?: LogFields }[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (message, fields) => warnings.push({ message, fields }),
    error() {},
  };
  return { logger, warnings };
}

describe("corsConfig with a logger", () => {
  it("warns once per refused origin, naming it and the allowed ones", () => {
    // Prepare
    const { logger, warnings } = recordingLogger();
    const config = corsConfig(["http://localhost:5173"], logger);

    // Act
    const preflight = preflightHeaders(config, "http://127.0.0.1:5173");
    applyCorsHeaders(config, "http://127.0.0.1:5173", {});
    applyCorsHeaders(config, "http://127.0.0.1:5173", {});
    applyCorsHeaders(config, "https://other.example", {});

    // Assess
    expect(preflight).toEqual({});
    expect(warnings).toHaveLength(2);
    expect(warnings[0]?.message).toContain("origin http://127.0.0.1:5173 is not allowed");
    expect(warnings[0]?.message).toContain("allowed: http://localhost:5173 (set CORS_ORIGINS)");
    expect(warnings[0]?.fields).toEqual({
      origin: "http://127.0.0.1:5173",
      allowedOrigins: ["http://localhost:5173"],
    });
    expect(warnings[1]?.fields?.origin).toBe("https://other.example");
  });

  it("says nothing for an allowed origin, a request without one, or any origin under *", () => {
    // Prepare
    const { logger, warnings } = recordingLogger();
    const listed = corsConfig(["http://localhost:5173"], logger);
    const any = corsConfig(["*"], logger);

    // Act
    const allowed = applyCorsHeaders(listed, "http://localhost:5173", {});
    applyCorsHeaders(listed, undefined, {});
    applyCorsHeaders(any, "http://127.0.0.1:5173", {});

    // Assess
    expect(allowed["access-control-allow-origin"]).toEqual(["http://localhost:5173"]);
    expect(warnings).toEqual([]);
  });
});
