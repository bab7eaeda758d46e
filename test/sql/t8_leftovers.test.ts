/**
 * TiDB behaviours of the SQL node checked end to end on the in-process cluster: the
 * hidden `_tidb_rowid` handle of a table without a clustered integer key (readable,
 * filterable, left out of `*`, unknown on a table whose key is the handle),
 * ALTER TABLE … SHARD_ROW_ID_BITS / PRE_SPLIT_REGIONS, a TIMESTAMP column's constant
 * DEFAULT read in the session time zone, and ORDER BY inside window specs and
 * GROUP_CONCAT sorting as the query's ORDER BY does (ENUM by index, TIME as a duration).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type mysql from "mysql2/promise";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";
import { freshDatabase, ok, rejects, rows } from "./test_sql_helpers.ts";

let cluster: SqlCluster;
let node: SqlNodeHandle;

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
}, { timeout: 30_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });


/** Rows as arrays of strings (text protocol, no casting), for exact comparisons. */
async function text(c: mysql.Connection, sql: string): Promise<(string | null)[][]> {
  const [result] = await c.query({ sql, rowsAsArray: true, typeCast: false });
  return (result as (Buffer | null)[][]).map((r) => r.map((v) => v?.toString() ?? null));
}

describe("_tidb_rowid", { timeout: 60_000 }, () => {
  it("reads the hidden handle, filters on it, and is not in *", async () => {
    const c = await freshDatabase(node, "rowid1");
    await c.query("CREATE TABLE t (a INT, b INT)");
    await c.query("INSERT INTO t VALUES (1, 7), (1, 8), (1, 9)");
    assert.deepEqual(await text(c, "SELECT *, _tidb_rowid FROM t ORDER BY _tidb_rowid"),
      [["1", "7", "1"], ["1", "8", "2"], ["1", "9", "3"]]);
    assert.deepEqual(await text(c, "SELECT * FROM t ORDER BY b"),
      [["1", "7"], ["1", "8"], ["1", "9"]]);
    assert.deepEqual(await text(c, "SELECT t.* FROM t ORDER BY b LIMIT 1"), [["1", "7"]]);
    assert.deepEqual(await text(c, "SELECT b FROM t WHERE _tidb_rowid = 2"), [["8"]]);
    assert.deepEqual(await text(c, "SELECT t._tidb_rowid, b FROM t WHERE _tidb_rowid > 1 " +
      "ORDER BY 1"), [["2", "8"], ["3", "9"]]);
    assert.deepEqual(await text(c, "SELECT x._tidb_rowid FROM t AS x JOIN t AS y " +
      "ON x._tidb_rowid = y._tidb_rowid + 1 ORDER BY 1"), [["2"], ["3"]]);
    // UPDATE and DELETE filter on it too; `_tidb_rowid = N` is a point get, not a scan.
    const stats = node.storage.stats;
    const before = { ...stats };
    assert.deepEqual(await text(c, "SELECT a FROM t WHERE _tidb_rowid = 1"), [["1"]]);
    await c.query("UPDATE t SET a = 2 WHERE _tidb_rowid = 2");
    await c.query("DELETE FROM t WHERE _tidb_rowid = 3");
    assert.equal(stats.pointGets - before.pointGets, 3);
    assert.equal(stats.tableScans - before.tableScans, 0);
    // Also beside a subquery (the WHERE then runs in the query engine).
    await c.query("UPDATE t SET b = b + 100 WHERE _tidb_rowid = 1 AND EXISTS (SELECT 1 FROM t)");
    await c.query("UPDATE t SET b = b - 100 WHERE b > 100 AND _tidb_rowid IN (SELECT 1)");
    assert.deepEqual(await text(c, "SELECT *, _tidb_rowid FROM t ORDER BY _tidb_rowid"),
      [["1", "7", "1"], ["2", "8", "2"]]);
    // Writing it is TiDB's 1105 (tidb_opt_write_row_id is not supported).
    const refused = "insert, update and replace statements for _tidb_rowid are not supported";
    await rejects(c.query("INSERT INTO t (a, _tidb_rowid) VALUES (1, 9)"), 1105, refused);
    await rejects(c.query("UPDATE t SET _tidb_rowid = 9 WHERE a = 1"), 1105, refused);
    // A table with a non-clustered (non-integer) primary key has one as well.
    await c.query("CREATE TABLE s (k VARCHAR(5) PRIMARY KEY)");
    await c.query("INSERT INTO s VALUES ('x'), ('y')");
    assert.deepEqual(await text(c, "SELECT k FROM s WHERE _tidb_rowid = 2"), [["y"]]);
  });

  it("is an unknown column (1054) where the integer primary key is the handle", async () => {
    const c = await freshDatabase(node, "rowid2");
    await c.query("CREATE TABLE s (a INT PRIMARY KEY)");
    await c.query("INSERT INTO s VALUES (1)");
    await rejects(c.query("SELECT _tidb_rowid FROM s"), 1054,
      "Unknown column '_tidb_rowid' in 'field list'");
    await rejects(c.query("SELECT a FROM s WHERE _tidb_rowid = 1"), 1054,
      "Unknown column '_tidb_rowid' in 'where clause'");
    await rejects(c.query("UPDATE s SET a = 2 WHERE _tidb_rowid = 1"), 1054);
    await rejects(c.query("DELETE FROM s WHERE _tidb_rowid = 1"), 1054);
    await rejects(c.query("INSERT INTO s (a, _tidb_rowid) VALUES (1, 2)"), 1054,
      "Unknown column '_tidb_rowid' in 'field list'");
    assert.equal((await ok(c, "DELETE FROM s WHERE a = 1")).affectedRows, 1);
    assert.deepEqual(await rows(c, "SELECT * FROM s"), []);
  });
});

/** SHOW CREATE TABLE's text. */
async function shown(c: mysql.Connection, table: string): Promise<string> {
  return String((await rows(c, `SHOW CREATE TABLE ${table}`))[0]!["Create Table"]);
}

describe("ALTER TABLE SHARD_ROW_ID_BITS", { timeout: 60_000 }, () => {
  it("changes the shard bits of new row ids and shows them; TiDB's refusals", async () => {
    const c = await freshDatabase(node, "shard1");
    await c.query("CREATE TABLE t (v INT)");
    await c.query("INSERT INTO t VALUES (1)");
    await c.query("ALTER TABLE t SHARD_ROW_ID_BITS = 4");
    assert.match(await shown(c, "t"), /\/\*T! SHARD_ROW_ID_BITS=4 \*\/$/);
    // Rows inserted afterwards get shard bits below the sign bit (bits 59..62).
    for (let i = 0; i < 8; i++) await c.query(`INSERT INTO t VALUES (${i + 2})`);
    const shards = await text(c,
      "SELECT DISTINCT _tidb_rowid DIV 576460752303423488 FROM t WHERE v > 1");
    assert.ok(shards.length > 1, `one shard only: ${JSON.stringify(shards)}`);
    assert.deepEqual(await text(c, "SELECT _tidb_rowid FROM t WHERE v = 1"), [["1"]]);
    // More than 15 bits is 15, as TiDB caps it; 0 turns sharding off again.
    await c.query("ALTER TABLE t SHARD_ROW_ID_BITS = 20");
    assert.match(await shown(c, "t"), /SHARD_ROW_ID_BITS=15 \*\/$/);
    await c.query("ALTER TABLE t SHARD_ROW_ID_BITS = 0");
    assert.doesNotMatch(await shown(c, "t"), /SHARD_ROW_ID_BITS/);
    // A table whose integer primary key is the handle (AUTO_RANDOM's too) cannot.
    await c.query("CREATE TABLE k (id INT PRIMARY KEY)");
    await rejects(c.query("ALTER TABLE k SHARD_ROW_ID_BITS = 4"), 8200,
      "Unsupported shard_row_id_bits for table with primary key as row id");
    await c.query("CREATE TABLE r (id BIGINT PRIMARY KEY AUTO_RANDOM)");
    await rejects(c.query("ALTER TABLE r SHARD_ROW_ID_BITS = 4"), 8200);
    await c.query("ALTER TABLE k SHARD_ROW_ID_BITS = 0");
    // TiDB takes PRE_SPLIT_REGIONS only in CREATE TABLE.
    await rejects(c.query("ALTER TABLE t PRE_SPLIT_REGIONS = 2"), 8200,
      "This type of ALTER TABLE is currently unsupported");
    await rejects(c.query("ALTER TABLE nope SHARD_ROW_ID_BITS = 2"), 1146);
  });
});

describe("TIMESTAMP constant DEFAULT and time_zone", { timeout: 60_000 }, () => {
  it("is read in the time zone of the CREATE TABLE and kept in UTC, as MySQL", async () => {
    const c = await freshDatabase(node, "tsdef1");
    await c.query("SET time_zone = '+05:00'");
    await c.query("CREATE TABLE t (id INT, ts TIMESTAMP NULL DEFAULT '2020-01-01 00:00:00')");
    // Shown in the session's zone: the same text where it was created…
    assert.match(await shown(c, "t"), /`ts` timestamp NULL DEFAULT '2020-01-01 00:00:00'/);
    await c.query("SET time_zone = '+00:00'");
    // …and the instant's UTC text elsewhere (mysqldump sets +00:00 and restores it so).
    assert.match(await shown(c, "t"), /`ts` timestamp NULL DEFAULT '2019-12-31 19:00:00'/);
    assert.deepEqual(await text(c, "SELECT COLUMN_DEFAULT FROM information_schema.COLUMNS " +
      "WHERE TABLE_SCHEMA = 'tsdef1' AND COLUMN_NAME = 'ts'"), [["2019-12-31 19:00:00"]]);
    assert.deepEqual((await rows(c, "SHOW COLUMNS FROM t LIKE 'ts'"))[0]!["Default"],
      "2019-12-31 19:00:00");
    // A row taking the default holds that instant, whatever the inserting session's zone.
    await c.query("INSERT INTO t (id) VALUES (1)");
    await c.query("SET time_zone = '-03:00'");
    await c.query("INSERT INTO t (id) VALUES (2)");
    await c.query("INSERT INTO t VALUES (3, DEFAULT)");
    assert.deepEqual(await text(c, "SELECT id, ts, UNIX_TIMESTAMP(ts) FROM t ORDER BY id"), [
      ["1", "2019-12-31 16:00:00", "1577818800"], ["2", "2019-12-31 16:00:00", "1577818800"],
      ["3", "2019-12-31 16:00:00", "1577818800"]]);
    // ADD COLUMN: existing rows read the default as the ALTER's session read it.
    await c.query("ALTER TABLE t ADD COLUMN u TIMESTAMP NOT NULL DEFAULT '2021-06-01 12:00:00'");
    await c.query("ALTER TABLE t ALTER COLUMN ts SET DEFAULT '2022-01-01 00:00:00'");
    await c.query("SET time_zone = '+00:00'");
    await c.query("INSERT INTO t (id) VALUES (4)");
    assert.deepEqual(await text(c, "SELECT id, ts, u FROM t WHERE id IN (1, 4) ORDER BY id"), [
      ["1", "2019-12-31 19:00:00", "2021-06-01 15:00:00"],
      ["4", "2022-01-01 03:00:00", "2021-06-01 15:00:00"]]);
    // CURRENT_TIMESTAMP and NULL defaults are no instants: unchanged.
    await c.query("CREATE TABLE n (a TIMESTAMP NULL DEFAULT NULL, " +
      "b TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)");
    assert.match(await shown(c, "n"),
      /`a` timestamp NULL DEFAULT NULL,\n {2}`b` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP/);
    // A value outside TIMESTAMP's range is no default (1067).
    await rejects(c.query("CREATE TABLE bad (a TIMESTAMP DEFAULT '1960-01-01 00:00:00')"), 1067,
      "Invalid default value for 'a'");
  });
});

describe("ORDER BY inside window specs and GROUP_CONCAT", { timeout: 60_000 }, () => {
  it("sorts ENUM by declaration order, TIME as a duration, as the query's ORDER BY", async () => {
    const c = await freshDatabase(node, "wsort1");
    await c.query("CREATE TABLE t (id INT PRIMARY KEY, e ENUM('zeta', 'alpha', 'mid'), " +
      "d TIME, g INT)");
    await c.query("INSERT INTO t VALUES (1, 'alpha', '10:00:00', 1), (2, 'zeta', '-01:00:00', 1)," +
      " (3, 'mid', '100:00:00', 1), (4, 'zeta', '9:00:00', 2), (5, 'alpha', '-20:00:00', 2)");
    const byQuery = await text(c, "SELECT id FROM t ORDER BY e, id");
    assert.deepEqual(byQuery.map((r) => r[0]), ["2", "4", "1", "5", "3"]);
    assert.deepEqual(await text(c, "SELECT id, ROW_NUMBER() OVER (ORDER BY e, id) FROM t " +
      "ORDER BY id"), [["1", "3"], ["2", "1"], ["3", "5"], ["4", "2"], ["5", "4"]]);
    assert.deepEqual(await text(c, "SELECT id, ROW_NUMBER() OVER (PARTITION BY g ORDER BY d) " +
      "FROM t ORDER BY id"), [["1", "2"], ["2", "1"], ["3", "3"], ["4", "2"], ["5", "1"]]);
    assert.deepEqual(await text(c, "SELECT id, FIRST_VALUE(id) OVER (ORDER BY e DESC " +
      "ROWS UNBOUNDED PRECEDING) FROM t ORDER BY id LIMIT 1"), [["1", "3"]]);
    assert.deepEqual(await text(c, "SELECT g, GROUP_CONCAT(e ORDER BY e) FROM t GROUP BY g " +
      "ORDER BY g"), [["1", "zeta,alpha,mid"], ["2", "zeta,alpha"]]);
    assert.deepEqual(await text(c, "SELECT GROUP_CONCAT(id ORDER BY d DESC) FROM t"),
      [["3,1,4,2,5"]]);
  });
});
