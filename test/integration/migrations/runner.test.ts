import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MigrationError } from "../../../functions/core/errors";
import { loadMigrations, migrate } from "../../../functions/core/migrations/runner";
import { createDataApiSqlPort } from "../../../functions/core/sql/dataApiAdapter";
import { startDataApiServer } from "../../support/dataApiServer";
import { createTestDatabase } from "../../support/database";

const repoMigrations = join(import.meta.dirname, "../../../migrations");

describe("migration runner", () => {
  // Each case starts from an empty database of its own.
  const db = { current: undefined as unknown as Awaited<ReturnType<typeof createTestDatabase>> };
  const drops: Array<() => Promise<void>> = [];
  const freshDb = async () => {
    db.current = await createTestDatabase({ migrated: false });
    drops.push(db.current.drop);
  };
  afterEach(async () => {
    await Promise.all(drops.splice(0).map((drop) => drop()));
  });

  it("applies every migration once and creates the tasks table", async () => {
    // Prepare
    await freshDb();
    const migrations = await loadMigrations(repoMigrations);

    // Act
    const first = await migrate(db.current.sql, migrations);
    const second = await migrate(db.current.sql, migrations);

    // Assess
    expect(first.applied).toEqual(migrations.map((m) => m.name));
    expect(second.applied).toEqual([]);
    expect(second.skipped).toEqual(migrations.map((m) => m.name));
    const indexes = await db.current.sql.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE tablename = 'tasks' ORDER BY indexname",
    );
    // Every index the tasks table has, and no other: each is paid for on every write
    // (0003 replaced the old claim order's index; 0007 dropped the two per-owner ones).
    expect(indexes.map((i) => i.indexname)).toEqual([
      "tasks_due_idx",
      "tasks_fair_claim_idx",
      "tasks_lease_recovery_idx",
      "tasks_owner_created_idx",
      "tasks_owner_idempotency_key_idx",
      "tasks_pkey",
      "tasks_retention_idx",
    ]);
  });

  it("is safe when several runners start at once", async () => {
    // Prepare
    await freshDb();
    const dir = await mkdtemp(join(tmpdir(), "migrations-"));
    await writeFile(join(dir, "0001_first.sql"), "CREATE TABLE race_a (id int);");
    await writeFile(
      join(dir, "0002_second.sql"),
      "CREATE TABLE race_b (id int); INSERT INTO race_b VALUES (1);",
    );
    const migrations = await loadMigrations(dir);

    // Act
    const reports = await Promise.all(
      Array.from({ length: 5 }, () => migrate(db.current.sql, migrations)),
    );

    // Assess
    const appliedCounts = reports.flatMap((r) => r.applied);
    expect(appliedCounts.sort()).toEqual(["0001_first.sql", "0002_second.sql"]);
    const rows = await db.current.sql.query<{ n: number }>("SELECT count(*) AS n FROM race_b");
    expect(rows[0]?.n).toBe(1);
  });

  it("applies through the RDS Data API, whose results cannot carry the lock's void", async () => {
    // Prepare: two runners at once, so each really waits on the lock
    await freshDb();
    const server = await startDataApiServer({ databaseUrl: db.current.url });
    drops.push(() => server.close());
    const dataApi = createDataApiSqlPort({
      client: server.createClient(),
      resourceArn: server.resourceArn,
      secretArn: server.secretArn,
      database: server.database,
    });
    const migrations = await loadMigrations(repoMigrations);

    // Act
    const reports = await Promise.all([migrate(dataApi, migrations), migrate(dataApi, migrations)]);

    // Assess
    expect(reports.flatMap((r) => r.applied).sort()).toEqual(migrations.map((m) => m.name));
    const lockCalls = server.calls.filter((c) => c.sql?.includes("pg_advisory_xact_lock"));
    expect(lockCalls.length).toBeGreaterThan(0);
    expect(lockCalls.every((c) => c.status === 200)).toBe(true);
  });

  it("refuses to run when an applied file's checksum changed", async () => {
    // Prepare
    await freshDb();
    const dir = await mkdtemp(join(tmpdir(), "migrations-"));
    await writeFile(join(dir, "0001_changed.sql"), "CREATE TABLE changed_a (id int);");
    await migrate(db.current.sql, await loadMigrations(dir));
    await writeFile(join(dir, "0001_changed.sql"), "CREATE TABLE changed_a (id bigint);");

    // Act
    const run = migrate(db.current.sql, await loadMigrations(dir));

    // Assess
    await expect(run).rejects.toThrow(MigrationError);
    await expect(migrate(db.current.sql, await loadMigrations(dir))).rejects.toThrow(
      /0001_changed\.sql changed after it was applied/,
    );
  });

  it("rolls back a failing migration and names it", async () => {
    // Prepare
    await freshDb();
    const dir = await mkdtemp(join(tmpdir(), "migrations-"));
    await writeFile(
      join(dir, "0001_broken.sql"),
      "CREATE TABLE half_done (id int); SELECT no_such_function();",
    );

    // Act
    const run = migrate(db.current.sql, await loadMigrations(dir));

    // Assess
    await expect(run).rejects.toThrow(/0001_broken\.sql failed: .*no_such_function/);
    const tables = await db.current.sql.query(
      "SELECT 1 FROM pg_tables WHERE tablename = 'half_done'",
    );
    expect(tables).toHaveLength(0);
  });

  it("rejects badly named or out-of-sequence files", async () => {
    await freshDb();
    const dir = await mkdtemp(join(tmpdir(), "migrations-"));
    await writeFile(join(dir, "0002_gap.sql"), "SELECT 1;");
    await expect(loadMigrations(dir)).rejects.toThrow(/out of sequence/);
  });
});
