import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { MigrationError } from "../errors";
import { splitStatements } from "../sql/lexer";
import type { SqlPort } from "../sql/port";

/**
 * Applies `migrations/NNNN_name.sql` in order, each once, each in its own transaction,
 * recording name and checksum in `schema_migrations`.
 *
 * Safe with several runners at once (two deploys, two local runtimes) and through the
 * Data API, which has no session to hold a lock across calls: each file's transaction
 * takes a transaction-scoped advisory lock and re-checks whether the file was applied
 * before applying it, so a runner that waited finds the work done and skips it.
 */

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationReport {
  applied: string[];
  skipped: string[];
}

/** Any fixed 64-bit number; it only has to differ from other advisory locks in the database. */
const LOCK_KEY = 727_146_001;
/**
 * Waits for the lock. `pg_advisory_xact_lock` returns `void`, a type the Data API cannot
 * encode (UnsupportedResultException), so the statement selects a boolean about it instead.
 */
const TAKE_LOCK = "SELECT pg_advisory_xact_lock(:key) IS NULL AS locked";
const FILE_PATTERN = /^(\d{4})_[a-z0-9_]+\.sql$/;

export async function loadMigrations(dir: string): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const files = await Promise.all(
    names.map(async (name) => ({ name, sql: await readFile(join(dir, name), "utf8") })),
  );
  return toMigrations(files);
}

/** The same, synchronously: for CDK synth, whose constructs cannot await. */
export function loadMigrationsSync(dir: string): Migration[] {
  const names = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  return toMigrations(names.map((name) => ({ name, sql: readFileSync(join(dir, name), "utf8") })));
}

/** Checks names and sequence (0001, 0002, ...) and computes each checksum. */
function toMigrations(files: readonly { name: string; sql: string }[]): Migration[] {
  return files.map(({ name, sql }, i) => {
    const match = FILE_PATTERN.exec(name);
    if (!match) {
      throw new MigrationError(`migration file ${name} must be named NNNN_lowercase_name.sql`);
    }
    if (Number(match[1]) !== i + 1) {
      throw new MigrationError(`migration ${name} is out of sequence: expected number ${i + 1}`);
    }
    return { name, sql, checksum: checksumOf(sql) };
  });
}

export function checksumOf(sql: string): string {
  // Line endings do not change what a file does: a checkout with CRLF must still match.
  return createHash("sha256").update(sql.replace(/\r\n/g, "\n")).digest("hex");
}

export async function migrate(
  sql: SqlPort,
  migrations: readonly Migration[],
): Promise<MigrationReport> {
  await sql.transaction(async (tx) => {
    await tx.query(TAKE_LOCK, { key: LOCK_KEY });
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         name text PRIMARY KEY,
         checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
  });

  const recorded = await sql.query<{ name: string; checksum: string }>(
    "SELECT name, checksum FROM schema_migrations ORDER BY name",
  );
  const known = new Map(migrations.map((m) => [m.name, m]));
  for (const row of recorded) {
    const file = known.get(row.name);
    if (!file) {
      throw new MigrationError(`migration ${row.name} was applied but its file is missing`);
    }
    if (file.checksum !== row.checksum) {
      throw new MigrationError(
        `migration ${row.name} changed after it was applied (checksum ${row.checksum.slice(0, 12)} in the database, ${file.checksum.slice(0, 12)} on disk): add a new migration instead of editing it`,
      );
    }
  }

  const report: MigrationReport = { applied: [], skipped: [] };
  for (const migration of migrations) {
    if (recorded.some((r) => r.name === migration.name)) {
      report.skipped.push(migration.name);
      continue;
    }
    const applied = await sql.transaction(async (tx) => {
      await tx.query(TAKE_LOCK, { key: LOCK_KEY });
      const done = await tx.query("SELECT 1 FROM schema_migrations WHERE name = :name", {
        name: migration.name,
      });
      if (done.length > 0) return false;
      try {
        // One statement per call: the Data API does not run multi-statement scripts.
        for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      } catch (error) {
        throw new MigrationError(
          `migration ${migration.name} failed: ${(error as Error).message}`,
          {
            cause: (error as Error).message,
          },
        );
      }
      await tx.query("INSERT INTO schema_migrations (name, checksum) VALUES (:name, :checksum)", {
        name: migration.name,
        checksum: migration.checksum,
      });
      return true;
    });
    (applied ? report.applied : report.skipped).push(migration.name);
  }
  return report;
}
