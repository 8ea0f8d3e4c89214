import { describe, expect, it } from "vitest";
import { json } from "../../../functions/core/sql/port";
import { printedJsonBytes } from "../../../functions/core/tasks/printedJson";
import { useTestDatabase } from "../../support/database";

/**
 * printedJsonBytes must count exactly what PostgreSQL prints for a jsonb value
 * (`octet_length(value::jsonb::text)`), the size the Data API's limits apply to: every
 * budget of functions/core/tasks/byteBudgets.ts rests on it. Checked against the real
 * server on shapes that print differently from their compact JSON.
 */

/** A small deterministic generator, so a failure reproduces. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

function randomValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 4 : 7));
  const numbers = [0, -1, 1.5, 1e21, -1.5e-7, 5e-324, 1.7976931348623157e308, 123456.789, 1e-6];
  const strings = [
    "",
    "a",
    'q"uote',
    "back\\slash",
    "nl\nt\tab",
    "\u0001\u001f",
    "é",
    "日本",
    "😀",
    "\u2028",
  ];
  switch (pick) {
    case 0:
      return numbers[Math.floor(next() * numbers.length)];
    case 1:
      return strings[Math.floor(next() * strings.length)];
    case 2:
      return [true, false, null][Math.floor(next() * 3)];
    case 3:
      return next() * 10 ** Math.floor(next() * 40 - 20);
    case 4:
    case 5:
      return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: Math.floor(next() * 4) }, (_, i) => [
          `${strings[Math.floor(next() * strings.length)]}${i}`,
          randomValue(next, depth + 1),
        ]),
      );
  }
}

describe("printedJsonBytes", () => {
  const db = useTestDatabase();

  async function printed(value: unknown): Promise<number> {
    const [row] = await db.current.sql.query<{ bytes: number }>(
      "SELECT octet_length(cast(:value AS jsonb)::text) AS bytes",
      { value: json(value) },
    );
    return Number(row?.bytes);
  }

  it("counts what PostgreSQL prints for shapes that print bigger than their JSON", async () => {
    // Prepare
    const shapes: unknown[] = [
      Array(1000).fill(1),
      { a: [[], []], b: {}, c: [{}, [null]] },
      [1e21, -1e21, 1.5e300, 5e-324, -2.5e-7, 1e-7, 0.000001, 1.7976931348623157e308],
      { "": 0, é: "日本語", "😀": ["\u0000".replace("\u0000", "x"), "\u007f", "\u2028"] },
      'only "quotes" and \\ and \n\t\r\b\f and \u0001',
      JSON.parse('{"dup": 1, "dup": 2, "b": [1,2,3]}'),
      Array.from({ length: 50 }, (_, i) => ({ [`k${i}`]: { deep: [[[[i]]]] } })),
      -0,
      12345678901234567000,
    ];
    const next = random(42);
    for (let i = 0; i < 200; i++) shapes.push(randomValue(next, 0));

    // Act
    const measured = shapes.map((shape) => printedJsonBytes(shape));
    const actual = await Promise.all(shapes.map((shape) => printed(shape)));

    // Assess
    expect(measured).toEqual(actual);
    expect(actual[0]).toBeGreaterThan(JSON.stringify(shapes[0]).length * 1.4);
    expect(actual[2]).toBeGreaterThan(600);
  });

  it("is undefined for what JSON cannot hold, as JSON.stringify says", () => {
    // Act / Assess
    expect(printedJsonBytes(undefined)).toBeUndefined();
    expect(() => printedJsonBytes(10n)).toThrow();
  });
});
