import { waitFor } from "../../testkit/waitFor";
/**
 * A small HTTP client for the e2e suite: the API as the frontend calls it (JSON in and
 * out, a bearer token per caller), plus polling helpers. Nothing here knows whether the
 * API runs locally or in AWS.
 */

export interface ApiAnswer<T = unknown> {
  status: number;
  headers: Headers;
  /** The parsed JSON body (undefined when empty). */
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as is (not JSON-encoded), with whatever content-type `headers` say. */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
}

/** The task as the API shows it (docs/design.md "The HTTP API"). */
export interface TaskView {
  id: string;
  type: string;
  title: string | null;
  input: unknown;
  status: "pending" | "in_progress" | "completed" | "failed" | "cancelled";
  priority: number;
  runAt: string;
  attempts: number;
  maxAttempts: number;
  cancelRequested: boolean;
  model: string;
  result: Record<string, unknown> | null;
  error: string | null;
  idempotencyKey: string | null;
  createdAt: string;
  completedAt: string | null;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
  requestId: string;
}

export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async request<T = unknown>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | Buffer | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
    // Joined, not resolved: a base URL with a path (a stage, a proxy prefix) keeps it.
    const response = await fetch(`${this.baseUrl.replace(/\/+$/, "")}${path}`, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  }

  createTask(token: string, task: Record<string, unknown>, idempotencyKey?: string) {
    return this.request<TaskView>("POST", "/api/tasks", {
      token,
      body: task,
      headers: idempotencyKey ? { "idempotency-key": idempotencyKey } : {},
    });
  }

  getTask(token: string, id: string) {
    return this.request<TaskView>("GET", `/api/tasks/${encodeURIComponent(id)}`, { token });
  }

  listTasks(token: string, query: Record<string, string> = {}) {
    const search = new URLSearchParams(query).toString();
    return this.request<{ items: TaskView[]; nextCursor: string | null }>(
      "GET",
      `/api/tasks${search ? `?${search}` : ""}`,
      { token },
    );
  }

  /** Every task of the caller, following `nextCursor`. */
  async listAll(token: string, query: Record<string, string> = {}): Promise<TaskView[]> {
    const items: TaskView[] = [];
    let cursor: string | null = null;
    do {
      const page = await this.listTasks(token, {
        ...query,
        limit: "100",
        ...(cursor ? { cursor } : {}),
      });
      if (page.status !== 200) throw new Error(`list answered ${page.status}: ${page.text}`);
      items.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    return items;
  }

  /** Polls the task until `done` holds for it; returns it. */
  waitForTask(
    token: string,
    id: string,
    done: (task: TaskView) => boolean,
    timeoutMs = 60_000,
  ): Promise<TaskView> {
    return waitFor(
      async () => {
        const answer = await this.getTask(token, id);
        if (answer.status !== 200)
          throw new Error(`get ${id} answered ${answer.status}: ${answer.text}`);
        return done(answer.body) ? answer.body : undefined;
      },
      { timeoutMs, what: `task ${id}` },
    );
  }
}

export const isFinal = (task: TaskView) =>
  task.status === "completed" || task.status === "failed" || task.status === "cancelled";
