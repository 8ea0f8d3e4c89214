import { vi } from "vitest";

/**
 * Captures what this process writes to stdout and stderr (Powertools writes JSON log lines
 * and EMF documents there), line by line, until `restore()`.
 */
export function captureOutput() {
  const lines: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split("\n").filter(Boolean));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, "write").mockImplementation(capture),
    vi.spyOn(process.stderr, "write").mockImplementation(capture),
  ];
  return {
    lines,
    /** Every line parsed as JSON: a line that is not JSON fails the test. */
    json: () => lines.map((line) => JSON.parse(line)),
    /** The lines that are JSON, skipping any other output (e.g. a library's plain text). */
    jsonLines: () =>
      lines.flatMap((line) => {
        try {
          return [JSON.parse(line)];
        } catch {
          return [];
        }
      }),
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}
