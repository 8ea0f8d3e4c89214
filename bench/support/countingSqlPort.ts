import type { SqlPort } from "../../functions/core/sql/port";

/**
 * A SqlPort that counts what goes through it, for "statements per task" and "statements
 * per idle minute". What is counted is what the Data API would bill as a round trip:
 * every `query` is one statement, and a transaction adds two more (BeginTransaction and
 * CommitTransaction, or a ROLLBACK when it throws). A transaction nested in another
 * reuses the outer one and adds nothing. Statements are also counted by a short label
 * (the statement's first words) so a figure that is too high shows where it comes from.
 */
export interface StatementCounts {
  /** Round trips: queries plus transaction begin and end. */
  statements: number;
  queries: number;
  transactions: number;
  byLabel: Record<string, number>;
}

export interface CountingSqlPort {
  port: SqlPort;
  counts(): StatementCounts;
  reset(): void;
}

const LABEL_WORDS = 4;

/** The first few words of a statement, whitespace collapsed: `WITH settled AS (UPDATE`. */
export function statementLabel(sql: string): string {
  const withoutComments = sql.replace(/--[^\n]*/g, " ").replace(/\/\*[\s\S]*?\*\//g, " ");
  return withoutComments.trim().split(/\s+/).slice(0, LABEL_WORDS).join(" ");
}

export function countStatements(inner: SqlPort): CountingSqlPort {
  let counts: StatementCounts = empty();

  const record = (label: string) => {
    counts.statements += 1;
    counts.byLabel[label] = (counts.byLabel[label] ?? 0) + 1;
  };

  const wrap = (target: SqlPort, inTransaction: boolean): SqlPort => ({
    query(sql, params, options) {
      counts.queries += 1;
      record(statementLabel(sql));
      return target.query(sql, params, options);
    },
    async transaction(fn) {
      if (inTransaction) return target.transaction((tx) => fn(wrap(tx, true)));
      counts.transactions += 1;
      record("BEGIN");
      try {
        return await target.transaction((tx) => fn(wrap(tx, true)));
      } finally {
        record("COMMIT/ROLLBACK");
      }
    },
    close: () => target.close(),
  });

  return {
    port: wrap(inner, false),
    counts: () => ({ ...counts, byLabel: { ...counts.byLabel } }),
    reset() {
      counts = empty();
    },
  };
}

function empty(): StatementCounts {
  return { statements: 0, queries: 0, transactions: 0, byLabel: {} };
}

/** Sums the counts of several ports (one per executor loop). */
export function sumCounts(all: readonly StatementCounts[]): StatementCounts {
  const total = empty();
  for (const counts of all) {
    total.statements += counts.statements;
    total.queries += counts.queries;
    total.transactions += counts.transactions;
    for (const [label, n] of Object.entries(counts.byLabel)) {
      total.byLabel[label] = (total.byLabel[label] ?? 0) + n;
    }
  }
  return total;
}
