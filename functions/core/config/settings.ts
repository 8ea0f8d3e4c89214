import { z } from "zod";
import { SettingsError } from "../errors";
import { allowedModel } from "../llm/models";

/**
 * Every environment setting of the pipeline, validated once at cold start (or at
 * `npm start`). The same names mean the same thing in the Lambdas' environment and in the
 * local runtime. A bad value fails with the setting's name and what was expected.
 */

/** A whole-number setting with bounds; messages name the setting. */
export const boundedWholeNumber = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a whole number` })
    .int({ error: `${name} must be a whole number` })
    .min(min, { error: `${name} must be at least ${min}` })
    .max(max, { error: `${name} must be at most ${max}` });

/** A whole-number setting with bounds and a default; messages name the setting. */
export const wholeNumber = (name: string, min: number, max: number, fallback: number) =>
  boundedWholeNumber(name, min, max).default(fallback);

/** MAX_RUNNING_PER_OWNER's bounds, read by the schema below, the store and cdk.json's schema. */
export const MAX_RUNNING_PER_OWNER = { min: 1, max: 100_000 } as const;

/**
 * RETENTION_SECONDS's bounds and default (30 days); 60 s is the least, for tests. Read by
 * the schema below and cdk.json's schema.
 */
export const RETENTION_SECONDS = { min: 60, max: 3_650 * 86_400, default: 30 * 86_400 } as const;

/** A model's context window in tokens: Ollama's bounds in practice, and a default that holds ~6,000 words. */
export const CONTEXT_TOKENS = { min: 2_048, max: 131_072, default: 8_192 } as const;

/** `model=tokens,model=tokens` (OLLAMA_CONTEXT_LENGTHS) as a map; empty when unset. */
const contextLengths = (name: string) =>
  z
    .string()
    .optional()
    .transform((text, ctx) => {
      const map: Record<string, number> = {};
      for (const entry of (text ?? "")
        .split(",")
        .map((e) => e.trim())
        .filter(Boolean)) {
        const match = /^([A-Za-z0-9][A-Za-z0-9._:/-]*)=(\d+)$/.exec(entry);
        const tokens = Number(match?.[2]);
        if (!match || tokens < CONTEXT_TOKENS.min || tokens > CONTEXT_TOKENS.max) {
          ctx.issues.push({
            code: "custom",
            input: text,
            message: `${name} must be model=tokens pairs separated by commas, tokens from ${CONTEXT_TOKENS.min} to ${CONTEXT_TOKENS.max} (got "${entry}")`,
          });
          return z.NEVER;
        }
        map[match[1] as string] = tokens;
      }
      return map;
    });

const url = (name: string) =>
  z.url({ error: `${name} must be a URL such as http://127.0.0.1:11434` });

/** A comma-separated list, e.g. `llama3.2,qwen2.5:0.5b`. */
const list = (name: string) =>
  z
    .string()
    .transform((value) =>
      value
        .split(",")
        .map((item) => item.trim())
        .filter(Boolean),
    )
    .refine((items) => items.length > 0, { error: `${name} must list at least one value` });

/** A PostgreSQL connection URL (the local runtime's and `npm run migrate`'s DATABASE_URL). */
export const DatabaseUrlSchema = z
  .string()
  .regex(/^postgres(ql)?:\/\//, { error: "DATABASE_URL must start with postgres://" });

/** Where the database is: a PostgreSQL URL, or an Aurora cluster through the Data API. */
export const DatabaseSettingsSchema = z
  .object({
    DATABASE_URL: DatabaseUrlSchema.optional(),
    DB_CLUSTER_ARN: z
      .string()
      .startsWith("arn:", { error: "DB_CLUSTER_ARN must be an ARN" })
      .optional(),
    DB_SECRET_ARN: z
      .string()
      .startsWith("arn:", { error: "DB_SECRET_ARN must be an ARN" })
      .optional(),
    DB_NAME: z.string().min(1).default("tasks"),
  })
  .check((ctx) => {
    const { DATABASE_URL, DB_CLUSTER_ARN, DB_SECRET_ARN } = ctx.value;
    if (!DATABASE_URL && !(DB_CLUSTER_ARN && DB_SECRET_ARN)) {
      ctx.issues.push({
        code: "custom",
        input: ctx.value,
        path: [DB_CLUSTER_ARN ? "DB_SECRET_ARN" : "DATABASE_URL"],
        message: DB_CLUSTER_ARN
          ? "DB_SECRET_ARN is required with DB_CLUSTER_ARN"
          : "DATABASE_URL (or DB_CLUSTER_ARN and DB_SECRET_ARN for the Data API) is required",
      });
    }
  });
export type DatabaseSettings = z.infer<typeof DatabaseSettingsSchema>;

/** The LLM server and which models tasks may name. */
export const OllamaSettingsSchema = z
  .object({
    OLLAMA_HOST: url("OLLAMA_HOST").default("http://127.0.0.1:11434"),
    OLLAMA_MODEL: z
      .string()
      .min(1, { error: "OLLAMA_MODEL must name a model" })
      .default("llama3.2"),
    /** Allowlist; defaults to just OLLAMA_MODEL. */
    OLLAMA_MODELS: list("OLLAMA_MODELS").optional(),
    /** One LLM call's timeout; also the executor's reserve, so no claimed task outlives its Lambda. */
    LLM_TIMEOUT_MS: wholeNumber("LLM_TIMEOUT_MS", 1_000, 840_000, 120_000),
    /**
     * A model's context window in tokens, sent as `num_ctx` with each call that needs it
     * (a summarize splits a longer text into chunks that fit): Ollama silently drops what
     * does not fit. Per model with OLLAMA_CONTEXT_LENGTHS (`qwen2.5:7b=32768,llama3.2=8192`).
     */
    OLLAMA_CONTEXT_LENGTH: wholeNumber(
      "OLLAMA_CONTEXT_LENGTH",
      CONTEXT_TOKENS.min,
      CONTEXT_TOKENS.max,
      CONTEXT_TOKENS.default,
    ),
    OLLAMA_CONTEXT_LENGTHS: contextLengths("OLLAMA_CONTEXT_LENGTHS"),
  })
  .transform((s) => ({ ...s, OLLAMA_MODELS: s.OLLAMA_MODELS ?? [s.OLLAMA_MODEL] }))
  .check((ctx) => {
    for (const model of Object.keys(ctx.value.OLLAMA_CONTEXT_LENGTHS)) {
      if (allowedModel(model, ctx.value.OLLAMA_MODELS) === undefined) {
        ctx.issues.push({
          code: "custom",
          input: ctx.value,
          path: ["OLLAMA_CONTEXT_LENGTHS"],
          message: `OLLAMA_CONTEXT_LENGTHS names ${model}, which is not in OLLAMA_MODELS`,
        });
      }
    }
    if (!ctx.value.OLLAMA_MODELS.includes(ctx.value.OLLAMA_MODEL)) {
      ctx.issues.push({
        code: "custom",
        input: ctx.value,
        path: ["OLLAMA_MODELS"],
        message: `OLLAMA_MODELS must include OLLAMA_MODEL (${ctx.value.OLLAMA_MODEL})`,
      });
    }
  });
export type OllamaSettings = z.infer<typeof OllamaSettingsSchema>;

/** An EC2 instance id (LLM_INSTANCE_ID). */
const instanceId = z
  .string({ error: "LLM_INSTANCE_ID must be set (the Ollama instance's id)" })
  .regex(/^i-[0-9a-f]{8,17}$/, { error: "LLM_INSTANCE_ID must be an EC2 instance id (i-...)" });

export const ExecutorSettingsSchema = z
  .object({
    /** Lease length; in-flight tasks heartbeat every third of it. */
    LEASE_SECONDS: wholeNumber("LEASE_SECONDS", 5, 3600, 60),
    MAX_CONCURRENCY: wholeNumber("MAX_CONCURRENCY", 1, 1000, 4),
    POLL_INTERVAL_MS: wholeNumber("POLL_INTERVAL_MS", 50, 60_000, 5_000),
    /** Each invocation's budget: the Lambda timeout in AWS, mimicked by the local runtime. */
    EXECUTOR_TIMEOUT_MS: wholeNumber("EXECUTOR_TIMEOUT_MS", 5_000, 900_000, 190_000),
    RETRY_BASE_MS: wholeNumber("RETRY_BASE_MS", 10, 3_600_000, 2_000),
    RETRY_MAX_MS: wholeNumber("RETRY_MAX_MS", 10, 86_400_000, 300_000),
    /**
     * At most this many of one owner's tasks in progress at once, enforced by the claim
     * (functions/core/tasks/sql/fairClaim.ts); unset: no limit.
     */
    MAX_RUNNING_PER_OWNER: boundedWholeNumber(
      "MAX_RUNNING_PER_OWNER",
      MAX_RUNNING_PER_OWNER.min,
      MAX_RUNNING_PER_OWNER.max,
    ).optional(),
    /** Tasks that finished longer ago than this are deleted by the executor, in batches. */
    RETENTION_SECONDS: wholeNumber(
      "RETENTION_SECONDS",
      RETENTION_SECONDS.min,
      RETENTION_SECONDS.max,
      RETENTION_SECONDS.default,
    ),
    /** Optional: where tasks that end failed are reported. */
    FAILED_TASKS_QUEUE_URL: url("FAILED_TASKS_QUEUE_URL").optional(),
    /**
     * Optional: where a start of the stopped LLM server is asked for (lib/llmPower.ts; only
     * an `instance` Ollama with idleStopMinutes). Absent: nothing is started.
     */
    LLM_START_QUEUE_URL: url("LLM_START_QUEUE_URL").optional(),
    /** Optional: the LLM server's instance, named by the LlmActivity metric its idle alarm watches. */
    LLM_INSTANCE_ID: instanceId.optional(),
  })
  .check((ctx) => {
    if (ctx.value.RETRY_MAX_MS < ctx.value.RETRY_BASE_MS) {
      ctx.issues.push({
        code: "custom",
        input: ctx.value,
        path: ["RETRY_MAX_MS"],
        message: "RETRY_MAX_MS must be at least RETRY_BASE_MS",
      });
    }
  });
export type ExecutorSettings = z.infer<typeof ExecutorSettingsSchema>;

/**
 * Scale to zero (functions/core/wake): both optional; without them every tick reads the
 * database and a new task waits for the next tick or poll, as before.
 */
export const WakeSettingsSchema = z.object({
  /** The DynamoDB table holding the due marker; the api Lambda lowers it, the executor reads it. */
  DUE_MARKER_TABLE: z
    .string()
    .regex(/^[\w.-]{3,255}$/, { error: "DUE_MARKER_TABLE must be a DynamoDB table name" })
    .optional(),
  /** The SQS queue a create sends its wake message to (the api Lambda only). */
  WAKE_QUEUE_URL: url("WAKE_QUEUE_URL").optional(),
});
export type WakeSettings = z.infer<typeof WakeSettingsSchema>;

/**
 * Where inputs and results too big for a row are kept (the claim check, core/payloads):
 * an S3 bucket in AWS, a directory locally. Neither: no claim check, and an input over the
 * row's inline budget is a 400.
 */
export const PayloadSettingsSchema = z.object({
  PAYLOAD_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
      error: "PAYLOAD_BUCKET must be an S3 bucket name",
    })
    .optional(),
  /** A directory (the local runtime: DATA_DIR/payloads). Ignored when PAYLOAD_BUCKET is set. */
  PAYLOAD_DIR: z.string().min(1, { error: "PAYLOAD_DIR must be a directory path" }).optional(),
});
export type PayloadSettings = z.infer<typeof PayloadSettingsSchema>;

/** The LLM starter Lambda (functions/llmStarter, lib/llmPower.ts): the instance it starts. */
export const LlmStarterSettingsSchema = z.object({ LLM_INSTANCE_ID: instanceId });
export type LlmStarterSettings = z.infer<typeof LlmStarterSettingsSchema>;

export const ApiSettingsSchema = z.object({
  /** Origins allowed by CORS; `*` allows any (development only). */
  CORS_ORIGINS: list("CORS_ORIGINS").default(["http://localhost:5173"]),
  /**
   * Largest accepted request body; larger is a 413. 5 MiB by default: Lambda takes 6 MB
   * per invocation, and the event around the body (headers, JWT claims, the body's JSON
   * escapes once more) needs the rest. A single task's input is capped lower,
   * MAX_INPUT_BYTES (core/tasks/byteBudgets.ts), so that a GET can return it whole.
   */
  MAX_BODY_BYTES: wholeNumber("MAX_BODY_BYTES", 1_024, 6_291_456, 5_242_880),
  /** The health check's database timeout. */
  HEALTH_TIMEOUT_MS: wholeNumber("HEALTH_TIMEOUT_MS", 100, 30_000, 2_000),
  /**
   * Unfinished (pending + in_progress) tasks one owner may have; a create beyond is a 429.
   * Generous by default: it stops a runaway client, not a busy one.
   */
  MAX_PENDING_PER_OWNER: wholeNumber("MAX_PENDING_PER_OWNER", 1, 1_000_000, 10_000),
});
export type ApiSettings = z.infer<typeof ApiSettingsSchema>;

/**
 * Where task events are published (docs/design.md "Real time"): AppSync Events' HTTP
 * publish URL, IAM-signed for AWS_REGION; or the local runtime's, with its API key. Unset:
 * nothing is published.
 */
export const RealtimeSettingsSchema = z
  .object({
    REALTIME_PUBLISH_URL: z
      .url({ error: "REALTIME_PUBLISH_URL must be a URL such as https://<http domain>/event" })
      .optional(),
    /** The FIFO queue the relay publishes from (the executor, in its VPC without a NAT). */
    REALTIME_QUEUE_URL: url("REALTIME_QUEUE_URL").optional(),
    REALTIME_API_KEY: z
      .string()
      .min(16, { error: "REALTIME_API_KEY must be at least 16 characters" })
      .optional(),
    AWS_REGION: z.string().min(1).default("us-east-1"),
  })
  .check((ctx) => {
    const { REALTIME_PUBLISH_URL, REALTIME_API_KEY } = ctx.value;
    if (REALTIME_PUBLISH_URL && !REALTIME_API_KEY && !REALTIME_PUBLISH_URL.startsWith("https://")) {
      ctx.issues.push({
        code: "custom",
        input: ctx.value,
        path: ["REALTIME_PUBLISH_URL"],
        message:
          "REALTIME_PUBLISH_URL must be https:// when publishing with IAM (no REALTIME_API_KEY)",
      });
    }
  });
export type RealtimeSettings = z.infer<typeof RealtimeSettingsSchema>;

/**
 * Parses `env` with `schema`. Throws SettingsError whose message lists each bad setting
 * by name, e.g. `invalid settings: MAX_CONCURRENCY must be at least 1 (got "0")`.
 */
export function readSettings<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  // An empty variable means "not set" (`FOO= npm start`), so it takes the default.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ""),
  );
  const parsed = schema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = issue.path.map(String).join(".");
    const got = name && name in cleaned ? ` (got ${JSON.stringify(cleaned[name])})` : "";
    const message = issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`;
    return `${message}${got}`;
  });
  throw new SettingsError(`invalid settings: ${problems.join("; ")}`, problems);
}
