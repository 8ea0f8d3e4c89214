import { z } from "zod";
import { MAX_RUNNING_PER_OWNER, RETENTION_SECONDS } from "../../functions/core/config/settings";
import { required, whole } from "./fields";
import { OllamaSchema } from "./ollamaSettings";

/**
 * One deployment environment's settings, as written in cdk.json under
 * `context.environments.<name>`. Parsed once by `loadEnvironmentSettings`; every message
 * is prefixed with the setting's full path (`environments.prod.database.maxCapacity must
 * be ...`) so a bad value names itself. Unknown keys are refused too: a typo such as
 * `databse` must not silently fall back to a default.
 */

/** Lambda's hard ceiling for one invocation. */
export const LAMBDA_MAX_TIMEOUT_SECONDS = 900;
/** Time the executor keeps after its LLM reserve to write the last results and flush metrics. */
export const EXECUTOR_FINISH_MARGIN_SECONDS = 10;
/** The EventBridge schedule's period: `rate(1 minute)`. */
export const SCHEDULE_PERIOD_SECONDS = 60;

const flag = () => z.boolean(required("true or false"));

/** Aurora Serverless v2 capacity: 0 (pause) or 0.5 to 256 ACU, in steps of 0.5. */
const acu = (min: number) =>
  z
    .number(required(`a capacity in ACU from ${min} to 256`))
    .min(min, { error: `must be at least ${min} ACU` })
    .max(256, { error: "must be at most 256 ACU" })
    .refine((value) => Number.isInteger(value * 2), { error: "must be a multiple of 0.5 ACU" });

/** CloudWatch Logs accepts only these retention periods (days). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

const removalPolicy = z.enum(["destroy", "retain"], {
  error: 'must be "destroy" or "retain"',
});

const NetworkSchema = z
  .strictObject({
    /**
     * Availability zones for the subnets (an env-agnostic stack gets at most 2). Aurora
     * needs 2: a DB subnet group must cover at least two AZs
     * (docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html).
     */
    maxAzs: whole(2, 3),
    /**
     * AZs that get the interface endpoints (each costs $0.01 per AZ-hour, $7.30 a month).
     * One is enough where an AZ outage may delay tasks (the schedule retries; a Lambda in
     * another AZ still resolves the endpoint's DNS and reaches it across AZs); default: all.
     */
    endpointAzs: whole(1, 3).optional(),
  })
  .check((ctx) => {
    if ((ctx.value.endpointAzs ?? 0) > ctx.value.maxAzs) {
      ctx.issues.push({
        code: "custom",
        input: ctx.value.endpointAzs,
        path: ["endpointAzs"],
        message: `must be at most maxAzs (${ctx.value.maxAzs})`,
      });
    }
  });

const DatabaseSchema = z
  .strictObject({
    /** The PostgreSQL database the Lambdas use (DB_NAME). */
    name: z
      .string(required("a database name"))
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: "must be a lower-case PostgreSQL identifier" }),
    /**
     * 0 lets Aurora pause when idle (PostgreSQL >= 16.3): scale to zero leaves it without a
     * connection once nothing is due (docs/design.md "Scale to zero"). A resume takes ~15 s.
     */
    minCapacity: acu(0),
    maxCapacity: acu(1),
    /** Seconds without connections before a minCapacity-0 cluster pauses (AWS: 300 to 86,400). */
    autoPauseSeconds: whole(300, 86_400).default(300),
    deletionProtection: flag(),
    /** What `cdk destroy` (or a replacement) does to the cluster: keep it, snapshot it, or delete it. */
    removalPolicy: z.enum(["destroy", "snapshot", "retain"], {
      error: 'must be "destroy", "snapshot" or "retain"',
    }),
    backupRetentionDays: whole(1, 35),
    /** Rotate the master secret every N days (Secrets Manager's hosted rotation Lambda); omit to keep it fixed. */
    secretRotationDays: whole(1, 365).optional(),
  })
  .check((ctx) => {
    if (ctx.value.maxCapacity < ctx.value.minCapacity) {
      ctx.issues.push({
        code: "custom",
        input: ctx.value.maxCapacity,
        path: ["maxCapacity"],
        message: `must be at least minCapacity (${ctx.value.minCapacity})`,
      });
    }
  });

const originSchema = z
  .string(required('an origin such as https://app.example.com, or "*"'))
  .regex(/^(\*|https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?)$/, {
    error: 'must be an origin such as https://app.example.com (no path), or "*"',
  });

const CognitoAuthSchema = z.strictObject({
  mode: z.literal("cognito"),
  /** "required" in production; "optional" lets test users sign in with a password alone. */
  mfa: z.enum(["required", "optional"], { error: 'must be "required" or "optional"' }),
  /**
   * Allow ADMIN_USER_PASSWORD_AUTH on the app client: a caller with IAM credentials can get
   * tokens for a user by password (how the LocalStack e2e script gets its tokens).
   */
  adminPasswordAuth: flag(),
});

const JwtAuthSchema = z.strictObject({
  mode: z.literal("jwt"),
  /** The token issuer, e.g. https://example.eu.auth0.com/ (API Gateway fetches its JWKS). */
  issuer: z.url({ error: "must be the issuer URL (https://...)" }).startsWith("https://", {
    error: "must be an https:// URL",
  }),
  audience: z
    .array(z.string().min(1, { error: "must not be empty" }), required("a list of audiences"))
    .min(1, { error: "must list at least one audience" }),
});

const AuthSchema = z.discriminatedUnion("mode", [CognitoAuthSchema, JwtAuthSchema], {
  error: 'needs mode "cognito" or "jwt"',
});

const ApiSchema = z.strictObject({
  corsOrigins: z
    .array(originSchema, required("a list of origins"))
    .min(1, { error: "must list at least one origin" })
    .refine((origins) => !origins.includes("*") || origins.length === 1, {
      error: '"*" already allows every origin: list it alone',
    }),
  /** Steady-state requests per second and burst, on the API's default stage. */
  throttle: z.strictObject({
    rateLimit: whole(1, 10_000),
    burstLimit: whole(1, 5_000),
  }),
  maxBodyBytes: whole(1_024, 6_291_456),
  healthTimeoutMs: whole(100, 30_000),
  /** Unfinished tasks one owner may have (the api Lambda's MAX_PENDING_PER_OWNER). */
  maxPendingPerOwner: whole(1, 1_000_000).default(10_000),
  memoryMb: whole(128, 10_240).default(512),
});

const ExecutorSchema = z.strictObject({
  /**
   * How long each invocation keeps claiming: about one schedule period, so one invocation is
   * always claiming. The Lambda timeout is this plus the LLM reserve (see executorTimeoutSeconds).
   */
  claimWindowSeconds: whole(10, 300),
  /**
   * Opt-in. Overlapping invocations are already safe (FOR UPDATE SKIP LOCKED and leases),
   * and the LLM server's load is bounded by maxConcurrency per invocation, so nothing needs
   * a reservation. Reserving fails a deploy on accounts whose concurrency quota leaves less
   * than 10 unreserved (new accounts often have a quota of 10). When set, it must cover the
   * overlap (checked below) so a tick is never throttled.
   */
  reservedConcurrency: whole(1, 1000).optional(),
  maxConcurrency: whole(1, 1000),
  // Tuning the executor reads with defaults of its own (functions/core/config/settings.ts):
  // passed on only when set here, so there is one set of defaults, the handler's.
  leaseSeconds: whole(5, 3600).optional(),
  pollIntervalMs: whole(50, 60_000).optional(),
  retryBaseMs: whole(10, 3_600_000).optional(),
  retryMaxMs: whole(10, 86_400_000).optional(),
  /** MAX_RUNNING_PER_OWNER: one owner's tasks in progress at once; unset: no limit. */
  maxRunningPerOwner: whole(MAX_RUNNING_PER_OWNER.min, MAX_RUNNING_PER_OWNER.max).optional(),
  /** RETENTION_SECONDS: finished tasks are deleted this long after they finished. */
  retentionSeconds: whole(RETENTION_SECONDS.min, RETENTION_SECONDS.max).optional(),
  memoryMb: whole(128, 10_240).default(512),
});

const AlarmsSchema = z.strictObject({
  /** Subscribed to the alarm topic when set (the address confirms by mail). */
  email: z.email({ error: "must be an e-mail address" }).optional(),
  /** Alarm when the oldest pending task has waited longer than this. */
  oldestPendingAgeSeconds: whole(30, 86_400),
  /** Alarm when at least this many tasks end failed within 5 minutes. */
  failedTasksPerFiveMinutes: whole(1, 100_000),
});

export const EnvironmentSettingsSchema = z
  .strictObject({
    /** Both or neither: without them the stack is environment-agnostic (synth needs no credentials). */
    account: z
      .string()
      .regex(/^\d{12}$/, { error: "must be a 12-digit AWS account id" })
      .optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: "must be a region such as eu-west-1" })
      .optional(),
    /** What happens to data-holding resources (queues, user pool, log groups) on delete. */
    removalPolicy,
    logRetentionDays: z.union(
      LOG_RETENTION_DAYS.map((days) => z.literal(days)),
      { error: `must be one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(", ")}` },
    ),
    network: NetworkSchema,
    database: DatabaseSchema,
    auth: AuthSchema,
    api: ApiSchema,
    executor: ExecutorSchema,
    ollama: OllamaSchema,
    alarms: AlarmsSchema,
  })
  .check((ctx) => {
    const settings = ctx.value;
    if ((settings.account === undefined) !== (settings.region === undefined)) {
      ctx.issues.push({
        code: "custom",
        input: settings,
        path: [settings.account === undefined ? "account" : "region"],
        message:
          "must be set together with account and region (or neither, for an env-agnostic stack)",
      });
    }
    const timeout = executorTimeoutSeconds(settings);
    if (timeout > LAMBDA_MAX_TIMEOUT_SECONDS) {
      ctx.issues.push({
        code: "custom",
        input: settings.ollama.llmTimeoutMs,
        path: ["ollama", "llmTimeoutMs"],
        message: `makes the executor's Lambda timeout ${timeout} s (executor.claimWindowSeconds ${settings.executor.claimWindowSeconds} + LLM timeout + ${EXECUTOR_FINISH_MARGIN_SECONDS} s margin), over Lambda's ${LAMBDA_MAX_TIMEOUT_SECONDS} s limit`,
      });
    }
    const overlap = overlappingInvocations(settings);
    const reserved = settings.executor.reservedConcurrency;
    if (reserved !== undefined && reserved < overlap) {
      ctx.issues.push({
        code: "custom",
        input: settings.executor.reservedConcurrency,
        path: ["executor", "reservedConcurrency"],
        message: `must be at least ${overlap}: a ${timeout} s executor started every ${SCHEDULE_PERIOD_SECONDS} s overlaps ${overlap} invocations, and a throttled tick would be lost`,
      });
    }
    const { retryBaseMs, retryMaxMs } = settings.executor;
    // With one of them unset the handler's schema checks the pair (checkRuntimeSettings).
    if (retryBaseMs !== undefined && retryMaxMs !== undefined && retryMaxMs < retryBaseMs) {
      ctx.issues.push({
        code: "custom",
        input: settings.executor.retryMaxMs,
        path: ["executor", "retryMaxMs"],
        message: "must be at least executor.retryBaseMs",
      });
    }
  });

export type EnvironmentSettings = z.infer<typeof EnvironmentSettingsSchema>;
export type OllamaSettings = EnvironmentSettings["ollama"];
export type AuthSettings = EnvironmentSettings["auth"];

/**
 * The executor's Lambda timeout: the claiming window (about one schedule period) plus a
 * reserve of one full LLM call, so a task claimed at the last moment still finishes, plus a
 * margin to record it. With the defaults: 60 + 120 + 10 = 190 s.
 */
export function executorTimeoutSeconds(settings: {
  executor: { claimWindowSeconds: number };
  ollama: { llmTimeoutMs: number };
}): number {
  return (
    settings.executor.claimWindowSeconds +
    Math.ceil(settings.ollama.llmTimeoutMs / 1000) +
    EXECUTOR_FINISH_MARGIN_SECONDS
  );
}

/** How many executor invocations can run at once: one per schedule period the timeout spans. */
export function overlappingInvocations(settings: Parameters<typeof executorTimeoutSeconds>[0]) {
  return Math.ceil(executorTimeoutSeconds(settings) / SCHEDULE_PERIOD_SECONDS);
}
