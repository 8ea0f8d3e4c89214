import { describe, expect, it } from "vitest";
import {
  DatabaseSettingsSchema,
  ExecutorSettingsSchema,
  OllamaSettingsSchema,
  readSettings,
} from "../../../functions/core/config/settings";
import { SettingsError } from "../../../functions/core/errors";
import { contextLengthOf } from "../../../functions/core/llm/models";

describe("readSettings", () => {
  it("applies defaults when nothing is set", () => {
    const settings = readSettings(ExecutorSettingsSchema, {});
    expect(settings).toMatchObject({
      LEASE_SECONDS: 60,
      MAX_CONCURRENCY: 4,
      POLL_INTERVAL_MS: 5000,
    });
  });

  it("names the bad setting and the value it got", () => {
    expect(() => readSettings(ExecutorSettingsSchema, { MAX_CONCURRENCY: "0" })).toThrow(
      /MAX_CONCURRENCY must be at least 1 \(got "0"\)/,
    );
    expect(() => readSettings(ExecutorSettingsSchema, { POLL_INTERVAL_MS: "soon" })).toThrow(
      /POLL_INTERVAL_MS must be a whole number/,
    );
    expect(() => readSettings(OllamaSettingsSchema, { OLLAMA_HOST: "not a url" })).toThrow(
      SettingsError,
    );
  });

  it("has no running cap and a 30-day retention by default, and names either when bad", () => {
    // Act
    const defaults = readSettings(ExecutorSettingsSchema, {});
    const set = readSettings(ExecutorSettingsSchema, {
      MAX_RUNNING_PER_OWNER: "3",
      RETENTION_SECONDS: "60",
    });

    // Assess
    expect(defaults.MAX_RUNNING_PER_OWNER).toBeUndefined();
    expect(defaults.RETENTION_SECONDS).toBe(2_592_000);
    expect(set).toMatchObject({ MAX_RUNNING_PER_OWNER: 3, RETENTION_SECONDS: 60 });
    expect(() => readSettings(ExecutorSettingsSchema, { MAX_RUNNING_PER_OWNER: "0" })).toThrow(
      /MAX_RUNNING_PER_OWNER must be at least 1 \(got "0"\)/,
    );
    expect(() => readSettings(ExecutorSettingsSchema, { RETENTION_SECONDS: "59" })).toThrow(
      /RETENTION_SECONDS must be at least 60 \(got "59"\)/,
    );
  });

  it("checks settings against each other", () => {
    expect(() =>
      readSettings(ExecutorSettingsSchema, { RETRY_BASE_MS: "5000", RETRY_MAX_MS: "100" }),
    ).toThrow(/RETRY_MAX_MS must be at least RETRY_BASE_MS/);
    expect(() =>
      readSettings(OllamaSettingsSchema, { OLLAMA_MODEL: "a", OLLAMA_MODELS: "b,c" }),
    ).toThrow(/OLLAMA_MODELS must include OLLAMA_MODEL/);
  });

  it("treats an empty variable as unset and parses lists", () => {
    const settings = readSettings(OllamaSettingsSchema, {
      OLLAMA_MODEL: "",
      OLLAMA_MODELS: "llama3.2, qwen2.5:0.5b",
    });
    expect(settings.OLLAMA_MODEL).toBe("llama3.2");
    expect(settings.OLLAMA_MODELS).toEqual(["llama3.2", "qwen2.5:0.5b"]);
  });

  it("reads each model's context window, naming a bad or unknown entry", () => {
    // Act
    const settings = readSettings(OllamaSettingsSchema, {
      OLLAMA_MODELS: "llama3.2,qwen2.5:7b",
      OLLAMA_CONTEXT_LENGTH: "4096",
      OLLAMA_CONTEXT_LENGTHS: "qwen2.5:7b=32768",
    });
    const defaults = readSettings(OllamaSettingsSchema, {});

    // Assess
    expect(settings.OLLAMA_CONTEXT_LENGTHS).toEqual({ "qwen2.5:7b": 32_768 });
    expect(contextLengthOf("Qwen2.5:7b", settings)).toBe(32_768);
    expect(contextLengthOf("llama3.2:latest", settings)).toBe(4_096);
    expect(defaults.OLLAMA_CONTEXT_LENGTH).toBe(8_192);
    expect(defaults.OLLAMA_CONTEXT_LENGTHS).toEqual({});
    expect(() =>
      readSettings(OllamaSettingsSchema, { OLLAMA_CONTEXT_LENGTHS: "llama3.2=100" }),
    ).toThrow(/OLLAMA_CONTEXT_LENGTHS must be model=tokens pairs.*"llama3.2=100"/);
    expect(() =>
      readSettings(OllamaSettingsSchema, { OLLAMA_CONTEXT_LENGTHS: "mistral=8192" }),
    ).toThrow(/OLLAMA_CONTEXT_LENGTHS names mistral, which is not in OLLAMA_MODELS/);
  });

  it("requires a database location", () => {
    expect(() => readSettings(DatabaseSettingsSchema, {})).toThrow(/DATABASE_URL .* is required/);
    expect(() => readSettings(DatabaseSettingsSchema, { DB_CLUSTER_ARN: "arn:aws:rds:x" })).toThrow(
      /DB_SECRET_ARN is required/,
    );
  });
});
