/**
 * Tells the task's owner's real-time channel about a status change the API made (create,
 * cancel, retry), and waits (at most 1 s) for the publish: the Lambda is frozen once it
 * answers. A publish that fails or is late is the publisher's to log and count; the
 * request succeeds regardless, the row being the truth.
 */
import type { Task } from "../core/tasks/taskRow";
import type { ApiDeps } from "./deps";

const API_FLUSH_TIMEOUT_MS = 1_000;

export async function publishStatus(deps: ApiDeps, task: Task): Promise<void> {
  if (!deps.events) return;
  deps.events.statusChanged([task]);
  await deps.events.flush(API_FLUSH_TIMEOUT_MS);
}
