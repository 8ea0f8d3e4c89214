import { describe, expect, it } from "vitest";
import { countStatements, statementLabel, sumCounts } from "../../../bench/support/countingSqlPort";
import { useTestDatabase } from "../../support/database";

const db = useTestDatabase();

describe("countStatements", () => {
  it("counts each query as one statement and passes its rows through", async () => {
    // Prepare
    const counting = countStatements(db.current.sql);

    // Act
    const rows = await counting.port.query<{ n: number }>("SELECT :n::int AS n", { n: 7 });
    await counting.port.query("SELECT 1");

    // Assess
    expect(rows).toEqual([{ n: 7 }]);
    expect(counting.counts()).toMatchObject({ statements: 2, queries: 2, transactions: 0 });
    expect(counting.counts().byLabel).toEqual({ "SELECT :n::int AS n": 1, "SELECT 1": 1 });
  });

  it("adds begin and commit for a transaction, and nothing for a nested one", async () => {
    // Prepare
    const counting = countStatements(db.current.sql);

    // Act
    const value = await counting.port.transaction(async (tx) => {
      await tx.query("SELECT 1");
      return tx.transaction(async (inner) => {
        const rows = await inner.query<{ two: number }>("SELECT 2 AS two");
        return rows[0]?.two;
      });
    });

    // Assess: BEGIN, two queries, COMMIT.
    expect(value).toBe(2);
    expect(counting.counts()).toMatchObject({ statements: 4, queries: 2, transactions: 1 });
    expect(counting.counts().byLabel).toMatchObject({ BEGIN: 1, "COMMIT/ROLLBACK": 1 });
  });

  it("counts the rollback of a transaction that throws, and the statement that failed", async () => {
    // Prepare
    const counting = countStatements(db.current.sql);

    // Act
    const attempt = counting.port.transaction(async (tx) => {
      await tx.query("SELECT no_such_column FROM tasks");
    });

    // Assess
    await expect(attempt).rejects.toThrow(/no_such_column/);
    expect(counting.counts()).toMatchObject({ statements: 3, queries: 1, transactions: 1 });
  });

  it("starts over on reset and hands out copies, not its live counters", async () => {
    // Prepare
    const counting = countStatements(db.current.sql);
    await counting.port.query("SELECT 1");
    const before = counting.counts();

    // Act
    counting.reset();
    await counting.port.query("SELECT 1");

    // Assess
    expect(before.statements).toBe(1);
    before.byLabel["SELECT 1"] = 99;
    expect(counting.counts()).toEqual({
      statements: 1,
      queries: 1,
      transactions: 0,
      byLabel: { "SELECT 1": 1 },
    });
  });
});

describe("statementLabel", () => {
  it("keeps the first four words, without comments or line breaks", () => {
    // Prepare
    const sql = `-- settle, heartbeat and claim
      WITH settled AS (
        UPDATE tasks SET status = 'completed'`;

    // Act
    const label = statementLabel(sql);

    // Assess
    expect(label).toBe("WITH settled AS (");
  });
});

describe("sumCounts", () => {
  it("adds totals and per-label counts of several ports", () => {
    // Prepare
    const a = { statements: 3, queries: 1, transactions: 1, byLabel: { BEGIN: 1, "SELECT 1": 1 } };
    const b = { statements: 2, queries: 2, transactions: 0, byLabel: { "SELECT 1": 2 } };

    // Act
    const total = sumCounts([a, b]);

    // Assess
    expect(total).toEqual({
      statements: 5,
      queries: 3,
      transactions: 1,
      byLabel: { BEGIN: 1, "SELECT 1": 3 },
    });
  });
});
