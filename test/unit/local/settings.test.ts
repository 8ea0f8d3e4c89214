import { describe, expect, it } from "vitest";
import { SettingsError } from "../../../functions/core/errors";
import { readLocalRuntimeSettings } from "../../../functions/local/settings";

describe("the local runtime's settings", () => {
  it("has working defaults for a fresh clone", () => {
    // Act
    const settings = readLocalRuntimeSettings({});

    // Assess
    expect(settings.local).toMatchObject({
      PORT: 3000,
      LOCAL_JWT_SECRET: "local-dev-secret",
      SCHEDULE_INTERVAL_MS: 60_000,
      DATA_DIR: ".data",
      SHUTDOWN_GRACE_MS: 10_000,
    });
    expect(settings.local.DATABASE_URL).toBeUndefined();
    expect(settings.executor.POLL_INTERVAL_MS).toBe(5_000);
    expect(settings.ollama.OLLAMA_HOST).toBe("http://127.0.0.1:11434");
  });

  it("names every bad setting at once, from its own and the handlers' schemas", () => {
    // Act
    const read = () =>
      readLocalRuntimeSettings({
        PORT: "http",
        SCHEDULE_INTERVAL_MS: "5",
        LEASE_SECONDS: "0",
        OLLAMA_HOST: "nowhere",
        MAX_BODY_BYTES: "-1",
        DATABASE_URL: "mysql://x",
      });

    // Assess
    expect(read).toThrow(SettingsError);
    const message = (() => {
      try {
        read();
      } catch (error) {
        return (error as Error).message;
      }
    })();
    for (const name of [
      "PORT",
      "SCHEDULE_INTERVAL_MS",
      "LEASE_SECONDS",
      "OLLAMA_HOST",
      "MAX_BODY_BYTES",
      "DATABASE_URL",
    ]) {
      expect(message).toContain(name);
    }
  });

  it("refuses an executor budget that could never claim or leaves gaps between invocations", () => {
    expect(() =>
      readLocalRuntimeSettings({
        EXECUTOR_TIMEOUT_MS: "10000",
        LLM_TIMEOUT_MS: "20000",
        SCHEDULE_INTERVAL_MS: "1000",
      }),
    ).toThrow(/EXECUTOR_TIMEOUT_MS must be more than the executor's reserve/);
    // LLM_TIMEOUT_MS alone is not enough: the reserve has a margin on top.
    expect(() =>
      readLocalRuntimeSettings({
        EXECUTOR_TIMEOUT_MS: "20500",
        LLM_TIMEOUT_MS: "20000",
        SCHEDULE_INTERVAL_MS: "1000",
      }),
    ).toThrow(/EXECUTOR_TIMEOUT_MS must be more than the executor's reserve/);
    expect(() =>
      readLocalRuntimeSettings({
        EXECUTOR_TIMEOUT_MS: "30000",
        LLM_TIMEOUT_MS: "5000",
        SCHEDULE_INTERVAL_MS: "60000",
      }),
    ).toThrow(/EXECUTOR_TIMEOUT_MS must be at least SCHEDULE_INTERVAL_MS/);
  });
});
