import pg from "pg";
import { describe, expect, it } from "vitest";
import { parseTimestamptz } from "../../../functions/core/sql/timestamptz";

/**
 * The fast timestamptz parser against an oracle of its own: the same instant written as
 * ISO 8601 (milliseconds cut, offset as ±HH:MM), which Date.parse reads. Shapes outside
 * its fast path must give exactly what pg's own parser gives.
 */

const pgParse = pg.types.getTypeParser(1184, "text") as (text: string) => unknown;
const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** A deterministic pseudo-random sequence (no flaky seeds). */
function* lcg(seed: number): Generator<number> {
  let state = seed;
  for (;;) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    yield state / 2 ** 31;
  }
}

describe("parseTimestamptz", () => {
  it("reads 5,000 varied timestamps as the ISO oracle does", () => {
    // Prepare
    const random = lcg(7);
    const next = (n: number) => Math.floor((random.next().value as number) * n);
    const cases = Array.from({ length: 5_000 }, () => {
      const y = 1000 + next(9000);
      const [mo, d, h, mi, s] = [1 + next(12), 1 + next(28), next(24), next(60), next(60)];
      const fractionDigits = next(7); // 0: none, else 1..6
      const fraction = Array.from({ length: fractionDigits }, () => next(10)).join("");
      const sign = next(2) === 0 ? "+" : "-";
      const [oh, om] = [next(15), [0, 30, 45][next(3)] as number];
      const offset = om === 0 && next(2) === 0 ? `${pad(oh, 2)}` : `${pad(oh, 2)}:${pad(om, 2)}`;
      const date = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}`;
      const time = `${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}`;
      const pgText = `${date} ${time}${fraction ? `.${fraction}` : ""}${sign}${offset}`;
      const iso = `${date}T${time}.${fraction.padEnd(3, "0").slice(0, 3)}${sign}${pad(oh, 2)}:${pad(om, 2)}`;
      return { pgText, expected: Date.parse(iso) };
    });

    // Act
    const parsed = cases.map(({ pgText }) => parseTimestamptz(pgText, pgParse));

    // Assess
    const wrong = cases.filter(
      ({ expected }, i) => (parsed[i] as Date).getTime() !== expected || Number.isNaN(expected),
    );
    expect(wrong).toEqual([]);
  });

  it("agrees with pg's parser on the common shape, microseconds included", () => {
    for (const text of [
      "2026-11-29 03:20:49.123456+00",
      "2026-11-29 03:20:49+00",
      "2026-11-29 03:20:49.5-03:30",
      "1999-12-31 23:59:59.999999+14",
    ]) {
      expect(parseTimestamptz(text, pgParse)).toEqual(pgParse(text));
    }
  });

  it("leaves every other shape to pg's parser", () => {
    // Prepare: infinities, BC, years outside 1000..9999, an offset with seconds (LMT), junk
    const others = [
      "infinity",
      "-infinity",
      "0099-01-01 00:00:00+00",
      "2026-01-01 00:00:00+00 BC",
      "12026-01-01 00:00:00+00",
      "1850-01-01 00:00:00+00:53:28",
      "2026-1x-01 00:00:00+00",
    ];
    const seen: string[] = [];
    const fallback = (text: string) => {
      seen.push(text);
      return pgParse(text);
    };

    // Act
    const parsed = others.map((text) => parseTimestamptz(text, fallback));

    // Assess
    expect(seen).toEqual(others);
    expect(parsed).toEqual(others.map(pgParse));
  });
});
