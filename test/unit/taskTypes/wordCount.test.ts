import { describe, expect, it } from "vitest";
import { countWords } from "../../../functions/core/taskTypes/wordCount";

describe("countWords", () => {
  it.each([
    ["", 0],
    ["   \n ", 0],
    ["one", 1],
    ["# Title\n\n- first item\n- **second** item", 5],
    ["Don't split well-known words", 4],
    ["Numbers like 2025 count; — dashes don't", 6],
    ["Ünïcode wörter zählen", 3],
    ["> quoted `code` and [a link](http://x)", 7],
  ])("counts %j as %i words", (text, expected) => {
    expect(countWords(text)).toBe(expected);
  });
});
