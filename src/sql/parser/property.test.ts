/**
 * Property tests with fixed seeds: generated trees survive formatStatement → parse
 * unchanged, and random text (SQL-like token soup and arbitrary strings) always ends in a
 * tree or a SqlSyntaxError — never another exception, never a hang.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Statement } from "./ast.ts";
import { normalizeDigest } from "./digest.ts";
import { formatExpr, formatStatement } from "./format.ts";
import { parse, parseExpression } from "./parse.ts";
import { SqlSyntaxError } from "./syntax_error.ts";
import { exprArb, queryArb } from "./test_arbitraries.ts";

const opts = { timeout: 60_000 };

/**
 * A tree as text with sorted keys. Placeholders are numbered by position; generated trees
 * number them all 0, so indexes are ignored.
 */
function canonical(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => {
    if (key === "index") return 0;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)));
    }
    return v;
  });
}

test("generated expressions round-trip through formatExpr and parseExpression", opts, () => {
  fc.assert(
    fc.property(exprArb, (expr) => {
      const text = formatExpr(expr);
      const result = parseExpression(text);
      if (result.kind === "error") assert.fail(`${text}: ${result.error.message}`);
      assert.equal(canonical(result.expr), canonical(expr), text);
    }),
    { seed: 20_240_601, numRuns: 1500 },
  );
});

test("generated queries round-trip through formatStatement and parse", opts, () => {
  fc.assert(
    fc.property(queryArb, (query) => {
      const text = formatStatement(query);
      const result = parse(text);
      if (result.kind === "error") assert.fail(`${text}: ${result.error.message}`);
      assert.equal(result.statements.length, 1, text);
      assert.equal(canonical(result.statements[0]?.statement), canonical(query), text);
    }),
    { seed: 7_041_993, numRuns: 600 },
  );
});

const vocabulary = [
  "SELECT", "FROM", "WHERE", "GROUP", "BY", "ORDER", "LIMIT", "UNION", "ALL", "JOIN", "LEFT",
  "ON", "USING", "AS", "AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "BETWEEN", "CASE",
  "WHEN", "THEN", "ELSE", "END", "INSERT", "INTO", "VALUES", "UPDATE", "SET", "DELETE",
  "CREATE", "TABLE", "INT", "VARCHAR", "PRIMARY", "KEY", "DROP", "ALTER", "ADD", "COLUMN",
  "INTERVAL", "DAY", "WITH", "RECURSIVE", "OVER", "PARTITION", "ROWS", "EXISTS", "ANY",
  "SHOW", "TABLES", "BEGIN", "COMMIT", "ROLLBACK", "CAST", "CONVERT", "USING", "COLLATE",
  "BINARY", "DEFAULT", "t", "a", "b", "count", "sum", "`q`", "1", "2.5", "1e3", "'s'",
  "\"d\"", "X'0f'", "0x1", "b'1'", "?", "@v", "@@x", "(", ")", ",", ";", ".", "*", "+",
  "-", "/", "%", "=", "<", ">", "<=", "<>", "!=", "<=>", "!", "~", "^", "&", "|", "<<", "&&",
  "||", ":=", "->", "/*!", "*/", "/*+", "--", "#", "\n", "_utf8mb4",
];

function parsesOrFailsCleanly(text: string): void {
  const result = parse(text);
  if (result.kind === "error") {
    assert.ok(result.error instanceof SqlSyntaxError);
    assert.ok(result.error.line >= 1 && result.error.column >= 1);
    assert.ok([...result.error.near].length <= 80);
    return;
  }
  // Whatever parses must also print and parse back to the same trees.
  for (const s of result.statements) {
    const again = parse(formatStatement(s.statement));
    if (again.kind === "error") {
      assert.fail(`${text} printed as ${formatStatement(s.statement)}: ${again.error.message}`);
    }
    assert.equal(
      canonical(again.statements.map((x) => x.statement)),
      canonical([s.statement] satisfies Statement[]),
    );
  }
}

test("random SQL-like token sequences parse or fail with a syntax error", opts, () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...vocabulary), { maxLength: 40 }),
      fc.constantFrom(" ", ""),
      (tokens, glue) => {
        const text = tokens.join(glue === "" ? " " : glue);
        parsesOrFailsCleanly(text);
        normalizeDigest(text);
      },
    ),
    { seed: 424_242, numRuns: 5000 },
  );
});

test("random strings parse or fail with a syntax error", opts, () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200, unit: "binary" }), (text) => {
      parsesOrFailsCleanly(text);
      normalizeDigest(text);
    }),
    { seed: 99, numRuns: 5000 },
  );
});

test("mutated valid statements parse or fail with a syntax error", opts, () => {
  const seeds = [
    "SELECT a, count(*) FROM t1 JOIN t2 ON t1.x = t2.y WHERE a IN (1, 2) GROUP BY a " +
      "HAVING count(*) > 1 ORDER BY a DESC LIMIT 5, 10 FOR UPDATE",
    "INSERT INTO t (a, b) VALUES (1, 'x'), (2, NULL) ON DUPLICATE KEY UPDATE b = VALUES(b)",
    "CREATE TABLE t (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, s VARCHAR(10)) " +
      "ENGINE=InnoDB",
    "WITH RECURSIVE c (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT * FROM c",
  ];
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.nat(),
      fc.nat(),
      fc.string({ maxLength: 4 }),
      (seed, at, cut, insert) => {
        const i = at % (seed.length + 1);
        const text = seed.slice(0, i) + insert + seed.slice(i + (cut % 4));
        parsesOrFailsCleanly(text);
      },
    ),
    { seed: 5, numRuns: 3000 },
  );
});
