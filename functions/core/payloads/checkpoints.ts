/**
 * Checkpoints (core/taskTypes/types.ts Checkpoint) in the payload store: one JSON object per
 * task, `checkpoints/<task id>.json`, overwritten by each save and deleted with the task by
 * retention (claimCheckTasks.ts). A checkpoint is only a head start: one that is missing or
 * unreadable loads as undefined, and one that cannot be saved is logged: the attempt
 * goes on, and a retry redoes the work.
 */
import { PayloadUnavailableError } from "../errors";
import type { Checkpoint } from "../taskTypes/types";
import type { Logger } from "../telemetry/ports";
import { checkpointKey } from "./claimCheck";
import type { PayloadStore } from "./port";

export interface Checkpoints {
  forTask(taskId: string): Checkpoint;
}

export function payloadCheckpoints(store: PayloadStore, logger?: Logger): Checkpoints {
  return {
    forTask(taskId) {
      const key = checkpointKey(taskId);
      return {
        async load() {
          try {
            return JSON.parse(new TextDecoder().decode(await store.get(key)));
          } catch (error) {
            if (error instanceof PayloadUnavailableError || error instanceof SyntaxError) {
              return undefined;
            }
            throw error;
          }
        },
        async save(state) {
          // A save that fails costs a retry its head start, not the attempt: logged only.
          try {
            await store.put(key, new TextEncoder().encode(JSON.stringify(state)));
          } catch (error) {
            logger?.warn("saving a checkpoint failed; a retry would start over", {
              taskId,
              error,
            });
          }
        },
      };
    },
  };
}
