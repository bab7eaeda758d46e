/**
 * The planner's rewrite rules end to end through mysql2 on an in-process cluster:
 * `SET optimizer_switch` reaches the planner (EXPLAIN shows the semi join, the TopN, the
 * TableDual only with their flags on), `@@optimizer_switch` lists every flag after a
 * partial SET, and subquery results over NULLs, empty subqueries and case-insensitive
 * strings are the same with the rules on and off and equal MySQL's.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type mysql from "mysql2/promise";
import { type SqlCluster, startSqlCluster } from "./sql_cluster.ts";

let cluster: SqlCluster;
let c: mysql.Connection;

before(async () => {
  cluster = await startSqlCluster();
  const node = await cluster.startNode();
  c = await node.connect();
  for (const sql of [
    "CREATE DATABASE rr",
    "USE rr",
    "CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, s VARCHAR(10))",
    "INSERT INTO t VALUES (1, 1, 5, 'x'), (2, 2, 6, 'Y'), (3, 2, 7, 'z'), (4, NULL, 8, NULL), " +
      "(5, 3, NULL, 'x'), (6, 4, 9, 'q')",
    "CREATE TABLE u (id INT PRIMARY KEY, x INT, y INT, s VARCHAR(10))",
    "INSERT INTO u VALUES (1, 1, 5, 'X'), (2, 2, 6, 'y'), (3, 2, 6, 'y'), (4, NULL, 7, NULL), " +
      "(5, 5, NULL, 'w')",
    "CREATE TABLE e (id INT PRIMARY KEY, x INT)",
  ]) await c.query(sql);
}, { timeout: 60_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

type Rows = Record<string, unknown>[];

async function column(sql: string, name: string): Promise<unknown[]> {
  const [rows] = await c.query(sql);
  return (rows as Rows).map((r) => r[name]);
}

async function operators(sql: string): Promise<string[]> {
  return (await column(`EXPLAIN FORMAT = 'brief' ${sql}`, "id")).map(String);
}

test("SET optimizer_switch turns each rule off and on for the session", { timeout: 60_000 },
  async () => {
    const semi = "SELECT id FROM t WHERE a IN (SELECT x FROM u)";
    assert.equal((await operators(semi))[0], "HashJoin");
    await c.query("SET optimizer_switch = 'semijoin=off'");
    assert.equal((await operators(semi))[0], "Apply");
    const [value] = await c.query("SELECT @@optimizer_switch AS v");
    const flags = String((value as Rows)[0]!["v"]);
    assert.match(flags, /semijoin=off/);
    assert.match(flags, /topn=on/);
    await c.query("SET optimizer_switch = 'topn=off,constant_folding=off'");
    assert.deepEqual((await operators("SELECT b FROM t ORDER BY b LIMIT 1")).slice(0, 2),
      ["Limit", "└─Sort"]);
    assert.notEqual((await operators("SELECT id FROM t WHERE 1 = 0"))[0], "TableDual");
    // Still off: SET named only the other flags.
    assert.equal((await operators(semi))[0], "Apply");
    await c.query("SET optimizer_switch = 'default'");
    assert.equal((await operators("SELECT b FROM t ORDER BY b LIMIT 1"))[0], "TopN");
    assert.equal((await operators("SELECT id FROM t WHERE 1 = 0"))[0], "TableDual");
    await assert.rejects(c.query("SET optimizer_switch = 'semijoin=maybe'"), { errno: 1231 });
  });

test("subquery results with the rules on equal MySQL's and the rules off", { timeout: 60_000 },
  async () => {
    const cases: readonly (readonly [string, readonly unknown[]])[] = [
      ["SELECT id FROM t WHERE a IN (SELECT x FROM u) ORDER BY id", [1, 2, 3]],
      ["SELECT id FROM t WHERE a NOT IN (SELECT x FROM u) ORDER BY id", []],
      ["SELECT id FROM t WHERE a NOT IN (SELECT x FROM e) ORDER BY id", [1, 2, 3, 4, 5, 6]],
      ["SELECT id FROM t WHERE a NOT IN (SELECT x FROM u WHERE u.y = t.b) ORDER BY id",
        [4, 5, 6]],
      ["SELECT id FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.x = t.a AND u.y = t.b) " +
        "ORDER BY id", [3, 4, 5, 6]],
      ["SELECT id FROM t WHERE s IN (SELECT s FROM u) ORDER BY id", [1, 2, 5]],
      ["SELECT id FROM t WHERE (a, b) NOT IN (SELECT x, y FROM u) ORDER BY id", [6]],
      ["SELECT id FROM t LEFT JOIN u USING (id) WHERE u.x > 1 ORDER BY id", [2, 3, 5]],
    ];
    for (const [sql, expected] of cases) {
      await c.query("SET optimizer_switch = 'default'");
      assert.deepEqual(await column(sql, "id"), expected, sql);
      await c.query("SET optimizer_switch = 'semijoin=off,outer_join_simplification=off," +
        "derived_condition_pushdown=off,constant_folding=off'");
      assert.deepEqual(await column(sql, "id"), expected, `rules off: ${sql}`);
    }
    await c.query("SET optimizer_switch = 'default'");
    const [values] = await c.query("SELECT id, a IN (SELECT x FROM u WHERE u.y = t.b) AS v " +
      "FROM t ORDER BY id");
    assert.deepEqual((values as Rows).map((r) => r["v"]), [1, 1, null, 0, 0, 0]);
  });
