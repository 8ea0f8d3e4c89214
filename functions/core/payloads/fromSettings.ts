/**
 * The payload store a Lambda or the local runtime uses, from its settings: S3 when the
 * stack set PAYLOAD_BUCKET, a directory with PAYLOAD_DIR, else none (no claim check).
 */
import { S3Client } from "@aws-sdk/client-s3";
import type { PayloadSettings } from "../config/settings";
import type { TaskRepository } from "../tasks/model";
import type { Logger } from "../telemetry/ports";
import { ClaimCheckTasks } from "./claimCheckTasks";
import { FileSystemPayloadStore } from "./fileSystemPayloadStore";
import type { PayloadStore } from "./port";
import { S3PayloadStore } from "./s3PayloadStore";

export function payloadStoreFromSettings(settings: PayloadSettings): PayloadStore | undefined {
  if (settings.PAYLOAD_BUCKET) return new S3PayloadStore(new S3Client({}), settings.PAYLOAD_BUCKET);
  if (settings.PAYLOAD_DIR) return new FileSystemPayloadStore(settings.PAYLOAD_DIR);
  return undefined;
}

/** `tasks` behind the claim check when there is a payload store, else as it is. */
export function withClaimCheck(
  tasks: TaskRepository,
  store: PayloadStore | undefined,
  logger: Logger,
): TaskRepository {
  return store ? new ClaimCheckTasks(tasks, store, logger) : tasks;
}
