/**
 * Smaller [T8] behaviours end to end, against an in-process cluster with mysql2:
 * - AUTO_RANDOM: generated values carry shard bits over a sequential part, LAST_INSERT_ID
 *   and the OK packet return them, explicit values need allow_auto_random_explicit_insert
 *   (8216), SHOW CREATE TABLE prints TiDB's comment form and it loads back;
 *   SHARD_ROW_ID_BITS is kept and shown, and refused on a table keyed by its int PK (8200);
 * - non-strict sql_mode: INSERT and UPDATE convert out-of-range, too long, non-numeric
 *   and invalid date values with warnings (1264, 1265, 1366, 1292) shown by SHOW WARNINGS
 *   and counted in the OK packet; NULL into NOT NULL stays 1048 for a single-row INSERT;
 *   strict mode still fails, and division by zero in a written value is 1365 there;
 * - LOAD DATA LOCAL INFILE: tab and CSV formats, \N and NULL, IGNORE n LINES, column lists
 *   with user variables and SET, duplicates skipped (or replaced with REPLACE), data errors
 *   as warnings (1261, 1262, 1263, 1264, 1366) whatever the sql_mode, the OK packet's info;
 * - information_schema KEY_COLUMN_USAGE, TABLE_CONSTRAINTS, REFERENTIAL_CONSTRAINTS and
 *   CHECK_CONSTRAINTS for primary, unique, foreign-key and CHECK constraints;
 * - SHOW PROCESSLIST and information_schema.PROCESSLIST follow USE and the initial db;
 * - START TRANSACTION READ ONLY refuses DDL as well as writes (1792);
 * - a prepared `LIMIT ?` takes what drivers send: mysql2's DOUBLE for a number, a string, a
 *   BIGINT (it failed with 1210 whatever the type); a fraction or a negative is 1210.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Readable } from "node:stream";
import type mysql from "mysql2/promise";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";
import { errnoOf, ok, rejects, rows } from "./test_sql_helpers.ts";

let cluster: SqlCluster;
let node: SqlNodeHandle;
let conn: mysql.Connection;

const opts = { timeout: 30_000 };

async function warnings(c: mysql.Connection): Promise<[unknown, unknown][]> {
  return (await rows(c, "SHOW WARNINGS")).map((r) => [r["Level"], r["Code"]]);
}

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
  conn = await node.connect();
  await conn.query("CREATE DATABASE misc");
  await conn.query("USE misc");
});

after(async () => {
  await cluster.close();
});

test("AUTO_RANDOM ids: shard bits over a sequential part, LAST_INSERT_ID", opts, async () => {
  await ok(conn, "CREATE TABLE ar (id BIGINT PRIMARY KEY AUTO_RANDOM, v INT)");
  const first = await ok(conn, "INSERT INTO ar (v) VALUES (1), (2), (3)");
  const generated = (await rows(conn, "SELECT CAST(id AS CHAR) AS id FROM ar ORDER BY v"))
    .map((r) => BigInt(String(r["id"])));
  assert.equal(generated.length, 3);
  // One statement's rows share the shard (bits 58..62); the low bits count up.
  const shard = generated[0]! >> 58n;
  const low = generated.map((id) => id & ((1n << 58n) - 1n));
  assert.ok(generated.every((id) => id >> 58n === shard && id > 0n));
  assert.deepEqual(low, [low[0]!, low[0]! + 1n, low[0]! + 2n]);
  assert.equal(BigInt(first.insertId), generated[0]);
  const [last] = await rows(conn, "SELECT CAST(LAST_INSERT_ID() AS CHAR) AS id");
  assert.equal(BigInt(String(last!["id"])), generated[0]);
  // NULL and 0 generate too; transactions started at different ts land on other shards.
  await ok(conn, "INSERT INTO ar VALUES (NULL, 4)");
  await ok(conn, "INSERT INTO ar VALUES (0, 5)");
  for (let v = 6; v < 14; v++) await ok(conn, `INSERT INTO ar (v) VALUES (${v})`);
  const all = (await rows(conn, "SELECT CAST(id AS CHAR) AS id FROM ar"))
    .map((r) => BigInt(String(r["id"])));
  assert.equal(all.length, 13);
  assert.ok(new Set(all.map((id) => id >> 58n)).size > 1, "every row on one shard");
  assert.ok(all.every((id) => id > 0n && (id & ((1n << 58n) - 1n)) > 0n));
});

test("AUTO_RANDOM explicit values need allow_auto_random_explicit_insert", opts, async () => {
  await ok(conn, "CREATE TABLE ax (id BIGINT PRIMARY KEY AUTO_RANDOM(3), v INT)");
  assert.equal(await errnoOf(conn, "INSERT INTO ax VALUES (100, 1)"), 8216);
  const c = await node.connect("misc");
  await ok(c, "SET @@allow_auto_random_explicit_insert = true");
  await ok(c, "INSERT INTO ax VALUES (100, 1)");
  await ok(c, "INSERT INTO ax (v) VALUES (2)");
  const [row] = await rows(c, "SELECT CAST(id AS CHAR) AS id FROM ax WHERE v = 2");
  // Later ids' sequential part exceeds the explicit value's.
  assert.ok((BigInt(String(row!["id"])) & ((1n << 60n) - 1n)) > 100n);
  assert.deepEqual(await rows(c, "SELECT id, v FROM ax WHERE id = 100"), [{ id: 100, v: 1 }]);
});

test("AUTO_RANDOM and SHARD_ROW_ID_BITS in SHOW CREATE TABLE and their errors", opts,
  async () => {
    await ok(conn, "CREATE TABLE au (id BIGINT UNSIGNED /*T![auto_rand] AUTO_RANDOM(4, 40) */, " +
      "v INT, PRIMARY KEY (id))");
    const [shown] = await rows(conn, "SHOW CREATE TABLE au");
    const text = String(shown!["Create Table"]);
    assert.match(text, /`id` bigint unsigned NOT NULL \/\*T!\[auto_rand\] AUTO_RANDOM\(4, 40\)/);
    await ok(conn, "INSERT INTO au (v) VALUES (1)");
    const [row] = await rows(conn, "SELECT CAST(id AS CHAR) AS id FROM au");
    assert.ok(BigInt(String(row!["id"])) < 1n << 40n);
    // The printed definition loads back as the same table.
    await ok(conn, "DROP TABLE au");
    await ok(conn, text);
    const [again] = await rows(conn, "SHOW CREATE TABLE au");
    assert.equal(again!["Create Table"], text);

    await ok(conn, "CREATE TABLE sr (v INT) SHARD_ROW_ID_BITS = 4 PRE_SPLIT_REGIONS = 2");
    const [sr] = await rows(conn, "SHOW CREATE TABLE sr");
    assert.match(String(sr!["Create Table"]),
      /\/\*T! SHARD_ROW_ID_BITS=4 PRE_SPLIT_REGIONS=2 \*\/$/);
    await ok(conn, "INSERT INTO sr VALUES (1), (2), (3)");
    assert.deepEqual(await rows(conn, "SELECT v FROM sr ORDER BY v"), [{ v: 1 }, { v: 2 },
      { v: 3 }]);
    assert.equal(await errnoOf(conn, "CREATE TABLE bad (id INT PRIMARY KEY, v INT) " +
      "SHARD_ROW_ID_BITS = 4"), 8200);
    assert.equal(await errnoOf(conn, "CREATE TABLE bad (id INT PRIMARY KEY AUTO_RANDOM)"),
      8216);
    assert.equal(await errnoOf(conn, "CREATE TABLE bad (id BIGINT AUTO_RANDOM, v INT)"), 8216);
    // ALTER TABLE keeps AUTO_RANDOM and refuses to add, drop or change it.
    await ok(conn, "ALTER TABLE au MODIFY COLUMN v BIGINT");
    await ok(conn, "ALTER TABLE au MODIFY COLUMN id BIGINT UNSIGNED AUTO_RANDOM(4, 40)");
    assert.equal(await errnoOf(conn, "ALTER TABLE au MODIFY COLUMN id BIGINT UNSIGNED"), 8216);
    assert.equal(await errnoOf(conn, "ALTER TABLE au ADD COLUMN w BIGINT AUTO_RANDOM"), 8216);
    const [altered] = await rows(conn, "SHOW CREATE TABLE au");
    assert.match(String(altered!["Create Table"]), /AUTO_RANDOM\(4, 40\)/);
  });

test("non-strict sql_mode: INSERT and UPDATE convert with warnings", opts, async () => {
  const c = await node.connect("misc");
  await ok(c, "CREATE TABLE ns (a TINYINT, b VARCHAR(3), c INT, d DATE, " +
    "n INT NOT NULL DEFAULT 5)");
  // Strict (the default): errors.
  assert.equal(await errnoOf(c, "INSERT INTO ns (a) VALUES (1000)"), 1264);
  assert.equal(await errnoOf(c, "INSERT INTO ns (b) VALUES ('abcdef')"), 1406);
  // Strict with ERROR_FOR_DIVISION_BY_ZERO (the default): 1365, a warning under IGNORE.
  assert.equal(await errnoOf(c, "INSERT INTO ns (a) VALUES (1 / 0)"), 1365);
  assert.equal((await ok(c, "INSERT IGNORE INTO ns (a) VALUES (MOD(1, 0))")).warningStatus, 1);
  assert.equal(await errnoOf(c, "UPDATE ns SET c = 5 DIV 0"), 1365);
  await ok(c, "DELETE FROM ns");
  await ok(c, "SET sql_mode = ''");
  const inserted = await ok(c,
    "INSERT INTO ns (a, b, c, d) VALUES (1000, 'abcdef', 'x12', '2020-13-45')");
  assert.equal(inserted.affectedRows, 1);
  assert.equal(inserted.warningStatus, 4);
  assert.deepEqual(await warnings(c), [["Warning", 1264], ["Warning", 1265],
    ["Warning", 1366], ["Warning", 1292]]);
  assert.deepEqual(await rows(c, "SELECT a, b, c, CAST(d AS CHAR) AS d FROM ns"),
    [{ a: 127, b: "abc", c: 0, d: "0000-00-00" }]);
  assert.equal((await ok(c, "UPDATE ns SET c = c DIV 0")).warningStatus, 1);
  assert.deepEqual(await warnings(c), [["Warning", 1365]]);
  const updated = await ok(c, "UPDATE ns SET a = -500, c = '12abc'");
  assert.equal(updated.warningStatus, 2);
  assert.deepEqual(await warnings(c), [["Warning", 1264], ["Warning", 1265]]);
  assert.deepEqual(await rows(c, "SELECT a, c FROM ns"), [{ a: -128, c: 12 }]);
  // NULL into NOT NULL: an error for a single-row INSERT, the implicit default for a
  // multi-row one and for UPDATE (1048 warnings).
  assert.equal(await errnoOf(c, "INSERT INTO ns (n) VALUES (NULL)"), 1048);
  const multi = await ok(c, "INSERT INTO ns (a, n) VALUES (1, NULL), (2, NULL)");
  assert.equal(multi.warningStatus, 2);
  assert.deepEqual(await warnings(c), [["Warning", 1048], ["Warning", 1048]]);
  await ok(c, "UPDATE ns SET n = NULL WHERE a = 1");
  assert.deepEqual(await warnings(c), [["Warning", 1048]]);
  assert.deepEqual(await rows(c, "SELECT a, n FROM ns WHERE a IN (1, 2) ORDER BY a"),
    [{ a: 1, n: 0 }, { a: 2, n: 0 }]);
  // A NOT NULL column without a default left out (1364), INSERT … SELECT of NULL (1048)
  // and ON DUPLICATE KEY UPDATE (1366) convert as well.
  await ok(c, "CREATE TABLE nd (id INT PRIMARY KEY, req INT NOT NULL)");
  await ok(c, "INSERT INTO nd (id) VALUES (1)");
  assert.deepEqual(await warnings(c), [["Warning", 1364]]);
  await ok(c, "INSERT INTO nd SELECT 2, NULL");
  assert.deepEqual(await warnings(c), [["Warning", 1048]]);
  await ok(c, "INSERT INTO nd VALUES (2, 7) ON DUPLICATE KEY UPDATE req = 'x9'");
  assert.deepEqual(await warnings(c), [["Warning", 1366]]);
  assert.deepEqual(await rows(c, "SELECT id, req FROM nd ORDER BY id"),
    [{ id: 1, req: 0 }, { id: 2, req: 0 }]);
  // Back to strict: errors again.
  await ok(c, "SET sql_mode = 'STRICT_ALL_TABLES'");
  assert.equal(await errnoOf(c, "UPDATE ns SET a = 1000"), 1264);
  assert.equal(await errnoOf(c, "INSERT INTO nd (id) VALUES (3)"), 1364);
  assert.equal(await errnoOf(c, "INSERT INTO nd VALUES (4, '12abc')"), 1265);
});

test("information_schema lists primary, unique, foreign-key and CHECK constraints", opts,
  async () => {
    await ok(conn, "CREATE DATABASE fkdb");
    await ok(conn, "CREATE TABLE fkdb.parent (id INT PRIMARY KEY, code VARCHAR(8), " +
      "UNIQUE KEY u_code (code))");
    await ok(conn, "CREATE TABLE fkdb.child (id INT PRIMARY KEY, pid INT, pcode VARCHAR(8), " +
      "CONSTRAINT fk_p FOREIGN KEY (pid) REFERENCES parent (id) ON DELETE CASCADE, " +
      "CONSTRAINT fk_c FOREIGN KEY (pcode) REFERENCES parent (code) ON UPDATE SET NULL, " +
      "CONSTRAINT ck_id CHECK (id > 0))");
    const kcu = await rows(conn, "SELECT TABLE_NAME AS t, CONSTRAINT_NAME AS name, " +
      "COLUMN_NAME AS col, POSITION_IN_UNIQUE_CONSTRAINT AS pos, REFERENCED_TABLE_SCHEMA " +
      "AS rdb, REFERENCED_TABLE_NAME AS rt, REFERENCED_COLUMN_NAME AS rc FROM " +
      "information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = 'fkdb' ORDER BY t, name");
    assert.deepEqual(kcu, [
      { t: "child", name: "fk_c", col: "pcode", pos: 1, rdb: "fkdb", rt: "parent", rc: "code" },
      { t: "child", name: "fk_p", col: "pid", pos: 1, rdb: "fkdb", rt: "parent", rc: "id" },
      { t: "child", name: "PRIMARY", col: "id", pos: null, rdb: null, rt: null, rc: null },
      { t: "parent", name: "PRIMARY", col: "id", pos: null, rdb: null, rt: null, rc: null },
      { t: "parent", name: "u_code", col: "code", pos: null, rdb: null, rt: null, rc: null },
    ]);
    const tc = await rows(conn, "SELECT TABLE_NAME AS t, CONSTRAINT_NAME AS name, " +
      "CONSTRAINT_TYPE AS type, ENFORCED AS e FROM information_schema.TABLE_CONSTRAINTS " +
      "WHERE CONSTRAINT_SCHEMA = 'fkdb' ORDER BY t, name");
    assert.deepEqual(tc, [
      { t: "child", name: "ck_id", type: "CHECK", e: "YES" },
      { t: "child", name: "fk_c", type: "FOREIGN KEY", e: "YES" },
      { t: "child", name: "fk_p", type: "FOREIGN KEY", e: "YES" },
      { t: "child", name: "PRIMARY", type: "PRIMARY KEY", e: "YES" },
      { t: "parent", name: "PRIMARY", type: "PRIMARY KEY", e: "YES" },
      { t: "parent", name: "u_code", type: "UNIQUE", e: "YES" },
    ]);
    const rc = await rows(conn, "SELECT CONSTRAINT_NAME AS name, UNIQUE_CONSTRAINT_NAME AS u, " +
      "UPDATE_RULE AS up, DELETE_RULE AS del, TABLE_NAME AS t, REFERENCED_TABLE_NAME AS rt " +
      "FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'fkdb' " +
      "ORDER BY name");
    assert.deepEqual(rc, [
      { name: "fk_c", u: "u_code", up: "SET NULL", del: "NO ACTION", t: "child", rt: "parent" },
      { name: "fk_p", u: "PRIMARY", up: "NO ACTION", del: "CASCADE", t: "child", rt: "parent" },
    ]);
    const checks = await rows(conn, "SELECT CONSTRAINT_NAME AS name, CHECK_CLAUSE AS clause " +
      "FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'fkdb'");
    assert.equal(checks.length, 1);
    assert.equal(checks[0]!["name"], "ck_id");
    assert.match(String(checks[0]!["clause"]), /id.*>.*0/);
  });

test("PROCESSLIST's db follows USE and the initial database", opts, async () => {
  await ok(conn, "CREATE DATABASE other");
  const c = await node.connect("misc");
  const [{ id }] = await rows(c, "SELECT CONNECTION_ID() AS id") as [{ id: number }];
  // SHOW PROCESSLIST names the columns Id and db; information_schema, ID and DB.
  const dbOf = async (sql: string): Promise<unknown> => {
    const row = (await rows(conn, sql)).find((r) => Number(r["Id"] ?? r["ID"]) === id);
    assert.ok(row !== undefined, `connection ${id} not in ${sql}`);
    return "db" in row ? row["db"] : row["DB"];
  };
  assert.equal(await dbOf("SHOW PROCESSLIST"), "misc");
  assert.equal(await dbOf("SELECT * FROM information_schema.PROCESSLIST"), "misc");
  await ok(c, "USE other");
  assert.equal(await dbOf("SHOW FULL PROCESSLIST"), "other");
  assert.equal(await dbOf("SELECT * FROM information_schema.PROCESSLIST"), "other");
  // Dropping the current database leaves none selected.
  await ok(c, "DROP DATABASE other");
  assert.equal(await dbOf("SHOW PROCESSLIST"), null);
});

test("a READ ONLY transaction refuses DDL and writes (1792)", opts, async () => {
  const c = await node.connect("misc");
  await ok(c, "CREATE TABLE ro (id INT PRIMARY KEY)");
  await ok(c, "START TRANSACTION READ ONLY");
  assert.equal(await errnoOf(c, "INSERT INTO ro VALUES (1)"), 1792);
  assert.equal(await errnoOf(c, "CREATE TABLE ro2 (id INT)"), 1792);
  assert.equal(await errnoOf(c, "DROP TABLE ro"), 1792);
  assert.equal(await errnoOf(c, "ALTER TABLE ro ADD COLUMN v INT"), 1792);
  assert.equal(await errnoOf(c, "CREATE INDEX i ON ro (id)"), 1792);
  // The transaction is still open and readable; nothing was created or dropped.
  assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n FROM ro"), [{ n: 0 }]);
  await ok(c, "COMMIT");
  assert.deepEqual(await rows(c, "SHOW TABLES LIKE 'ro%'"), [{ "Tables_in_misc (ro%)": "ro" }]);
  // SET SESSION TRANSACTION READ ONLY: the same in autocommit mode.
  await ok(c, "SET SESSION TRANSACTION READ ONLY");
  assert.equal(await errnoOf(c, "CREATE TABLE ro3 (id INT)"), 1792);
  await ok(c, "SET SESSION TRANSACTION READ WRITE");
  await ok(c, "CREATE TABLE ro3 (id INT)");
  await ok(c, "START TRANSACTION READ WRITE");
  await ok(c, "INSERT INTO ro VALUES (1)");
  await ok(c, "COMMIT");
  assert.deepEqual(await rows(c, "SELECT id FROM ro"), [{ id: 1 }]);
});

async function load(c: mysql.Connection, sql: string, content: string):
  Promise<mysql.ResultSetHeader> {
  const [result] = await c.query<mysql.ResultSetHeader>({ sql,
    infileStreamFactory: () => Readable.from([Buffer.from(content)]) });
  return result;
}

test("LOAD DATA LOCAL INFILE: formats, duplicates, warnings, SET", opts, async () => {
  const c = await node.connect("misc");
  await ok(c, "CREATE TABLE ld (id INT PRIMARY KEY, name VARCHAR(5) NOT NULL, " +
    "qty TINYINT, note VARCHAR(10) DEFAULT 'none')");
  const tab = await load(c, "LOAD DATA LOCAL INFILE 'a.tsv' INTO TABLE ld",
    "1\tapple\t3\tred\n2\tpear\t\\N\tgreen\n");
  assert.equal(tab.affectedRows, 2);
  assert.equal(tab.info, "Records: 2  Deleted: 0  Skipped: 0  Warnings: 0");
  // Strict mode, yet data errors are warnings and a duplicate key skips its row (LOCAL).
  const csv = await load(c, "LOAD DATA LOCAL INFILE 'b.csv' INTO TABLE ld FIELDS " +
    "TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\\r\\n' " +
    "IGNORE 1 LINES", "id,name,qty,note\r\n1,dup,1,x\r\n3,\"kiwi, gold\",999,\"a\"\r\n" +
    "4,NULL,abc\r\n5,plum,1,b,extra\r\n");
  assert.equal(csv.affectedRows, 3);
  assert.equal(csv.info, `Records: 4  Deleted: 0  Skipped: 1  Warnings: ${csv.warningStatus}`);
  const codes = (await warnings(c)).map(([, code]) => code).sort();
  assert.deepEqual(codes, [1062, 1261, 1262, 1263, 1264, 1265, 1366]);
  assert.deepEqual(await rows(c, "SELECT * FROM ld ORDER BY id"), [
    { id: 1, name: "apple", qty: 3, note: "red" },
    { id: 2, name: "pear", qty: null, note: "green" },
    { id: 3, name: "kiwi,", qty: 127, note: "a" },
    { id: 4, name: "", qty: 0, note: "none" },
    { id: 5, name: "plum", qty: 1, note: "b" },
  ]);
  // REPLACE, and a column list with a user variable used by SET.
  const replaced = await load(c, "LOAD DATA LOCAL INFILE 'c.txt' REPLACE INTO TABLE ld " +
    "FIELDS TERMINATED BY '|' (id, @raw, qty) SET name = UPPER(@raw), note = 'set'",
  "1|fig|7\n6|lime|8\n");
  assert.equal(replaced.info, "Records: 2  Deleted: 1  Skipped: 0  Warnings: 0");
  assert.equal(replaced.affectedRows, 3);
  assert.deepEqual(await rows(c, "SELECT * FROM ld WHERE id IN (1, 6) ORDER BY id"), [
    { id: 1, name: "FIG", qty: 7, note: "set" },
    { id: 6, name: "LIME", qty: 8, note: "set" },
  ]);
  // A file on the server is not readable (secure_file_priv), and a READ ONLY
  // transaction refuses the load.
  assert.equal(await errnoOf(c, "LOAD DATA INFILE '/etc/passwd' INTO TABLE ld"), 1290);
  await ok(c, "START TRANSACTION READ ONLY");
  await assert.rejects(load(c, "LOAD DATA LOCAL INFILE 'd' INTO TABLE ld", "9\tx\n"),
    (e: unknown) => (e as { errno?: number }).errno === 1792);
  await ok(c, "ROLLBACK");
  assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n FROM ld"), [{ n: 6 }]);
});

test("a prepared LIMIT ? takes a number, a string or a bigint; 1210 otherwise", opts,
  async () => {
    await conn.query("CREATE TABLE lim (id INT PRIMARY KEY)");
    await conn.query("INSERT INTO lim VALUES (1), (2), (3)");
    for (const n of [2, "2", 2n]) {
      const [got] = await conn.execute("SELECT id FROM lim ORDER BY id LIMIT ?", [n]);
      assert.deepEqual(got, [{ id: 1 }, { id: 2 }], typeof n);
    }
    const [page] = await conn.execute("SELECT id FROM lim ORDER BY id LIMIT ? OFFSET ?", [1, 2]);
    assert.deepEqual(page, [{ id: 3 }]);
    await conn.execute("DELETE FROM lim ORDER BY id LIMIT ?", [1]);
    assert.deepEqual(await rows(conn, "SELECT id FROM lim ORDER BY id"), [{ id: 2 }, { id: 3 }]);
    for (const bad of [1.5, -1, "x"]) {
      await rejects(conn.execute("SELECT id FROM lim LIMIT ?", [bad]), 1210);
    }
  });
