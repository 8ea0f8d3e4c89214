/**
 * The list cursor: opaque to callers, base64url of `{"v":1,"id":"<last item's id>"}`.
 * It holds only the id: the position (created_at, id) is looked up in SQL, scoped to the
 * owner, so no timestamp precision is lost in transit and a cursor cannot point into
 * another owner's tasks.
 */
import { fieldError } from "../fieldIssues";
import { isUuid } from "./storeInputChecks";

const VERSION = 1;

export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ v: VERSION, id: lastId }), "utf8").toString("base64url");
}

/** The id inside a cursor; ValidationError naming `cursor` when it is not one of ours. */
export function decodeCursor(cursor: string): string {
  const malformed = () =>
    fieldError("cursor", "cursor is malformed: pass a nextCursor as returned");
  if (typeof cursor !== "string" || cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw malformed();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw malformed();
  }
  const { v, id } = (parsed ?? {}) as { v?: unknown; id?: unknown };
  if (v !== VERSION || !isUuid(id)) throw malformed();
  return id.toLowerCase();
}
