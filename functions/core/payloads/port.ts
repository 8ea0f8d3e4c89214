/**
 * The payload store port: where inputs and results too big for a task row are kept (the
 * claim check). S3 in AWS, a directory under DATA_DIR locally. Keys are relative paths
 * (`inputs/<uuid>.json`, see ./claimCheck.ts); adapters map their own failures to the named errors:
 * a missing object is `payloadNotFound(key)`, anything else is rethrown for the error
 * handler to hide behind a 500 (and log).
 */
import { PayloadUnavailableError, PipelineError } from "../errors";

export interface PayloadStore {
  put(key: string, bytes: Uint8Array): Promise<void>;
  get(key: string): Promise<Uint8Array>;
  /** Deleting a key that does not exist is not an error (S3 answers 204 for it too). */
  delete(keys: readonly string[]): Promise<void>;
}

/** The object a row refers to is gone (deleted, or expired by the bucket's lifecycle rule). */
export function payloadNotFound(key: string): PayloadUnavailableError {
  return new PayloadUnavailableError(key, "not_found", `payload ${key} not found`);
}

/** Keys are ours, but check anyway: no absolute paths, no `..`, nothing S3 would mangle. */
const KEY_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

export function assertPayloadKey(key: string): void {
  if (!KEY_PATTERN.test(key) || key.split("/").includes("..")) {
    throw new PipelineError("invalid_payload_key", `invalid payload key ${JSON.stringify(key)}`);
  }
}
