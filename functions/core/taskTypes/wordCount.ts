/**
 * Counts words as a reader would: runs of letters or digits, with inner apostrophes and
 * hyphens (`don't`, `well-known`) kept in one word. Markdown syntax (`#`, `-`, `**`, `>`)
 * is not a word, so a heading or list marker does not inflate the count.
 */
export function countWords(text: string): number {
  return text.match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu)?.length ?? 0;
}
