/**
 * Aggregates and window functions through the planner on an in-memory table (no
 * cluster): each case is a query and its rows as MySQL 8 prints them, or the MySQL error
 * number it must fail with; GROUP_CONCAT's truncation is checked with its 1260 warning.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type EvalContext, type Value, defaultBuildOptions, integerLiteral, nullLiteral,
  toText } from "../../expr/mod.ts";
import { InfoSchema, type SchemaDatabase } from "../catalog/catalog.ts";
import { type TableInfo, tableInfoOf } from "../catalog/schema.ts";
import type { Query } from "../parser/ast.ts";
import { parse } from "../parser/parse.ts";
import type { MySqlError } from "../mysql_errors.ts";
import { type PlanEnv, queryValues } from "./mod.ts";

function tableOf(sql: string, id: number): TableInfo {
  const parsed = parse(sql);
  const statement = parsed.kind === "ok" ? parsed.statements[0]!.statement : undefined;
  assert.ok(statement?.kind === "createTable");
  return tableInfoOf(statement.table.name, statement, { tableId: id, dbId: 1 });
}

const int = (n: number | null): Value => (n === null ? null : { kind: "int", value: BigInt(n) });
const str = (s: string | null): Value => (s === null ? null : { kind: "string", value: s });

/** t (id, g, v, s): groups 1 and 2, a NULL v and a NULL s. */
const rows: Value[][] = [
  [int(1), int(1), int(10), str("b")],
  [int(2), int(1), int(20), str("a")],
  [int(3), int(1), int(20), str("c")],
  [int(4), int(2), int(5), str("x")],
  [int(5), int(2), null, null],
  [int(6), int(2), int(7), str("é")],
];

function envOf(maxLen: number | null, warnings: MySqlError[]): PlanEnv {
  const t = tableOf("CREATE TABLE t (id INT PRIMARY KEY, g INT, v INT, s VARCHAR(10))", 10);
  const e = tableOf("CREATE TABLE e (id INT PRIMARY KEY, v INT)", 11);
  const db: SchemaDatabase = { info: { id: 1, name: "d" },
    tables: new Map([["t", t], ["e", e]]), views: new Map() };
  const schema = new InfoSchema(1n, new Map([["d", db]]));
  const data = new Map<number, Value[][]>([[10, rows], [11, []]]);
  const ctx: EvalContext = { warn: () => {}, statementTime: { year: 2026, month: 1, day: 1,
    hour: 0, minute: 0, second: 0, microsecond: 0 }, database: "d", user: "root@localhost",
  currentUser: "root@%", connectionId: 1, version: "8.0", lastInsertId: 0n,
  setLastInsertId: () => {}, setUserVariable: () => {} };
  return {
    schema,
    database: "d",
    scope: (clause) => ({ options: defaultBuildOptions, clause, params: null, database: "d",
      userVariable: () => nullLiteral(),
      systemVariable: (name) => (name === "group_concat_max_len" && maxLen !== null
        ? integerLiteral(String(maxLen)) : nullLiteral()) }),
    evalContext: () => ctx,
    scanTable: (table) => {
      const r = data.get(table.id) ?? [];
      return Promise.resolve({ handles: r.map((row) => (row[0] as { value: bigint }).value),
        rows: r });
    },
    getRow: (table, handle) => Promise.resolve((data.get(table.id) ?? []).find((row) =>
      (row[0] as { value: bigint }).value === handle) ?? null),
    lockRows: () => Promise.resolve(),
    warn: (w) => {
      warnings.push(w);
    },
  };
}

function queryOf(sql: string): Query {
  const parsed = parse(sql);
  assert.equal(parsed.kind, "ok", sql);
  return (parsed.kind === "ok" ? parsed.statements[0]!.statement : undefined) as Query;
}

type Case = readonly [sql: string, expected: readonly (readonly (string | null)[])[] | number];

async function check(cases: readonly Case[], maxLen: number | null = null): Promise<void> {
  for (const [sql, expected] of cases) {
    const env = envOf(maxLen, []);
    if (typeof expected === "number") {
      await assert.rejects(queryValues(env, queryOf(sql)), { errno: expected }, sql);
      continue;
    }
    const out = await queryValues(env, queryOf(sql));
    assert.deepEqual(out.rows.map((r) => r.map((v) => toText(v))), expected, sql);
  }
}

test("aggregates MySQL 8 has, with their NULL and empty-input results", async () => {
  await check([
    ["SELECT g, BIT_AND(v), BIT_OR(v), BIT_XOR(v) FROM t GROUP BY g ORDER BY g",
      [["1", "0", "30", "10"], ["2", "5", "7", "2"]]],
    ["SELECT BIT_AND(v), BIT_OR(v), BIT_XOR(v), COUNT(v), SUM(v) FROM e",
      [["18446744073709551615", "0", "0", "0", null]]],
    ["SELECT BIT_OR(-1)", [["18446744073709551615"]]],
    ["SELECT VAR_POP(v), VARIANCE(v), STD(v), STDDEV(v), STDDEV_POP(v) FROM t WHERE g = 2",
      [["1", "1", "1", "1", "1"]]],
    ["SELECT VAR_SAMP(v), STDDEV_SAMP(v) FROM t WHERE g = 2", [["2", "1.4142135623730951"]]],
    ["SELECT VAR_SAMP(v), VAR_POP(v) FROM t WHERE id = 1", [[null, "0"]]],
    ["SELECT STD(v) FROM e", [[null]]],
    ["SELECT COUNT(DISTINCT g, v), COUNT(DISTINCT v), COUNT(DISTINCT g) FROM t",
      [["4", "4", "2"]]],
    ["SELECT COUNT(g, v) FROM t", 1582],
    ["SELECT JSON_ARRAYAGG(v) FROM t WHERE g = 2", [["[5, null, 7]"]]],
    ["SELECT JSON_ARRAYAGG(s) FROM t WHERE g = 1", [["[\"b\", \"a\", \"c\"]"]]],
    ["SELECT JSON_OBJECTAGG(s, v) FROM t WHERE g = 1", [["{\"a\": 20, \"b\": 10, \"c\": 20}"]]],
    ["SELECT JSON_OBJECTAGG(s, v) FROM t", 3158],
    ["SELECT JSON_ARRAYAGG(v) FROM e", [[null]]],
    ["SELECT g, ANY_VALUE(s) FROM t GROUP BY g ORDER BY g", [["1", "b"], ["2", "x"]]],
    ["SELECT SUM(COUNT(v)) FROM t", 1111],
    // Temporal values sum (and average) as their numbers, YYYYMMDDhhmmss[.ffffff].
    ["SELECT SUM(CAST('2020-01-02 03:04:05' AS DATETIME)), " +
      "AVG(CAST('2020-01-02' AS DATE)), SUM(CAST('2020-01-02 03:04:05.5' AS DATETIME(1)))",
    [["20200102030405", "20200102.0000", "20200102030405.5"]]],
  ]);
});

test("WITH ROLLUP adds super-aggregate rows in MySQL's order, with GROUPING()", async () => {
  await check([
    ["SELECT g, SUM(v), GROUPING(g) FROM t GROUP BY g WITH ROLLUP",
      [["1", "50", "0"], ["2", "12", "0"], [null, "62", "1"]]],
    ["SELECT g, s, COUNT(*), GROUPING(g, s) FROM t WHERE g = 1 GROUP BY g, s WITH ROLLUP",
      [["1", "a", "1", "0"], ["1", "b", "1", "0"], ["1", "c", "1", "0"], ["1", null, "3", "1"],
        [null, null, "3", "3"]]],
    // A NULL group value sorts first (and 'é' as 'e'); the rolled-up NULL after its groups.
    ["SELECT s, COUNT(*) FROM t WHERE g = 2 GROUP BY s WITH ROLLUP",
      [[null, "1"], ["é", "1"], ["x", "1"], [null, "3"]]],
    ["SELECT g, SUM(v) AS total FROM t GROUP BY g WITH ROLLUP HAVING total > 20 ORDER BY total",
      [["1", "50"], [null, "62"]]],
    ["SELECT v, COUNT(*) FROM e GROUP BY v WITH ROLLUP", []],
    ["SELECT GROUPING(g) FROM t GROUP BY g", 1111],
    ["SELECT GROUPING(v) FROM t GROUP BY g WITH ROLLUP", 3602],
    ["SELECT COUNT(*) FROM t GROUP BY g + 1 WITH ROLLUP", 1235],
  ]);
});

test("GROUP_CONCAT: DISTINCT, ORDER BY, SEPARATOR, NULL rows skipped", async () => {
  await check([
    ["SELECT g, GROUP_CONCAT(s) FROM t GROUP BY g ORDER BY g", [["1", "b,a,c"], ["2", "x,é"]]],
    ["SELECT GROUP_CONCAT(DISTINCT v ORDER BY v DESC SEPARATOR '|') FROM t",
      [["20|10|7|5"]]],
    ["SELECT GROUP_CONCAT(s, '-', v ORDER BY s) FROM t WHERE g = 1", [["a-20,b-10,c-20"]]],
    ["SELECT GROUP_CONCAT(s ORDER BY 1 DESC SEPARATOR '') FROM t WHERE g = 1", [["cba"]]],
    ["SELECT GROUP_CONCAT(id ORDER BY v DESC, id) FROM t", [["2,3,1,6,4,5"]]],
    ["SELECT GROUP_CONCAT(v) FROM e", [[null]]],
  ]);
});

test("GROUP_CONCAT is cut at group_concat_max_len bytes with warning 1260", async () => {
  const warnings: MySqlError[] = [];
  const env = envOf(5, warnings);
  const out = await queryValues(env, queryOf(
    "SELECT g, GROUP_CONCAT(s ORDER BY id) FROM t GROUP BY g ORDER BY g"));
  // Group 1 "b,a,c" fits exactly; group 2 "x,é" is 4 bytes; "x,é" + nothing fits.
  assert.deepEqual(out.rows.map((r) => toText(r[1]!)), ["b,a,c", "x,é"]);
  assert.equal(warnings.length, 0);
  const cut = await queryValues(env, queryOf("SELECT GROUP_CONCAT(s, s ORDER BY id) FROM t"));
  // "bb,aa,cc,…": five bytes keep "bb,aa", the second row's piece was the one cut.
  assert.deepEqual(cut.rows.map((r) => toText(r[0]!)), ["bb,aa"]);
  assert.deepEqual(warnings.map((w) => [w.errno, w.message]),
    [[1260, "Row 3 was cut by GROUP_CONCAT()"]]);
  warnings.length = 0;
  // Without ORDER BY the rows past the cut are not even kept; the result is the same.
  const unordered = await queryValues(env, queryOf("SELECT GROUP_CONCAT(s, s) FROM t"));
  assert.deepEqual(unordered.rows.map((r) => toText(r[0]!)), ["bb,aa"]);
  assert.deepEqual(warnings.map((w) => w.message), ["Row 3 was cut by GROUP_CONCAT()"]);
  warnings.length = 0;
  const multibyte = await queryValues(envOf(3, warnings), queryOf(
    "SELECT GROUP_CONCAT(s ORDER BY id) FROM t WHERE g = 2"));
  // "x,é" is 4 bytes: a 3-byte cut may not split "é".
  assert.deepEqual(multibyte.rows.map((r) => toText(r[0]!)), ["x,"]);
  assert.equal(warnings.length, 1);
});

test("window functions in queries: with grouping, named windows, ORDER BY and errors",
  async () => {
    await check([
      ["SELECT id, ROW_NUMBER() OVER (PARTITION BY g ORDER BY v DESC, id) FROM t ORDER BY id",
        [["1", "3"], ["2", "1"], ["3", "2"], ["4", "2"], ["5", "3"], ["6", "1"]]],
      ["SELECT id, SUM(v) OVER w, RANK() OVER w FROM t WINDOW w AS (PARTITION BY g ORDER BY v)" +
        " ORDER BY id", [["1", "10", "1"], ["2", "50", "2"], ["3", "50", "2"], ["4", "5", "2"],
        ["5", null, "1"], ["6", "12", "3"]]],
      // ORDER BY may sort by a window function.
      ["SELECT id FROM t WINDOW w AS (ORDER BY v DESC) ORDER BY ROW_NUMBER() OVER w",
        [["2"], ["3"], ["1"], ["6"], ["4"], ["5"]]],
      ["SELECT id, LAG(v, 1, -1) OVER (ORDER BY id) FROM t WHERE g = 1",
        [["1", "-1"], ["2", "10"], ["3", "20"]]],
      ["SELECT g, SUM(v), SUM(SUM(v)) OVER (ORDER BY g) FROM t GROUP BY g",
        [["1", "50", "50"], ["2", "12", "62"]]],
      ["SELECT g, RANK() OVER (ORDER BY COUNT(*) DESC, g) FROM t GROUP BY g",
        [["1", "1"], ["2", "2"]]],
      ["SELECT DISTINCT g, COUNT(*) OVER (PARTITION BY g) FROM t ORDER BY g",
        [["1", "3"], ["2", "3"]]],
      ["SELECT id, NTILE(2) OVER (ORDER BY id) AS n FROM t ORDER BY n DESC, id LIMIT 2",
        [["4", "2"], ["5", "2"]]],
      ["SELECT id, FIRST_VALUE(s) OVER (PARTITION BY g ORDER BY id ROWS BETWEEN 1 FOLLOWING " +
        "AND UNBOUNDED FOLLOWING) FROM t ORDER BY id",
        [["1", "a"], ["2", "c"], ["3", null], ["4", null], ["5", "é"], ["6", null]]],
      ["SELECT id, NTH_VALUE(s, 2) FROM FIRST RESPECT NULLS OVER (ORDER BY id), LAG(v) " +
        "RESPECT NULLS OVER (ORDER BY id) FROM t WHERE g = 1",
      [["1", null, null], ["2", "a", "10"], ["3", "a", "20"]]],
      ["SELECT id FROM t WHERE ROW_NUMBER() OVER () > 1", 3593],
      ["SELECT g FROM t GROUP BY g HAVING RANK() OVER () > 1", 3593],
      ["SELECT ROW_NUMBER() OVER nope FROM t", 3579],
      ["SELECT 1 FROM t WINDOW w AS (), w AS ()", 3591],
      ["SELECT SUM(v) OVER (ORDER BY s RANGE 1 PRECEDING) FROM t", 3587],
      ["SELECT SUM(v) OVER (ORDER BY v ROWS -1 PRECEDING) FROM t", 3586],
      ["SELECT SUM(v) OVER (ROWS BETWEEN UNBOUNDED FOLLOWING AND CURRENT ROW) FROM t", 3584],
      ["SELECT NTILE(0) OVER () FROM t", 1210],
      ["SELECT COUNT(DISTINCT v) OVER () FROM t", 1235],
      ["SELECT SUM(ROW_NUMBER() OVER ()) OVER () FROM t", 3593],
    ]);
  });
