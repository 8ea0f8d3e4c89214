import type { MiddlewareObj } from "@middy/core";
import { z } from "zod";
import { ValidationError } from "../../core/errors";
import { type ApiContext, type ApiEvent, type ApiResult, HttpError } from "../http";
import { isStorableText } from "../text";
import { middlewareOptions } from "./options";

const OptionsSchema = z.object({
  /**
   * Deepest nesting of objects and arrays. Task inputs are a level or three deep; the cap
   * keeps a body like `[[[[…]]]]` (100,000 levels fit in 256 KB) from overflowing the stack
   * of everything recursive downstream (validation, hashing, JSON.stringify).
   */
  maxDepth: z.int().min(1).max(1_000).default(64),
});

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses a JSON body into `event.jsonBody` (left undefined when there is no body).
 * Malformed JSON is a 400 `invalid_json`; JSON that PostgreSQL could not store as sent
 * (numbers beyond double range, NUL, unpaired surrogates) is a 400 too, rather than a
 * value silently changed on the way in or a 500 from the database.
 */
export function jsonBody(
  options: z.input<typeof OptionsSchema> = {},
): MiddlewareObj<ApiEvent, ApiResult, Error, ApiContext> {
  const { maxDepth } = middlewareOptions("jsonBody", OptionsSchema, options);
  return {
    before({ event }) {
      if (!event.body) return;
      const text = decode(event);
      if (nestingDepth(text) > maxDepth) {
        throw new ValidationError(`request body is nested deeper than ${maxDepth} levels`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new HttpError("invalid_json", "request body is not valid JSON");
      }
      checkStorable(parsed);
      event.jsonBody = parsed;
    },
  };
}

function decode(event: ApiEvent): string {
  const body = event.body as string;
  if (!event.isBase64Encoded) return body;
  try {
    return UTF8.decode(Buffer.from(body, "base64"));
  } catch {
    throw new HttpError("invalid_json", "request body is not UTF-8 text");
  }
}

/** Brackets outside strings, counted without parsing (so it is safe on any input). */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c)
        i++; // backslash: skip the escaped character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x7b || char === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (char === 0x7d || char === 0x5d) {
      depth--;
    }
  }
  return deepest;
}

/** Walks the parsed value iteratively (depth is bounded already, but no recursion is needed). */
function checkStorable(root: unknown): void {
  const stack: Array<{ value: unknown; path: string }> = [{ value: root, path: "" }];
  const at = (path: string) => path || "(root)";
  while (stack.length > 0) {
    const { value, path } = stack.pop() as { value: unknown; path: string };
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new ValidationError(`${at(path)}: number out of range`, [
        { path: at(path), message: "number out of range" },
      ]);
    }
    if (typeof value === "string" && !isStorableText(value)) {
      throw new ValidationError(`${at(path)}: text contains NUL or an unpaired surrogate`, [
        { path: at(path), message: "text contains NUL or an unpaired surrogate" },
      ]);
    }
    if (typeof value === "object" && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        const childPath = path ? `${path}.${key}` : key;
        if (!isStorableText(key)) {
          throw new ValidationError(
            `${childPath}: field name contains NUL or an unpaired surrogate`,
            [{ path: childPath, message: "field name contains NUL or an unpaired surrogate" }],
          );
        }
        stack.push({ value: child, path: childPath });
      }
    }
  }
}
