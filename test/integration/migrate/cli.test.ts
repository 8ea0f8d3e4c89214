import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startDataApiServer } from "../../support/dataApiServer";
import { createTestDatabase } from "../../support/database";

const root = join(import.meta.dirname, "../../..");

/** Runs `bin/migrate.ts` (what `npm run migrate` runs) with exactly `env`. */
function runMigrate(env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bin/migrate.ts"], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function tablesOf(db: Awaited<ReturnType<typeof createTestDatabase>>) {
  const rows = await db.sql.query<{ name: string }>(
    "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
  );
  return rows.map((r) => r.name);
}

describe("npm run migrate", () => {
  const drops: Array<() => Promise<void>> = [];
  afterAll(async () => {
    await Promise.all(drops.map((drop) => drop()));
  });

  it("applies migrations/ to DATABASE_URL once, then finds nothing to apply", async () => {
    // Prepare
    const db = await createTestDatabase({ migrated: false });
    drops.push(db.drop);

    // Act
    const first = await runMigrate({ DATABASE_URL: db.url });
    const second = await runMigrate({ DATABASE_URL: db.url });

    // Assess
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/applied 0001_tasks\.sql/);
    expect(first.stdout).not.toContain(":postgres@"); // the password is not printed
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/nothing to apply/);
    expect(await tablesOf(db)).toEqual(["owner_claims", "schema_migrations", "tasks"]);
  });

  it("applies them through the RDS Data API when DB_CLUSTER_ARN is set", async () => {
    // Prepare
    const db = await createTestDatabase({ migrated: false });
    drops.push(db.drop);
    const server = await startDataApiServer({ databaseUrl: db.url });
    drops.push(server.close);
    // The first call meets a cluster waking from 0 ACU.
    server.failNext({ name: "DatabaseResumingException", times: 1 });

    // Act
    const result = await runMigrate({
      DB_CLUSTER_ARN: server.resourceArn,
      DB_SECRET_ARN: server.secretArn,
      DB_NAME: server.database,
      AWS_ENDPOINT_URL_RDS_DATA: server.endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
    });

    // Assess
    // (stderr may carry the AWS SDK's Node-version notice; no error line, though.)
    expect(result.stderr).not.toMatch(/npm run migrate:/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/through the Data API/);
    expect(result.stdout).toMatch(/applied 0001_tasks\.sql/);
    expect(await tablesOf(db)).toEqual(["owner_claims", "schema_migrations", "tasks"]);
    expect(server.calls[0]?.error).toBe("DatabaseResumingException");
    expect(server.calls.filter((c) => c.operation === "Execute").length).toBeGreaterThan(5);
    expect(server.openTransactions()).toBe(0);
  });

  it("exits 1 with a message naming a bad setting", async () => {
    // Act
    const result = await runMigrate({ DATABASE_URL: "mysql://somewhere/tasks" });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/npm run migrate: .*DATABASE_URL must start with postgres:\/\//);
  });

  it("exits 1 naming the database error when the server cannot be reached", async () => {
    // Act
    const result = await runMigrate({
      DATABASE_URL: "postgres://nobody:secret@127.0.0.1:1/tasks",
    });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/npm run migrate: .*ECONNREFUSED/);
  });
});
