import { describe, expect, it } from "vitest";
import { splitStatements } from "../../../functions/core/sql/lexer";
import { compileNamedSql } from "../../../functions/core/sql/namedParams";

describe("compileNamedSql", () => {
  it("numbers names in order of first use and reuses repeated names", () => {
    const { text, names } = compileNamedSql("SELECT :a, :b::int, :a WHERE x = :c_1");
    expect(text).toBe("SELECT $1, $2::int, $1 WHERE x = $3");
    expect(names).toEqual(["a", "b", "c_1"]);
  });

  it("leaves casts, literals, quoted identifiers, comments and dollar quotes alone", () => {
    const sql = `SELECT ':no', "col:no", x::jsonb, $$ :no $$, $t$ :no $t$ -- :no
      /* :no */ , :yes`;
    const { text, names } = compileNamedSql(sql);
    expect(names).toEqual(["yes"]);
    expect(text).toContain("':no'");
    expect(text).toContain('"col:no"');
    expect(text).toContain("x::jsonb");
    expect(text.endsWith("$1")).toBe(true);
  });
});

describe("splitStatements", () => {
  it("splits on top-level semicolons only", () => {
    const statements = splitStatements(`
      -- a comment; with a semicolon
      CREATE TABLE a (x text DEFAULT 'a;b');
      CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;
      SELECT 1`);
    expect(statements).toHaveLength(3);
    expect(statements[0]).toMatch(/CREATE TABLE a \(x text DEFAULT 'a;b'\)$/);
    expect(statements[1]).toContain("$$ SELECT 1; $$");
    expect(statements[2]).toBe("SELECT 1");
  });

  it("keeps E'...' backslash escapes and digit-bearing dollar tags inside their literal", () => {
    const statements = splitStatements(`
      INSERT INTO t VALUES (E'it\\'s; fine', 'plain\\');
      CREATE FUNCTION g() RETURNS int AS $fn1$ SELECT 1; $fn1$ LANGUAGE sql;
      SELECT :x`);
    expect(statements).toHaveLength(3);
    expect(statements[0]).toContain("E'it\\'s; fine'");
    expect(statements[1]).toContain("$fn1$ SELECT 1; $fn1$");
    expect(compileNamedSql("SELECT E'\\' :no', :yes").names).toEqual(["yes"]);
  });
});
