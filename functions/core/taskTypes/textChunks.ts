/**
 * Splitting a long text into pieces an LLM can read whole, for map-reduce over documents
 * (summarize.ts). Pure. The pieces, joined, are the text: every character in exactly one
 * piece, in order.
 */

/**
 * Characters a token takes, for budgeting: common tokenizers average ~4 on English prose,
 * fewer on code, numbers and other scripts; 3 keeps a chunk inside its budget for most
 * text. Ollama reports real counts afterwards (usage); this is only for the split.
 */
export const CHARS_PER_TOKEN = 3;

/** The tokens `text` is budgeted at (see CHARS_PER_TOKEN). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/**
 * `text` in pieces of at most `maxChars` characters, each ending at the best boundary in
 * its second half: a paragraph break, else a line break, else a sentence end, else
 * whitespace; a run without any (one enormous "word") is cut at `maxChars`. A surrogate
 * pair is never split.
 */
export function splitText(text: string, maxChars: number): string[] {
  if (!Number.isInteger(maxChars) || maxChars < 2) {
    throw new Error(`splitText: maxChars must be a whole number of at least 2 (got ${maxChars})`);
  }
  const pieces: string[] = [];
  let start = 0;
  while (text.length - start > maxChars) {
    const window = text.slice(start, start + maxChars);
    let end = boundary(window, Math.floor(maxChars / 2));
    // Do not cut a surrogate pair in two.
    const last = window.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end -= 1;
    pieces.push(text.slice(start, start + end));
    start += end;
  }
  if (start < text.length || pieces.length === 0) pieces.push(text.slice(start));
  return pieces;
}

/** Where to end a piece within `window`: after the best boundary at or past `min`. */
function boundary(window: string, min: number): number {
  for (const pattern of [/\n\s*\n/g, /\n/g, /[.!?…。](?=\s)/g, /\s/g]) {
    let found = -1;
    for (const match of window.matchAll(pattern)) {
      const end = (match.index ?? 0) + match[0].length;
      if (end >= min && end < window.length) found = end;
    }
    if (found > 0) return found;
  }
  return window.length;
}
