/**
 * The storage-backed SQL node end to end: mysql2 against SQL nodes over an in-process PD
 * and two KV stores. Catalog (bootstrap, DDL, SHOW), DML round trips with types, MySQL's
 * errors (1062, 1048, 1146, 1049, 1050, 1051, 1046, 1054), the point-get path, explicit
 * transactions, write conflicts between sessions, and schema changes seen by a second node.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";
import { rejects, rows } from "./test_sql_helpers.ts";

let cluster: SqlCluster;
let node: SqlNodeHandle;

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
}, { timeout: 30_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

describe("SQL node on storage", { timeout: 60_000 }, () => {
  it("bootstraps the test database once and lists it", async () => {
    const c = await node.connect();
    const dbs = (await rows(c, "SHOW DATABASES")).map((r) => r.Database);
    assert.deepEqual(dbs, ["information_schema", "mysql", "test"]);
    // A second bootstrap (another node) changes nothing.
    const second = await cluster.startNode();
    const c2 = await second.connect();
    assert.deepEqual((await rows(c2, "SHOW DATABASES")).map((r) => r.Database), dbs);
  });

  it("creates and drops views in the catalog (test/sql/query.test.ts has the rest)",
    async () => {
      const c = await node.connect();
      await c.query("CREATE DATABASE IF NOT EXISTS unsup");
      await c.query("USE unsup");
      await c.query("CREATE TABLE t (id INT PRIMARY KEY, v INT)");
      await c.query("CREATE VIEW vw AS SELECT id FROM t");
      assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n FROM vw"), [{ n: 0 }]);
      await c.query("DROP VIEW vw");
      // A missing view: 1051, or a note with IF EXISTS, as MySQL answers.
      await rejects(c.query("DROP VIEW vw"), 1051);
      await c.query("DROP VIEW IF EXISTS vw");
    });

  it("CREATE/DROP DATABASE and USE report MySQL's errors", async () => {
    const c = await node.connect();
    await c.query("CREATE DATABASE d1");
    await rejects(c.query("CREATE DATABASE d1"), 1007,
      "Can't create database 'd1'; database exists");
    await c.query("CREATE DATABASE IF NOT EXISTS d1");
    await c.query("USE d1");
    await rejects(c.query("CREATE TABLE t (a INT, a INT)"), 1060);
    await c.query("DROP DATABASE d1");
    await rejects(c.query("DROP DATABASE d1"), 1008);
    await c.query("DROP DATABASE IF EXISTS d1");
    await rejects(c.query("USE nosuch"), 1049, "Unknown database 'nosuch'");
    await rejects(c.query("SELECT * FROM t"), 1046, "No database selected");
  });

  it("creates tables and shows them from the catalog", async () => {
    const c = await node.connect("test");
    await c.query(`CREATE TABLE shown (id INT PRIMARY KEY AUTO_INCREMENT,
      name VARCHAR(20) NOT NULL DEFAULT 'x', price DECIMAL(10,2), UNIQUE KEY u_name (name),
      KEY k_price (price))`);
    await rejects(c.query("CREATE TABLE shown (a INT)"), 1050, "Table 'shown' already exists");
    await c.query("CREATE TABLE IF NOT EXISTS shown (a INT)");
    assert.ok((await rows(c, "SHOW TABLES")).some((r) => r.Tables_in_test === "shown"));
    const columns = await rows(c, "SHOW COLUMNS FROM shown");
    assert.deepEqual(columns.map((r) => [r.Field, r.Type, r.Null, r.Key, r.Extra]), [
      ["id", "int", "NO", "PRI", "auto_increment"],
      ["name", "varchar(20)", "NO", "UNI", ""],
      ["price", "decimal(10,2)", "YES", "MUL", ""],
    ]);
    const [create] = await rows(c, "SHOW CREATE TABLE shown");
    assert.match(String(create!["Create Table"]), /UNIQUE KEY `u_name` \(`name`\)/);
    await rejects(c.query("DROP TABLE nosuch"), 1051, "Unknown table 'test.nosuch'");
    await rejects(c.query("SELECT * FROM nosuch"), 1146, "Table 'test.nosuch' doesn't exist");
  });

  it("round-trips INSERT, SELECT, UPDATE and DELETE with types", async () => {
    const c = await node.connect("test");
    await c.query(`CREATE TABLE items (id BIGINT PRIMARY KEY, n INT UNSIGNED, d DECIMAL(8,3),
      f DOUBLE, s VARCHAR(10), t TEXT, dt DATETIME, b BOOL)`);
    await c.query(`INSERT INTO items VALUES (1, 10, 1.5, 2.25, 'abc', 'long text',
      '2024-01-02 03:04:05', TRUE), (2, NULL, -3.125, NULL, 'xyz', NULL, NULL, FALSE)`);
    await c.query("INSERT INTO items (id, s) VALUES (3, 'three')");
    const all = await rows(c, "SELECT * FROM items ORDER BY id");
    assert.equal(all.length, 3);
    assert.deepEqual(all[0], { id: 1, n: 10, d: "1.500", f: 2.25, s: "abc", t: "long text",
      dt: all[0]!.dt, b: 1 });
    assert.equal((all[0]!.dt as Date).getFullYear(), 2024);
    assert.equal(all[1]!.d, "-3.125");
    assert.equal(all[2]!.n, null);
    const [updated] = await c.query("UPDATE items SET n = n + 5, s = 'upd' WHERE id <= 2");
    assert.equal((updated as { affectedRows: number }).affectedRows, 2);
    assert.deepEqual(await rows(c, "SELECT id, n, s AS label FROM items WHERE s = 'upd' " +
      "ORDER BY id DESC"), [{ id: 2, n: null, label: "upd" }, { id: 1, n: 15, label: "upd" }]);
    assert.deepEqual(await rows(c, "SELECT COUNT(*) AS c, SUM(d) AS s, MIN(id) AS lo, " +
      "MAX(s) AS hi, AVG(id) AS a FROM items"),
    [{ c: 3, s: "-1.625", lo: 1, hi: "upd", a: "2.0000" }]);
    assert.deepEqual(await rows(c, "SELECT b, COUNT(*) AS c FROM items GROUP BY b ORDER BY b"),
      [{ b: null, c: 1 }, { b: 0, c: 1 }, { b: 1, c: 1 }]);
    assert.deepEqual(await rows(c, "SELECT id FROM items ORDER BY id LIMIT 1, 1"), [{ id: 2 }]);
    const [deleted] = await c.query("DELETE FROM items WHERE id = 2");
    assert.equal((deleted as { affectedRows: number }).affectedRows, 1);
    assert.deepEqual((await rows(c, "SELECT id FROM items")).map((r) => r.id), [1, 3]);
  });

  it("reports 1062, 1048, 1054, 1136 and 1264 and writes nothing for a failed statement",
    async () => {
      const c = await node.connect("test");
      await c.query(`CREATE TABLE checks (id INT PRIMARY KEY, u VARCHAR(5) NOT NULL,
        small TINYINT, UNIQUE KEY uk (u))`);
      await c.query("INSERT INTO checks VALUES (1, 'a', 1)");
      await rejects(c.query("INSERT INTO checks VALUES (1, 'b', 1)"), 1062,
        "Duplicate entry '1' for key 'checks.PRIMARY'");
      await rejects(c.query("INSERT INTO checks VALUES (2, 'c', 1), (3, 'a', 1)"), 1062,
        "Duplicate entry 'a' for key 'checks.uk'");
      await rejects(c.query("INSERT INTO checks VALUES (4, NULL, 1)"), 1048,
        "Column 'u' cannot be null");
      await rejects(c.query("INSERT INTO checks (id, nope) VALUES (5, 1)"), 1054,
        "Unknown column 'nope' in 'field list'");
      await rejects(c.query("INSERT INTO checks VALUES (6, 'x')"), 1136);
      await rejects(c.query("INSERT INTO checks VALUES (7, 'y', 300)"), 1264);
      const [none] = await c.query("UPDATE checks SET u = 'a' WHERE id = 9");
      assert.equal((none as { affectedRows: number }).affectedRows, 0);
      await c.query("INSERT INTO checks VALUES (8, 'z', 2)");
      await rejects(c.query("UPDATE checks SET u = 'a' WHERE id = 8"), 1062);
      assert.deepEqual((await rows(c, "SELECT id FROM checks ORDER BY id")).map((r) => r.id),
        [1, 8]);
    });

  it("assigns AUTO_INCREMENT ids and LAST_INSERT_ID, hidden row ids without a primary key",
    async () => {
      const c = await node.connect("test");
      await c.query("CREATE TABLE auto (id INT PRIMARY KEY AUTO_INCREMENT, v INT)");
      const [first] = await c.query("INSERT INTO auto (v) VALUES (10), (20)");
      assert.equal((first as { insertId: number }).insertId, 1);
      await c.query("INSERT INTO auto VALUES (50, 30)");
      await c.query("INSERT INTO auto (v) VALUES (40)");
      assert.deepEqual(await rows(c, "SELECT id, v FROM auto ORDER BY id"), [
        { id: 1, v: 10 }, { id: 2, v: 20 }, { id: 50, v: 30 }, { id: 51, v: 40 }]);
      assert.deepEqual(await rows(c, "SELECT LAST_INSERT_ID() AS l"), [{ l: 51 }]);
      await c.query("CREATE TABLE heap (a VARCHAR(3), KEY ka (a))");
      await c.query("INSERT INTO heap VALUES ('x'), ('x'), ('y')");
      assert.deepEqual(await rows(c, "SELECT a, COUNT(*) AS n FROM heap GROUP BY a ORDER BY a"),
        [{ a: "x", n: 2 }, { a: "y", n: 1 }]);
      await c.query("TRUNCATE TABLE heap");
      assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n FROM heap"), [{ n: 0 }]);
    });

  it("reads a row by primary key with a point get, not a scan", async () => {
    const c = await node.connect("test");
    await c.query("CREATE TABLE pg (id INT PRIMARY KEY, v VARCHAR(10))");
    await c.query("INSERT INTO pg VALUES (1, 'one'), (2, 'two')");
    const stats = node.storage.stats;
    const before = { ...stats };
    const [result] = await c.execute("SELECT v FROM pg WHERE id = ?", [2]);
    assert.deepEqual(result, [{ v: "two" }]);
    assert.deepEqual(await rows(c, "SELECT v FROM pg WHERE id = 3"), []);
    assert.equal(stats.pointGets - before.pointGets, 2);
    assert.equal(stats.tableScans - before.tableScans, 0);
    await rows(c, "SELECT v FROM pg WHERE v = 'one'");
    assert.equal(stats.tableScans - before.tableScans, 1);
  });

  it("makes explicit transactions visible on COMMIT only, and ROLLBACK discards", async () => {
    const a = await node.connect("test");
    const b = await node.connect("test");
    await a.query("CREATE TABLE acct (id INT PRIMARY KEY, bal INT)");
    await a.query("INSERT INTO acct VALUES (1, 100)");
    await a.query("BEGIN");
    await a.query("UPDATE acct SET bal = 50 WHERE id = 1");
    assert.deepEqual(await rows(a, "SELECT bal FROM acct"), [{ bal: 50 }]);
    assert.deepEqual(await rows(b, "SELECT bal FROM acct"), [{ bal: 100 }]);
    await a.query("COMMIT");
    assert.deepEqual(await rows(b, "SELECT bal FROM acct"), [{ bal: 50 }]);
    await a.query("START TRANSACTION");
    await a.query("INSERT INTO acct VALUES (2, 7)");
    await a.query("ROLLBACK");
    assert.deepEqual(await rows(b, "SELECT id FROM acct ORDER BY id"), [{ id: 1 }]);
  });

  it("aborts one of two conflicting optimistic transactions with a retryable error, losing " +
    "no update", async () => {
      const a = await node.connect("test");
      const b = await node.connect("test");
      await a.query("CREATE TABLE counter (id INT PRIMARY KEY, n INT)");
      await a.query("INSERT INTO counter VALUES (1, 0)");
      await a.query("BEGIN OPTIMISTIC");
      await b.query("BEGIN OPTIMISTIC");
      await a.query("UPDATE counter SET n = n + 1 WHERE id = 1");
      await b.query("UPDATE counter SET n = n + 1 WHERE id = 1");
      await a.query("COMMIT");
      await rejects(b.query("COMMIT"), 9007, /Write conflict.*\[try again later\]/);
      assert.deepEqual(await rows(a, "SELECT n FROM counter"), [{ n: 1 }]);
      // The retry succeeds.
      await b.query("UPDATE counter SET n = n + 1 WHERE id = 1");
      assert.deepEqual(await rows(a, "SELECT n FROM counter"), [{ n: 2 }]);
    });

  it("shows a second SQL node the schema a DDL changed; only DDL on a written table fails " +
    "its commit with 8028",
    async () => {
      const other = await cluster.startNode();
      const a = await node.connect("test");
      const b = await other.connect("test");
      await a.query("CREATE TABLE seen (id INT PRIMARY KEY)");
      await b.query("INSERT INTO seen VALUES (1)");
      assert.deepEqual(await rows(a, "SELECT id FROM seen"), [{ id: 1 }]);
      await b.query("BEGIN");
      await b.query("INSERT INTO seen VALUES (2)");
      await a.query("CREATE TABLE seen2 (id INT)");
      await b.query("COMMIT");
      await b.query("BEGIN");
      await b.query("INSERT INTO seen VALUES (3)");
      await a.query("TRUNCATE TABLE seen");
      await rejects(b.query("COMMIT"), 8028);
      await b.query("DROP TABLE seen");
      await rejects(a.query("SELECT * FROM seen"), 1146);
    });
});

describe("INSERT ... SELECT on storage", { timeout: 30_000 }, () => {
  it("copies rows through a column list, filling the other columns with defaults",
    async () => {
      const c = await node.connect("test");
      await c.query("CREATE TABLE isrc (id INT PRIMARY KEY, v INT, s VARCHAR(10))");
      await c.query("INSERT INTO isrc VALUES (1, 10, 'a'), (2, 20, 'b'), (3, 30, NULL)");
      await c.query("CREATE TABLE idst (id INT PRIMARY KEY, v INT, s VARCHAR(10) DEFAULT 'd')");
      const [ok] = await c.query("INSERT INTO idst SELECT * FROM isrc WHERE id < 3");
      assert.equal((ok as { affectedRows: number }).affectedRows, 2);
      await c.query("INSERT INTO idst (v, id) SELECT v + 1, id + 10 FROM isrc WHERE id = 3");
      assert.deepEqual(await rows(c, "SELECT id, v, s FROM idst ORDER BY id"), [
        { id: 1, v: 10, s: "a" }, { id: 2, v: 20, s: "b" }, { id: 13, v: 31, s: "d" }]);
      // A SELECT without FROM supplies one row.
      await c.query("INSERT INTO idst SELECT 20, 2, 'x'");
      assert.deepEqual(await rows(c, "SELECT s FROM idst WHERE id = 20"), [{ s: "x" }]);
    });

  it("answers 1136 on a column count mismatch and 1062 on a duplicate, writing nothing",
    async () => {
      const c = await node.connect("test");
      await c.query("CREATE TABLE icnt (id INT PRIMARY KEY, v INT)");
      await c.query("INSERT INTO icnt VALUES (1, 1), (2, 2)");
      await rejects(c.query("INSERT INTO icnt (id) SELECT id, v FROM icnt WHERE id > 5"), 1136,
        "Column count doesn't match value count at row 1");
      await rejects(c.query("INSERT INTO icnt SELECT id + 1, v FROM icnt"), 1062,
        "Duplicate entry '2' for key 'icnt.PRIMARY'");
      assert.deepEqual(await rows(c, "SELECT id FROM icnt ORDER BY id"), [{ id: 1 }, { id: 2 }]);
    });

  it("reads its own target at the statement's snapshot, not seeing its own inserts",
    async () => {
      const c = await node.connect("test");
      await c.query("CREATE TABLE iself (id INT PRIMARY KEY AUTO_INCREMENT, v INT)");
      await c.query("INSERT INTO iself (v) VALUES (1), (2)");
      await c.query("INSERT INTO iself (v) SELECT v * 10 FROM iself");
      await c.query("INSERT INTO iself (v) SELECT v FROM iself");
      assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n, SUM(v) AS s FROM iself"),
        [{ n: 8, s: "66" }]);
    });

  it("runs inside an explicit transaction, seeing its earlier writes, undone by ROLLBACK",
    async () => {
      const c = await node.connect("test");
      await c.query("CREATE TABLE itx (id INT PRIMARY KEY)");
      await c.query("CREATE TABLE itx2 (id INT PRIMARY KEY)");
      await c.query("BEGIN");
      await c.query("INSERT INTO itx VALUES (1), (2)");
      await c.query("INSERT INTO itx2 SELECT id FROM itx");
      assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n FROM itx2"), [{ n: 2 }]);
      await c.query("ROLLBACK");
      assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n FROM itx2"), [{ n: 0 }]);
      await c.query("BEGIN");
      await c.query("INSERT INTO itx VALUES (3)");
      await c.query("INSERT INTO itx2 SELECT id FROM itx");
      await c.query("COMMIT");
      assert.deepEqual(await rows(c, "SELECT id FROM itx2"), [{ id: 3 }]);
    });
});

describe("aggregates without FROM", { timeout: 30_000 }, () => {
  it("evaluates over one implicit row, as MySQL does", async () => {
    const c = await node.connect("test");
    assert.deepEqual(await rows(c, "SELECT - COUNT(*) AS a, MAX(1) AS b, SUM(2) AS c"),
      [{ a: -1, b: 1, c: "2" }]);
    assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n, MIN(1) AS m WHERE 1 = 0"),
      [{ n: 0, m: null }]);
    assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n HAVING COUNT(*) > 1"), []);
    assert.deepEqual(await rows(c, "SELECT AVG(4) + 1 AS a, COUNT(DISTINCT 5) AS d"),
      [{ a: "5.0000", d: 1 }]);
  });
});

describe("savepoints on storage", { timeout: 30_000 }, () => {
  it("ROLLBACK TO SAVEPOINT undoes the writes made after it and keeps the earlier ones",
    async () => {
      const c = await node.connect("test");
      await c.query("CREATE TABLE sp (id INT PRIMARY KEY)");
      await c.query("BEGIN");
      await c.query("INSERT INTO sp VALUES (1)");
      await c.query("SAVEPOINT s1");
      await c.query("ROLLBACK TO SAVEPOINT s1");
      await c.query("INSERT INTO sp VALUES (2)");
      await c.query("ROLLBACK TO SAVEPOINT s1");
      assert.deepEqual(await rows(c, "SELECT id FROM sp"), [{ id: 1 }]);
      await c.query("ROLLBACK");
      assert.deepEqual(await rows(c, "SELECT id FROM sp"), []);
    });
});
