import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatBanner } from "../../../functions/local/banner";
import { BANNER_TOKEN_SUBJECT } from "../../../functions/local/runtime";

/** What `npm start` prints: the facts a frontend developer needs first. */

describe("formatBanner", () => {
  it("lists the allowed CORS origins and the token's caller", () => {
    // Prepare
    const facts = {
      url: "http://127.0.0.1:3000",
      database: "embedded PostgreSQL",
      ollamaHost: "http://127.0.0.1:11434",
      ollama: { reachable: false as const, reason: "connection refused" },
      model: "llama3.2",
      scheduleIntervalMs: 60_000,
      corsOrigins: ["http://localhost:5173", "https://app.example"],
      tokenSubject: BANNER_TOKEN_SUBJECT,
      token: "t0ken",
    };

    // Act
    const banner = formatBanner(facts);

    // Assess
    expect(banner).toContain(
      "CORS       browsers may call it from http://localhost:5173, https://app.example only (CORS_ORIGINS)",
    );
    expect(banner).toContain('a token for caller "alice"');
    expect(banner).toContain("export TOKEN=t0ken");
  });

  it("gives a token for the caller the README's examples use", () => {
    // Prepare
    const readme = readFileSync(join(import.meta.dirname, "../../../README.md"), "utf8");

    // Act
    const readmeCaller = /npm run -s token -- (\S+)\)/.exec(readme)?.[1];

    // Assess
    expect(readmeCaller).toBe(BANNER_TOKEN_SUBJECT);
  });
});
