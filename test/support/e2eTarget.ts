import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { signLocalToken } from "../../functions/local/token";
import {
  FAST_RUNTIME_ENV,
  type RuntimeProcess,
  startRuntime,
  stopAllRuntimes,
} from "../../testkit/localRuntime";
import { type OllamaTestServer, startOllamaServer } from "../../testkit/ollamaServer";
import { createTestDatabase, type TestDatabase } from "./database";
import { ApiClient } from "./http";

/**
 * Where the e2e suite points. With `E2E_BASE_URL` set, at that deployment (LocalStack or
 * AWS), with tokens from `E2E_TOKEN` and `E2E_TOKEN_2` (two different callers) or signed
 * with `E2E_JWT_SECRET`. Without it, at a local runtime this suite starts itself (a child
 * process on a fresh test database, talking to the Ollama test server).
 */

export interface LocalTarget {
  runtime: RuntimeProcess;
  ollama: OllamaTestServer;
  database: TestDatabase;
}

export interface E2eTarget {
  api: ApiClient;
  /** Tokens for two different callers. */
  tokenA: string;
  tokenB: string;
  /** Set when the suite started the pipeline itself (and so can control Ollama). */
  local: LocalTarget | undefined;
}

export const REMOTE = Boolean(process.env.E2E_BASE_URL);

/** Models the local runtime allows: the default plus one more, for the allowlist checks. */
export const E2E_MODELS = ["llama3.2", "qwen2.5:0.5b"];

const uniqueCaller = (name: string) => `${name}-${randomBytes(4).toString("hex")}`;

/** Registers the target for the calling test file; read `.current` inside tests. */
export function useE2eTarget(extraEnv: Record<string, string> = {}): {
  readonly current: E2eTarget;
} {
  let target: E2eTarget | undefined;
  let cleanup: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    if (REMOTE) {
      target = await remoteTarget();
      return;
    }
    const database = await createTestDatabase();
    const ollama = await startOllamaServer({ models: E2E_MODELS });
    // Big inputs and results go here, not to the repository's .data/payloads.
    const payloadDir = await mkdtemp(join(tmpdir(), "e2e-payloads-"));
    cleanup = async () => {
      await stopAllRuntimes();
      await ollama.stop();
      await database.drop();
      await rm(payloadDir, { recursive: true, force: true });
    };
    const runtime = await startRuntime({
      DATABASE_URL: database.url,
      OLLAMA_HOST: ollama.url,
      OLLAMA_MODEL: E2E_MODELS[0] as string,
      OLLAMA_MODELS: E2E_MODELS.join(","),
      PAYLOAD_DIR: payloadDir,
      ...extraEnv,
    });
    const secret = FAST_RUNTIME_ENV.LOCAL_JWT_SECRET as string;
    target = {
      api: new ApiClient(runtime.url),
      tokenA: await signLocalToken({ sub: uniqueCaller("alice"), secret }),
      tokenB: await signLocalToken({ sub: uniqueCaller("bob"), secret }),
      local: { runtime, ollama, database },
    };
  });

  afterAll(async () => {
    await cleanup?.();
  });

  return {
    get current() {
      if (!target) throw new Error("e2e target not ready: use it inside a test or hook");
      return target;
    },
  };
}

async function remoteTarget(): Promise<E2eTarget> {
  const baseUrl = process.env.E2E_BASE_URL as string;
  const { E2E_TOKEN, E2E_TOKEN_2, E2E_JWT_SECRET } = process.env;
  let tokenA = E2E_TOKEN;
  let tokenB = E2E_TOKEN_2;
  if (!(tokenA && tokenB)) {
    if (!E2E_JWT_SECRET) {
      throw new Error(
        "E2E_BASE_URL is set: also set E2E_TOKEN and E2E_TOKEN_2 (two callers), or E2E_JWT_SECRET to sign them",
      );
    }
    tokenA ??= await signLocalToken({ sub: uniqueCaller("alice"), secret: E2E_JWT_SECRET });
    tokenB ??= await signLocalToken({ sub: uniqueCaller("bob"), secret: E2E_JWT_SECRET });
  }
  return { api: new ApiClient(baseUrl), tokenA, tokenB, local: undefined };
}
