/**
 * TiDB's ADMIN statements in the parser: ADMIN SHOW DDL JOBS, ADMIN CHECK TABLE (several
 * tables) and ADMIN CHECK INDEX, their AST, the printed form, and a syntax error.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatStatement } from "../parser/format.ts";
import { parse } from "../parser/parse.ts";

const timeout = { timeout: 10_000 };

function only(sql: string): unknown {
  const parsed = parse(sql);
  assert.equal(parsed.kind, "ok", sql);
  if (parsed.kind !== "ok") return undefined;
  assert.equal(parsed.statements.length, 1);
  return parsed.statements[0]!.statement;
}

describe("ADMIN statements", () => {
  it("parse into the admin statement and print back", timeout, () => {
    const cases: [string, unknown, string][] = [
      ["admin show ddl jobs", { kind: "admin", action: "showDdlJobs", tables: [], index: null },
        "ADMIN SHOW DDL JOBS"],
      ["ADMIN CHECK TABLE t1, d.t2", { kind: "admin", action: "checkTable",
        tables: [{ db: null, name: "t1" }, { db: "d", name: "t2" }], index: null },
      "ADMIN CHECK TABLE t1, d.t2"],
      ["ADMIN CHECK INDEX t idx", { kind: "admin", action: "checkIndex",
        tables: [{ db: null, name: "t" }], index: "idx" }, "ADMIN CHECK INDEX t idx"],
    ];
    for (const [sql, ast, printed] of cases) {
      const statement = only(sql);
      assert.deepEqual(statement, ast, sql);
      const text = formatStatement(statement as Parameters<typeof formatStatement>[0]);
      assert.equal(text, printed);
      assert.deepEqual(only(text), ast, text);
    }
  });

  it("reports a syntax error for an unknown ADMIN form", timeout, () => {
    const parsed = parse("ADMIN CHECK SOMETHING t");
    assert.equal(parsed.kind, "error");
  });
});
