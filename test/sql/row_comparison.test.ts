/**
 * Row comparisons, as MySQL defines them: `(a, b) op (x, y)` item by item (`=`, `<=>`,
 * `<>`) or lexicographically (`<`, `<=`, `>`, `>=`: the first pair that differs decides,
 * a NULL before it makes the result NULL), nested rows, and a row compared with a row
 * subquery (`(a, b) = (SELECT x, y …)`: NULL when it returns no row, 1242 when more than
 * one). Expected values were checked against MariaDB 10.11. Also the keyset pagination
 * ORMs write (`WHERE (a, b) > (?, ?) ORDER BY a, b LIMIT n`) with bound parameters, a
 * correlated row subquery, and 1241 when the two sides' numbers of items differ.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type mysql from "mysql2/promise";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";
import { errnoOf, freshDatabase } from "./test_sql_helpers.ts";

const timeout = { timeout: 60_000 };
let cluster: SqlCluster;
let node: SqlNodeHandle;
let c: mysql.Connection;

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
  c = await freshDatabase(node, "rowcmp");
}, { timeout: 30_000 });

after(async () => {
  await c?.end();
  await cluster.close();
}, { timeout: 30_000 });

async function values(sql: string, params: unknown[] = []): Promise<unknown[][]> {
  const [result] = await c.query({ sql, rowsAsArray: true }, params);
  return result as unknown[][];
}

test("row comparisons of constants give MySQL's values, NULLs included", timeout, async () => {
  const cases: [string, number | null][] = [
    ["(1,2) = (1,2)", 1],
    ["(1,2) < (1,3)", 1],
    ["(1,NULL) = (1,2)", null],
    ["(1,NULL) = (2,2)", 0],
    ["(1,2) <> (1,3)", 1],
    ["(1,2) <=> (1,2)", 1],
    ["(NULL,1) < (1,2)", null],
    ["(1,NULL) < (2,1)", 1],
    ["(1,NULL) < (1,2)", null],
    ["(1,2) >= (1,2)", 1],
    ["(1,(2,3)) = (1,(2,3))", 1],
    ["(1,2) = (SELECT 1,2)", 1],
    ["(1,2) < (SELECT 1,3)", 1],
    ["(1,2) = (SELECT 1,2 FROM (SELECT 1) d WHERE 0)", null],
    ["(2,NULL) = (SELECT 1,2)", 0],
    ["(1,NULL) <> (1,2)", null],
    ["(1,NULL) <=> (1,NULL)", 1],
    ["(2,1) > (1,NULL)", 1],
    ["(1,2) <=> (1,NULL)", 0],
  ];
  const got = await values(`SELECT ${cases.map(([sql]) => sql).join(", ")}`);
  assert.deepEqual(got[0]!.map((v) => (v === null ? null : Number(v))),
    cases.map(([, want]) => want));
});

test("keyset pagination by (a, b) > (?, ?) walks every row once, in order", timeout,
  async () => {
    await c.query("CREATE TABLE page (a INT, b INT, v INT, PRIMARY KEY (a, b))");
    const all: [number, number][] = [];
    for (let a = 0; a < 6; a++) for (let b = 0; b < 5; b++) all.push([a, b]);
    await c.query(`INSERT INTO page VALUES ${all.map(([a, b]) => `(${a}, ${b}, ${a * b})`)}`);
    const seen: [number, number][] = [];
    let last: [number, number] = [-1, -1];
    for (;;) {
      const [page] = await c.execute(
        "SELECT a, b FROM page WHERE (a, b) > (?, ?) ORDER BY a, b LIMIT 7", last);
      const got = (page as { a: number; b: number }[]).map((r): [number, number] => [r.a, r.b]);
      if (got.length === 0) break;
      seen.push(...got);
      last = got[got.length - 1]!;
    }
    assert.deepEqual(seen, all);
    assert.deepEqual(await values("SELECT COUNT(*) FROM page WHERE (a, b) <= (2, 3)"), [[14]]);
    assert.deepEqual(await values(
      "SELECT COUNT(*) FROM page WHERE (a, b) <> (2, 4) AND (b, a) >= (4, 0)"), [[5]]);
  });

test("a correlated row subquery compares with the one row it returns", timeout, async () => {
  await c.query("CREATE TABLE l (id INT PRIMARY KEY, x INT, y INT)");
  await c.query("CREATE TABLE r (id INT PRIMARY KEY, x INT, y INT)");
  await c.query("INSERT INTO l VALUES (1, 1, 1), (2, 2, 2), (3, 3, NULL), (4, 4, 4)");
  await c.query("INSERT INTO r VALUES (1, 1, 1), (2, 2, 9), (3, 3, 3)");
  assert.deepEqual(await values(
    "SELECT id, (x, y) = (SELECT x, y FROM r WHERE r.id = l.id) FROM l ORDER BY id"),
  [[1, 1], [2, 0], [3, null], [4, null]]);
  assert.deepEqual(await values(
    "SELECT id FROM l WHERE (x, y) = (SELECT x, y FROM r WHERE r.id = l.id)"), [[1]]);
});

test("rows of different sizes are 1241, a row subquery of several rows 1242", timeout,
  async () => {
    assert.equal(await errnoOf(c, "SELECT (1, 2) = 1"), 1241);
    assert.equal(await errnoOf(c, "SELECT 1 = (1, 2)"), 1241);
    assert.equal(await errnoOf(c, "SELECT (1, 2) = (1, 2, 3)"), 1241);
    assert.equal(await errnoOf(c, "SELECT (1, 2) = (SELECT 1)"), 1241);
    assert.equal(await errnoOf(c, "SELECT (1, 2)"), 1241);
    assert.equal(await errnoOf(c, "SELECT (1, 2) + 1"), 1241);
    assert.equal(await errnoOf(c,
      "SELECT (1, 2) = (SELECT 1, 2 FROM (SELECT 1 UNION SELECT 2) d)"), 1242);
  });
