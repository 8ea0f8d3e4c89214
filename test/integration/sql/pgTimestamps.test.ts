import { describe, expect, it } from "vitest";
import { createPgSqlPort } from "../../../functions/core/sql/pgAdapter";
import { useTestDatabase } from "../../support/database";

/**
 * Timestamps through the node-postgres adapter (its own timestamptz parser, see
 * functions/core/sql/timestamptz.ts) on the real server, in sessions whose time zone
 * prints offsets of whole hours, half hours and quarters, and historical offsets in
 * seconds: each must be the instant PostgreSQL's own epoch says.
 */

const db = useTestDatabase({ migrated: false });

describe("the pg adapter's timestamps", () => {
  it.each(["UTC", "America/St_Johns", "Asia/Kathmandu", "Pacific/Kiritimati", "Europe/Amsterdam"])(
    "are the server's instants in a session at %s",
    async (zone) => {
      // Prepare: one connection, so the session's time zone holds for the query
      const sql = createPgSqlPort({ connectionString: db.current.url, max: 1 });
      try {
        await sql.query(`SET TIME ZONE '${zone}'`);

        // Act: now, a microsecond-precise instant, instants a century apart (the 1900 one
        // printed with a local mean time offset in seconds where the zone had one)
        const rows = await sql.query<{ at: Date; epoch_ms: number }>(`
        SELECT at, floor(extract(epoch FROM at) * 1000) AS epoch_ms
        FROM (VALUES (now()),
                     (timestamptz '2026-11-29 03:20:49.123987+00'),
                     (timestamptz '1900-01-01 00:00:00+00'),
                     (timestamptz '2100-06-30 12:00:00.5+00')) AS v(at)`);

        // Assess
        expect(rows).toHaveLength(4);
        for (const row of rows) {
          expect(row.at).toBeInstanceOf(Date);
          expect(row.at.getTime()).toBe(row.epoch_ms);
        }
      } finally {
        await sql.close();
      }
    },
  );
});
