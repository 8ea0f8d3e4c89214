import { describe, expect, it } from "vitest";
import { createPgSqlPort } from "../../../functions/core/sql/pgAdapter";
import { useTestDatabase } from "../../support/database";

/**
 * QueryOptions.prepareAs through the node-postgres adapter, on the real server: the
 * statement is parsed once per connection and planned for each call's values (a generic
 * plan after 5 calls would be blind to values such as the sync's claim limit of 0).
 */

const db = useTestDatabase({ migrated: false });

const PREPARED = `SELECT name, custom_plans, generic_plans
                  FROM pg_prepared_statements WHERE name = :name`;

describe("the pg adapter's prepared statements", () => {
  it("keeps a named statement parsed per connection and plans it per call", async () => {
    // Prepare: one connection, so every call and the check share its session
    const sql = createPgSqlPort({ connectionString: db.current.url, max: 1 });
    try {
      const text =
        "SELECT n FROM (VALUES (1), (2), (3), (4), (5), (6), (7), (8)) AS v(n) WHERE n <= cast(:n AS integer) AND n > cast(:min AS integer)";

      // Act: more calls than the 5 after which PostgreSQL may choose a generic plan
      const counts: number[] = [];
      for (let n = 1; n <= 8; n++) {
        counts.push((await sql.query(text, { n, min: 0 }, { prepareAs: "probe" })).length);
      }
      await sql.query(text, { n: 3, min: 1 });

      // Assess
      expect(counts).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(await sql.query(PREPARED, { name: "probe" })).toEqual([
        { name: "probe", custom_plans: 8, generic_plans: 0 },
      ]);
      const unnamed = await sql.query("SELECT count(*) AS n FROM pg_prepared_statements");
      expect(unnamed).toEqual([{ n: 1 }]);
    } finally {
      await sql.close();
    }
  });

  it("runs a named statement inside a transaction, and refuses one name for two texts", async () => {
    // Prepare
    const sql = createPgSqlPort({ connectionString: db.current.url, max: 1 });
    try {
      // Act
      const inTransaction = await sql.transaction((tx) =>
        tx.query("SELECT cast(:v AS integer) AS v", { v: 7 }, { prepareAs: "pair" }),
      );
      const reused = sql.query(
        "SELECT cast(:v AS integer) + 1 AS v",
        { v: 7 },
        {
          prepareAs: "pair",
        },
      );

      // Assess: never the other text's answer under the same name
      expect(inTransaction).toEqual([{ v: 7 }]);
      await expect(reused).rejects.toThrow(/Prepared statements must be unique/);
    } finally {
      await sql.close();
    }
  });
});
