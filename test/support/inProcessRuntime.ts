import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { type Logger, silentLogger } from "../../functions/core/telemetry/ports";
import { type LocalRuntime, startLocalRuntime } from "../../functions/local/runtime";
import { signLocalToken } from "../../functions/local/token";
import { FAST_RUNTIME_ENV } from "../../testkit/localRuntime";
import { type OllamaTestServer, startOllamaServer } from "../../testkit/ollamaServer";
import { createTestDatabase, type TestDatabase } from "./database";

/**
 * `npm start`'s runtime in the test's own process: the local API Gateway in front of the
 * real api handler, the executor on its schedule, on this file's own database and the
 * Ollama test server. Lighter than a child process (no embedded PostgreSQL of its own) and
 * the same code from the HTTP socket down; for tests of what a client of the API sees.
 */

export interface InProcessRuntime {
  readonly url: string;
  readonly ollama: OllamaTestServer;
  readonly database: TestDatabase;
  /** A token the runtime accepts for `sub`. */
  token(sub: string): Promise<string>;
}

export function useInProcessRuntime(
  env: Record<string, string> = {},
  options: { logger?: Logger } = {},
): InProcessRuntime {
  let database: (TestDatabase & { drop(): Promise<void> }) | undefined;
  let ollama: OllamaTestServer | undefined;
  let runtime: LocalRuntime | undefined;
  const saved = { ...process.env };

  let payloadDir: string | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    payloadDir = await mkdtemp(join(tmpdir(), "payloads-"));
    ollama = await startOllamaServer();
    Object.assign(process.env, {
      ...FAST_RUNTIME_ENV,
      DATABASE_URL: database.url,
      PORT: "0",
      OLLAMA_HOST: ollama.url,
      LOG_LEVEL: "ERROR",
      POWERTOOLS_METRICS_DISABLED: "true",
      PAYLOAD_DIR: payloadDir,
      ...env,
    });
    runtime = await startLocalRuntime({ logger: options.logger ?? silentLogger });
  });
  afterAll(async () => {
    await runtime?.stop({ graceMs: 0 });
    await ollama?.stop();
    await database?.drop();
    if (payloadDir) await rm(payloadDir, { recursive: true, force: true });
    process.env = saved;
  });

  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} not ready: use it inside a test or hook`);
    return value;
  };
  return {
    get url() {
      return ready(runtime, "the runtime").url;
    },
    get ollama() {
      return ready(ollama, "the Ollama test server");
    },
    get database() {
      return ready(database, "the database");
    },
    token: (sub) => signLocalToken({ sub, secret: FAST_RUNTIME_ENV.LOCAL_JWT_SECRET as string }),
  };
}
