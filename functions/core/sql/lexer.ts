/**
 * Splits SQL text into code and non-code segments, so placeholder binding and statement
 * splitting never look inside string literals ('...', E'...', $tag$...$tag$), quoted
 * identifiers ("...") or comments.
 */
export interface SqlSegment {
  code: boolean;
  text: string;
}

export function segmentSql(sql: string): SqlSegment[] {
  const segments: SqlSegment[] = [];
  let code = "";
  const flush = () => {
    if (code) segments.push({ code: true, text: code });
    code = "";
  };
  const other = (end: number, start: number) => {
    flush();
    segments.push({ code: false, text: sql.slice(start, end) });
    return end;
  };
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i] as string;
    const next = sql[i + 1];
    if (ch === "'" || ch === '"') {
      // E'...' strings take backslash escapes (E'it\'s'); standard strings do not.
      const escapes = ch === "'" && /[eE]/.test(sql[i - 1] ?? "") && !/\w/.test(sql[i - 2] ?? "");
      i = other(skipQuoted(sql, i, ch, escapes), i);
    } else if (ch === "-" && next === "-") {
      const end = sql.indexOf("\n", i);
      i = other(end === -1 ? sql.length : end, i);
    } else if (ch === "/" && next === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = other(end === -1 ? sql.length : end + 2, i);
    } else if (ch === "$" && DOLLAR_TAG.test(sql.slice(i, i + 64))) {
      const tag = (DOLLAR_TAG.exec(sql.slice(i, i + 64)) as RegExpExecArray)[0];
      const end = sql.indexOf(tag, i + tag.length);
      i = other(end === -1 ? sql.length : end + tag.length, i);
    } else {
      code += ch;
      i++;
    }
  }
  flush();
  return segments;
}

/** `$$` or `$tag$`; a tag is an identifier (letters, digits after the first, underscores). */
const DOLLAR_TAG = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/;

function skipQuoted(sql: string, start: number, quote: string, escapes = false): number {
  let i = start + 1;
  while (i < sql.length) {
    if (escapes && sql[i] === "\\") {
      i += 2; // a backslash escape: the next character is part of the literal
      continue;
    }
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) {
        i += 2; // a doubled quote inside the literal
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}

/** Splits a script into its statements (for the Data API, which runs one per call). */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = "";
  let hasCode = false;
  for (const segment of segmentSql(sql)) {
    if (!segment.code) {
      if (!segment.text.startsWith("--") && !segment.text.startsWith("/*")) hasCode = true;
      current += segment.text;
      continue;
    }
    const parts = segment.text.split(";");
    parts.forEach((part, index) => {
      current += part;
      if (part.trim()) hasCode = true;
      if (index < parts.length - 1) {
        if (hasCode) statements.push(current.trim());
        current = "";
        hasCode = false;
      }
    });
  }
  if (hasCode && current.trim()) statements.push(current.trim());
  return statements;
}
