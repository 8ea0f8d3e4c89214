/**
 * The fingerprint of a create request, stored with an idempotency key so a replay can be
 * told apart from a different request reusing the key. Covers every field the caller
 * chose (the settable columns of ./taskRow.ts but owner and the key itself, which locate
 * the row); sha256 of canonical JSON (object keys sorted at every depth, Dates as ISO
 * text) so `{a, b}` and `{b, a}` hash the same. An input kept outside the row (the claim
 * check) is fingerprinted by its content's sha256, not by its reference's random key, so a
 * replay of a big create is still a replay.
 */
import { createHash } from "node:crypto";
import { isPayloadRef } from "../payloads/claimCheck";
import type { NewTask } from "./model";
import { SETTABLE_COLUMNS } from "./taskRow";

const LOCATES_THE_ROW: ReadonlySet<string> = new Set(["owner", "idempotencyKey"]);
const CHOSEN = SETTABLE_COLUMNS.map(([field]) => field).filter((f) => !LOCATES_THE_ROW.has(f));

export function requestHash(task: NewTask): string {
  const request = Object.fromEntries(CHOSEN.map((field) => [field, task[field]]));
  if (isPayloadRef(request.input)) request.input = { offloadedSha256: request.input.sha256 };
  return createHash("sha256").update(canonicalJson(request)).digest("hex");
}

/** JSON with object keys sorted at every depth (jsonb does not keep key order either). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  // toJSON first (Date and friends), exactly as JSON.stringify would see the value.
  const plain =
    typeof (value as { toJSON?: unknown }).toJSON === "function"
      ? (value as { toJSON: () => unknown }).toJSON()
      : value;
  if (plain !== value) return sortKeys(plain);
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
}
