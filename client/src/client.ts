/**
 * The client: one method per thing a frontend does with tasks. Every method takes an
 * AbortSignal; every failure is a TaskPipelineError (or the fetch's own network error).
 */
import { type ClientOptions, createTransport, currentToken, type RequestOptions } from "./http.js";
import type { CreateTaskRequest, ListTasksQuery, Metrics, Task, TaskPage } from "./types.js";
import { pollTask, type WatchEvent, type WatchOptions, watchOverChannel } from "./watch.js";

export interface CreateOptions extends RequestOptions {
  /** Makes the create safe to retry: the same key and body give back the same task. */
  idempotencyKey?: string;
}

export interface ListOptions extends Omit<ListTasksQuery, "cursor"> {
  signal?: AbortSignal;
}

export interface TaskPipelineClient {
  createTask(task: CreateTaskRequest, options?: CreateOptions): Promise<Task>;
  getTask(id: string, options?: RequestOptions): Promise<Task>;
  /** The caller's tasks, newest first, a page at a time (`limit` per page). */
  listTasks(options?: ListOptions): AsyncGenerator<TaskPage, void>;
  cancelTask(id: string, options?: RequestOptions): Promise<Task>;
  retryTask(id: string, options?: RequestOptions): Promise<Task>;
  getMetrics(options?: RequestOptions): Promise<Metrics>;
  /**
   * The task's status changes (the first event is its status now) until it reaches a final
   * status, and, over the real-time channel, its output as it is written.
   */
  watchTask(id: string, options?: WatchOptions): AsyncGenerator<WatchEvent, void>;
}

export function createTaskPipelineClient(options: ClientOptions): TaskPipelineClient {
  const http = createTransport(options);
  const taskPath = (id: string) => `/api/tasks/${encodeURIComponent(id)}`;

  const client: TaskPipelineClient = {
    createTask: (task, { idempotencyKey, ...request } = {}) =>
      http.json<Task>("POST", "/api/tasks", task, {
        ...request,
        headers: {
          ...request.headers,
          ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
        },
      }),

    getTask: (id, request) => http.json<Task>("GET", taskPath(id), undefined, request),

    async *listTasks({ signal, ...query } = {}) {
      let cursor: string | undefined;
      do {
        const params = new URLSearchParams();
        for (const [name, value] of Object.entries({ ...query, cursor })) {
          if (value !== undefined) params.set(name, String(value));
        }
        const search = params.size > 0 ? `?${params}` : "";
        const page = await http.json<TaskPage>("GET", `/api/tasks${search}`, undefined, {
          signal,
        });
        yield page;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    },

    cancelTask: (id, request) =>
      http.json<Task>("POST", `${taskPath(id)}/cancel`, undefined, request),

    retryTask: (id, request) =>
      http.json<Task>("POST", `${taskPath(id)}/retry`, undefined, request),

    getMetrics: (request) => http.json<Metrics>("GET", "/api/metrics", undefined, request),

    async *watchTask(id, watch) {
      if (!options.realtime) {
        yield* pollTask(client.getTask, id, watch);
        return;
      }
      const token = await currentToken(options);
      yield* watchOverChannel(client.getTask, id, { realtime: options.realtime, token }, watch);
    },
  };
  return client;
}
