import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { signLocalToken } from "../../functions/local/token";
import {
  FAST_RUNTIME_ENV,
  stopAllRuntimes,
  stopLeftoverPostgres,
} from "../../testkit/localRuntime";
import { type OllamaTestServer, startOllamaServer } from "../../testkit/ollamaServer";
import { E2E_MODELS, REMOTE } from "./e2eTarget";

/**
 * For e2e tests that start (and stop, kill, restart) the local runtime themselves on the
 * embedded PostgreSQL: a data directory of the file's own and the Ollama test server.
 * Nothing is set up when the suite points at a deployment (`REMOTE`).
 */

export interface EmbeddedRuntimeFixture {
  /** The runtime's DATA_DIR (the embedded PostgreSQL lives below it). */
  readonly dataDir: string;
  readonly ollama: OllamaTestServer;
  /** Environment for `startRuntime`: this data directory and Ollama, then `extra`. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** A token the local runtime accepts, for a caller of its own (`<prefix>-<uuid>`). */
  token(prefix: string): Promise<string>;
}

/** Registers the data directory and Ollama for the calling test file (`name` labels the directory). */
export function useEmbeddedRuntime(name: string): EmbeddedRuntimeFixture {
  let dataDir: string | undefined;
  let ollama: OllamaTestServer | undefined;

  beforeAll(async () => {
    if (REMOTE) return;
    // Made by the runtime itself, as on a fresh clone (and readable by the `postgres` user
    // PostgreSQL runs as when this is root, which a 0700 mkdtemp directory is not).
    dataDir = join(tmpdir(), `task-pipeline-e2e-${name}-${randomUUID()}`);
    ollama = await startOllamaServer({ models: E2E_MODELS });
  });
  afterAll(async () => {
    if (REMOTE) return;
    await stopAllRuntimes();
    if (dataDir) stopLeftoverPostgres(dataDir);
    await ollama?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} not ready: use it inside a test or hook`);
    return value;
  };
  return {
    get dataDir() {
      return ready(dataDir, "the data directory");
    },
    get ollama() {
      return ready(ollama, "the Ollama test server");
    },
    env(extra = {}) {
      return {
        DATA_DIR: ready(dataDir, "the data directory"),
        OLLAMA_HOST: ready(ollama, "the Ollama test server").url,
        OLLAMA_MODELS: E2E_MODELS.join(","),
        ...extra,
      };
    },
    token(prefix) {
      return signLocalToken({
        sub: `${prefix}-${randomUUID()}`,
        secret: FAST_RUNTIME_ENV.LOCAL_JWT_SECRET as string,
      });
    },
  };
}
