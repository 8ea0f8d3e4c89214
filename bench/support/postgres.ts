import { rm } from "node:fs/promises";
import { join } from "node:path";
import { loadMigrations, migrate } from "../../functions/core/migrations/runner";
import { createPgSqlPort } from "../../functions/core/sql/pgAdapter";
import {
  ensureDatabase,
  type RunningPostgres,
  startEmbeddedPostgres,
} from "../../functions/local/embeddedPostgres";

/**
 * One embedded PostgreSQL for the whole run, with durable settings (fsync and
 * synchronous_commit on, as the local runtime and Aurora run): with `fast` a commit costs
 * nothing and every figure would flatter the queue. Each benchmark gets a fresh database
 * so none inherits another's dead rows.
 */
export interface BenchPostgres {
  server: RunningPostgres;
  /** Creates and migrates database `name`; returns its connection string. */
  freshDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

const MIGRATIONS_DIR = join(import.meta.dirname, "../../migrations");

export async function startBenchPostgres(workDir: string): Promise<BenchPostgres> {
  const dataDir = join(workDir, `postgres-${process.pid}`);
  const server = await startEmbeddedPostgres({ dataDir, persistent: false, fast: false });
  const migrations = await loadMigrations(MIGRATIONS_DIR);
  return {
    server,
    async freshDatabase(name) {
      await ensureDatabase(server.url(), name);
      const url = server.url(name);
      const sql = createPgSqlPort({ connectionString: url, max: 1 });
      try {
        await migrate(sql, migrations);
      } finally {
        await sql.close();
      }
      return url;
    },
    async stop() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
