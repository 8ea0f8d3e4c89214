import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, inject } from "vitest";
import { createPgSqlPort } from "../../functions/core/sql/pgAdapter";
import type { SqlPort } from "../../functions/core/sql/port";

export interface TestDatabase {
  /** Connection string of this file's own database. */
  url: string;
  name: string;
  /** A pg-backed port on it (pool of 10). */
  sql: SqlPort;
  /** Removes every task (between tests of one file). */
  truncate(): Promise<void>;
}

/** A migrated database copied from the template, one per test file. */
export async function createTestDatabase(
  options: { migrated?: boolean } = {},
): Promise<TestDatabase & { drop(): Promise<void> }> {
  const { serverUrl, template } = inject("postgres");
  const name = `test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(
      `CREATE DATABASE ${name}${options.migrated === false ? "" : ` TEMPLATE ${template}`}`,
    );
  } finally {
    await admin.end();
  }
  const url = serverUrl.replace(/\/[^/]*$/, `/${name}`);
  const sql = createPgSqlPort({ connectionString: url, max: 10 });
  return {
    url,
    name,
    sql,
    truncate: async () => {
      await sql.query("TRUNCATE tasks, owner_claims");
    },
    drop: async () => {
      await sql.close();
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Registers a fresh database for the calling test file; read `.current` inside tests. */
export function useTestDatabase(options: { migrated?: boolean } = {}): {
  readonly current: TestDatabase;
} {
  let db: (TestDatabase & { drop(): Promise<void> }) | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(options);
  });
  afterAll(async () => {
    await db?.drop();
  });
  return {
    get current() {
      if (!db) throw new Error("test database not ready: use it inside a test or hook");
      return db;
    },
  };
}
