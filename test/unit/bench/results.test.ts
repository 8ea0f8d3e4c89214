import { describe, expect, it } from "vitest";
import { formatJson } from "../../../bench/support/results";

describe("formatJson", () => {
  it("puts each key on its own line and short arrays of plain values on one", () => {
    // Prepare
    const value = { name: "run", load: [1.5, 2, 3.25], nested: { empty: [], none: {} } };

    // Act
    const text = formatJson(value);

    // Assess
    expect(text).toBe(
      [
        "{",
        '  "name": "run",',
        '  "load": [1.5, 2, 3.25],',
        '  "nested": {',
        '    "empty": [],',
        '    "none": {}',
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("spreads an array over lines when it would pass 100 characters, or holds objects", () => {
    // Prepare
    const long = Array.from({ length: 30 }, (_, i) => 1000 + i);
    const value = { long, rows: [{ a: 1 }] };

    // Act
    const lines = formatJson(value).split("\n");

    // Assess
    expect(lines[1]).toBe('  "long": [');
    expect(lines[2]).toBe("    1000,");
    expect(lines).toContain('  "rows": [');
    expect(lines).toContain('      "a": 1');
    expect(lines.every((line) => line.length <= 100)).toBe(true);
  });

  it("cuts fractions to 3 decimals, writes NaN as null and leaves out undefined keys", () => {
    // Prepare
    const value = { ratio: 0.123456, whole: 42, missing: Number.NaN, gone: undefined };

    // Act
    const parsed = JSON.parse(formatJson(value));

    // Assess
    expect(parsed).toEqual({ ratio: 0.123, whole: 42, missing: null });
  });

  it("reads back as the same data JSON.stringify would give", () => {
    // Prepare
    const value = { a: [1, "two", true, null], b: { c: [{ d: "e" }] } };

    // Act
    const parsed = JSON.parse(formatJson(value));

    // Assess
    expect(parsed).toEqual(JSON.parse(JSON.stringify(value)));
  });
});
