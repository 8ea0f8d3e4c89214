import { describe, expect, it } from "vitest";
import { estimateTokens, splitText } from "../../../functions/core/taskTypes/textChunks";

/** Splitting a long text for map-reduce: bounded pieces, at boundaries, nothing lost. */

const paragraph = (n: number) =>
  `Paragraph ${n} says one thing. Then it says another! Does it ask? It does.`;

describe("splitText", () => {
  it("keeps every character, in order, in pieces of at most maxChars", () => {
    // Prepare
    const text = Array.from({ length: 200 }, (_, i) => paragraph(i)).join("\n\n");
    // Act
    const pieces = splitText(text, 500);
    // Assess
    expect(pieces.join("")).toBe(text);
    expect(pieces.length).toBeGreaterThan(text.length / 500);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(500);
  });

  it("ends a piece at a paragraph break before a sentence end, at a sentence end before a space", () => {
    // Prepare
    const paragraphs = `${"a".repeat(300)}.\n\n${"b ".repeat(200)}`;
    const sentences = `${"word ".repeat(60)}end. ${"more ".repeat(100)}`;
    // Act
    const [first] = splitText(paragraphs, 500);
    const [second] = splitText(sentences, 400);
    // Assess
    expect(first?.endsWith(".\n\n")).toBe(true);
    expect(second?.endsWith("end.")).toBe(true);
  });

  it("cuts a word longer than a piece, and never a surrogate pair", () => {
    // Prepare
    const word = "x".repeat(1_000);
    const emoji = "🎉".repeat(300);
    // Act
    const words = splitText(word, 300);
    const emojis = splitText(emoji, 301);
    // Assess
    expect(words.map((p) => p.length)).toEqual([300, 300, 300, 100]);
    expect(emojis.join("")).toBe(emoji);
    for (const piece of emojis) expect(piece).not.toMatch(/[\ud800-\udbff]$/);
  });

  it("gives a short text back whole, and an empty one as one empty piece", () => {
    expect(splitText("short", 100)).toEqual(["short"]);
    expect(splitText("", 100)).toEqual([""]);
    expect(() => splitText("x", 1)).toThrow(/maxChars/);
  });

  it("budgets 3 characters a token, rounding up", () => {
    expect(estimateTokens("")).toBe(0);
    expect(estimateTokens("abcd")).toBe(2);
    expect(estimateTokens("x".repeat(3_000))).toBe(1_000);
  });
});
