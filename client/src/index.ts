/**
 * @task-pipeline/client: a typed client for the task-pipeline HTTP API.
 *
 *     const client = createTaskPipelineClient({ baseUrl, token });
 *     const task = await client.createTask({ type: "summarize", input: { text } });
 *     for await (const event of client.watchTask(task.id)) console.log(event);
 */
export {
  type CreateOptions,
  createTaskPipelineClient,
  type ListOptions,
  type TaskPipelineClient,
} from "./client.js";
export { TaskPipelineError } from "./errors.js";
export type { ClientOptions, RequestOptions } from "./http.js";
export {
  type ChannelEvent,
  channelForSub,
  type RealtimeOptions,
  type TaskSummary,
  type WebSocketConstructor,
  type WebSocketLike,
} from "./realtime.js";
export type * from "./types.js";
export { FINAL_STATUSES, isFinal, type WatchEvent, type WatchOptions } from "./watch.js";
