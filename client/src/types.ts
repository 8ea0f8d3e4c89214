/**
 * The API's shapes, named: all of them come from schema.ts, which openapi-typescript
 * generates from the repository's openapi.json (`npm run client:types`; a test keeps it
 * current). Nothing here is written by hand but the names.
 */
import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];

/** A task, narrowed by `type` to its own input and result. */
export type Task = Schemas["Task"];
export type TaskType = Task["type"];
export type TaskStatus = Task["status"];
/** How far a running task is (`{step, done, total}`), as its executor last reported it. */
export type TaskProgress = NonNullable<Task["progress"]>;
/** A task of one type: `TaskOf<"summarize">`. */
export type TaskOf<T extends TaskType> = Extract<Task, { type: T }>;

/** A create body, narrowed by `type` to its input; defaulted fields are optional. */
export type CreateTaskRequest = Schemas["CreateTaskRequest"];
export type TaskPage = Schemas["TaskPage"];
export type Metrics = Schemas["Metrics"];
export type Health = Schemas["Health"];

/** The API's error body; `error` narrows by `code` to its `details`. */
export type ApiErrorBody = Schemas["Error"];
export type ApiErrorCode = ApiErrorBody["error"]["code"];
/** What API Gateway answers by itself (its JWT authorizer's 401, throttling's 429). */
export type GatewayErrorBody = Schemas["GatewayError"];

export type ListTasksQuery = NonNullable<paths["/api/tasks"]["get"]["parameters"]["query"]>;
