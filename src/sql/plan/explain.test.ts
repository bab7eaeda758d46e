/**
 * EXPLAIN's plan shapes on an in-memory table, table-driven: each case is a query and the
 * operator column of the rows EXPLAIN FORMAT = 'brief' prints (the tree, no numbers), so a
 * change of access path or operator order shows as a diff; plus the access object and
 * operator info of a few, and EXPLAIN ANALYZE's actual row counts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type EvalContext, type Value, defaultBuildOptions, nullLiteral }
  from "../../expr/mod.ts";
import { InfoSchema, type SchemaDatabase } from "../catalog/catalog.ts";
import { type TableInfo, tableInfoOf } from "../catalog/schema.ts";
import type { Query } from "../parser/ast.ts";
import { parse } from "../parser/parse.ts";
import { explainQuery } from "./explain.ts";
import type { PlanEnv } from "./planner.ts";

function tableOf(sql: string, id: number): TableInfo {
  const parsed = parse(sql);
  const statement = parsed.kind === "ok" ? parsed.statements[0]!.statement : undefined;
  assert.ok(statement?.kind === "createTable");
  return tableInfoOf(statement.table.name, statement, { tableId: id, dbId: 1 });
}

const int = (n: number): Value => ({ kind: "int", value: BigInt(n) });

function envOf(): PlanEnv {
  const t = tableOf("CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, KEY ka (a))", 10);
  const u = tableOf("CREATE TABLE u (id INT PRIMARY KEY, x INT)", 11);
  const db: SchemaDatabase = { info: { id: 1, name: "d" },
    tables: new Map([["t", t], ["u", u]]), views: new Map() };
  const schema = new InfoSchema(1n, new Map([["d", db]]));
  const data = new Map<number, Value[][]>([
    [10, [[int(1), int(1), int(5)], [int(2), int(2), int(6)], [int(3), int(2), int(7)]]],
    [11, [[int(1), int(10)], [int(2), int(20)]]],
  ]);
  const ctx: EvalContext = { warn: () => {}, statementTime: { year: 2026, month: 1, day: 1,
    hour: 0, minute: 0, second: 0, microsecond: 0 }, database: "d", user: "root@localhost",
  currentUser: "root@%", connectionId: 1, version: "8.0", lastInsertId: 0n,
  setLastInsertId: () => {}, setUserVariable: () => {} };
  // Range reads return every row: a superset, which the WHERE conjuncts still filter.
  const all = (table: TableInfo) => {
    const rows = data.get(table.id) ?? [];
    return Promise.resolve({ handles: rows.map((r) => (r[0] as { value: bigint }).value),
      rows });
  };
  return {
    schema,
    database: "d",
    scope: (clause) => ({ options: defaultBuildOptions, clause, params: null, database: "d",
      userVariable: () => nullLiteral(), systemVariable: () => nullLiteral() }),
    evalContext: () => ctx,
    scanTable: all,
    scanRows: all,
    readIndex: all,
    getRow: (table, handle) => Promise.resolve((data.get(table.id) ?? []).find((row) =>
      (row[0] as { value: bigint }).value === handle) ?? null),
    lockRows: () => Promise.resolve(),
  };
}

function queryOf(sql: string): Query {
  const parsed = parse(sql);
  assert.equal(parsed.kind, "ok", sql);
  return (parsed.kind === "ok" ? parsed.statements[0]!.statement : undefined) as Query;
}

let clock = 0;
const now = (): number => clock++;

async function explain(sql: string, analyze = false): Promise<string[][]> {
  return (await explainQuery(envOf(), queryOf(sql), { analyze, format: "BRIEF", now })).rows;
}

const cases: readonly (readonly [sql: string, operators: readonly string[]])[] = [
  ["SELECT * FROM t WHERE id = 2", ["Point_Get"]],
  ["SELECT * FROM t WHERE id IN (1, 3)", ["Batch_Point_Get"]],
  ["SELECT * FROM t WHERE id IN (1, 3) AND b > 5", ["Selection", "└─Batch_Point_Get"]],
  ["SELECT * FROM t WHERE id > 1", ["TableReader", "└─Selection", "  └─TableRangeScan"]],
  ["SELECT * FROM t WHERE a = 2", ["IndexLookUp", "├─IndexRangeScan(Build)",
    "└─Selection(Probe)", "  └─TableRowIDScan"]],
  ["SELECT b FROM t", ["TableReader", "└─TableFullScan"]],
  ["SELECT b + 1 FROM t", ["Projection", "└─TableReader", "  └─TableFullScan"]],
  ["SELECT a, COUNT(*) FROM t GROUP BY a HAVING COUNT(*) > 1", ["Projection", "└─Selection",
    "  └─HashAgg", "    └─TableReader", "      └─TableFullScan"]],
  ["SELECT DISTINCT a FROM t ORDER BY a", ["Sort", "└─HashAgg", "  └─TableReader",
    "    └─TableFullScan"]],
  ["SELECT b FROM t ORDER BY b LIMIT 1", ["TopN", "└─TableReader", "  └─TableFullScan"]],
  ["SELECT b FROM t LIMIT 1", ["Limit", "└─TableReader", "  └─TableFullScan"]],
  ["SELECT id, RANK() OVER (ORDER BY b) FROM t", ["Projection", "└─Window",
    "  └─TableReader", "    └─TableFullScan"]],
  ["SELECT t.b, u.x FROM t JOIN u ON t.id = u.id", ["MergeJoin",
    "├─TableReader(Build)", "│ └─TableFullScan", "└─TableReader(Probe)",
    "  └─TableFullScan"]],
  ["SELECT t.b, u.x FROM t JOIN u ON t.b = u.x", ["HashJoin",
    "├─TableReader(Build)", "│ └─TableFullScan", "└─TableReader(Probe)",
    "  └─TableFullScan"]],
  // A semi join (decorrelate.ts; rewrite_rules.test.ts has the rule on and off).
  ["SELECT * FROM t WHERE a IN (SELECT x FROM u)", ["HashJoin", "├─TableReader(Build)",
    "│ └─TableFullScan", "└─TableReader(Probe)", "  └─TableFullScan"]],
  ["SELECT x FROM u UNION ALL SELECT b FROM t", ["Union", "├─TableReader",
    "│ └─TableFullScan", "└─TableReader", "  └─TableFullScan"]],
  ["SELECT 1", ["Projection", "└─TableDual"]],
];

test("EXPLAIN prints the plan the executor runs, operator by operator", async () => {
  for (const [sql, operators] of cases) {
    assert.deepEqual((await explain(sql)).map((r) => r[0]), operators, sql);
  }
});

test("EXPLAIN names access objects and ranges; estimates are pseudo without statistics",
  async () => {
    const point = await explain("SELECT * FROM t WHERE id = 2");
    assert.deepEqual(point[0], ["Point_Get", "1.00", "root", "table:t", "handle:2"]);
    const lookup = await explain("SELECT * FROM t WHERE a = 2");
    assert.equal(lookup[1]![3], "table:t, index:ka(a)");
    const range = await explain("SELECT * FROM t WHERE id BETWEEN 2 AND 9");
    assert.match(range[2]![4]!, /^range:\[2,9\], keep order:false, stats:pseudo$/);
    const join = await explain("SELECT * FROM t JOIN u ON t.id = u.id");
    assert.equal(join[0]![4], "inner join, left key:t.id, right key:u.id");
    const hash = await explain("SELECT * FROM t JOIN u ON t.b = u.x");
    assert.equal(hash[0]![4], "inner join, equal:[eq(t.b, u.x)]");
    const scan = await explain("SELECT b FROM t");
    assert.equal(scan[1]![1], "10000.00");
    await assert.rejects(explainQuery(envOf(), queryOf("SELECT 1"), { analyze: false,
      format: "DOT", now }), { errno: 1918 });
  });

test("EXPLAIN ANALYZE counts the rows each operator produced", async () => {
  const rows = await explain("SELECT a, COUNT(*) FROM t WHERE b > 5 GROUP BY a", true);
  assert.deepEqual(rows.map((r) => [r[0], r[2]]), [["Projection", "1"], ["└─HashAgg", "1"],
    ["  └─TableReader", "3"], ["    └─Selection", "3"], ["      └─TableFullScan", "3"]]);
  assert.match(rows[0]![5]!, /^time:.*, loops:1$/);
});
