/**
 * The Ollama part of an environment's settings: the three ways the executor reaches an
 * Ollama (an instance in the VPC, PrivateLink to an existing endpoint service, or a URL for
 * LocalStack) and what they share (models, the default one, the call timeout).
 */
import { z } from "zod";
import { CONTEXT_TOKENS } from "../../functions/core/config/settings";
import { required, whole } from "./fields";

/** The port Ollama listens on, in both modes. */
export const OLLAMA_PORT = 11434;

/** A model name as Ollama spells it; also pasted into the instance's user data, so no shell metacharacters. */
const modelName = z
  .string(required("a model name such as llama3.2"))
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/, {
    error: "must be a model name such as llama3.2 or qwen2.5:0.5b (letters, digits, . _ : / -)",
  });

const ollamaCommon = {
  /** The default model (OLLAMA_MODEL); must be in `models`. */
  defaultModel: modelName,
  /** The allowlist (OLLAMA_MODELS); the instance mode also pulls each at boot. */
  models: z.array(modelName, required("a list of model names")).min(1, {
    error: "must list at least one model",
  }),
  /** One LLM call's timeout (LLM_TIMEOUT_MS), also the executor's reserve. */
  llmTimeoutMs: whole(1_000, 840_000),
  /**
   * The context window in tokens (OLLAMA_CONTEXT_LENGTH): the executor sends it as
   * `num_ctx` and splits a longer `summarize` text into chunks that fit (Ollama's own
   * default, 2,048 to 4,096 by release, silently truncates); the instance also starts
   * Ollama with it. 8,192 holds about 6,000 words; memory grows with it (KV cache).
   */
  contextLength: whole(CONTEXT_TOKENS.min, CONTEXT_TOKENS.max).default(CONTEXT_TOKENS.default),
  /** Per model, where one differs (OLLAMA_CONTEXT_LENGTHS), e.g. {"qwen2.5:7b": 32768}. */
  contextLengths: z.record(modelName, whole(CONTEXT_TOKENS.min, CONTEXT_TOKENS.max)).optional(),
};

const OllamaInstanceSchema = z.strictObject({
  mode: z.literal("instance"),
  ...ollamaCommon,
  /** e.g. g5.xlarge (GPU) or m7g.xlarge (CPU, small models only). */
  instanceType: z
    .string(required("an EC2 instance type such as g5.xlarge"))
    .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, {
      error: "must be an EC2 instance type such as g5.xlarge",
    }),
  /** Root volume (GiB): the models live there. */
  volumeGb: whole(20, 16_384),
  /**
   * A public SSM parameter holding the AMI id, e.g. the Deep Learning Base AMI with NVIDIA
   * drivers for GPU types. Omitted: the latest Amazon Linux 2023 for the type's architecture.
   */
  amiSsmParameter: z
    .string()
    .regex(/^\/[A-Za-z0-9_./-]+$/, { error: "must be an SSM parameter name starting with /" })
    .optional(),
  /**
   * Session Manager access to the instance (its three interface endpoints, $21.90 a month
   * per AZ, and AWS's SSM policy on its role). Off by default: the instance needs no
   * shell to serve; turn it on to debug one.
   */
  sessionManager: z.boolean({ error: "must be true or false" }).default(false),
  /**
   * Stop the instance after this many whole minutes without LLM work (lib/llmPower.ts: a
   * CloudWatch alarm's EC2 stop action); the executor asks for a start when work comes.
   * 0 or omitted: never stopped. At most 1,440: an alarm of 1-minute periods looks back a
   * day at most.
   */
  idleStopMinutes: whole(0, 1_440).default(0),
  /** Pin the Ollama release installed at boot (e.g. 0.12.6); omitted: the latest. */
  version: z
    .string()
    .regex(/^\d+\.\d+\.\d+$/, { error: "must be a version such as 0.12.6" })
    .optional(),
});

const OllamaPrivateLinkSchema = z.strictObject({
  mode: z.literal("privateLink"),
  ...ollamaCommon,
  /** The endpoint service fronting an existing Ollama (its NLB listens on 11434). */
  endpointServiceName: z
    .string(required("an endpoint service name such as com.amazonaws.vpce.eu-west-1.vpce-svc-0123"))
    .regex(/^com\.amazonaws\.vpce\.[a-z0-9-]+\.vpce-svc-[0-9a-f]+$/, {
      error: "must be an endpoint service name such as com.amazonaws.vpce.eu-west-1.vpce-svc-0123",
    }),
});

/**
 * An Ollama at a URL, with no private endpoint: for LocalStack, whose VPC is metadata only,
 * so the executor's container reaches an Ollama on the developer's machine.
 */
const OllamaExternalSchema = z.strictObject({
  mode: z.literal("external"),
  ...ollamaCommon,
  host: z.url({ error: "must be a URL such as http://host.docker.internal:11434" }),
});

export const OllamaSchema = z
  .discriminatedUnion(
    "mode",
    [OllamaInstanceSchema, OllamaPrivateLinkSchema, OllamaExternalSchema],
    {
      error: 'needs mode "instance", "privateLink" or "external"',
    },
  )
  .check((ctx) => {
    // LlmActivity counts an attempt when it starts: an instance stopped sooner than one LLM
    // call may last could be stopped under a call that is still running.
    const value = ctx.value;
    if (
      value.mode === "instance" &&
      value.idleStopMinutes > 0 &&
      value.idleStopMinutes * 60_000 <= value.llmTimeoutMs
    ) {
      ctx.issues.push({
        code: "custom",
        input: value.idleStopMinutes,
        path: ["idleStopMinutes"],
        message: `must be longer than one LLM call may last (llmTimeoutMs ${value.llmTimeoutMs} ms), or 0 (never stop)`,
      });
    }
    if (!ctx.value.models.includes(ctx.value.defaultModel)) {
      ctx.issues.push({
        code: "custom",
        input: ctx.value.models,
        path: ["models"],
        message: `must include defaultModel (${ctx.value.defaultModel})`,
      });
    }
  });
