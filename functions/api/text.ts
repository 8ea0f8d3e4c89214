/**
 * Text PostgreSQL cannot store: NUL (refused in text and jsonb) and unpaired UTF-16
 * surrogates (valid in a JS string, not in UTF-8). Checked at the edge so such text is a
 * 4xx naming where it was, never a database error.
 */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function isStorableText(text: string): boolean {
  return !text.includes("\u0000") && !UNPAIRED_SURROGATE.test(text);
}
