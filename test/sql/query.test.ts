/**
 * The query engine (src/sql/plan) end to end through mysql2 on an in-process cluster:
 * name resolution (qualified, unqualified, ambiguous, `*` and `t.*`, USING / NATURAL
 * merged columns), join kinds, NULL semantics of IN / NOT IN / ANY / ALL, scalar
 * subquery errors, correlated subqueries, derived tables, UNION / INTERSECT / EXCEPT
 * typing, CTEs, views (DDL, SHOW, use in FROM), subqueries in UPDATE / DELETE, and the
 * point-get path under joins. Table-driven: each case is a statement and the rows (as
 * text, NULL as null, in result order) or the MySQL error number it must give.
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
    "CREATE DATABASE qe",
    "USE qe",
    "CREATE TABLE t1 (a INT PRIMARY KEY, b INT, c VARCHAR(10))",
    "CREATE TABLE t2 (a INT PRIMARY KEY, d INT)",
    "CREATE TABLE t3 (k INT PRIMARY KEY, b INT)",
    "CREATE TABLE n (x INT)",
    "INSERT INTO t1 VALUES (1, 10, 'x'), (2, 20, 'y'), (3, NULL, 'z')",
    "INSERT INTO t2 VALUES (1, 100), (3, 300), (4, 400)",
    "INSERT INTO t3 VALUES (1, 10), (2, 10), (3, 30)",
    "INSERT INTO n VALUES (1), (NULL)",
  ]) await c.query(sql);
}, { timeout: 60_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

/** Rows, a MySQL error number, or the exact error message. */
type Case = readonly [sql: string,
  expected: readonly (readonly (string | null)[])[] | number | string];

async function check(cases: readonly Case[]): Promise<void> {
  for (const [sql, expected] of cases) {
    if (typeof expected === "number" || typeof expected === "string") {
      await assert.rejects(c.query(sql), (error: { errno?: number; message?: string }) => {
        if (typeof expected === "number") {
          assert.equal(error.errno, expected, `${sql}: ${error.message}`);
        } else {
          assert.equal(error.message, expected, sql);
        }
        return true;
      }, sql);
      continue;
    }
    const [result] = await c.query({ sql, rowsAsArray: true });
    const got = !Array.isArray(result) ? []
      : (result as unknown[][]).map((row) => row.map((v) => (v === null ? null : String(v))));
    assert.deepEqual(got, expected, sql);
  }
}

describe("query engine", { timeout: 120_000 }, () => {
  it("limits top-level SELECTs to @@sql_select_limit, as MySQL", async () => {
    await c.query("SET sql_select_limit = 2");
    try {
      await check([
        ["SELECT a FROM t1 ORDER BY a", [["1"], ["2"]]],
        // A statement's own LIMIT wins; subqueries and derived tables are not limited.
        ["SELECT a FROM t1 ORDER BY a LIMIT 3", [["1"], ["2"], ["3"]]],
        ["SELECT COUNT(*) FROM (SELECT a FROM t1) d", [["3"]]],
        ["SELECT a FROM t1 WHERE a IN (SELECT a FROM t1) ORDER BY a DESC", [["3"], ["2"]]],
        ["SELECT a FROM t1 WHERE a = 3", [["3"]]],
        ["SELECT a FROM t1 WHERE a IN (1, 2, 3)", [["1"], ["2"]]],
        ["SELECT a FROM t1 UNION SELECT a FROM t2 ORDER BY a", [["1"], ["2"]]],
        ["SELECT 1 UNION SELECT 2 UNION SELECT 3", [["1"], ["2"]]],
      ]);
      await c.query("CREATE TABLE limited (a INT)");
      await c.query("INSERT INTO limited SELECT a FROM t1");
      await c.query("SET sql_select_limit = DEFAULT");
      await check([["SELECT COUNT(*) FROM limited", [["3"]]]]);
      await c.query("SET sql_select_limit = 0");
      await check([["SELECT a FROM t1", []], ["SELECT 1", []]]);
    } finally {
      await c.query("SET sql_select_limit = DEFAULT");
    }
  });

  it("resolves names as MySQL does", async () => {
    await check([
      ["SELECT t1.a, t2.a FROM t1, t2 WHERE t1.a = t2.a ORDER BY 1", [["1", "1"], ["3", "3"]]],
      ["SELECT a FROM t1, t2", 1052],
      ["SELECT b FROM t1, t3", 1052],
      ["SELECT t1.nope FROM t1, t2", 1054],
      ["SELECT x.a FROM t1", 1054],
      ["SELECT 1 FROM t1 JOIN t2 ON t1.a = t2.nope", "Unknown column 't2.nope' in 'on clause'"],
      ["SELECT 1 FROM t1 WHERE nope = 1", "Unknown column 'nope' in 'where clause'"],
      ["SELECT a FROM t1 JOIN t2 ON t1.a = t2.a", "Column 'a' in field list is ambiguous"],
      ["SELECT * FROM t1 JOIN t2 ON t1.a = t2.a ORDER BY t1.a",
        [["1", "10", "x", "1", "100"], ["3", null, "z", "3", "300"]]],
      ["SELECT t2.*, t1.c FROM t1 JOIN t2 ON t1.a = t2.a ORDER BY t1.a",
        [["1", "100", "x"], ["3", "300", "z"]]],
      ["SELECT nope.* FROM t1", 1051],
      // USING / NATURAL: the merged column first, once; both originals reachable qualified.
      ["SELECT * FROM t1 JOIN t2 USING (a) ORDER BY a",
        [["1", "10", "x", "100"], ["3", null, "z", "300"]]],
      ["SELECT a, t1.a, t2.a FROM t1 NATURAL JOIN t2 ORDER BY a", [["1", "1", "1"],
        ["3", "3", "3"]]],
      ["SELECT * FROM t1 JOIN t2 USING (nope)", 1054],
      ["SELECT * FROM t1, t1", 1066],
      ["SELECT x.a, y.a FROM t1 x, t1 y WHERE x.a = y.a + 1 ORDER BY 1", [["2", "1"],
        ["3", "2"]]],
      ["SELECT qe.t1.a FROM qe.t1 WHERE qe.t1.a = 1", [["1"]]],
      ["SELECT other.t1.a FROM t1", 1054],
      // Select aliases in GROUP BY, HAVING and ORDER BY; HAVING without GROUP BY filters.
      ["SELECT b DIV 10 AS g, COUNT(*) FROM t3 GROUP BY g ORDER BY g", [["1", "2"],
        ["3", "1"]]],
      ["SELECT b AS v FROM t3 GROUP BY b HAVING v > 10", [["30"]]],
      ["SELECT a AS x FROM t1 ORDER BY -x LIMIT 1", [["3"]]],
      ["SELECT a FROM t1 HAVING a > 1 ORDER BY a", [["2"], ["3"]]],
      ["SELECT p, q FROM (SELECT a, d FROM t2) AS dt (p, q) WHERE q > 100 ORDER BY p",
        [["3", "300"], ["4", "400"]]],
      ["WITH c (p) AS (SELECT a FROM t2) SELECT MAX(p) FROM c", [["4"]]],
    ]);
  });

  it("runs inner, cross, left, right and natural joins", async () => {
    await check([
      ["SELECT t1.a, d FROM t1 LEFT JOIN t2 ON t1.a = t2.a ORDER BY 1",
        [["1", "100"], ["2", null], ["3", "300"]]],
      ["SELECT t1.a, t2.a FROM t1 RIGHT JOIN t2 ON t1.a = t2.a ORDER BY t2.a",
        [["1", "1"], ["3", "3"], [null, "4"]]],
      ["SELECT a, d FROM t1 NATURAL RIGHT JOIN t2 ORDER BY a",
        [["1", "100"], ["3", "300"], ["4", "400"]]],
      ["SELECT COUNT(*) FROM t1 CROSS JOIN t2", [["9"]]],
      ["SELECT COUNT(*) FROM t1 JOIN t2 ON t1.b < t2.d", [["6"]]],
      // ON conditions of a LEFT JOIN do not filter the preserved side.
      ["SELECT t1.a, t2.d FROM t1 LEFT JOIN t2 ON t1.a = t2.a AND t2.d > 100 ORDER BY 1",
        [["1", null], ["2", null], ["3", "300"]]],
      ["SELECT t1.a FROM t1 LEFT JOIN t2 ON t1.a = t2.a WHERE t2.a IS NULL", [["2"]]],
      ["SELECT t1.a, t3.k FROM t1 JOIN t3 ON t1.b = t3.b ORDER BY 1, 2",
        [["1", "1"], ["1", "2"]]],
      ["SELECT t1.a, t2.d, t3.k FROM t1 LEFT JOIN t2 ON t1.a = t2.a JOIN t3 ON t3.k = t1.a " +
        "ORDER BY 1", [["1", "100", "1"], ["2", null, "2"], ["3", "300", "3"]]],
      ["SELECT t1.a, SUM(t2.d) FROM t1 LEFT JOIN t2 ON t1.a = t2.a GROUP BY t1.a ORDER BY 1",
        [["1", "100"], ["2", null], ["3", "300"]]],
    ]);
  });

  it("keeps MySQL's NULL semantics of IN, NOT IN, ANY and ALL", async () => {
    await check([
      ["SELECT 1 IN (SELECT x FROM n), 2 IN (SELECT x FROM n), NULL IN (SELECT x FROM n)",
        [["1", null, null]]],
      ["SELECT 1 NOT IN (SELECT x FROM n), 2 NOT IN (SELECT x FROM n)", [["0", null]]],
      ["SELECT NULL IN (SELECT x FROM n WHERE x > 5), 1 NOT IN (SELECT x FROM n WHERE x > 5)",
        [["0", "1"]]],
      ["SELECT 2 > ANY (SELECT x FROM n), 0 > ANY (SELECT x FROM n)", [["1", null]]],
      ["SELECT 2 > ALL (SELECT x FROM n), 0 > ALL (SELECT x FROM n)", [[null, "0"]]],
      ["SELECT 0 > ALL (SELECT x FROM n WHERE x > 5)", [["1"]]],
      ["SELECT a FROM t1 WHERE a NOT IN (SELECT a FROM t2) ORDER BY a", [["2"]]],
      ["SELECT a FROM t1 WHERE b NOT IN (SELECT x FROM n)", []],
      ["SELECT (1, 10) IN (SELECT a, b FROM t1), (3, 10) IN (SELECT a, b FROM t1)",
        [["1", null]]],
      ["SELECT a FROM t1 WHERE (a, b) NOT IN (SELECT a, d FROM t2) ORDER BY a", [["1"], ["2"]]],
      ["SELECT (1, 2) IN (SELECT a FROM t1)", 1241],
    ]);
  });

  it("runs scalar, EXISTS and correlated subqueries and reports their errors", async () => {
    await check([
      ["SELECT (SELECT d FROM t2 WHERE t2.a = t1.a) FROM t1 ORDER BY a",
        [["100"], [null], ["300"]]],
      ["SELECT a FROM t1 WHERE EXISTS (SELECT 1 FROM t2 WHERE t2.a = t1.a) ORDER BY a",
        [["1"], ["3"]]],
      ["SELECT a FROM t1 WHERE NOT EXISTS (SELECT * FROM t2 WHERE t2.a = t1.a)", [["2"]]],
      ["SELECT a, (SELECT COUNT(*) FROM t3 WHERE t3.b = t1.b) FROM t1 ORDER BY a",
        [["1", "2"], ["2", "0"], ["3", "0"]]],
      ["SELECT (SELECT a FROM t2) FROM t1", 1242],
      ["SELECT (SELECT a, d FROM t2 LIMIT 1)", 1241],
      ["SELECT a FROM t1 WHERE a IN (SELECT a, d FROM t2)", 1241],
      ["SELECT (SELECT MAX(d) FROM t2) + 1", [["401"]]],
      ["SELECT a FROM t1 WHERE b > (SELECT AVG(b) FROM t1)", [["2"]]],
      ["SELECT a FROM t1 GROUP BY a HAVING a > (SELECT MIN(a) FROM t2) ORDER BY a",
        [["2"], ["3"]]],
      // Two levels: the innermost reads the outermost row.
      ["SELECT a FROM t1 WHERE EXISTS (SELECT 1 FROM t2 WHERE EXISTS " +
        "(SELECT 1 FROM t3 WHERE t3.k = t1.a AND t2.a = t1.a)) ORDER BY a", [["1"], ["3"]]],
      ["SELECT x FROM (SELECT a AS x, b FROM t1) AS d WHERE b IS NOT NULL ORDER BY x",
        [["1"], ["2"]]],
      ["SELECT * FROM (SELECT a FROM t1)", 1248],
      ["SELECT * FROM (SELECT a, a FROM t1) AS d", 1060],
      ["SELECT s FROM (SELECT SUM(b) AS s FROM t1) AS d", [["30"]]],
    ]);
  });

  it("runs UNION, INTERSECT and EXCEPT with unified types, ORDER BY and LIMIT", async () => {
    await check([
      ["SELECT a FROM t1 UNION SELECT a FROM t2 ORDER BY a", [["1"], ["2"], ["3"], ["4"]]],
      ["SELECT a FROM t1 UNION ALL SELECT a FROM t2 ORDER BY a DESC LIMIT 2", [["4"], ["3"]]],
      ["SELECT 1 UNION SELECT 2.5", [["1.0"], ["2.5"]]],
      ["SELECT 1 UNION SELECT 'a'", [["1"], ["a"]]],
      ["SELECT 'a' UNION SELECT 'A'", [["a"]]],
      ["SELECT a FROM t1 INTERSECT SELECT a FROM t2 ORDER BY 1", [["1"], ["3"]]],
      ["SELECT a FROM t1 EXCEPT SELECT a FROM t2", [["2"]]],
      ["SELECT a, b FROM t1 UNION SELECT a FROM t2", 1222],
      ["(SELECT a FROM t1 ORDER BY a DESC LIMIT 1) UNION (SELECT a FROM t2 LIMIT 1)",
        [["3"], ["1"]]],
      ["WITH c AS (SELECT a FROM t1 WHERE a > 1) SELECT COUNT(*) FROM c", [["2"]]],
      ["WITH RECURSIVE r (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) " +
        "SELECT SUM(n) FROM r", [["15"]]],
      ["VALUES ROW(1, 'a'), ROW(2, 'b')", [["1", "a"], ["2", "b"]]],
    ]);
  });

  it("creates, lists, shows, uses and drops views", async () => {
    await check([
      ["CREATE VIEW v1 AS SELECT a, b + 1 FROM t1 WHERE a < 3", []],
      ["SELECT * FROM v1 ORDER BY a", [["1", "11"], ["2", "21"]]],
      ["SELECT `b + 1` FROM v1 WHERE a = 2", [["21"]]],
      ["CREATE VIEW v1 AS SELECT 1", 1050],
      ["CREATE VIEW t1 AS SELECT 1", 1050],
      ["CREATE VIEW v2 (x, y) AS SELECT a FROM t1", 1353],
      ["CREATE VIEW v2 AS SELECT nope FROM t1", 1054],
      ["CREATE OR REPLACE VIEW v1 (p, q) AS SELECT v.a, t2.d FROM v1 AS v JOIN t2 USING (a)",
        1462],
      ["CREATE OR REPLACE VIEW v1 (p, q) AS SELECT t1.a, t2.d FROM t1 JOIN t2 USING (a)", []],
      ["SELECT p, q FROM v1 ORDER BY p", [["1", "100"], ["3", "300"]]],
      ["SELECT v1.q, t3.k FROM v1 JOIN t3 ON v1.p = t3.k ORDER BY 1", [["100", "1"],
        ["300", "3"]]],
      ["SHOW FULL TABLES LIKE 'v%'", [["v1", "VIEW"]]],
      // information_schema tables join like any other source.
      ["SELECT t.table_name, COUNT(*) FROM information_schema.tables t JOIN " +
        "information_schema.columns c ON c.table_schema = t.table_schema AND " +
        "c.table_name = t.table_name WHERE t.table_schema = 'qe' AND t.table_name IN " +
        "('t1', 't2') GROUP BY t.table_name ORDER BY 1", [["t1", "3"], ["t2", "2"]]],
      ["DROP VIEW t1", 1347],
      ["DROP VIEW v1, nope", 1051],
      ["SELECT COUNT(*) FROM v1", [["2"]]],
      ["DROP VIEW v1", []],
      ["DROP VIEW IF EXISTS v1", []],
      ["SELECT * FROM v1", 1146],
    ]);
    const [shown] = await c.query({ sql: "SHOW CREATE VIEW t1", rowsAsArray: true }).then(
      () => [null], (error: { errno?: number }) => [error.errno]);
    assert.equal(shown, 1347);
    await c.query("CREATE VIEW v3 AS SELECT a FROM t1");
    const [created] = await c.query({ sql: "SHOW CREATE VIEW v3", rowsAsArray: true });
    const row = (created as string[][])[0]!;
    assert.equal(row[0], "v3");
    assert.match(row[1]!, /^CREATE .*VIEW `v3` \(`a`\) AS SELECT/);
    await c.query("DROP VIEW v3");
  });

  it("accepts subqueries in UPDATE and DELETE, keeps point gets under joins, reads index " +
    "ranges", async () => {
    await c.query("CREATE TABLE w (id INT PRIMARY KEY, v INT)");
    await c.query("INSERT INTO w VALUES (1, 0), (2, 0), (3, 0), (4, 0)");
    await check([
      ["UPDATE w SET v = 1 WHERE id IN (SELECT a FROM t2)", []],
      ["SELECT id FROM w WHERE v = 1 ORDER BY id", [["1"], ["3"], ["4"]]],
      ["DELETE FROM w WHERE id > (SELECT MIN(a) FROM t2) AND v = 1", []],
      ["SELECT id FROM w ORDER BY id", [["1"], ["2"]]],
      // Subqueries in SET and VALUES run once for the statement.
      ["UPDATE w SET v = (SELECT MAX(d) FROM t2) + 1 WHERE id = 1", []],
      ["INSERT INTO w VALUES (10, (SELECT COUNT(*) FROM t1)), (11, 1 IN (SELECT a FROM t2))",
        []],
      ["SELECT id, v FROM w ORDER BY id", [["1", "401"], ["2", "0"], ["10", "3"],
        ["11", "1"]]],
      ["UPDATE w SET v = (SELECT d FROM t2 WHERE t2.a = w.id)", 1235],
    ]);
    const before = node.storage.stats.pointGets;
    await check([["SELECT t1.c, t2.d FROM t1 JOIN t2 ON t2.a = t1.a WHERE t1.a = 3",
      [["z", "300"]]]]);
    assert.ok(node.storage.stats.pointGets > before, "the pk = const table is read by a point get");
    const idx = (sql: string): Promise<void> => c.query(sql).then(() => undefined);
    await idx("CREATE TABLE r (id INT PRIMARY KEY, k INT, s VARCHAR(5), KEY ik (k))");
    await idx("INSERT INTO r VALUES (1, 5, 'a'), (2, -3, 'b'), (3, 5, 'c'), (4, NULL, 'd'), " +
      "(5, 10, 'e'), (6, 7, 'f')");
    const scansBefore = node.storage.stats.indexRangeScans ?? 0;
    await check([
      ["SELECT id FROM r WHERE k = 5", [["1"], ["3"]]],
      ["SELECT id FROM r WHERE k > 5", [["5"], ["6"]]],
      ["SELECT id FROM r WHERE k >= 5 AND k < 10", [["1"], ["3"], ["6"]]],
      ["SELECT id FROM r WHERE k BETWEEN -3 AND 5", [["1"], ["2"], ["3"]]],
      ["SELECT id FROM r WHERE k > 6.5", [["5"], ["6"]]],
      ["SELECT id FROM r WHERE k <= 6.5 AND k > -3.5", [["1"], ["2"], ["3"]]],
      ["SELECT id FROM r WHERE k = 5.5", []],
      ["SELECT id FROM r WHERE k = NULL", []],
      ["SELECT id FROM r WHERE 7 <= k", [["5"], ["6"]]],
      ["SELECT id FROM r WHERE k > 100", []],
      ["SELECT id FROM r WHERE k < '6'", [["1"], ["2"], ["3"]]],
      ["SELECT s FROM r WHERE k = 5 AND s <> 'a'", [["c"]]],
      ["SELECT r.id, t1.c FROM r JOIN t1 ON t1.a = r.id WHERE r.k >= 5", [["1", "x"],
        ["3", "z"]]],
    ]);
    assert.ok((node.storage.stats.indexRangeScans ?? 0) > scansBefore,
      "comparisons on an indexed integer column read an index range");
    await idx("UPDATE r SET k = 8 WHERE id = 1");
    await idx("DELETE FROM r WHERE id = 3");
    await check([["SELECT id FROM r WHERE k BETWEEN 5 AND 8", [["1"], ["6"]]]]);
    // Prepared (binary protocol): the columns come from planning, `?` binds per execution.
    const [prepared] = await c.execute("SELECT t1.c, t2.d FROM t1 JOIN t2 ON t1.a = t2.a " +
      "WHERE t1.a = ? AND t2.d IN (SELECT d FROM t2 WHERE d > ?)", [3, 100]);
    assert.deepEqual(prepared, [{ c: "z", d: 300 }]);
  });

  it("reads a range of row keys for bounds on a clustered integer primary key", async () => {
    await c.query("CREATE TABLE h (id BIGINT PRIMARY KEY, v INT)");
    await c.query("INSERT INTO h VALUES (-9223372036854775808, 0), (-5, 1), (0, 2), (3, 3), " +
      "(4, 4), (10, 5), (9223372036854775807, 6)");
    await c.query("CREATE TABLE hu (id BIGINT UNSIGNED PRIMARY KEY)");
    await c.query("INSERT INTO hu VALUES (1), (9223372036854775808), (18446744073709551615)");
    const before = node.storage.stats.handleRangeScans ?? 0;
    await check([
      ["SELECT v FROM h WHERE id BETWEEN -5 AND 4", [["1"], ["2"], ["3"], ["4"]]],
      ["SELECT v FROM h WHERE id > 3 AND id < 100", [["4"], ["5"]]],
      ["SELECT v FROM h WHERE id >= 9223372036854775807", [["6"]]],
      ["SELECT v FROM h WHERE id <= -9223372036854775808", [["0"]]],
      ["SELECT v FROM h WHERE id < -3.5", [["0"], ["1"]]],
      ["SELECT v FROM h WHERE id > 4 AND id < 5", []],
      ["SELECT v FROM h WHERE id > 2 AND v < 5", [["3"], ["4"]]],
      ["SELECT SUM(v) FROM h WHERE id BETWEEN 0 AND 10", [["14"]]],
      ["SELECT v FROM h WHERE id BETWEEN 0 AND 10 ORDER BY id DESC", [["5"], ["4"], ["3"],
        ["2"]]],
    ]);
    // Every query but the empty `id > 4 AND id < 5` (no read at all) reads a key range.
    assert.equal((node.storage.stats.handleRangeScans ?? 0) - before, 8,
      "each bounded query read a range of row keys");
    // Unsigned BIGINT handles above 2^63 - 1 wrap, so their table is scanned instead.
    const scans = node.storage.stats.handleRangeScans ?? 0;
    await check([["SELECT CAST(id AS CHAR) FROM hu WHERE id > 5 ORDER BY id",
      [["9223372036854775808"], ["18446744073709551615"]]]]);
    assert.equal(node.storage.stats.handleRangeScans ?? 0, scans);
  });
});
