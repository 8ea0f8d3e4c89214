import { createPgSqlPort } from "../../functions/core/sql/pgAdapter";
import type { NewTask } from "../../functions/core/tasks/model";
import { TaskStore } from "../../functions/core/tasks/store";
import type { TaskTypeRegistry } from "../../functions/core/taskTypes/registry";

/**
 * Creates tasks the way the API does (input parsed by its type, then `TaskStore.create`),
 * through a port of its own so creating is never counted as the executor's statements.
 */
export interface TaskCreator {
  create(type: string, input: unknown): Promise<void>;
  close(): Promise<void>;
}

export function openTaskCreator(
  url: string,
  registry: Pick<TaskTypeRegistry, "parseInput">,
  model: string,
): TaskCreator {
  const sql = createPgSqlPort({ connectionString: url, max: 8 });
  const store = new TaskStore(sql);
  return {
    async create(type, input) {
      const task: NewTask = {
        owner: "bench",
        type,
        title: null,
        input: registry.parseInput(type, input),
        priority: 0,
        runAt: null,
        maxAttempts: 3,
        model,
        idempotencyKey: null,
      };
      await store.create(task);
    },
    close: () => sql.close(),
  };
}

/** Runs `count` jobs with at most `parallel` at once. */
export async function inParallel(
  count: number,
  parallel: number,
  job: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      await job(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
}
