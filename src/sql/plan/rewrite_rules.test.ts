/**
 * The planner's rewrite rules, table-driven, on in-memory tables: per rule, queries and
 * the operator column EXPLAIN FORMAT = 'brief' prints with the rule on and with it off
 * (`optimizer_switch`), then the same queries' results with every rule on and with each
 * one off over data made to trip them — NULLs on both sides of IN / NOT IN, empty
 * subqueries, duplicates, case-insensitive strings, correlations on several outer
 * columns — plus seeded random data and queries compared with all rules on and off, and
 * the NULL cases checked against MySQL's answers written out by hand (MariaDB gives the
 * same); test/sql/rewrite_rules_sql.test.ts runs a few through a cluster and mysql2.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type EvalContext, type Expr, type Value, defaultBuildOptions, nullLiteral,
  stringLiteral, toText } from "../../expr/mod.ts";
import { InfoSchema, type SchemaDatabase } from "../catalog/catalog.ts";
import { type TableInfo, fieldTypeOf, tableInfoOf } from "../catalog/schema.ts";
import type { Query, SelectQuery } from "../parser/ast.ts";
import { parse } from "../parser/parse.ts";
import { explainQuery } from "./explain.ts";
import { type PlanEnv, Planner } from "./planner.ts";
import { Frame, Scope, layoutOf } from "./scope.ts";
import { compile } from "./compile.ts";
import { MemoryTracker } from "./memory_tracker.ts";
import { TopN, keyOrder } from "./topn.ts";
import { Prng } from "../../base/mod.ts";
import { defaultOptimizerSwitch, mergeOptimizerSwitch, optimizerFlag }
  from "../session/optimizer_switch.ts";
import { GlobalSysVars, SessionSysVars } from "../session/sysvars.ts";

function tableOf(sql: string, id: number): TableInfo {
  const parsed = parse(sql);
  const statement = parsed.kind === "ok" ? parsed.statements[0]!.statement : undefined;
  assert.ok(statement?.kind === "createTable");
  return tableInfoOf(statement.table.name, statement, { tableId: id, dbId: 1 });
}

const int = (n: number | null): Value => (n === null ? null : { kind: "int", value: BigInt(n) });
const str = (s: string | null): Value => (s === null ? null : { kind: "string", value: s });

/** t, u, w with NULLs, duplicates and case-different strings; e is empty. */
const tables = {
  t: { sql: "CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, s VARCHAR(10), KEY ka (a))",
    rows: [[1, 1, 5, "x"], [2, 2, 6, "Y"], [3, 2, 7, "z"], [4, null, 8, null], [5, 3, null, "x"],
      [6, 4, 9, "q"]] },
  u: { sql: "CREATE TABLE u (id INT PRIMARY KEY, x INT, y INT, s VARCHAR(10))",
    rows: [[1, 1, 5, "X"], [2, 2, 6, "y"], [3, 2, 6, "y"], [4, null, 7, null], [5, 5, null, "w"]] },
  w: { sql: "CREATE TABLE w (id INT PRIMARY KEY, x INT, y INT, s VARCHAR(10))",
    rows: [[1, 1, 5, "x"], [2, 2, 7, "z"], [3, 3, 1, "Q"]] },
  e: { sql: "CREATE TABLE e (id INT PRIMARY KEY, x INT, y INT, s VARCHAR(10))", rows: [] },
} as const;

/** A row of the tables above: id, two integers, a string (each may be NULL but id). */
type Row = readonly (number | string | null)[];

/** The in-memory env over `tables` (or `rowsOf`'s rows for them), with `optimizerSwitch`. */
function envOf(optimizerSwitch: string | null,
  rowsOf: (name: string) => readonly Row[] = (name) => tables[name as keyof typeof tables].rows):
  PlanEnv {
  const infos = new Map<string, TableInfo>();
  const data = new Map<number, Value[][]>();
  Object.entries(tables).forEach(([name, def], i) => {
    const info = tableOf(def.sql, 10 + i);
    infos.set(name, info);
    data.set(info.id, rowsOf(name).map((r) => r.map((v, k) => (typeof v === "string" ||
      (v === null && k === 3) ? str(v) : int(v)))));
  });
  const views = new Map([["v", { id: 20, name: "v", dbId: 1, columns: ["vid", "va"],
    definition: "SELECT id, a + 1 FROM t WHERE b > 5", checkOption: null }]]);
  const db: SchemaDatabase = { info: { id: 1, name: "d" }, tables: infos, views };
  const schema = new InfoSchema(1n, new Map([["d", db]]));
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
      userVariable: () => nullLiteral(),
      systemVariable: (name) => (name === "optimizer_switch" && optimizerSwitch !== null
        ? stringLiteral(optimizerSwitch) : nullLiteral()) }),
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

async function operators(sql: string, optimizerSwitch: string | null): Promise<string[]> {
  const out = await explainQuery(envOf(optimizerSwitch), queryOf(sql), { analyze: false,
    format: "BRIEF", now });
  return out.rows.map((r) => r[0]!);
}

async function explainRows(sql: string, optimizerSwitch: string | null): Promise<string[][]> {
  return (await explainQuery(envOf(optimizerSwitch), queryOf(sql), { analyze: false,
    format: "BRIEF", now })).rows;
}

/** Prints the EXPLAIN shapes of every rule case (a debugging aid: RULES_SHOW=1). */
export async function showRules(): Promise<void> {
  for (const [flag, cases] of Object.entries(rules)) {
    for (const c of cases) {
      console.log(flag, c.sql, JSON.stringify(await operators(c.sql, null)),
        JSON.stringify(await operators(c.sql, off(flag))));
    }
  }
}

async function results(sql: string, optimizerSwitch: string | null,
  rowsOf?: (name: string) => readonly Row[]): Promise<string[]> {
  const plan = new Planner(envOf(optimizerSwitch, rowsOf)).planQuery(queryOf(sql),
    new Frame(null), null);
  const rows = await plan.run();
  return rows.map((r) => r.map((v) => toText(v) ?? "NULL").join("|"));
}

/** `optimizer_switch` with `flags` off. */
const off = (...flags: string[]): string => mergeOptimizerSwitch(defaultOptimizerSwitch,
  flags.map((f) => `${f}=off`).join(","))!;

interface RuleCase {
  readonly sql: string;
  readonly on: readonly string[];
  readonly off: readonly string[];
}

const rules: Readonly<Record<string, readonly RuleCase[]>> = {
  semijoin: [
    { sql: "SELECT id FROM t WHERE a IN (SELECT x FROM u)",
      on: ["HashJoin", "├─TableReader(Build)", "│ └─TableFullScan", "└─TableReader(Probe)",
        "  └─TableFullScan"],
      off: ["Apply", "├─TableReader(Build)", "│ └─Selection", "│   └─TableFullScan",
        "└─TableReader(Probe)", "  └─TableFullScan"] },
    { sql: "SELECT id FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.x = t.a AND u.y > 5)",
      on: ["HashJoin", "├─TableReader(Build)", "│ └─Selection", "│   └─TableFullScan",
        "└─TableReader(Probe)", "  └─TableFullScan"],
      off: ["Apply", "├─TableReader(Build)", "│ └─Selection", "│   └─TableFullScan",
        "└─Projection(Probe)", "  └─TableReader", "    └─Selection", "      └─TableFullScan"] },
    { sql: "SELECT id FROM t WHERE t.b > 5 AND a NOT IN (SELECT x FROM u WHERE u.y = t.b)",
      on: ["HashJoin", "├─TableReader(Build)", "│ └─TableFullScan", "└─TableReader(Probe)",
        "  └─Selection", "    └─TableFullScan"],
      off: ["Apply", "├─TableReader(Build)", "│ └─Selection", "│   └─TableFullScan",
        "└─TableReader(Probe)", "  └─Selection", "    └─TableFullScan"] },
    // Where the value is needed: a left outer semi join.
    { sql: "SELECT id, a IN (SELECT x FROM u WHERE u.y = t.b) FROM t",
      on: ["Projection", "└─HashJoin", "  ├─TableReader(Build)", "  │ └─TableFullScan",
        "  └─TableReader(Probe)", "    └─TableFullScan"],
      off: ["Projection", "└─Apply", "  ├─TableReader(Build)", "  │ └─TableFullScan",
        "  └─TableReader(Probe)", "    └─Selection", "      └─TableFullScan"] },
    // The inner table's clustered key from the outer row: point gets per row stay.
    { sql: "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = t.a)",
      on: ["Apply", "├─TableReader(Build)", "│ └─Selection", "│   └─TableFullScan",
        "└─Projection(Probe)", "  └─TableDual"],
      off: ["Apply", "├─TableReader(Build)", "│ └─Selection", "│   └─TableFullScan",
        "└─Projection(Probe)", "  └─TableDual"] },
    // A correlated select list is not decorrelated: it stays per row.
    { sql: "SELECT id FROM t WHERE a IN (SELECT t.b FROM u)",
      on: ["Apply", "├─TableReader(Build)", "│ └─Selection", "│   └─TableFullScan",
        "└─TableReader(Probe)", "  └─TableFullScan"],
      off: ["Apply", "├─TableReader(Build)", "│ └─Selection", "│   └─TableFullScan",
        "└─TableReader(Probe)", "  └─TableFullScan"] },
  ],
  subquery_to_derived: [
    // Grouped once by u.x (the build side), looked up per row of t.
    { sql: "SELECT id, (SELECT COUNT(*) FROM u WHERE u.x = t.a) FROM t",
      on: ["Projection", "└─HashJoin", "  ├─Projection(Build)", "  │ └─HashAgg",
        "  │   └─TableReader", "  │     └─TableFullScan", "  └─TableReader(Probe)",
        "    └─TableFullScan"],
      off: ["Projection", "└─Apply", "  ├─TableReader(Build)", "  │ └─TableFullScan",
        "  └─Projection(Probe)", "    └─HashAgg", "      └─TableReader", "        └─Selection",
        "          └─TableFullScan"] },
    // A string correlation (grouping and `=` could differ): per row.
    { sql: "SELECT id, (SELECT COUNT(*) FROM u WHERE u.s = t.s) FROM t",
      on: ["Projection", "└─Apply", "  ├─TableReader(Build)", "  │ └─TableFullScan",
        "  └─Projection(Probe)", "    └─HashAgg", "      └─TableReader", "        └─Selection",
        "          └─TableFullScan"],
      off: ["Projection", "└─Apply", "  ├─TableReader(Build)", "  │ └─TableFullScan",
        "  └─Projection(Probe)", "    └─HashAgg", "      └─TableReader", "        └─Selection",
        "          └─TableFullScan"] },
  ],
  outer_join_simplification: [
    { sql: "SELECT t.id FROM t LEFT JOIN u ON t.b = u.y WHERE u.x = 6",
      // Inner: WHERE filters u as it is read; outer: WHERE filters the joined rows.
      on: ["HashJoin", "├─TableReader(Build)", "│ └─Selection", "│   └─TableFullScan",
        "└─TableReader(Probe)", "  └─TableFullScan"],
      off: ["Selection", "└─HashJoin", "  ├─TableReader(Build)", "  │ └─TableFullScan",
        "  └─TableReader(Probe)", "    └─TableFullScan"] },
    // The inner table's key pinned by WHERE: a point get once the join is inner.
    { sql: "SELECT t.id FROM t LEFT JOIN u ON t.b = u.y WHERE u.id = 2",
      on: ["HashJoin", "├─Selection(Build)", "│ └─Point_Get", "└─TableReader(Probe)",
        "  └─TableFullScan"],
      off: ["Selection", "└─HashJoin", "  ├─TableReader(Build)", "  │ └─TableFullScan",
        "  └─TableReader(Probe)", "    └─TableFullScan"] },
  ],
  // Outer joins: RIGHT JOIN and WHEREs that keep NULLs are in the operator-info test below.
  topn: [
    { sql: "SELECT b FROM t ORDER BY b DESC LIMIT 2",
      on: ["TopN", "└─TableReader", "  └─TableFullScan"],
      off: ["Limit", "└─Sort", "  └─TableReader", "    └─TableFullScan"] },
    { sql: "(SELECT x FROM u UNION ALL SELECT b FROM t) ORDER BY 1 LIMIT 3",
      on: ["TopN", "└─Union", "  ├─TableReader", "  │ └─TableFullScan", "  └─TableReader",
        "    └─TableFullScan"],
      off: ["Limit", "└─Sort", "  └─Union", "    ├─TableReader", "    │ └─TableFullScan",
        "    └─TableReader", "      └─TableFullScan"] },
  ],
  derived_condition_pushdown: [
    // Into a derived table: its key pinned, a point get inside.
    { sql: "SELECT * FROM (SELECT id AS k, b FROM t) AS d WHERE d.k = 2",
      on: ["Point_Get"],
      off: ["Selection", "└─TableReader", "  └─TableFullScan"] },
    // An expression's alias: the Selection moves below the derived table's Projection.
    { sql: "SELECT k FROM (SELECT id AS k, a + b AS c FROM t) AS d WHERE d.c > 10",
      on: ["Projection", "└─TableReader", "  └─Selection", "    └─TableFullScan"],
      off: ["Selection", "└─Projection", "  └─TableReader", "    └─TableFullScan"] },
    // Into a view (its column list renames) and a CTE.
    { sql: "SELECT vid FROM v WHERE va = 3",
      on: ["Projection", "└─TableReader", "  └─Selection", "    └─TableFullScan"],
      off: ["Selection", "└─Projection", "  └─TableReader", "    └─Selection",
        "      └─TableFullScan"] },
    { sql: "WITH c AS (SELECT id, s FROM t) SELECT id FROM c WHERE id IN (1, 3)",
      on: ["Batch_Point_Get"],
      off: ["Selection", "└─TableReader", "  └─TableFullScan"] },
    // Into each branch of a UNION ALL …
    { sql: "SELECT * FROM (SELECT id, a FROM t UNION ALL SELECT id, x FROM u) AS d " +
      "WHERE d.id = 1",
      on: ["Union", "├─Point_Get", "└─Point_Get"],
      off: ["Selection", "└─Union", "  ├─TableReader", "  │ └─TableFullScan",
        "  └─TableReader", "    └─TableFullScan"] },
    // … unless a branch's column converts to the union's type (here INT to VARCHAR).
    { sql: "SELECT * FROM (SELECT id, s FROM t UNION ALL SELECT id, x FROM u) AS d " +
      "WHERE d.s = 'x'",
      on: ["Selection", "└─Union", "  ├─TableReader", "  │ └─TableFullScan",
        "  └─TableReader", "    └─TableFullScan"],
      off: ["Selection", "└─Union", "  ├─TableReader", "  │ └─TableFullScan",
        "  └─TableReader", "    └─TableFullScan"] },
    // Not through GROUP BY or LIMIT.
    { sql: "SELECT * FROM (SELECT a, COUNT(*) AS n FROM t GROUP BY a) AS d WHERE d.a = 2",
      on: ["Selection", "└─Projection", "  └─HashAgg", "    └─TableReader",
        "      └─TableFullScan"],
      off: ["Selection", "└─Projection", "  └─HashAgg", "    └─TableReader",
        "      └─TableFullScan"] },
  ],
  limit_pushdown: [
    { sql: "SELECT * FROM (SELECT id, b FROM t) AS d LIMIT 2",
      on: ["Limit", "└─Limit", "  └─TableReader", "    └─TableFullScan"],
      off: ["Limit", "└─TableReader", "  └─TableFullScan"] },
    { sql: "SELECT x FROM u UNION ALL SELECT b FROM t LIMIT 1, 2",
      on: ["Limit", "└─Union", "  ├─Limit", "  │ └─TableReader", "  │   └─TableFullScan",
        "  └─Limit", "    └─TableReader", "      └─TableFullScan"],
      off: ["Limit", "└─Union", "  ├─TableReader", "  │ └─TableFullScan", "  └─TableReader",
        "    └─TableFullScan"] },
    // After WHERE moved inside too (derived_condition_pushdown) …
    { sql: "SELECT * FROM (SELECT id, b FROM t) AS d WHERE d.b > d.id LIMIT 2",
      on: ["Limit", "└─Limit", "  └─TableReader", "    └─Selection", "      └─TableFullScan"],
      off: ["Limit", "└─TableReader", "  └─Selection", "    └─TableFullScan"] },
    // … but not past a WHERE left outside (here by the GROUP BY inside).
    { sql: "SELECT * FROM (SELECT a, b FROM t GROUP BY a, b) AS d WHERE d.b > 5 LIMIT 2",
      on: ["Limit", "└─Selection", "  └─Projection", "    └─HashAgg", "      └─TableReader",
        "        └─TableFullScan"],
      off: ["Limit", "└─Selection", "  └─Projection", "    └─HashAgg", "      └─TableReader",
        "        └─TableFullScan"] },
  ],
  column_pruning: [
    // The unread expression is not computed: no Projection inside.
    { sql: "SELECT d.k FROM (SELECT id AS k, a + b AS c FROM t) AS d",
      on: ["TableReader", "└─TableFullScan"],
      off: ["Projection", "└─TableReader", "  └─TableFullScan"] },
    { sql: "SELECT vid FROM v", on: ["TableReader", "└─Selection", "  └─TableFullScan"],
      off: ["Projection", "└─TableReader", "  └─Selection", "    └─TableFullScan"] },
    // Every column read (`*`): nothing pruned.
    { sql: "SELECT * FROM (SELECT id AS k, a + b AS c FROM t) AS d",
      on: ["Projection", "└─TableReader", "  └─TableFullScan"],
      off: ["Projection", "└─TableReader", "  └─TableFullScan"] },
  ],
  constant_folding: [
    { sql: "SELECT id FROM t WHERE 1 = 0", on: ["TableDual"],
      off: ["TableReader", "└─Selection", "  └─TableFullScan"] },
    { sql: "SELECT COUNT(*) FROM t WHERE FALSE AND b > 1", on: ["Projection", "└─HashAgg",
      "  └─TableDual"], off: ["Projection", "└─HashAgg", "  └─TableReader", "    └─Selection",
      "      └─TableFullScan"] },
    { sql: "SELECT id FROM t WHERE 1 = 1 AND b > 1", on: ["TableReader", "└─Selection",
      "  └─TableFullScan"], off: ["TableReader", "└─Selection", "  └─TableFullScan"] },
  ],
};

if (process.env["RULES_SHOW"] === "1") await showRules();

test("each rewrite rule changes the EXPLAIN shape it should, and off restores the old one",
  async () => {
    for (const [flag, cases] of Object.entries(rules)) {
      for (const c of cases) {
        assert.deepEqual(await operators(c.sql, null), c.on, `${flag}=on: ${c.sql}`);
        assert.deepEqual(await operators(c.sql, off(flag)), c.off, `${flag}=off: ${c.sql}`);
      }
    }
  });

test("EXPLAIN ANALYZE counts the rows a semi join keeps", async () => {
  const rows = (await explainQuery(envOf(null), queryOf("SELECT id FROM t WHERE a IN " +
    "(SELECT x FROM u)"), { analyze: true, format: "BRIEF", now })).rows;
  assert.deepEqual(rows.map((r) => [r[0], r[2]]), [["HashJoin", "3"],
    ["├─TableReader(Build)", "5"], ["│ └─TableFullScan", "5"], ["└─TableReader(Probe)", "6"],
    ["  └─TableFullScan", "6"]]);
});

test("EXPLAIN's operator info names the semi join kinds and the converted join", async () => {
  // The operator info of the plan's first join.
  const info = async (sql: string): Promise<string> => (await explainRows(sql, null))
    .find((r) => r[0]!.includes("Join"))![4]!;
  assert.equal(await info("SELECT id FROM t WHERE a IN (SELECT x FROM u)"),
    "semi join, equal:[eq(a, x)]");
  assert.equal(await info("SELECT id FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE " +
    "u.x = t.a AND u.y > t.b)"), "anti semi join, equal:[eq(t.a, u.x)], other cond:gt(u.y, t.b)");
  assert.equal(await info("SELECT id FROM t WHERE a NOT IN (SELECT x FROM u)"),
    "Null-aware anti semi join, equal:[eq(a, x)]");
  assert.equal(await info("SELECT id FROM t WHERE b > 7 OR EXISTS (SELECT 1 FROM u WHERE " +
    "u.x = t.a)"), "left outer semi join, equal:[eq(t.a, u.x)]");
  assert.equal(await info("SELECT (SELECT SUM(y) FROM u WHERE u.x = t.a) FROM t"),
    "left outer join, equal:[eq(t.a, u.x)]");
  assert.equal(await info("SELECT a NOT IN (SELECT x FROM u WHERE u.y = t.b) FROM t"),
    "anti left outer semi join, equal:[eq(t.b, u.y) eq(a, x)]");
  assert.match(await info("SELECT t.id FROM t LEFT JOIN u ON t.b = u.y WHERE u.x = 6"),
    /^inner join, /);
  assert.match(await info("SELECT t.id FROM t LEFT JOIN u ON t.b = u.y WHERE u.x IS NULL"),
    /^left outer join, /);
  assert.match(await info("SELECT t.id FROM u RIGHT JOIN t ON t.b = u.y WHERE u.x + 1 > 2"),
    /^inner join, /);
  assert.match(await info("SELECT t.id FROM t LEFT JOIN u ON t.b = u.y WHERE u.x > 1 OR " +
    "t.id = 2"), /^left outer join, /);
  assert.match(await info("SELECT t.id FROM t LEFT JOIN u ON t.b = u.y WHERE COALESCE(u.x, " +
    "1) = 1"), /^left outer join, /);
  assert.deepEqual((await explainRows("SELECT id FROM t WHERE 0", null))[0],
    ["TableDual", "0.00", "root", "", "rows:0"]);
});

/** Queries whose results must not depend on any rule. */
const resultQueries: readonly string[] = [
  // IN / NOT IN with NULLs on the outer side (t.a), the inner side (u.x) or both.
  "SELECT id FROM t WHERE a IN (SELECT x FROM u) ORDER BY id",
  "SELECT id FROM t WHERE a NOT IN (SELECT x FROM u) ORDER BY id",
  "SELECT id FROM t WHERE a NOT IN (SELECT x FROM u WHERE x IS NOT NULL) ORDER BY id",
  "SELECT id FROM t WHERE a NOT IN (SELECT x FROM e) ORDER BY id",
  "SELECT id FROM t WHERE a IN (SELECT x FROM e) ORDER BY id",
  "SELECT id FROM t WHERE NOT (a IN (SELECT x FROM w)) ORDER BY id",
  // Correlated, on one and several outer columns, with other conditions.
  "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.x = t.a) ORDER BY id",
  "SELECT id FROM t WHERE NOT EXISTS (SELECT * FROM u WHERE u.x = t.a) ORDER BY id",
  "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.x = t.a AND u.y = t.b) ORDER BY id",
  "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.x = t.a AND u.y < t.b) ORDER BY id",
  "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.y > t.b) ORDER BY id",
  "SELECT id FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.x + 1 = t.a + 1 AND " +
    "u.y <> t.b) ORDER BY id",
  "SELECT id FROM t WHERE a NOT IN (SELECT x FROM u WHERE u.y = t.b) ORDER BY id",
  "SELECT id FROM t WHERE a IN (SELECT x FROM u WHERE u.y >= t.b) ORDER BY id",
  "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM e WHERE e.x = t.a) ORDER BY id",
  "SELECT id FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.id = t.a) ORDER BY id",
  "SELECT id FROM t WHERE NOT EXISTS (SELECT 1 FROM e WHERE e.x = t.a) ORDER BY id",
  "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.x = t.a LIMIT 1) ORDER BY id",
  // Values (left outer semi joins): NULL, TRUE and FALSE all show.
  "SELECT id, a IN (SELECT x FROM u WHERE u.y = t.b) FROM t ORDER BY id",
  "SELECT id, a NOT IN (SELECT x FROM u WHERE u.y <= t.b) FROM t ORDER BY id",
  "SELECT id, EXISTS (SELECT 1 FROM u WHERE u.x = t.a AND u.y > 5) FROM t ORDER BY id",
  "SELECT id, NOT EXISTS (SELECT 1 FROM u WHERE u.x = t.a) FROM t ORDER BY id",
  "SELECT id, (a, b) IN (SELECT x, y FROM u WHERE u.s = t.s) FROM t ORDER BY id",
  "SELECT id FROM t WHERE b > 7 OR EXISTS (SELECT 1 FROM u WHERE u.x = t.a) ORDER BY id",
  "SELECT id FROM t WHERE (a IN (SELECT x FROM u WHERE u.y = t.b)) IS NULL ORDER BY id",
  "SELECT a, COUNT(*) FROM t GROUP BY a HAVING a IN (SELECT x FROM u WHERE u.x = t.a) " +
    "ORDER BY a",
  "SELECT id FROM t ORDER BY EXISTS (SELECT 1 FROM u WHERE u.x = t.a), id",
  // Scalar aggregates by correlation key (subquery_to_derived), with empty groups.
  "SELECT id, (SELECT COUNT(*) FROM u WHERE u.x = t.a) FROM t ORDER BY id",
  "SELECT id, (SELECT SUM(y) FROM u WHERE u.x = t.a AND u.y > 5) FROM t ORDER BY id",
  "SELECT id, (SELECT MAX(y) + MIN(id) FROM u WHERE t.a = u.x AND u.y = t.b) FROM t " +
    "ORDER BY id",
  "SELECT id, (SELECT COUNT(*) + 1 FROM e WHERE e.x = t.a) FROM t ORDER BY id",
  "SELECT id, (SELECT COUNT(y) FROM u WHERE u.x = t.a + 1) FROM t ORDER BY id",
  "SELECT id FROM t WHERE (SELECT COUNT(*) FROM u WHERE u.x = t.a) > 1 ORDER BY id",
  "SELECT id FROM t ORDER BY (SELECT MAX(y) FROM u WHERE u.x = t.a), id",
  "SELECT a, (SELECT COUNT(*) FROM u WHERE u.x = t.a) FROM t GROUP BY a ORDER BY a",
  "SELECT id, (SELECT COUNT(*) FROM u WHERE u.s = t.s) FROM t ORDER BY id",
  "SELECT id, (SELECT GROUP_CONCAT(s ORDER BY id) FROM u WHERE u.x = t.a) FROM t ORDER BY id",
  "SELECT id, (SELECT y FROM u WHERE u.x = t.a AND u.id = 1) FROM t ORDER BY id",
  // Multi-column IN / NOT IN, where one NULL need not make the comparison NULL.
  "SELECT id FROM t WHERE (a, b) IN (SELECT x, y FROM u) ORDER BY id",
  "SELECT id FROM t WHERE (a, b) NOT IN (SELECT x, y FROM u) ORDER BY id",
  "SELECT id FROM t WHERE (a, b) NOT IN (SELECT x, y FROM w) ORDER BY id",
  // Case-insensitive strings and duplicates on the inner side (a semi join never repeats).
  "SELECT id FROM t WHERE s IN (SELECT s FROM u) ORDER BY id",
  "SELECT id FROM t WHERE s NOT IN (SELECT s FROM w) ORDER BY id",
  "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.s = t.s) ORDER BY id",
  "SELECT COUNT(*) FROM t WHERE a IN (SELECT x FROM u)",
  // Joins inside, correlations in an inner ON (left per row), semi joins in derived tables.
  "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u JOIN w ON u.x = w.x WHERE u.y = t.b) " +
    "ORDER BY id",
  "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u JOIN w ON u.x = w.x AND w.y = t.b) " +
    "ORDER BY id",
  "SELECT d.id FROM (SELECT id, a FROM t WHERE a NOT IN (SELECT y FROM w)) AS d ORDER BY 1",
  "SELECT id FROM t WHERE NOT (a NOT IN (SELECT x FROM u)) ORDER BY id",
  "SELECT a, COUNT(*) FROM t WHERE a IN (SELECT x FROM u) GROUP BY a ORDER BY a",
  // Joins outside, subqueries inside subqueries.
  "SELECT t.id, w.id FROM t JOIN w ON t.a = w.x WHERE t.b IN (SELECT y FROM u) ORDER BY 1, 2",
  "SELECT id FROM t WHERE a IN (SELECT x FROM u WHERE u.y IN (SELECT y FROM w)) ORDER BY id",
  "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.x = t.a AND NOT EXISTS " +
    "(SELECT 1 FROM w WHERE w.x = u.x AND w.y = t.b)) ORDER BY id",
  // Outer joins with and without a null-rejecting WHERE.
  "SELECT t.id, u.id FROM t LEFT JOIN u ON t.a = u.x WHERE u.y = 6 ORDER BY 1, 2",
  "SELECT t.id, u.id FROM t LEFT JOIN u ON t.a = u.x WHERE u.y IS NULL ORDER BY 1, 2",
  "SELECT t.id, u.id FROM t LEFT JOIN u ON t.a = u.x WHERE u.y + 1 > 6 OR t.id = 4 " +
    "ORDER BY 1, 2",
  "SELECT t.id, u.id FROM u RIGHT JOIN t ON t.a = u.x WHERE u.id IN (1, 2) ORDER BY 1, 2",
  "SELECT t.id, u.id, w.id FROM t LEFT JOIN (u LEFT JOIN w ON u.y = w.y) ON t.a = u.x " +
    "WHERE w.id > 0 ORDER BY 1, 2, 3",
  "SELECT * FROM t LEFT JOIN u USING (id) WHERE x > 1 ORDER BY id",
  // TopN with ties, offsets, NULLs, DESC, LIMIT 0 and more than the rows.
  "SELECT id, a FROM t ORDER BY a LIMIT 3",
  "SELECT id, a FROM t ORDER BY a DESC, id LIMIT 2, 3",
  "SELECT a FROM t ORDER BY a LIMIT 0",
  "SELECT id FROM t ORDER BY b LIMIT 100",
  "SELECT a, COUNT(*) FROM t GROUP BY a ORDER BY COUNT(*) DESC, a LIMIT 2",
  "(SELECT x FROM u UNION ALL SELECT a FROM t) ORDER BY 1 DESC LIMIT 1, 4",
  // Pushed into derived tables, views and CTEs (and where they must not be).
  "SELECT * FROM (SELECT id AS k, b FROM t) AS d WHERE d.k = 2",
  "SELECT k FROM (SELECT id AS k, a + b AS c FROM t) AS d WHERE c > 10 AND k < 6 ORDER BY k",
  "SELECT vid, va FROM v WHERE va >= 3 ORDER BY vid",
  "SELECT d.x FROM (SELECT x, COUNT(*) AS n FROM u GROUP BY x) AS d WHERE d.n > 1",
  "SELECT d.x FROM (SELECT x FROM u ORDER BY id LIMIT 2) AS d WHERE d.x = 2",
  "SELECT d.s FROM (SELECT DISTINCT s FROM u) AS d WHERE d.s = 'y' ORDER BY 1",
  "SELECT t.id, d.y FROM t LEFT JOIN (SELECT x, y FROM u) AS d ON t.a = d.x " +
    "WHERE d.y IS NULL ORDER BY 1, 2",
  "WITH c AS (SELECT id, s FROM t) SELECT c1.id FROM c AS c1 JOIN c AS c2 ON c1.s = c2.s " +
    "WHERE c1.id > 1 AND c2.id < 5 ORDER BY 1",
  "SELECT * FROM (SELECT id, a FROM t UNION ALL SELECT id, x FROM u) AS d WHERE d.id = 1 " +
    "ORDER BY 1, 2",
  "SELECT * FROM (SELECT id, s FROM t UNION ALL SELECT id, x FROM u) AS d WHERE d.s = '1' " +
    "ORDER BY 1, 2",
  "SELECT k FROM (SELECT a AS k FROM t UNION ALL SELECT x FROM u UNION ALL SELECT y FROM w) " +
    "AS d WHERE k IN (2, 5) ORDER BY 1",
  "SELECT d.k FROM (SELECT s AS k FROM t UNION SELECT s FROM u) AS d WHERE d.k = 'Y' ORDER BY 1",
  // LIMIT pushed into derived tables and UNION ALL branches.
  "SELECT * FROM (SELECT id, b FROM t ORDER BY b DESC) AS d LIMIT 2",
  "SELECT * FROM (SELECT id, b FROM t) AS d LIMIT 1, 2",
  "SELECT k FROM (SELECT a AS k FROM t UNION ALL SELECT x FROM u) AS d LIMIT 4",
  "SELECT x FROM u UNION ALL SELECT b FROM t LIMIT 1, 2",
  "SELECT x FROM u UNION ALL SELECT b FROM t LIMIT 7",
  "SELECT x FROM u UNION SELECT b FROM t UNION ALL SELECT y FROM w LIMIT 6",
  "SELECT COUNT(*) FROM (SELECT id FROM t) AS d LIMIT 1",
  "SELECT id, (SELECT COUNT(*) FROM u WHERE u.x = t.a) FROM t LIMIT 3",
  // Column pruning: unread columns, but rows, grouping and errors kept.
  "SELECT d.k FROM (SELECT id AS k, a + b AS c FROM t) AS d ORDER BY 1",
  "SELECT d.k FROM (SELECT a AS k, COUNT(*) AS n FROM t GROUP BY a) AS d ORDER BY 1",
  "SELECT d.k FROM (SELECT DISTINCT a AS k, b FROM t) AS d ORDER BY 1",
  "SELECT k FROM (SELECT MAX(a) AS k, MIN(b) AS m FROM t) AS d",
  "SELECT vid FROM v ORDER BY 1",
  "SELECT d.k FROM (SELECT id AS k, s FROM t) AS d WHERE EXISTS (SELECT 1 FROM u " +
    "WHERE u.s = d.s) ORDER BY 1",
  // Constant subtrees.
  "SELECT id, a + (2 * 3) FROM t WHERE b > 3 + 2 ORDER BY id",
  "SELECT id FROM t WHERE s = CONCAT('', LOWER('X')) ORDER BY id",
  // Constant conjuncts.
  "SELECT id FROM t WHERE 1 = 0",
  "SELECT COUNT(*), SUM(a) FROM t WHERE NULL",
  "SELECT id FROM t WHERE 2 > 1 AND a = 2 ORDER BY id",
  "SELECT 1 FROM t WHERE 1 = 0 AND a IN (SELECT x FROM u)",
];

test("results are the same with every rule on and with each one off", async () => {
  const flags = allFlags;
  assert.ok(flags.includes("subquery_to_derived"));
  for (const sql of resultQueries) {
    const expected = await results(sql, off(...flags));
    assert.deepEqual(await results(sql, null), expected, `all on: ${sql}`);
    for (const flag of flags) {
      assert.deepEqual(await results(sql, off(flag)), expected, `${flag}=off: ${sql}`);
    }
  }
});

/** Every rule's flag. */
const allFlags = ["semijoin", "outer_join_simplification", "topn", "constant_folding",
  "derived_condition_pushdown", "limit_pushdown", "column_pruning", "subquery_to_derived"];

test("random data and queries: the same results with the rules on and off (seeded)",
  async () => {
    const rng = new Prng(20261126);
    const pick = <T>(items: readonly T[]): T => items[rng.nextInt(items.length)]!;
    const small = (): number | null => (rng.nextInt(5) === 0 ? null : rng.nextInt(5));
    const text = (): string | null => pick([null, "a", "A", "b", "B", "c"]);
    const conds = ["1 = 1", "u.y = t.b", "u.y > t.b", "u.y IS NULL", "u.x < 3", "u.s = t.s",
      "u.y = t.b AND u.x <> t.a", "u.x = t.a"];
    const preds = [
      (c: string) => `a IN (SELECT x FROM u WHERE ${c})`,
      (c: string) => `a NOT IN (SELECT x FROM u WHERE ${c})`,
      (c: string) => `EXISTS (SELECT 1 FROM u WHERE ${c})`,
      (c: string) => `NOT EXISTS (SELECT 1 FROM u WHERE ${c})`,
      (c: string) => `(a, b) IN (SELECT x, y FROM u WHERE ${c})`,
      (c: string) => `(a, b) NOT IN (SELECT x, y FROM u WHERE ${c})`,
      (c: string) => `s IN (SELECT s FROM u WHERE ${c})`,
      (c: string) => `s NOT IN (SELECT s FROM u WHERE ${c})`,
    ];
    const wheres = ["u.y > 2", "u.y IS NULL", "t.b > 1", "u.s = 'a'", "u.x + t.a > 3",
      "NOT (u.y = 1)", "u.y IS NOT NULL OR t.a = 1"];
    const off = mergeOptimizerSwitch(defaultOptimizerSwitch,
      allFlags.map((f) => `${f}=off`).join(","))!;
    for (let round = 0; round < 40; round++) {
      const data = new Map<string, Row[]>();
      for (const name of ["t", "u", "w", "e"]) {
        const n = name === "e" ? 0 : rng.nextInt(name === "u" && round % 4 === 0 ? 1 : 8);
        data.set(name, Array.from({ length: n }, (_, i) => [i + 1, small(), small(), text()]));
      }
      const rowsOf = (name: string): readonly Row[] => data.get(name)!;
      for (let q = 0; q < 15; q++) {
        const pred = pick(preds)(pick(conds));
        const sql = pick([
          `SELECT id FROM t WHERE ${pred} ORDER BY id`,
          `SELECT id, ${pred} FROM t ORDER BY id`,
          `SELECT id FROM t WHERE b > 0 OR ${pred} ORDER BY id`,
          `SELECT t.id, u.id FROM t LEFT JOIN u ON t.a = u.x WHERE ${pick(wheres)} ORDER BY 1, 2`,
          `SELECT k FROM (SELECT a AS k, b FROM t) AS d WHERE d.k > ${rng.nextInt(4)} ORDER BY 1`,
          `SELECT id, a FROM t ORDER BY a DESC, b LIMIT ${rng.nextInt(4)}, ${rng.nextInt(5)}`,
          `SELECT d.id FROM (SELECT id, a FROM t WHERE ${pred}) AS d WHERE d.a < 4 ORDER BY 1`,
          `SELECT id, (SELECT ${pick(["COUNT(*)", "SUM(y)", "MAX(y) + 1", "COUNT(s)"])} FROM u ` +
            `WHERE u.x = t.a${pick(["", " AND u.y > 1", " AND u.y = t.b"])}) FROM t ORDER BY id`,
        ]);
        assert.deepEqual(await results(sql, null, rowsOf), await results(sql, off, rowsOf),
          `${sql} over ${JSON.stringify(Object.fromEntries(data))}`);
      }
    }
  });

test("IN and NOT IN keep MySQL's NULL semantics as semi joins", async () => {
  // t.a: 1, 2, 2, NULL, 3, 4; u.x: 1, 2, 2, NULL, 5 (a NULL inside: NOT IN keeps nothing).
  assert.deepEqual(await results("SELECT id FROM t WHERE a IN (SELECT x FROM u) ORDER BY id",
    null), ["1", "2", "3"]);
  assert.deepEqual(await results("SELECT id FROM t WHERE a NOT IN (SELECT x FROM u)", null), []);
  // Without the NULL: NULL outer values are still not NOT IN a non-empty set.
  assert.deepEqual(await results("SELECT id FROM t WHERE a NOT IN (SELECT x FROM u WHERE " +
    "x IS NOT NULL) ORDER BY id", null), ["5", "6"]);
  // An empty subquery: NOT IN is TRUE even for a NULL operand.
  assert.deepEqual(await results("SELECT id FROM t WHERE a NOT IN (SELECT x FROM e) ORDER BY id",
    null), ["1", "2", "3", "4", "5", "6"]);
  // Correlated: the set per outer row is the rows with u.y = t.b.
  assert.deepEqual(await results("SELECT id FROM t WHERE a NOT IN (SELECT x FROM u WHERE " +
    "u.y = t.b) ORDER BY id", null), ["4", "5", "6"]);
  // (a, b) NOT IN with (NULL, 7) inside: (2, 7) and (3, NULL) compare NULL with it, but
  // (4, 9) FALSE with every row ((NULL, 7): 4 = NULL AND 9 = 7 is FALSE).
  assert.deepEqual(await results("SELECT id FROM t WHERE (a, b) NOT IN (SELECT x, y FROM u) " +
    "ORDER BY id", null), ["6"]);
  // Case-insensitive: 'x' IN ('X', 'y', …).
  assert.deepEqual(await results("SELECT id FROM t WHERE s IN (SELECT s FROM u) ORDER BY id",
    null), ["1", "2", "5"]);
});

test("constant folding computes constant subtrees once, and only pure ones", () => {
  const compiled = (sql: string, optimizerSwitch: string | null): Expr => {
    const parsed = parse(`SELECT ${sql} FROM t`);
    assert.ok(parsed.kind === "ok");
    const select = parsed.statements[0]!.statement as SelectQuery;
    const t = tables.t;
    const cols = tableOf(t.sql, 10).columns.map((c) => ({ qual: "t", db: null, name: c.name,
      type: fieldTypeOf(c), orgTable: "t", orgName: c.name, hidden: false }));
    return compile(select.fields[0]!.expr, new Scope(layoutOf(cols), "field list",
      new Frame(null)), new Planner(envOf(optimizerSwitch))).expr;
  };
  const folded = compiled("a + (2 * 3 - 1)", null);
  assert.ok(folded.kind === "call" && folded.args[1]!.kind === "constant");
  assert.deepEqual((folded.args[1] as { value: Value }).value, int(5));
  const kept = compiled("a + (2 * 3 - 1)", off("constant_folding"));
  assert.ok(kept.kind === "call" && kept.args[1]!.kind === "call");
  // RAND() and NOW() are not folded; 1 / 0 warns, so it runs per row.
  for (const sql of ["RAND() + 1", "UNIX_TIMESTAMP() + 1", "1 / 0"]) {
    assert.equal(compiled(sql, null).kind, "call", sql);
  }
  assert.equal(compiled("CONCAT('a', UPPER('b'))", null).kind, "constant");
});

test("column pruning skips an unread column's work, as MySQL's merged derived tables do",
  async () => {
    // `c` would fail with 1242 (u has several rows) if it were computed.
    const sql = "SELECT COUNT(*) FROM (SELECT id, (SELECT x FROM u) AS c FROM t) AS d";
    assert.deepEqual(await results(sql, null), ["6"]);
    await assert.rejects(results(sql, off("column_pruning")), { errno: 1242 });
  });

test("optimizer_switch: SET merges flags, default restores them, unknown ones fail",
  () => {
    assert.equal(optimizerFlag(null, "semijoin"), true);
    const merged = mergeOptimizerSwitch(defaultOptimizerSwitch, "semijoin=off, topn=off")!;
    assert.equal(optimizerFlag(merged, "semijoin"), false);
    assert.equal(optimizerFlag(merged, "topn"), false);
    assert.equal(optimizerFlag(merged, "constant_folding"), true);
    assert.match(merged, /^index_merge=on,.*semijoin=off,.*topn=off,/);
    assert.equal(mergeOptimizerSwitch(merged, "default"), defaultOptimizerSwitch);
    assert.equal(optimizerFlag(mergeOptimizerSwitch(merged, "topn=default")!, "topn"), true);
    assert.equal(mergeOptimizerSwitch(merged, "nosuch=on"), undefined);
    assert.equal(mergeOptimizerSwitch(merged, "topn=maybe"), undefined);
    // Through SET: the session's value lists every flag; GLOBAL is left alone.
    const vars = new SessionSysVars(new GlobalSysVars({ version: "8.0.11", versionComment: "",
      port: 4000, maxAllowedPacket: 1 << 26, maxConnections: 10, waitTimeoutS: 28800,
      hostname: "h" }));
    const set = vars.set("optimizer_switch", null, "semijoin=off");
    assert.equal(set.kind, "ok");
    assert.equal(optimizerFlag(String(set.kind === "ok" ? set.value : ""), "semijoin"), false);
    assert.equal(vars.set("optimizer_switch", null, "topn=off").kind, "ok");
    const both = vars.set("optimizer_switch", null, "constant_folding=on");
    assert.ok(both.kind === "ok" && /semijoin=off,.*topn=off,constant_folding=on/
      .test(String(both.value)));
    const bad = vars.set("optimizer_switch", null, "semijoin=perhaps");
    assert.ok(bad.kind === "error" && bad.error.errno === 1231);
  });

test("TopN holds only LIMIT + OFFSET entries and releases the ones it drops", () => {
  const tracker = new MemoryTracker({ quota: 0, connectionId: 1 });
  const ctx = envOf(null).evalContext();
  const topN = new TopN<{ keys: Value[]; n: number }>(3, keyOrder([false], ctx), tracker);
  for (let n = 0; n < 1000; n++) topN.push({ keys: [int((n * 7919) % 1000)], n }, 100);
  assert.equal(tracker.peak, 400);
  assert.deepEqual(topN.sorted().map((e) => e.keys[0]), [int(0), int(1), int(2)]);
  // Ties keep arrival order, as a stable sort would.
  const ties = new TopN<{ keys: Value[]; n: number }>(2, keyOrder([true], ctx), tracker);
  for (const n of [1, 2, 3, 4]) ties.push({ keys: [int(n % 2)], n }, 1);
  assert.deepEqual(ties.sorted().map((e) => e.n), [1, 3]);
});
