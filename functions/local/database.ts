import { createServer } from "node:net";
import { join } from "node:path";
import { loadMigrations, type MigrationReport, migrate } from "../core/migrations/runner";
import { createPgSqlPort } from "../core/sql/pgAdapter";
import { redactPassword } from "../core/sql/redactPassword";
import type { Logger } from "../core/telemetry/ports";
import { claimDataDirectory } from "./dataDirectory";
import { ensureDatabase, freePort, startEmbeddedPostgres } from "./embeddedPostgres";
import type { LocalSettings } from "./settings";

/**
 * The local runtime's PostgreSQL: the server at DATABASE_URL when set, else an embedded one
 * whose data stays in DATA_DIR across restarts. Migrations are applied either way, before
 * any handler runs.
 */

export interface LocalDatabase {
  /** The connection string the handlers get as DATABASE_URL. */
  url: string;
  /** For the banner: where the data is, the password hidden. */
  description: string;
  migrations: MigrationReport;
  /** The embedded server's pid, if any (signalled on an unexpected exit). */
  serverPid?: number;
  /**
   * Settles if the embedded server dies under the runtime (killed, crashed), with a
   * sentence saying so; never for an external server or a requested stop.
   */
  lost?: Promise<string>;
  /** Stops the embedded server (a no-op for an external one). */
  stop(): Promise<void>;
}

const MIGRATIONS_DIR = join(import.meta.dirname, "../../migrations");
/** The database the embedded server holds the tables in (DB_NAME's default in AWS too). */
const EMBEDDED_DATABASE = "tasks";

export async function openLocalDatabase(
  settings: Pick<LocalSettings, "DATABASE_URL" | "DATA_DIR" | "EMBEDDED_POSTGRES_PORT">,
  logger: Logger,
): Promise<LocalDatabase> {
  if (settings.DATABASE_URL) {
    const url = settings.DATABASE_URL;
    const migrations = await applyMigrations(url, "DATABASE_URL");
    return {
      url,
      description: `DATABASE_URL ${redactPassword(url)}`,
      migrations,
      stop: async () => {},
    };
  }

  const dataDir = await claimDataDirectory(settings.DATA_DIR, logger);
  try {
    const port = await preferredPort(settings.EMBEDDED_POSTGRES_PORT);
    const server = await startEmbeddedPostgres({
      dataDir: dataDir.postgresDir,
      port,
      persistent: true,
      detached: true,
      onLog: (line) => logger.debug("postgres", { line }),
    });
    try {
      await ensureDatabase(server.url(), EMBEDDED_DATABASE);
      const url = server.url(EMBEDDED_DATABASE);
      const migrations = await applyMigrations(url, "the embedded PostgreSQL");
      return {
        url,
        description: `embedded PostgreSQL on port ${server.port}, data in ${dataDir.postgresDir} (${redactPassword(url)})`,
        migrations,
        serverPid: server.pid,
        lost: server.unexpectedExit.then(
          ({ code, signal }) =>
            `the embedded PostgreSQL (pid ${server.pid}) exited unexpectedly (${
              signal ? `signal ${signal}` : `exit code ${code}`
            })`,
        ),
        async stop() {
          await server.stop();
          await dataDir.release();
        },
      };
    } catch (error) {
      await server.stop();
      throw error;
    }
  } catch (error) {
    await dataDir.release();
    throw error;
  }
}

async function applyMigrations(url: string, where: string): Promise<MigrationReport> {
  const sql = createPgSqlPort({ connectionString: url, max: 1, connectionTimeoutMs: 10_000 });
  try {
    return await migrate(sql, await loadMigrations(MIGRATIONS_DIR));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`could not apply migrations to ${where}: ${reason}`, { cause: error });
  } finally {
    await sql.close();
  }
}

/** The configured port when it is free (0: any), else any free one. */
async function preferredPort(port: number): Promise<number> {
  if (port === 0) return freePort();
  const free = await new Promise<boolean>((resolvePort) => {
    const probe = createServer();
    probe.once("error", () => resolvePort(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolvePort(true)));
  });
  return free ? port : freePort();
}
