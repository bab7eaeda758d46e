/**
 * Parser tests: the table of statements in testdata/statements.txt (SQL → canonical text,
 * which must parse back to the same tree), operator precedence as fully bracketed trees,
 * syntax errors with MySQL's exact 1064 text, the depth limits, and statement spans.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ErrorCode, limits } from "../../base/mod.ts";
import type { Expr, Statement } from "./ast.ts";
import { formatStatement } from "./format.ts";
import { parse, parseExpression } from "./parse.ts";
import type { SqlSyntaxError } from "./syntax_error.ts";

const opts = { timeout: 30_000 };
const here = dirname(fileURLToPath(import.meta.url));

function parseOk(sql: string): Statement[] {
  const result = parse(sql);
  if (result.kind === "error") assert.fail(`${sql}: ${result.error.message}`);
  return result.statements.map((s) => s.statement);
}

function parseError(sql: string): SqlSyntaxError {
  const result = parse(sql);
  if (result.kind === "ok") assert.fail(`${sql} parsed but should not`);
  return result.error;
}

interface Case {
  readonly sql: string;
  readonly expected: string;
  readonly line: number;
}

function readCases(): Case[] {
  const text = readFileSync(join(here, "testdata", "statements.txt"), "utf8");
  const cases: Case[] = [];
  const blocks = text.split(/\n\n+/);
  let line = 1;
  for (const block of blocks) {
    const trimmed = block.replace(/^(#.*\n?)+/, "");
    const parts = trimmed.split("\n----\n");
    if (parts.length === 2) {
      cases.push({ sql: parts[0] as string, expected: (parts[1] as string).trimEnd(), line });
    }
    line += block.split("\n").length + 1;
  }
  return cases;
}

test("parse() turns each statement of the table into its canonical text", opts, () => {
  const cases = readCases();
  assert.ok(cases.length > 200, `only ${cases.length} cases read`);
  for (const c of cases) {
    const result = parse(c.sql);
    const actual = result.kind === "error"
      ? `error: ${result.error.message}`
      : result.statements.map((s) => formatStatement(s.statement)).join("\n");
    assert.equal(actual, c.expected, `statements.txt case at line ${c.line}: ${c.sql}`);
  }
});

test("formatStatement() output of every table case parses back to the same tree", opts, () => {
  for (const c of readCases()) {
    for (const statement of parseOk(c.sql)) {
      const again = parseOk(formatStatement(statement));
      assert.deepEqual(again, [statement], c.sql);
    }
  }
});

/** A fully bracketed rendering of an expression tree, to state precedence plainly. */
function tree(e: Expr): string {
  switch (e.kind) {
    case "binary":
      return `(${e.op} ${tree(e.left)} ${tree(e.right)})`;
    case "unary":
      return `(${e.op} ${tree(e.operand)})`;
    case "is":
      return `(IS${e.not ? " NOT" : ""} ${tree(e.operand)} ${e.value})`;
    case "like":
      return `(${e.not ? "NOT " : ""}LIKE ${tree(e.operand)} ${tree(e.pattern)})`;
    case "regexp":
      return `(${e.not ? "NOT " : ""}REGEXP ${tree(e.operand)} ${tree(e.pattern)})`;
    case "in":
      return `(${e.not ? "NOT " : ""}IN ${tree(e.operand)} ${e.list.map(tree).join(" ")})`;
    case "between":
      return `(${e.not ? "NOT " : ""}BETWEEN ${tree(e.operand)} ${tree(e.low)} ${tree(e.high)})`;
    case "collate":
      return `(COLLATE ${tree(e.expr)} ${e.collation})`;
    case "assign":
      return `(:= @${e.name} ${tree(e.value)})`;
    case "interval":
      return `(INTERVAL ${tree(e.value)} ${e.unit})`;
    case "column":
      return e.column;
    case "int":
      return e.text;
    case "string":
      return `'${e.value}'`;
    case "row":
      return `(ROW ${e.items.map(tree).join(" ")})`;
    case "case":
      return `(CASE ${e.whens.map((w) => `${tree(w.when)}:${tree(w.then)}`).join(" ")})`;
    case "func":
      return `${e.name}(${e.args.map(tree).join(" ")})`;
    default:
      return e.kind;
  }
}

const precedenceCases: readonly (readonly [string, string])[] = [
  ["1 + 2 * 3", "(+ 1 (* 2 3))"],
  ["1 - 2 - 3", "(- (- 1 2) 3)"],
  ["a * b DIV c MOD d % e", "(% (% (DIV (* a b) c) d) e)"],
  ["a ^ b * c", "(* (^ a b) c)"],
  ["-a ^ b", "(^ (- a) b)"],
  ["~a + b", "(+ (~ a) b)"],
  ["a | b & c", "(| a (& b c))"],
  ["a & b << c", "(& a (<< b c))"],
  ["a << b + c", "(<< a (+ b c))"],
  ["a = b | c", "(= a (| b c))"],
  ["a = b = c", "(= (= a b) c)"],
  ["a < b IS NULL", "(IS (< a b) NULL)"],
  ["a IS NOT TRUE = b", "(= (IS NOT a TRUE) b)"],
  ["a = b LIKE c", "(= a (LIKE b c))"],
  ["a LIKE b = c", "(= (LIKE a b) c)"],
  ["a NOT LIKE b AND c", "(AND (NOT LIKE a b) c)"],
  ["a LIKE -b", "(LIKE a (- b))"],
  ["a IN (1, 2) = b", "(= (IN a 1 2) b)"],
  ["a + 1 NOT IN (1)", "(NOT IN (+ a 1) 1)"],
  ["a BETWEEN b AND c AND d", "(AND (BETWEEN a b c) d)"],
  ["a BETWEEN b + 1 AND c BETWEEN d AND e", "(BETWEEN a (+ b 1) (BETWEEN c d e))"],
  ["a NOT BETWEEN 1 AND 2 OR b", "(OR (NOT BETWEEN a 1 2) b)"],
  ["a REGEXP b | c", "(REGEXP a (| b c))"],
  ["NOT a = b", "(NOT (= a b))"],
  ["NOT a AND b", "(AND (NOT a) b)"],
  ["NOT NOT a", "(NOT (NOT a))"],
  ["!a = b", "(= (! a) b)"],
  ["!a AND b", "(AND (! a) b)"],
  ["a AND b OR c AND d", "(OR (AND a b) (AND c d))"],
  ["a OR b XOR c", "(OR a (XOR b c))"],
  ["a XOR b AND c", "(XOR a (AND b c))"],
  ["a || b && c", "(OR a (AND b c))"],
  ["a && NOT b", "(AND a (NOT b))"],
  ["- a COLLATE x", "(- (COLLATE a x))"],
  ["BINARY a = b", "(= (BINARY a) b)"],
  ["a COLLATE x = b", "(= (COLLATE a x) b)"],
  ["d + INTERVAL 1 DAY - INTERVAL 2 HOUR", "(- (+ d (INTERVAL 1 DAY)) (INTERVAL 2 HOUR))"],
  ["INTERVAL 1 + 1 DAY + d", "(+ (INTERVAL (+ 1 1) DAY) d)"],
  ["@a := b OR c", "(:= @a (OR b c))"],
  ["1 + @a := 2 + 3", "(+ 1 (:= @a (+ 2 3)))"],
  ["(a, b) = (1, 2)", "(= (ROW a b) (ROW 1 2))"],
  ["a = - - 1", "(= a (- (- 1)))"],
  ["a--1", "(- a (- 1))"],
  ["CASE WHEN a THEN b END + 1", "(+ (CASE a:b) 1)"],
  ["a MOD b", "(% a b)"],
  ["mod(a, b)", "mod(a b)"],
  ["'a' 'b' = 'ab'", "(= 'ab' 'ab')"],
];

test("expressions bind exactly as in MySQL 8's grammar", opts, () => {
  for (const [sql, expected] of precedenceCases) {
    const result = parseExpression(sql);
    if (result.kind === "error") assert.fail(`${sql}: ${result.error.message}`);
    assert.equal(tree(result.expr), expected, sql);
  }
});

test("a syntax error carries MySQL's 1064 text, line, column and near text", opts, () => {
  const lead = "You have an error in your SQL syntax; check the manual that corresponds to " +
    "your MySQL server version for the right syntax to use";
  const cases: readonly (readonly [string, string, number, number])[] = [
    ["SELECT * FORM t", "FORM t", 1, 10],
    ["SELECT 1 +", "", 1, 11],
    ["SELECT a,\nb FROM t\nWHERE a = = 1", "= 1", 3, 11],
    ["SELECT 'abc", "'abc", 1, 8],
    ["SELECT * FROM select", "select", 1, 15],
    ["CREATE TABLE t (a INT,)", ")", 1, 23],
    ["SELECT 1; SELEC 2; SELECT 3", "SELEC 2; SELECT 3", 1, 11],
    ["INSERT INTO t VALUES (1", "", 1, 24],
    ["SELECT (1", "", 1, 10],
    ["UPDATE t SET", "", 1, 13],
    ["SELECT a FROM t WHERE a IN ()", ")", 1, 29],
    // MySQL's LIKE takes a simple_expr pattern, and a predicate cannot be added to.
    ["SELECT a LIKE b + 0", "+ 0", 1, 17],
    ["SELECT `a", "`a", 1, 8],
    ["SELECT /* open", "/* open", 1, 8],
    ["SELECT 1 FROM t LIMIT x", "x", 1, 23],
    ["DROP THING x", "THING x", 1, 6],
  ];
  for (const [sql, near, line, column] of cases) {
    const error = parseError(sql);
    assert.equal(error.message, `${lead} near '${near}' at line ${line}`, sql);
    assert.equal(error.near, near, sql);
    assert.equal(error.line, line, sql);
    assert.equal(error.column, column, sql);
    assert.equal(error.code, ErrorCode.SqlParseSyntax, sql);
  }
});

test("the near text of a syntax error stops after 80 characters", opts, () => {
  const error = parseError(`SELECT 1 )${"y".repeat(100)}`);
  assert.equal(error.near, ")" + "y".repeat(79));
  const unicode = parseError("SELECT * FROM t WHERE ) " + "é".repeat(120));
  assert.equal([...unicode.near].length, 80);
});

test("deeply nested brackets give a TooDeep error, not a stack overflow", opts, () => {
  for (const depth of [limits.sqlParseDepthMax * 2, 100_000]) {
    const error = parseError(`SELECT ${"(".repeat(depth)}1${")".repeat(depth)}`);
    assert.equal(error.code, ErrorCode.SqlParseTooDeep);
    assert.match(error.message, /nests deeper than \d+ levels near '\(+/);
  }
  const subqueries = "SELECT (".repeat(1000) + "1" + ")".repeat(1000);
  assert.equal(parseError(subqueries).code, ErrorCode.SqlParseTooDeep);
  assert.equal(parseError(`SELECT ${"-".repeat(50_000)}1`).code, ErrorCode.SqlParseTooDeep);
  assert.equal(parseError(`SELECT ${"NOT ".repeat(50_000)}1`).code, ErrorCode.SqlParseTooDeep);
  assert.equal(
    parseError(`SELECT ${"f(".repeat(5000)}1${")".repeat(5000)}`).code,
    ErrorCode.SqlParseTooDeep,
  );
});

test("nesting up to the depth limit still parses", opts, () => {
  const depth = Math.floor(limits.sqlParseDepthMax / 2) - 2;
  parseOk(`SELECT ${"(".repeat(depth)}1${")".repeat(depth)}`);
  parseOk("SELECT (".repeat(depth / 2) + "1" + ")".repeat(depth / 2));
});

test("long operator chains parse, and trees taller than the limit are refused", opts, () => {
  const chain = (n: number): string =>
    "SELECT " + Array.from({ length: n }, (_, i) => `a = ${i}`).join(" OR ");
  const [select] = parseOk(chain(limits.sqlAstHeightMax - 10));
  assert.ok(select !== undefined && select.kind === "select");
  assert.equal(parseError(chain(limits.sqlAstHeightMax + 10)).code, ErrorCode.SqlParseTooDeep);
  // Formatting a long chain works too (the printer recurses once per operator).
  assert.ok(formatStatement(select).length > 0);
});

test("parse() reports each statement's source span without blanks or semicolons", opts, () => {
  const sql = "  SELECT 1 ;\n/* c */ INSERT INTO t VALUES (2);;  SHOW TABLES  ";
  const result = parse(sql);
  assert.equal(result.kind, "ok");
  if (result.kind !== "ok") return;
  assert.deepEqual(
    result.statements.map((s) => [s.text, s.start, s.end, s.statement.kind]),
    [
      ["SELECT 1", 2, 10, "select"],
      ["INSERT INTO t VALUES (2)", 21, 45, "insert"],
      ["SHOW TABLES", 49, 60, "show"],
    ],
  );
  for (const s of result.statements) assert.equal(sql.slice(s.start, s.end), s.text);
  const empty = parse("  ; -- nothing\n ; ");
  assert.deepEqual(empty, { kind: "ok", statements: [] });
});

test("placeholders are numbered across the whole input", opts, () => {
  const [insert, select] = parseOk("INSERT INTO t VALUES (?, ?); SELECT ? LIMIT ?");
  assert.ok(insert?.kind === "insert" && insert.source.kind === "values");
  assert.deepEqual(insert.source.rows[0], [
    { kind: "param", index: 0 },
    { kind: "param", index: 1 },
  ]);
  assert.ok(select?.kind === "select");
  assert.deepEqual(select.fields[0]?.expr, { kind: "param", index: 2 });
  assert.deepEqual(select.limit, { count: { kind: "param", index: 3 }, offset: null });
});

test("versioned comments are SQL up to the server version, skipped above it", opts, () => {
  const dump = "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE */;\n" +
    "/*!80016 SET x = 1 */;\n" +
    "CREATE TABLE t (a INT) /*!50100 ENGINE=InnoDB */ /*!80099 COMMENT='new' */";
  const statements = parseOk(dump).map(formatStatement);
  assert.deepEqual(statements, [
    "SET @OLD_SQL_MODE = @@SQL_MODE",
    "CREATE TABLE t (a INT) ENGINE=InnoDB",
  ]);
  const newer = parse("/*!80016 SET x = 1 */", { serverVersion: 80030 });
  assert.equal(newer.kind, "ok");
  if (newer.kind === "ok") assert.equal(newer.statements.length, 1);
});

test("hints attach only directly after SELECT, INSERT, REPLACE, UPDATE and DELETE", opts, () => {
  const [select, update, del] = parseOk(
    "SELECT /*+ A() */ /*+ B() */ 1; UPDATE /*+ C */ t SET a = 1; DELETE /*+ D */ FROM t",
  );
  assert.ok(select?.kind === "select" && update?.kind === "update" && del?.kind === "delete");
  assert.equal(select.hints, "A() B()");
  assert.equal(update.hints, "C");
  assert.equal(del.hints, "D");
  const [plain] = parseOk("SELECT a /*+ not a hint */ FROM t");
  assert.ok(plain?.kind === "select");
  assert.equal(plain.hints, null);
});

test("parseExpression() rejects trailing input", opts, () => {
  const result = parseExpression("1 + 2 3");
  assert.equal(result.kind, "error");
  if (result.kind === "error") assert.equal(result.error.near, "3");
});
