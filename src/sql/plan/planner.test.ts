/**
 * The planner without a cluster: an in-memory catalog and tables behind a `PlanEnv`, so
 * plans and results are checked directly — join results, the per-statement scan cache
 * (a correlated subquery reads its table once, not once per outer row), view columns,
 * recursion guards and the join size bound.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type EvalContext, type Value, defaultBuildOptions, nullLiteral, toText }
  from "../../expr/mod.ts";
import { InfoSchema, type SchemaDatabase } from "../catalog/catalog.ts";
import { type TableInfo, type ViewInfo, tableInfoOf } from "../catalog/schema.ts";
import type { Query } from "../parser/ast.ts";
import { parse } from "../parser/parse.ts";
import { type PlanEnv, queryValues, viewColumns } from "./mod.ts";

function tableOf(sql: string, id: number): TableInfo {
  const parsed = parse(sql);
  assert.equal(parsed.kind, "ok");
  const statement = parsed.kind === "ok" ? parsed.statements[0]!.statement : undefined;
  assert.ok(statement?.kind === "createTable");
  return tableInfoOf(statement.table.name, statement, { tableId: id, dbId: 1 });
}

function queryOf(sql: string): Query {
  const parsed = parse(sql);
  assert.equal(parsed.kind, "ok", sql);
  const statement = parsed.kind === "ok" ? parsed.statements[0]!.statement : undefined;
  assert.ok(statement !== undefined && (statement.kind === "select" ||
    statement.kind === "setOp"), sql);
  return statement as Query;
}

const int = (n: number): Value => ({ kind: "int", value: BigInt(n) });

/** A database `d` with tables t (id, v) and u (id, w), their rows, and views. */
function env(rows: { t: Value[][]; u: Value[][] }, views: ViewInfo[] = []):
  { env: PlanEnv; scans: Map<string, number> } {
  const t = tableOf("CREATE TABLE t (id INT PRIMARY KEY, v INT)", 10);
  const u = tableOf("CREATE TABLE u (id INT PRIMARY KEY, w INT)", 11);
  const db: SchemaDatabase = { info: { id: 1, name: "d" },
    tables: new Map([["t", t], ["u", u]]), views: new Map(views.map((v) => [v.name, v])) };
  const schema = new InfoSchema(1n, new Map([["d", db]]));
  const scans = new Map<string, number>();
  const data = new Map([[10, rows.t], [11, rows.u]]);
  const ctx: EvalContext = { warn: () => {}, statementTime: { year: 2026, month: 1, day: 1,
    hour: 0, minute: 0, second: 0, microsecond: 0 }, database: "d", user: "root@localhost",
  currentUser: "root@%", connectionId: 1, version: "8.0", lastInsertId: 0n,
  setLastInsertId: () => {}, setUserVariable: () => {} };
  return {
    scans,
    env: {
      schema,
      database: "d",
      scope: (clause) => ({ options: defaultBuildOptions, clause, params: null, database: "d",
        userVariable: () => nullLiteral(), systemVariable: () => nullLiteral() }),
      evalContext: () => ctx,
      scanTable: (table) => {
        scans.set(table.name, (scans.get(table.name) ?? 0) + 1);
        const r = data.get(table.id) ?? [];
        return Promise.resolve({ handles: r.map((row) => (row[0] as { value: bigint }).value),
          rows: r });
      },
      getRow: (table, handle) => Promise.resolve((data.get(table.id) ?? []).find((row) =>
        (row[0] as { value: bigint }).value === handle) ?? null),
      lockRows: () => Promise.resolve(),
    },
  };
}

async function run(e: PlanEnv, sql: string): Promise<(string | null)[][]> {
  const out = await queryValues(e, queryOf(sql));
  return out.rows.map((r) => r.map((v) => toText(v)));
}

test("joins and correlated subqueries read each table once per statement", async () => {
  const many = Array.from({ length: 50 }, (_, i) => [int(i), int(i % 5)]);
  const { env: e, scans } = env({ t: many, u: many });
  assert.deepEqual(await run(e, "SELECT COUNT(*) FROM t JOIN u ON t.v = u.w"), [["500"]]);
  scans.clear();
  const rows = await run(e, "SELECT id FROM t WHERE v = (SELECT MAX(w) FROM u WHERE u.id = " +
    "t.id + 5) ORDER BY id");
  assert.deepEqual(rows.length, 45);
  assert.deepEqual(scans.get("t"), 1);
  // `u.id = t.id + 5` pins u's primary key: a point get per outer row, never a scan.
  assert.equal(scans.get("u"), undefined);
  const correlated = await run(e, "SELECT COUNT(*) FROM t WHERE EXISTS (SELECT 1 FROM u " +
    "WHERE u.w = t.v AND u.id > t.id)");
  assert.deepEqual(correlated, [["45"]]);
  assert.equal(scans.get("u"), 1);
});

test("a cross product past the bound is 1104, not unbounded memory", async () => {
  const big = Array.from({ length: 8000 }, (_, i) => [int(i), int(i)]);
  const { env: e } = env({ t: big, u: big });
  await assert.rejects(run(e, "SELECT COUNT(*) FROM t, u"), { errno: 1104 });
});

test("view columns and recursion guards", async () => {
  const views: ViewInfo[] = [
    { id: 20, name: "vt", dbId: 1, columns: ["k", "x"], definition: "SELECT id, v FROM t",
      checkOption: null },
    { id: 21, name: "va", dbId: 1, columns: ["k"], definition: "SELECT k FROM vb",
      checkOption: null },
    { id: 22, name: "vb", dbId: 1, columns: ["k"], definition: "SELECT k FROM va",
      checkOption: null },
  ];
  const { env: e } = env({ t: [[int(1), int(2)]], u: [] }, views);
  const columns = viewColumns(e, "d", "vt");
  assert.deepEqual(columns?.names, ["k", "x"]);
  assert.equal(viewColumns(e, "d", "t"), undefined);
  assert.deepEqual(await run(e, "SELECT x FROM vt WHERE k = 1"), [["2"]]);
  await assert.rejects(run(e, "SELECT * FROM va"), { errno: 1462 });
  await assert.rejects(run(e, "WITH RECURSIVE r (n) AS (SELECT 1 UNION ALL SELECT n + 1 " +
    "FROM r) SELECT COUNT(*) FROM r"), { errno: 3636 });
});
