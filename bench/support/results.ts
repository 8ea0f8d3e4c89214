import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/** Writes `text` to `path`, creating the directory when needed. */
export async function writeResultsFile(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

const LINE_WIDTH = 100; // biome.json's, so a saved results file passes `npm run lint` as written

/**
 * JSON laid out as the repository's formatter lays it out: objects one key a line, arrays
 * of plain values on one line when they fit. Fractions are cut to 3 decimals: more digits
 * are noise, not precision. Values JSON cannot hold (NaN) become null, as in JSON.stringify.
 */
export function formatJson(value: unknown): string {
  return `${layout(value, "", 0)}\n`;
}

function layout(value: unknown, indent: string, prefixWidth: number): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    if (value.every(isPlain)) {
      const inline = `[${value.map(plain).join(", ")}]`;
      if (indent.length + prefixWidth + inline.length + 1 <= LINE_WIDTH) return inline;
    }
    const inner = `${indent}  `;
    return `[\n${value.map((item) => `${inner}${layout(item, inner, 0)}`).join(",\n")}\n${indent}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    if (entries.length === 0) return "{}";
    const inner = `${indent}  `;
    const lines = entries.map(([key, item]) => {
      const name = `${JSON.stringify(key)}: `;
      return `${inner}${name}${layout(item, inner, name.length)}`;
    });
    return `{\n${lines.join(",\n")}\n${indent}}`;
  }
  return plain(value);
}

function isPlain(value: unknown): boolean {
  return value === null || typeof value !== "object";
}

function plain(value: unknown): string {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return "null";
    return JSON.stringify(Number.isInteger(value) ? value : Math.round(value * 1000) / 1000);
  }
  return JSON.stringify(value ?? null);
}
