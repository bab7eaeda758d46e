/**
 * Column types with MySQL semantics end to end (mysql2 against an in-process cluster):
 * DATE, DATETIME(fsp), TIMESTAMP(fsp), TIME(fsp), YEAR, ENUM, SET, JSON and BOOL survive
 * INSERT → SELECT through the text and the binary (prepared) protocol with MySQL's column
 * type codes, SHOW CREATE TABLE prints them, and invalid values give MySQL's strict-mode
 * errors (1292, 1264, 1265, 1366, 3140) or, with INSERT IGNORE, its warnings and stored
 * values. Expected results are what MySQL 8 (and MariaDB, where they agree) return.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import type mysql from "mysql2/promise";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";
import { ClientProcesses, rejects } from "./test_sql_helpers.ts";

let cluster: SqlCluster;
let node: SqlNodeHandle;
let c: mysql.Connection;

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
  c = await node.connect("test");
}, { timeout: 30_000 });

const clients = new ClientProcesses();

after(async () => {
  clients.killAll();
  await cluster.close();
}, { timeout: 30_000 });

/** Rows as arrays of strings, as the text protocol sends them (no type casting). */
async function textRows(sql: string): Promise<unknown[][]> {
  const [result] = await c.query({ sql, rowsAsArray: true, typeCast: false });
  return (result as Buffer[][]).map((r) => r.map((v) => v === null ? null : v.toString()));
}

/** Column type codes of a query's result (text protocol). */
async function typeCodes(sql: string): Promise<number[]> {
  const [, fields] = await c.query(sql);
  return (fields ?? []).map((f) => f.columnType ?? -1);
}

/** Asserts that SHOW CREATE TABLE `table` lists `columns` (definitions without commas). */
async function assertShown(table: string, columns: readonly string[]): Promise<void> {
  const [result] = await c.query(`SHOW CREATE TABLE ${table}`);
  const text = String((result as Record<string, unknown>[])[0]!["Create Table"]);
  const lines = text.split("\n").map((l) => l.trim().replace(/,$/, ""));
  for (const column of columns) assert.ok(lines.includes(column), `${column} in\n${text}`);
}

const opts = { timeout: 60_000 };

describe("column types", opts, () => {
  it("DATE reads back as a date with the DATE type code, in both protocols", async () => {
    await c.query("CREATE TABLE d (id INT PRIMARY KEY, d DATE, dt DATETIME, dt3 DATETIME(3))");
    await c.query("INSERT INTO d VALUES (1, '2024-02-29', '2024-02-29 10:11:12.5', " +
      "'2024-02-29 23:59:59.9996'), (2, 20240301, 20240301101112, '24-3-1 1:2:3.25')");
    assert.deepEqual(await textRows("SELECT d, dt, dt3 FROM d ORDER BY id"), [
      ["2024-02-29", "2024-02-29 10:11:13", "2024-03-01 00:00:00.000"],
      ["2024-03-01", "2024-03-01 10:11:12", "2024-03-01 01:02:03.250"],
    ]);
    assert.deepEqual(await typeCodes("SELECT d, dt FROM d"), [10, 12]);
    assert.deepEqual(await textRows("SELECT CONCAT(d, '|') FROM d WHERE id = 1"),
      [["2024-02-29|"]]);
    assert.deepEqual(await textRows("SELECT id FROM d WHERE d = '2024-02-29'"), [["1"]]);
    // DATE stays DATE through IFNULL, MAX and UNION; mixed with DATETIME it is a DATETIME.
    const mixed = "SELECT IFNULL(d, d), COALESCE(d, dt), MAX(d) FROM d WHERE id = 1";
    assert.deepEqual(await textRows(mixed), [["2024-02-29", "2024-02-29 00:00:00",
      "2024-02-29"]]);
    assert.deepEqual(await typeCodes(mixed), [10, 12, 10]);
    assert.deepEqual(await typeCodes("SELECT d FROM d UNION SELECT d FROM d"), [10]);
    const [prepared] = await c.execute({ sql: "SELECT d, dt3 FROM d WHERE id = ?",
      rowsAsArray: true, dateStrings: true }, [1]);
    // The binary protocol leaves out zero microseconds, as MySQL sends them.
    assert.deepEqual(prepared, [["2024-02-29", "2024-03-01 00:00:00"]]);
    await assertShown("d", ["`d` date DEFAULT NULL", "`dt` datetime DEFAULT NULL",
      "`dt3` datetime(3) DEFAULT NULL"]);
    await rejects(c.query("INSERT INTO d VALUES (3, '2023-02-29', NULL, NULL)"), 1292,
      "Incorrect date value: '2023-02-29' for column 'd' at row 1");
    await rejects(c.query("INSERT INTO d VALUES (3, NULL, 'abc', NULL)"), 1292,
      "Incorrect datetime value: 'abc' for column 'dt' at row 1");
    await c.query("INSERT IGNORE INTO d VALUES (3, 'x', NULL, NULL)");
    const [warnings] = await c.query("SHOW WARNINGS");
    assert.deepEqual((warnings as Record<string, unknown>[]).map((w) => w.Code), [1292]);
    assert.deepEqual(await textRows("SELECT d FROM d WHERE id = 3"), [["0000-00-00"]]);
  });

  it("TIME keeps its range, fsp and type code", async () => {
    await c.query("CREATE TABLE tm (id INT PRIMARY KEY, t TIME, t1 TIME(1))");
    await c.query("INSERT INTO tm VALUES (1, '12:34:56', '12:34:56.56'), (2, 123456, -1.25), " +
      "(3, '-838:59:59', '1 02:03'), (4, '2024-01-01 07:08:09', '5')");
    assert.deepEqual(await textRows("SELECT t, t1 FROM tm ORDER BY id"), [
      ["12:34:56", "12:34:56.6"], ["12:34:56", "-00:00:01.3"], ["-838:59:59", "26:03:00.0"],
      ["07:08:09", "00:00:05.0"],
    ]);
    assert.deepEqual(await typeCodes("SELECT t FROM tm"), [11]);
    const [prepared] = await c.execute({ sql: "SELECT t, t1 FROM tm WHERE id = ?",
      rowsAsArray: true }, [3]);
    assert.deepEqual(prepared, [["-838:59:59", "26:03:00"]]);
    await assertShown("tm", ["`t` time DEFAULT NULL", "`t1` time(1) DEFAULT NULL"]);
    await rejects(c.query("INSERT INTO tm VALUES (5, '839:00:00', NULL)"), 1264,
      "Out of range value for column 't' at row 1");
    await rejects(c.query("INSERT INTO tm VALUES (5, '12:60:00', NULL)"), 1292,
      "Incorrect time value: '12:60:00' for column 't' at row 1");
    await c.query("INSERT IGNORE INTO tm VALUES (5, '900:00:00', NULL)");
    assert.deepEqual(await textRows("SELECT t FROM tm WHERE id = 5"), [["838:59:59"]]);
  });

  it("YEAR takes 1901–2155, 0 and two-digit years", async () => {
    await c.query("CREATE TABLE y (id INT PRIMARY KEY, y YEAR)");
    await c.query("INSERT INTO y VALUES (1, 2024), (2, '69'), (3, 70), (4, 0), (5, '0'), " +
      "(6, 1901), (7, '2155')");
    assert.deepEqual(await textRows("SELECT y FROM y ORDER BY id"),
      [["2024"], ["2069"], ["1970"], ["0000"], ["2000"], ["1901"], ["2155"]]);
    assert.deepEqual(await typeCodes("SELECT y FROM y"), [13]);
    const [prepared] = await c.execute({ sql: "SELECT y FROM y WHERE id = ?",
      rowsAsArray: true }, [1]);
    assert.deepEqual(prepared, [[2024]]);
    await assertShown("y", ["`y` year DEFAULT NULL"]);
    await rejects(c.query("INSERT INTO y VALUES (8, 1900)"), 1264,
      "Out of range value for column 'y' at row 1");
    await rejects(c.query("INSERT INTO y VALUES (8, 'abc')"), 1366,
      "Incorrect integer value: 'abc' for column 'y' at row 1");
  });

  it("TIMESTAMP checks its range and prints NULL in SHOW CREATE TABLE", async () => {
    await c.query("CREATE TABLE ts (id INT PRIMARY KEY, ts TIMESTAMP(2) NULL)");
    await c.query("INSERT INTO ts VALUES (1, '2038-01-19 03:14:07.994'), (2, NULL)");
    assert.deepEqual(await textRows("SELECT ts FROM ts ORDER BY id"),
      [["2038-01-19 03:14:07.99"], [null]]);
    assert.deepEqual(await typeCodes("SELECT ts FROM ts"), [7]);
    await assertShown("ts", ["`ts` timestamp(2) NULL DEFAULT NULL"]);
    await rejects(c.query("INSERT INTO ts VALUES (3, '2038-01-19 03:14:08')"), 1292,
      "Incorrect datetime value: '2038-01-19 03:14:08' for column 'ts' at row 1");
    await rejects(c.query("INSERT INTO ts VALUES (3, '1970-01-01 00:00:00')"), 1292);
  });

  it("DEFAULT CURRENT_TIMESTAMP and ON UPDATE CURRENT_TIMESTAMP", async () => {
    await c.query("CREATE TABLE tu (id INT PRIMARY KEY, v INT, " +
      "ts TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, " +
      "dt DATETIME(3) DEFAULT NOW(3))");
    await assertShown("tu", [
      "`ts` timestamp NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP",
      "`dt` datetime(3) DEFAULT CURRENT_TIMESTAMP(3)"]);
    await c.query("INSERT INTO tu (id, v) VALUES (1, 1)");
    const [inserted] = await textRows("SELECT ts IS NOT NULL, dt IS NOT NULL FROM tu");
    assert.deepEqual(inserted, ["1", "1"]);
    await c.query("UPDATE tu SET ts = '2001-01-01 00:00:00'");
    // Nothing changes: the timestamp stays; a change sets it to now.
    await c.query("UPDATE tu SET v = 1");
    assert.deepEqual(await textRows("SELECT ts FROM tu"), [["2001-01-01 00:00:00"]]);
    await c.query("UPDATE tu SET v = 2");
    assert.deepEqual(await textRows("SELECT ts > '2001-01-01 00:00:00' FROM tu"), [["1"]]);
    // ON DUPLICATE KEY UPDATE too: unchanged keeps it, a change sets it.
    await c.query("UPDATE tu SET ts = '2001-01-01 00:00:00'");
    await c.query("INSERT INTO tu (id, v) VALUES (1, 0) ON DUPLICATE KEY UPDATE v = 2");
    assert.deepEqual(await textRows("SELECT ts FROM tu"), [["2001-01-01 00:00:00"]]);
    await c.query("INSERT INTO tu (id, v) VALUES (1, 0) ON DUPLICATE KEY UPDATE v = 3");
    assert.deepEqual(await textRows("SELECT ts > '2001-01-01 00:00:00', v FROM tu"),
      [["1", "3"]]);
  });

  it("ENUM and SET store members, reject others and show their members", async () => {
    await c.query("CREATE TABLE es (id INT PRIMARY KEY, e ENUM('small','Medium','large'), " +
      "s SET('a','b','c') NOT NULL DEFAULT '')");
    await c.query("INSERT INTO es VALUES (1, 'MEDIUM', 'c,a,a'), (2, 3, 5), (3, NULL, '')");
    assert.deepEqual(await textRows("SELECT e, s FROM es ORDER BY id"),
      [["Medium", "a,c"], ["large", "a,c"], [null, ""]]);
    assert.deepEqual(await typeCodes("SELECT e, s FROM es"), [254, 254]);
    const [prepared] = await c.execute({ sql: "SELECT e, s FROM es WHERE id = ?",
      rowsAsArray: true }, [1]);
    assert.deepEqual(prepared, [["Medium", "a,c"]]);
    await assertShown("es", ["`e` enum('small','Medium','large') DEFAULT NULL",
      "`s` set('a','b','c') NOT NULL DEFAULT ''"]);
    await rejects(c.query("INSERT INTO es VALUES (4, 'huge', '')"), 1265,
      "Data truncated for column 'e' at row 1");
    await rejects(c.query("INSERT INTO es VALUES (4, NULL, 'a,d')"), 1265,
      "Data truncated for column 's' at row 1");
    await c.query("INSERT IGNORE INTO es VALUES (4, 'huge', 'd')");
    assert.deepEqual(await textRows("SELECT e, s FROM es WHERE id = 4"), [["", ""]]);
    // A NOT NULL ENUM without a DEFAULT takes its first member when omitted.
    await c.query("CREATE TABLE en (id INT PRIMARY KEY, e ENUM('x','y') NOT NULL)");
    await c.query("INSERT IGNORE INTO en (id) VALUES (1)");
    assert.deepEqual(await textRows("SELECT e FROM en"), [["x"]]);
  });

  it("JSON is validated, normalized and typed", async () => {
    await c.query("CREATE TABLE j (id INT PRIMARY KEY, j JSON)");
    await c.query(`INSERT INTO j VALUES (1, '{"b":[1,2.50,true],"a":null,"a":1}'), ` +
      `(2, '  "x\\\\u00e9"  '), (3, '1e2')`);
    assert.deepEqual(await textRows("SELECT j FROM j ORDER BY id"),
      [['{"a": 1, "b": [1, 2.5, true]}'], ['"xé"'], ["100.0"]]);
    assert.deepEqual(await typeCodes("SELECT j FROM j"), [245]);
    const [prepared] = await c.execute({ sql: "SELECT j FROM j WHERE id = ?" }, [1]);
    assert.deepEqual(prepared, [{ j: { a: 1, b: [1, 2.5, true] } }]);
    await assertShown("j", ["`j` json DEFAULT NULL"]);
    await rejects(c.query("INSERT INTO j VALUES (4, '{\"a\":}')"), 3140,
      "Invalid JSON text: \"Invalid value.\" at position 5 in value for column 'j'.");
    await rejects(c.query("INSERT INTO j VALUES (4, '[1,2')"), 3140,
      "Invalid JSON text: \"Missing a comma or ']' after an array element.\" at position 4 " +
      "in value for column 'j'.");
  });

  it("JSON_EXTRACT, ->, ->>, JSON_OBJECT, JSON_ARRAY, JSON_TYPE, JSON_VALID", async () => {
    await c.query("CREATE TABLE jf (id INT PRIMARY KEY, j JSON)");
    await c.query(`INSERT INTO jf VALUES (1, '{"a": {"b": [10, 20]}, "name": "bob"}'), ` +
      "(2, '[1, 2]')");
    assert.deepEqual(await textRows("SELECT j->'$.a.b[1]', j->>'$.name', j->'$.name', " +
      "JSON_EXTRACT(j, '$.a.b[*]'), JSON_TYPE(j) FROM jf ORDER BY id"), [
      ["20", "bob", '"bob"', "[10, 20]", "OBJECT"], [null, null, null, null, "ARRAY"]]);
    assert.deepEqual(await typeCodes("SELECT j->'$.a', JSON_ARRAY() FROM jf"), [245, 245]);
    assert.deepEqual(await textRows("SELECT id FROM jf WHERE j->>'$.name' = 'bob'"), [["1"]]);
    assert.deepEqual(await textRows("SELECT JSON_OBJECT('y', 'str', 'x', JSON_ARRAY(1, 2.5, " +
      "NULL)), JSON_ARRAY(j), JSON_VALID('{'), JSON_EXTRACT(j, '$[0]', '$[1]') FROM jf " +
      "WHERE id = 2"), [['{"x": [1, 2.5, null], "y": "str"}', "[[1, 2]]", "0", "[1, 2]"]]);
    await rejects(c.query("SELECT JSON_EXTRACT('{bad', '$.a')"), 3141,
      "Invalid JSON text in argument 1 to function json_extract: " +
      "\"Missing a name for object member.\" at position 1.");
    await rejects(c.query("SELECT JSON_EXTRACT('{}', 'a')"), 3143);
  });

  it("BIT(n) stores bits and sends its bytes", async () => {
    await c.query("CREATE TABLE bt (id INT PRIMARY KEY, b BIT(10), b1 BIT)");
    await c.query("INSERT INTO bt VALUES (1, b'1000000001', 1), (2, 5, b'0'), (3, 'a', NULL)");
    const [result, fields] = await c.query({ sql: "SELECT b, b1, b + 0 FROM bt ORDER BY id",
      rowsAsArray: true });
    assert.deepEqual(result, [[Buffer.from([2, 1]), Buffer.from([1]), 513],
      [Buffer.from([0, 5]), Buffer.from([0]), 5], [Buffer.from([0, 0x61]), null, 97]]);
    assert.deepEqual(fields.map((f) => f.columnType), [16, 16, 8]);
    const [prepared] = await c.execute({ sql: "SELECT b FROM bt WHERE b = ?", rowsAsArray: true },
      [513]);
    assert.deepEqual(prepared, [[Buffer.from([2, 1])]]);
    await assertShown("bt", ["`b` bit(10) DEFAULT NULL", "`b1` bit(1) DEFAULT NULL"]);
    await rejects(c.query("INSERT INTO bt VALUES (4, 1024, 0)"), 1406,
      "Data too long for column 'b' at row 1");
    await c.query("INSERT IGNORE INTO bt VALUES (4, 1024, 2)");
    assert.deepEqual(await textRows("SELECT b + 0, b1 + 0 FROM bt WHERE id = 4"),
      [["1023", "1"]]);
    await rejects(c.query("CREATE TABLE bt2 (b BIT(65))"), 1439,
      "Display width out of range for column 'b' (max = 64)");
  });

  it("casts to DATE, DATETIME and TIME, DATE(), CURDATE() and temporal literals", async () => {
    const sql = "SELECT CAST('2024-01-05 10:11:12' AS DATE), " +
      "CAST('2024-01-05 10:11:12.5' AS DATETIME(1)), CAST('10:11:12.25' AS TIME(1)), " +
      "DATE('2024-02-29 10:00:00'), CAST(20240105 AS DATE), TIME '10:11:12.5'";
    assert.deepEqual(await textRows(sql), [["2024-01-05", "2024-01-05 10:11:12.5",
      "10:11:12.3", "2024-02-29", "2024-01-05", "10:11:12.5"]]);
    assert.deepEqual(await typeCodes(sql), [10, 12, 11, 10, 10, 11]);
    assert.deepEqual(await textRows("SELECT CAST('abc' AS DATE)"), [[null]]);
    const [warnings] = await c.query("SHOW WARNINGS");
    assert.deepEqual((warnings as Record<string, unknown>[]).map((w) => w.Code), [1292]);
    assert.deepEqual(await textRows("SELECT CURDATE() = CURRENT_DATE, " +
      "CURDATE() = DATE(NOW()), LENGTH(CURTIME()), DATE '2024-01-05' = '2024-01-05'"),
    [["1", "1", "8", "1"]]);
    await rejects(c.query("SELECT DATE '2024-13-05'"), 1525,
      "Incorrect DATE value: '2024-13-05'");
  });

  it("mariadb-dump dumps every type and the dump loads back", async (t) => {
    const missing = ["mariadb-dump", "mysql"].find((command) =>
      spawnSync(command, ["--version"]).error !== undefined);
    if (missing !== undefined) {
      assert.notEqual(process.env.CI, "true", `the dump test needs ${missing}`);
      console.log(`skipping the dump test: ${missing} is not installed`);
      t.skip(`${missing} is not installed`);
      return;
    }
    await c.query("CREATE DATABASE typesrc");
    await c.query("CREATE DATABASE typedst");
    await c.query("CREATE TABLE typesrc.all_types (id INT PRIMARY KEY, d DATE, " +
      "dt DATETIME(3), ts TIMESTAMP NULL, tm TIME(1), y YEAR, e ENUM('a','b c'), " +
      "s SET('x','y'), j JSON, b BIT(12), f BOOL)");
    await c.query("INSERT INTO typesrc.all_types VALUES (1, '2024-02-29', " +
      "'2024-02-29 01:02:03.456', '2024-02-29 01:02:03', '-12:34:56.7', 2024, 'b c', 'x,y', " +
      `'{"k": [1, "it''s"]}', 0x0141, TRUE), ` +
      "(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)");
    const connArgs = ["-h", "127.0.0.1", "-P", String(node.server.port), "-u", "root"];
    const dump = await clients.run("mariadb-dump", [...connArgs, "typesrc"]);
    assert.equal(dump.code, 0, dump.stderr);
    assert.match(dump.stdout, /'2024-02-29','2024-02-29 01:02:03.456'/);
    const load = await clients.run("mysql", [...connArgs, "typedst"], dump.stdout);
    assert.equal(load.code, 0, load.stderr);
    const select = async (db: string): Promise<string[]> => {
      const [result] = await c.query({ sql: `SELECT * FROM ${db}.all_types ORDER BY id`,
        rowsAsArray: true, typeCast: false });
      return (result as unknown[][]).map((r) => JSON.stringify(r));
    };
    assert.deepEqual(await select("typedst"), await select("typesrc"));
    const shown = async (db: string): Promise<string> => {
      const [result] = await c.query(`SHOW CREATE TABLE ${db}.all_types`);
      return String((result as Record<string, unknown>[])[0]!["Create Table"]);
    };
    assert.equal(await shown("typedst"), await shown("typesrc"));
  });

  it("prepared INSERT stores every type as the text protocol does", async () => {
    await c.query("CREATE TABLE pi (id INT PRIMARY KEY, d DATE, tm TIME(2), y YEAR, " +
      "e ENUM('a','b'), s SET('x','y'), j JSON, b BIT(8))");
    await c.execute("INSERT INTO pi VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      [1, "2024-02-29", "-01:02:03.456", 99, "B", "y,x", '{"z":1,"a":[]}', 7]);
    assert.deepEqual(await textRows("SELECT d, tm, y, e, s, j, b + 0 FROM pi"),
      [["2024-02-29", "-01:02:03.46", "1999", "b", "x,y", '{"a": [], "z": 1}', "7"]]);
    await rejects(c.execute("INSERT INTO pi (id, d) VALUES (?, ?)", [2, "2024-02-30"]), 1292,
      "Incorrect date value: '2024-02-30' for column 'd' at row 1");
  });

  it("BOOL is TINYINT(1)", async () => {
    await c.query("CREATE TABLE b (id INT PRIMARY KEY, b BOOL, b2 BOOLEAN NOT NULL)");
    await c.query("INSERT INTO b VALUES (1, TRUE, 0)");
    assert.deepEqual(await textRows("SELECT b, b2 FROM b"), [["1", "0"]]);
    await assertShown("b", ["`b` tinyint(1) DEFAULT NULL", "`b2` tinyint(1) NOT NULL"]);
  });
});
