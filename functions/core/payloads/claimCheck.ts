/**
 * The claim check: a JSON value larger than its inline threshold is written to the payload
 * store and replaced, in the row's jsonb, by a reference `{"$ref": key, "bytes", "sha256"}`.
 * A reference inside the jsonb (rather than new columns) keeps every statement and select
 * list unchanged; a reader tells the two apart by shape.
 *
 * Reference-shaped values a caller sends (an object whose keys are `$ref` and some of
 * `bytes`, `sha256`) are always stored behind a reference, so a value that LOOKS like one
 * in a row always IS one: nobody can make the pipeline read or delete an object by sending
 * its key (sql/deleteExpiredTasks.ts relies on this).
 *
 * Keys are random (`inputs/<uuid>.json`, `results/<uuid>.json`), never derived from the
 * content: two tasks with the same text each own their object, so deleting one task's
 * payload never takes another's. The checkpoint of a task is `checkpoints/<task id>.json`.
 */
import { createHash, randomUUID } from "node:crypto";
import { z } from "zod";
import { PayloadUnavailableError } from "../errors";
import { printedJsonBytes } from "../tasks/printedJson";
import { canonicalJson } from "../tasks/requestHash";
import type { PayloadStore } from "./port";

export const PayloadRefSchema = z.strictObject({
  $ref: z.string().regex(/^(inputs|results)\/[0-9a-f-]{36}\.json$/),
  bytes: z.int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type PayloadRef = z.infer<typeof PayloadRefSchema>;

export type PayloadKind = "input" | "result";

/** Keys a reference may hold; an object with `$ref` and none but these is reference-shaped. */
const REF_KEYS = new Set(["$ref", "bytes", "sha256"]);

export function isPayloadRef(value: unknown): value is PayloadRef {
  return PayloadRefSchema.safeParse(value).success;
}

/** Looks like a reference (see the file comment): `$ref` and no key a reference lacks. */
export function isRefShaped(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.includes("$ref") && keys.every((key) => REF_KEYS.has(key));
}

/** Where a task's checkpoint lives (see executor/checkpoints.ts). */
export function checkpointKey(taskId: string): string {
  return `checkpoints/${taskId.toLowerCase()}.json`;
}

/** A value to offload: its JSON bytes and the reference the row will hold. */
export interface Offloaded {
  ref: PayloadRef;
  bytes: Uint8Array;
}

/**
 * The reference for `value` when it must leave the row (printed size over `inlineBytes`,
 * or reference-shaped), else undefined. Pure: the caller writes `bytes` under `ref.$ref`.
 */
export function offloadPlan(
  kind: PayloadKind,
  value: unknown,
  inlineBytes: number,
): Offloaded | undefined {
  const printed = printedJsonBytes(value);
  if (printed === undefined) return undefined;
  if (printed <= inlineBytes && !isRefShaped(value)) return undefined;
  // Canonical (sorted keys), so the content's sha256 fingerprints a replayed create
  // (../tasks/requestHash.ts); jsonb does not keep key order for inline values either.
  const bytes = new TextEncoder().encode(canonicalJson(value));
  return {
    ref: {
      $ref: `${kind}s/${randomUUID()}.json`,
      bytes: bytes.byteLength,
      sha256: createHash("sha256").update(bytes).digest("hex"),
    },
    bytes,
  };
}

/** The whole value behind a row's jsonb: loaded and verified when it is a reference. */
export async function loadPayload(store: PayloadStore, value: unknown): Promise<unknown> {
  if (!isPayloadRef(value)) return value;
  const bytes = await store.get(value.$ref);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (sha256 !== value.sha256 || bytes.byteLength !== value.bytes) {
    throw new PayloadUnavailableError(
      value.$ref,
      "corrupt",
      `payload ${value.$ref} does not match its reference (${bytes.byteLength} bytes, sha256 ${sha256})`,
    );
  }
  return JSON.parse(new TextDecoder().decode(bytes));
}
