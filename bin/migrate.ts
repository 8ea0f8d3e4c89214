import { join } from "node:path";
import { DatabaseSettingsSchema, readSettings } from "../functions/core/config/settings";
import { loadMigrations, migrate } from "../functions/core/migrations/runner";
import { createSqlPort } from "../functions/core/sql/fromSettings";
import type { SqlPort } from "../functions/core/sql/port";
import { redactPassword } from "../functions/core/sql/redactPassword";

/**
 * `npm run migrate`: applies `migrations/` (or MIGRATIONS_DIR) to DATABASE_URL, or through
 * the RDS Data API when DB_CLUSTER_ARN and DB_SECRET_ARN (and DB_NAME) are set instead.
 * Prints what it applied; a failure ends with a one-line message and exit code 1.
 */

/** A cluster at 0 ACU takes ~15 s to wake; a person running this can wait 5 minutes. */
const RESUME_WAIT_MS = 5 * 60_000;

const say = (line: string) => process.stdout.write(`${line}\n`);

let sql: SqlPort | undefined;
try {
  const settings = readSettings(DatabaseSettingsSchema);
  const dir = process.env.MIGRATIONS_DIR ?? join(import.meta.dirname, "..", "migrations");
  const target = settings.DATABASE_URL
    ? redactPassword(settings.DATABASE_URL)
    : `${settings.DB_CLUSTER_ARN} (database ${settings.DB_NAME}, through the Data API)`;
  const migrations = await loadMigrations(dir);
  sql = createSqlPort(settings, { resume: { maxWaitMs: RESUME_WAIT_MS }, pg: { max: 1 } });
  say(`migrating ${target} with ${migrations.length} file(s) from ${dir}`);
  const report = await migrate(sql, migrations);
  for (const name of report.applied) say(`applied ${name}`);
  say(
    report.applied.length === 0
      ? `nothing to apply: all ${report.skipped.length} migration(s) already applied`
      : `${report.applied.length} applied, ${report.skipped.length} already applied`,
  );
} catch (error) {
  process.stderr.write(
    `npm run migrate: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
} finally {
  await sql?.close().catch(() => {});
}
