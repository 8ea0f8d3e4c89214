/**
 * How many bytes a JSON value takes once stored in a jsonb column and printed back by
 * PostgreSQL (`octet_length(value::jsonb::text)`): the size the Data API's row and response
 * limits count (./byteBudgets.ts). Computed in TS from the compact JSON.stringify text
 * rather than asked of the database: the create and the settle check it before any SQL
 * runs (a 400 naming `input`, a failed task naming its result), and the claim check decides
 * inline or not without a round trip. test/integration/store/printedJson.test.ts proves it
 * equal to PostgreSQL's own count over shapes that print differently.
 *
 * What PostgreSQL's jsonb output does to compact JSON (src/backend/utils/adt/jsonb.c,
 * JsonbToCString; numeric.c, numeric_in/numeric_out):
 * - a space after every `,` and `:` between elements, members, keys and values;
 * - numbers are `numeric` and print in full, without exponent: `1e+21` as 22 digits,
 *   `1.5e-7` as `0.00000015` (its scale is the mantissa's decimals minus the exponent);
 * - strings escape exactly what JSON.stringify escapes (`"`, `\`, control characters as
 *   `\n` or `\u001f`), so they keep their length; keys are sorted and deduplicated, which
 *   changes no length (a JS object has no duplicate keys).
 */

/** The printed size in bytes of `value`'s jsonb; throws what JSON.stringify throws. */
export function printedJsonBytes(value: unknown): number | undefined {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : printedJsonLength(text);
}

/** The printed size in bytes of the jsonb parsed from compact JSON text (JSON.stringify's). */
export function printedJsonLength(compact: string): number {
  let bytes = Buffer.byteLength(compact, "utf8");
  let index = 0;
  while (index < compact.length) {
    const char = compact[index] as string;
    if (char === '"') {
      index = endOfString(compact, index);
    } else if (char === "," || char === ":") {
      bytes += 1;
      index += 1;
    } else if (char === "-" || (char >= "0" && char <= "9")) {
      const end = endOfNumber(compact, index);
      const token = compact.slice(index, end);
      bytes += printedNumberLength(token) - token.length;
      index = end;
    } else {
      index += 1;
    }
  }
  return bytes;
}

/** Index just past the string literal starting at `start` (a `"`). */
function endOfString(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length) {
    const char = text[index];
    if (char === "\\") index += 2;
    else if (char === '"') return index + 1;
    else index += 1;
  }
  return index;
}

function endOfNumber(text: string, start: number): number {
  let index = start;
  while (index < text.length && /[-+.0-9eE]/.test(text[index] as string)) index += 1;
  return index;
}

/**
 * The length of numeric_out's text for a JSON number token: without an exponent the same
 * text (JSON.stringify writes no trailing zeros, no `+`, no `-0`); with one, written out:
 * integer digits, then `.` and `scale` decimals when scale > 0, where scale is the
 * mantissa's decimals minus the exponent (never below 0).
 */
export function printedNumberLength(token: string): number {
  const match = /^(-?)(\d+)(?:\.(\d+))?[eE]([+-]?\d+)$/.exec(token);
  if (!match) return token.length;
  const [, sign = "", whole = "", decimals = "", exponentText = "0"] = match;
  const exponent = Number(exponentText);
  const digits = `${whole}${decimals}`.replace(/^0+(?=\d)/, "");
  const scale = Math.max(0, decimals.length - exponent);
  // Digits before the point: the mantissa's whole digits shifted by the exponent.
  const integerDigits = Math.max(1, whole.replace(/^0+(?=\d)/, "").length + exponent);
  const allZero = /^0+$/.test(digits);
  const integerLength = allZero ? 1 : integerDigits;
  return sign.length + integerLength + (scale > 0 ? 1 + scale : 0);
}
