import { describe, expect, it } from "vitest";
import { formatTable } from "../../../bench/support/table";

describe("formatTable", () => {
  it("pads every column to its widest cell and rules off the header", () => {
    // Prepare
    const headers = ["benchmark", "figure"];
    const rows = [
      ["queue", "1,000/s"],
      ["api p99", "12 ms"],
    ];

    // Act
    const table = formatTable(headers, rows);

    // Assess
    expect(table.split("\n")).toEqual([
      "benchmark  figure",
      "---------  -------",
      "queue      1,000/s",
      "api p99    12 ms",
    ]);
  });
});
