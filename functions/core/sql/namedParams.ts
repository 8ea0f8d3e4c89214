import { segmentSql } from "./lexer";

/**
 * Turns `:name` placeholders into PostgreSQL's `$1, $2, ...` for node-postgres. The Data
 * API takes `:name` natively, so SQL is written once in that form. `::type` casts and
 * anything inside literals, quoted identifiers and comments are left alone; a name may
 * repeat and is bound once.
 */
export interface CompiledSql {
  text: string;
  /** Parameter names in `$n` order. */
  names: string[];
}

const cache = new Map<string, CompiledSql>();

export function compileNamedSql(sql: string): CompiledSql {
  const hit = cache.get(sql);
  if (hit) return hit;
  const names: string[] = [];
  let text = "";
  for (const segment of segmentSql(sql)) {
    if (!segment.code) {
      text += segment.text;
      continue;
    }
    text += segment.text.replace(/(::)|:([A-Za-z_][A-Za-z0-9_]*)/g, (match, cast, name) => {
      if (cast) return match;
      let position = names.indexOf(name) + 1;
      if (position === 0) position = names.push(name);
      return `$${position}`;
    });
  }
  const compiled = { text, names };
  // Statements are static strings: the cache stays as small as the code base's SQL.
  if (cache.size < 1000) cache.set(sql, compiled);
  return compiled;
}
