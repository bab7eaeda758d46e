/**
 * Aggregates, window functions and EXPLAIN end to end through mysql2 on an in-process
 * cluster. Expected results are MySQL 8's: GROUP_CONCAT (DISTINCT, ORDER BY, SEPARATOR,
 * the group_concat_max_len cut and its 1260 warning), BIT_*, the variance family,
 * JSON_ARRAYAGG / JSON_OBJECTAGG, COUNT(DISTINCT a, b), WITH ROLLUP; ranking, offset and
 * value window functions and aggregates over ROWS / RANGE frames and named windows; and
 * EXPLAIN /
 * EXPLAIN ANALYZE printing the access path the executor takes (Point_Get,
 * Batch_Point_Get, TableRangeScan, IndexLookUp, TableFullScan) under the operators of the
 * query's clauses, in TiDB's columns.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type mysql from "mysql2/promise";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";

let cluster: SqlCluster;
let node: SqlNodeHandle;
let c: mysql.Connection;

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
  c = await node.connect();
  for (const sql of [
    "CREATE DATABASE qw",
    "USE qw",
    "CREATE TABLE emp (id INT PRIMARY KEY, dept VARCHAR(10), salary INT, name VARCHAR(20), " +
      "KEY k_dept (dept))",
    "INSERT INTO emp VALUES (1, 'eng', 100, 'ann'), (2, 'eng', 120, 'bob'), " +
      "(3, 'eng', 120, 'cid'), (4, 'ops', 80, 'dan'), (5, 'ops', NULL, 'eve'), " +
      "(6, 'ops', 90, 'fay'), (7, 'hr', 70, 'gus')",
    "CREATE TABLE sales (d INT PRIMARY KEY, amount DECIMAL(10, 2))",
    "INSERT INTO sales VALUES (1, 10.00), (2, 20.50), (3, 5.25), (5, 40.00), (6, 1.00)",
  ]) await c.query(sql);
}, { timeout: 60_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

/** Rows (as text, NULL as null, in result order) or a MySQL error number. */
type Case = readonly [sql: string, expected: readonly (readonly (string | null)[])[] | number];

async function rowsOf(sql: string): Promise<(string | null)[][]> {
  const [result] = await c.query({ sql, rowsAsArray: true });
  return !Array.isArray(result) ? []
    : (result as unknown[][]).map((row) => row.map((v) => (v === null ? null : String(v))));
}

async function check(cases: readonly Case[]): Promise<void> {
  for (const [sql, expected] of cases) {
    if (typeof expected === "number") {
      await assert.rejects(c.query(sql), (error: { errno?: number; message?: string }) => {
        assert.equal(error.errno, expected, `${sql}: ${error.message}`);
        return true;
      }, sql);
      continue;
    }
    assert.deepEqual(await rowsOf(sql), expected, sql);
  }
}

describe("aggregates, window functions and EXPLAIN", { timeout: 60_000 }, () => {
  it("aggregates of MySQL 8", async () => {
    await check([
      ["SELECT dept, GROUP_CONCAT(name ORDER BY salary DESC, name SEPARATOR ';') FROM emp " +
        "GROUP BY dept ORDER BY dept",
      [["eng", "bob;cid;ann"], ["hr", "gus"], ["ops", "fay;dan;eve"]]],
      ["SELECT GROUP_CONCAT(DISTINCT dept ORDER BY dept) FROM emp", [["eng,hr,ops"]]],
      ["SELECT GROUP_CONCAT(salary) FROM emp WHERE dept = 'ops'", [["80,90"]]],
      ["SELECT BIT_AND(salary), BIT_OR(salary), BIT_XOR(salary) FROM emp WHERE dept = 'ops'",
        [["80", "90", "10"]]],
      ["SELECT STDDEV_POP(salary), VAR_SAMP(salary) FROM emp WHERE dept = 'ops'",
        [["5", "50"]]],
      // (As text: mysql2 parses JSON columns.)
      ["SELECT CAST(JSON_ARRAYAGG(salary) AS CHAR), CAST(JSON_OBJECTAGG(name, salary) AS CHAR) " +
        "FROM emp WHERE dept = 'ops'",
        [["[80, null, 90]", "{\"dan\": 80, \"eve\": null, \"fay\": 90}"]]],
      ["SELECT COUNT(DISTINCT dept, salary), COUNT(DISTINCT salary) FROM emp", [["5", "5"]]],
      ["SELECT dept, ANY_VALUE(name) FROM emp GROUP BY dept ORDER BY dept",
        [["eng", "ann"], ["hr", "gus"], ["ops", "dan"]]],
      ["SELECT dept, SUM(salary), GROUPING(dept) FROM emp GROUP BY dept WITH ROLLUP",
        [["eng", "340", "0"], ["hr", "70", "0"], ["ops", "170", "0"], [null, "580", "1"]]],
    ]);
  });

  it("GROUP_CONCAT is cut at group_concat_max_len with warning 1260", async () => {
    await c.query("SET SESSION group_concat_max_len = 6");
    try {
      assert.deepEqual(await rowsOf("SELECT GROUP_CONCAT(name ORDER BY id) FROM emp"),
        [["ann,bo"]]);
      assert.deepEqual(await rowsOf("SHOW WARNINGS"),
        [["Warning", "1260", "Row 2 was cut by GROUP_CONCAT()"]]);
    } finally {
      await c.query("SET SESSION group_concat_max_len = DEFAULT");
    }
  });

  it("ranking, offset and value window functions", async () => {
    await check([
      ["SELECT name, ROW_NUMBER() OVER w, RANK() OVER w, DENSE_RANK() OVER w FROM emp " +
        "WHERE dept = 'eng' WINDOW w AS (ORDER BY salary DESC) ORDER BY name",
      [["ann", "3", "3", "2"], ["bob", "1", "1", "1"], ["cid", "2", "1", "1"]]],
      ["SELECT name, PERCENT_RANK() OVER (ORDER BY salary), CUME_DIST() OVER (ORDER BY " +
        "salary) FROM emp WHERE dept = 'eng' ORDER BY name",
      [["ann", "0", "0.3333333333333333"], ["bob", "0.5", "1"], ["cid", "0.5", "1"]]],
      ["SELECT id, NTILE(3) OVER (ORDER BY id) FROM emp",
        [["1", "1"], ["2", "1"], ["3", "1"], ["4", "2"], ["5", "2"], ["6", "3"], ["7", "3"]]],
      ["SELECT id, LAG(salary) OVER (PARTITION BY dept ORDER BY id), LEAD(salary, 1, 0) OVER " +
        "(PARTITION BY dept ORDER BY id) FROM emp ORDER BY id",
      [["1", null, "120"], ["2", "100", "120"], ["3", "120", "0"], ["4", null, null],
        ["5", "80", "90"], ["6", null, "0"], ["7", null, "0"]]],
      ["SELECT id, FIRST_VALUE(name) OVER w, LAST_VALUE(name) OVER w, NTH_VALUE(name, 2) " +
        "OVER w FROM emp WHERE dept = 'ops' WINDOW w AS (ORDER BY id ROWS BETWEEN UNBOUNDED " +
        "PRECEDING AND UNBOUNDED FOLLOWING)",
      [["4", "dan", "fay", "eve"], ["5", "dan", "fay", "eve"], ["6", "dan", "fay", "eve"]]],
      // Without ORDER BY the rows come in the window's order.
      ["SELECT name, ROW_NUMBER() OVER (ORDER BY name DESC) FROM emp WHERE dept = 'ops'",
        [["fay", "1"], ["eve", "2"], ["dan", "3"]]],
    ]);
  });

  it("aggregates over frames and with GROUP BY", async () => {
    await check([
      ["SELECT d, SUM(amount) OVER (ORDER BY d) FROM sales",
        [["1", "10.00"], ["2", "30.50"], ["3", "35.75"], ["5", "75.75"], ["6", "76.75"]]],
      ["SELECT d, SUM(amount) OVER (ORDER BY d ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) " +
        "FROM sales", [["1", "30.50"], ["2", "35.75"], ["3", "65.75"], ["5", "46.25"],
        ["6", "41.00"]]],
      ["SELECT d, COUNT(*) OVER (ORDER BY d RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING) " +
        "FROM sales", [["1", "2"], ["2", "3"], ["3", "2"], ["5", "2"], ["6", "2"]]],
      ["SELECT d, AVG(amount) OVER () FROM sales WHERE d < 3", [["1", "15.250000"],
        ["2", "15.250000"]]],
      ["SELECT dept, SUM(salary), SUM(SUM(salary)) OVER (ORDER BY dept) FROM emp " +
        "GROUP BY dept", [["eng", "340", "340"], ["hr", "70", "410"], ["ops", "170", "580"]]],
      ["SELECT dept, RANK() OVER (ORDER BY COUNT(*) DESC, dept) AS r FROM emp GROUP BY dept " +
        "ORDER BY r", [["eng", "1"], ["ops", "2"], ["hr", "3"]]],
      ["SELECT id FROM emp WHERE ROW_NUMBER() OVER () = 1", 3593],
      ["SELECT ROW_NUMBER() OVER w FROM emp", 3579],
      ["SELECT SUM(salary) OVER (ORDER BY name RANGE 1 PRECEDING) FROM emp", 3587],
      ["SELECT NTILE(0) OVER () FROM emp", 1210],
    ]);
  });

  it("EXPLAIN prints the access path the executor takes", async () => {
    const explain = async (sql: string): Promise<string[][]> =>
      (await rowsOf(`EXPLAIN ${sql}`)).map((r) => r.map((v) => v ?? ""));
    const point = await explain("SELECT name FROM emp WHERE id = 3");
    assert.deepEqual(point.map((r) => [r[0], r[1], r[2], r[3], r[4]]),
      [["Point_Get_1", "1.00", "root", "table:emp", "handle:3"]]);
    const batch = await explain("SELECT name FROM emp WHERE id IN (1, 3, 5)");
    assert.match(batch[0]![0]!, /^Batch_Point_Get_\d+$/);
    assert.match(batch[0]![4]!, /handle:\[1 3 5\]/);
    // Adjacent keys are read as one range: what the executor does is what EXPLAIN says.
    const merged = await explain("SELECT name FROM emp WHERE id IN (1, 2, 5)");
    assert.match(merged[2]![4]!, /^range:\[1,2\], \[5,5\], keep order:false/);
    const range = await explain("SELECT * FROM emp WHERE id > 4");
    assert.deepEqual(range.map((r) => r[0]!.replace(/_\d+/g, "")), ["TableReader",
      "└─Selection", "  └─TableRangeScan"]);
    const index = await explain("SELECT * FROM emp WHERE dept = 'ops'");
    assert.deepEqual(index.map((r) => r[0]!.replace(/_\d+/g, "")), ["IndexLookUp",
      "├─IndexRangeScan(Build)", "└─Selection(Probe)", "  └─TableRowIDScan"]);
    assert.equal(index[1]![3], "table:emp, index:k_dept(dept)");
    const top = await explain("SELECT dept, COUNT(*) FROM emp GROUP BY dept ORDER BY dept " +
      "LIMIT 2");
    // The partial aggregation runs on KV (coprocessor pushdown), merged at the root.
    assert.deepEqual(top.map((r) => r[0]!.replace(/_\d+/g, "")), ["Projection", "└─TopN",
      "  └─HashAgg", "    └─TableReader", "      └─HashAgg", "        └─TableFullScan"]);
    assert.equal(top[4]![2], "cop[tikv]");
    assert.equal(top[5]![1], "10000.00");
    assert.match(top[5]![4]!, /stats:pseudo/);
    // Two clustered keys read in key order: a merge join (join_exec.ts).
    const join = await explain("SELECT e.name, s.amount FROM emp e JOIN sales s ON e.id = s.d");
    assert.equal(join[0]![0]!.replace(/_\d+/g, ""), "MergeJoin");
    assert.match(join[0]![4]!, /inner join, left key:e\.id, right key:s\.d/);
    const hash = await explain("SELECT e.name, s.amount FROM emp e JOIN sales s ON e.salary = s.d");
    assert.equal(hash[0]![0]!.replace(/_\d+/g, ""), "HashJoin");
    assert.match(hash[0]![4]!, /inner join, equal:\[eq\(e\.salary, s\.d\)\]/);
    // IN (subquery) runs as a semi join (decorrelate.ts); other subqueries hang under an
    // Apply; a derived UNION is its own subtree.
    const sub = await explain("SELECT name FROM emp WHERE id IN (SELECT d FROM sales)");
    assert.equal(sub[0]![0]!.replace(/_\d+/g, ""), "HashJoin");
    assert.match(sub[0]![4]!, /semi join/);
    assert.ok(sub.some((r) => r[3] === "table:sales"), JSON.stringify(sub));
    const scalar = await explain(
      "SELECT name, (SELECT MAX(amount) FROM sales WHERE sales.d > emp.id) FROM emp");
    assert.ok(scalar.some((r) => r[0]!.replace(/_\d+/g, "").endsWith("Apply")),
      JSON.stringify(scalar));
    const union = await explain("SELECT * FROM (SELECT id FROM emp UNION SELECT d FROM sales) x");
    assert.deepEqual(union.map((r) => r[0]!.replace(/_\d+/g, "")), ["Union", "├─TableReader",
      "│ └─TableFullScan", "└─TableReader", "  └─TableFullScan"]);
    assert.deepEqual((await explain("FORMAT = 'brief' SELECT name FROM emp WHERE id = 3"))
      .map((r) => r[0]), ["Point_Get"]);
    await check([["EXPLAIN FORMAT = nope SELECT 1", 1918]]);
  });

  it("EXPLAIN ANALYZE runs the query and adds actual rows", async () => {
    const [result, fields] = await c.query({ sql: "EXPLAIN ANALYZE SELECT * FROM emp " +
      "WHERE dept = 'eng' AND salary > 100", rowsAsArray: true });
    assert.deepEqual((fields as { name: string }[]).map((f) => f.name), ["id", "estRows",
      "actRows", "task", "access object", "execution info", "operator info", "memory", "disk"]);
    const rows = result as string[][];
    assert.equal(rows[0]![0]!.replace(/_\d+/g, ""), "IndexLookUp");
    // Three index entries for 'eng', two rows past the salary filter.
    assert.equal(rows[0]![2], "2");
    assert.equal(rows[1]![2], "3");
    // The coprocessor's part: handles from the index, requests for the rows.
    assert.match(rows[0]![5]!, /^time:.*, loops:1, index_task: \{fetch_handle: 3\}, /);
  });
});
