/**
 * Type semantics end to end (mysql2 against an in-process cluster), as MySQL 8 has them:
 * TIMESTAMP columns stored in UTC and read and written in the session's `time_zone`
 * (offsets, SYSTEM, named zones with daylight saving; DATETIME never converted), NOW(),
 * UNIX_TIMESTAMP(), FROM_UNIXTIME() and CONVERT_TZ() following the zone, 1298 for an
 * unknown zone; ENUM compared with numbers by index and sorted by declaration order, SET
 * by bits; TIME compared and sorted as durations; JSON compared by MySQL's JSON rules.
 * Table-driven; each expected row is what MySQL 8.0 returns.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import mysql from "mysql2/promise";
import { type SqlCluster, startSqlCluster } from "./sql_cluster.ts";

let cluster: SqlCluster;
let c: mysql.Connection;

before(async () => {
  cluster = await startSqlCluster();
  const node = await cluster.startNode();
  // Dates as the text the server sends, so that no client-side zone interferes.
  c = await mysql.createConnection({ host: "127.0.0.1", port: node.server.port,
    user: "root", database: "test", dateStrings: true });
}, { timeout: 30_000 });

after(async () => {
  c.destroy();
  await cluster.close();
}, { timeout: 30_000 });

/** The rows of `sql` as arrays of text (NULL as null). */
async function rows(sql: string, params?: readonly unknown[]): Promise<(string | null)[][]> {
  const [result] = params === undefined
    ? await c.query({ sql, rowsAsArray: true })
    : await c.execute({ sql, rowsAsArray: true }, params as never[]);
  return (result as unknown[][]).map((row) => row.map((v) => v === null ? null : String(v)));
}

async function exec(sql: string): Promise<void> {
  await c.query(sql);
}

/** The MySQL error number `sql` fails with. */
async function errno(sql: string): Promise<number | undefined> {
  try {
    await c.query(sql);
    return undefined;
  } catch (error: unknown) {
    return (error as { errno?: number }).errno;
  }
}

describe("TIMESTAMP and the session time_zone", { timeout: 30_000 }, () => {
  before(async () => {
    await exec("SET time_zone = 'SYSTEM'");
    await exec("CREATE TABLE tz (id INT PRIMARY KEY, ts TIMESTAMP(3) NULL, dt DATETIME NULL, " +
      "UNIQUE KEY (ts))");
    await exec("SET time_zone = '+08:00'");
    await exec("INSERT INTO tz VALUES (1, '2024-01-01 08:00:00.125', '2024-01-01 08:00:00')," +
      " (2, '2024-07-01 20:00:00', '2024-07-01 20:00:00')");
    await exec("SET time_zone = 'America/New_York'");
    // 01:30 happens twice on 2024-11-03 in New York: the earlier instant (EDT) is taken.
    await exec("INSERT INTO tz VALUES (3, '2024-11-03 01:30:00', '2024-11-03 01:30:00')");
  });

  const reads: readonly [string, (string | null)[][]][] = [
    // [time_zone, rows of SELECT id, ts, dt ORDER BY id]
    ["+08:00", [["1", "2024-01-01 08:00:00.125", "2024-01-01 08:00:00"],
      ["2", "2024-07-01 20:00:00.000", "2024-07-01 20:00:00"],
      ["3", "2024-11-03 13:30:00.000", "2024-11-03 01:30:00"]]],
    ["SYSTEM", [["1", "2024-01-01 00:00:00.125", "2024-01-01 08:00:00"],
      ["2", "2024-07-01 12:00:00.000", "2024-07-01 20:00:00"],
      ["3", "2024-11-03 05:30:00.000", "2024-11-03 01:30:00"]]],
    ["UTC", [["1", "2024-01-01 00:00:00.125", "2024-01-01 08:00:00"],
      ["2", "2024-07-01 12:00:00.000", "2024-07-01 20:00:00"],
      ["3", "2024-11-03 05:30:00.000", "2024-11-03 01:30:00"]]],
    ["-05:30", [["1", "2023-12-31 18:30:00.125", "2024-01-01 08:00:00"],
      ["2", "2024-07-01 06:30:00.000", "2024-07-01 20:00:00"],
      ["3", "2024-11-03 00:00:00.000", "2024-11-03 01:30:00"]]],
    ["Europe/Berlin", [["1", "2024-01-01 01:00:00.125", "2024-01-01 08:00:00"],
      ["2", "2024-07-01 14:00:00.000", "2024-07-01 20:00:00"],
      ["3", "2024-11-03 06:30:00.000", "2024-11-03 01:30:00"]]],
    ["Asia/Shanghai", [["1", "2024-01-01 08:00:00.125", "2024-01-01 08:00:00"],
      ["2", "2024-07-01 20:00:00.000", "2024-07-01 20:00:00"],
      ["3", "2024-11-03 13:30:00.000", "2024-11-03 01:30:00"]]],
  ];
  for (const [zone, expected] of reads) {
    it(`reads TIMESTAMP in ${zone}, DATETIME unchanged`, async () => {
      await exec(`SET time_zone = '${zone}'`);
      assert.deepEqual(await rows("SELECT @@time_zone"), [[zone]]);
      assert.deepEqual(await rows("SELECT id, ts, dt FROM tz ORDER BY id"), expected);
    });
  }

  const lookups: readonly [string, string, string[][]][] = [
    // [time_zone, query, rows]
    ["+08:00", "SELECT id FROM tz WHERE ts = '2024-01-01 08:00:00.125'", [["1"]]],
    ["UTC", "SELECT id FROM tz WHERE ts = '2024-01-01 00:00:00.125'", [["1"]]],
    ["UTC", "SELECT id FROM tz WHERE ts > '2024-06-01' ORDER BY id", [["2"], ["3"]]],
    ["+08:00", "SELECT UNIX_TIMESTAMP(ts) FROM tz WHERE id = 2", [["1719835200.000"]]],
    ["UTC", "SELECT UNIX_TIMESTAMP(ts) FROM tz WHERE id = 2", [["1719835200.000"]]],
    ["+08:00", "SELECT FROM_UNIXTIME(1719835200)", [["2024-07-01 20:00:00"]]],
    ["Europe/Berlin", "SELECT FROM_UNIXTIME(0), UNIX_TIMESTAMP('1970-01-01 01:00:00')",
      [["1970-01-01 01:00:00", "0"]]],
    ["UTC", "SELECT CONVERT_TZ('2024-01-01 12:00:00', '+00:00', 'Asia/Shanghai')",
      [["2024-01-01 20:00:00"]]],
    ["+08:00", "SELECT UNIX_TIMESTAMP(NOW()) - UNIX_TIMESTAMP(UTC_TIMESTAMP())", [["28800"]]],
    ["-03:00", "SELECT UNIX_TIMESTAMP() = UNIX_TIMESTAMP(NOW())", [["1"]]],
  ];
  for (const [zone, sql, expected] of lookups) {
    it(`${zone}: ${sql}`, async () => {
      await exec(`SET time_zone = '${zone}'`);
      assert.deepEqual(await rows(sql), expected);
    });
  }

  it("an unknown or out-of-range zone is 1298 and keeps the zone", async () => {
    await exec("SET time_zone = '+02:00'");
    for (const zone of ["Mars/Base", "+14:01", "-14:00", "08:00", ""]) {
      assert.equal(await errno(`SET time_zone = '${zone}'`), 1298, zone);
    }
    assert.deepEqual(await rows("SELECT @@session.time_zone"), [["+02:00"]]);
  });

  it("a local time a DST change skips is 1292 for a TIMESTAMP, fine for a DATETIME",
    async () => {
      await exec("SET time_zone = 'America/New_York'");
      assert.equal(await errno("INSERT INTO tz VALUES (9, '2024-03-10 02:30:00', NULL)"),
        1292);
      await exec("INSERT INTO tz VALUES (9, NULL, '2024-03-10 02:30:00')");
      await exec("DELETE FROM tz WHERE id = 9");
    });

  it("both instants of a fall-back hour read the same, UNIX_TIMESTAMP tells them apart",
    async () => {
      await exec("SET time_zone = 'UTC'");
      await exec("CREATE TABLE ov (id INT PRIMARY KEY, ts TIMESTAMP)");
      await exec("INSERT INTO ov VALUES (1, '2024-11-03 05:30:00'), (2, '2024-11-03 06:30:00')");
      await exec("SET time_zone = 'America/New_York'");
      assert.deepEqual(await rows("SELECT id, ts, UNIX_TIMESTAMP(ts) FROM ov ORDER BY id"), [
        ["1", "2024-11-03 01:30:00", "1730611800"], ["2", "2024-11-03 01:30:00", "1730615400"]]);
    });

  it("the TIMESTAMP range is checked in UTC", async () => {
    await exec("SET time_zone = '+08:00'");
    // 1970-01-01 08:00:00 at +08:00 is the epoch itself, before the first TIMESTAMP.
    assert.equal(await errno("INSERT INTO tz VALUES (9, '1970-01-01 08:00:00', NULL)"), 1292);
    await exec("INSERT INTO tz VALUES (9, '1970-01-01 08:00:01', NULL)");
    await exec("SET time_zone = 'UTC'");
    assert.deepEqual(await rows("SELECT ts FROM tz WHERE id = 9"),
      [["1970-01-01 00:00:01.000"]]);
    await exec("DELETE FROM tz WHERE id = 9");
  });

  it("a unique TIMESTAMP is one instant whatever the zone it was written in", async () => {
    await exec("SET time_zone = 'UTC'");
    assert.equal(await errno("INSERT INTO tz VALUES (8, '2024-01-01 00:00:00.125', NULL)"),
      1062);
  });

  it("UPDATE, INSERT … SELECT and prepared statements keep the instant", async () => {
    await exec("SET time_zone = 'Asia/Kolkata'");
    await exec("UPDATE tz SET ts = ts, dt = dt WHERE id = 1");
    await exec("CREATE TABLE tz2 (id INT PRIMARY KEY, ts TIMESTAMP(3) NULL)");
    await exec("INSERT INTO tz2 SELECT id, ts FROM tz");
    await c.execute("INSERT INTO tz2 VALUES (?, ?)", [10, "2024-01-01 05:30:00"]);
    await exec("SET time_zone = 'UTC'");
    assert.deepEqual(await rows("SELECT id, ts FROM tz2 ORDER BY id"), [
      ["1", "2024-01-01 00:00:00.125"], ["2", "2024-07-01 12:00:00.000"],
      ["3", "2024-11-03 05:30:00.000"], ["10", "2024-01-01 00:00:00.000"]]);
    assert.deepEqual(await rows("SELECT ts FROM tz WHERE id = 1"),
      [["2024-01-01 00:00:00.125"]]);
    // The binary protocol leaves out a zero fraction (mysql2 prints what it gets).
    assert.deepEqual(await rows("SELECT ts FROM tz2 WHERE ts = ?", ["2024-07-01 12:00:00"]),
      [["2024-07-01 12:00:00"]]);
  });

  it("DEFAULT and ON UPDATE CURRENT_TIMESTAMP store the current instant", async () => {
    await exec("SET time_zone = '+08:00'");
    await exec("CREATE TABLE tz3 (id INT PRIMARY KEY, v INT, " +
      "made TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, " +
      "changed TIMESTAMP NULL ON UPDATE CURRENT_TIMESTAMP)");
    await exec("INSERT INTO tz3 (id, v) VALUES (1, 1)");
    await exec("UPDATE tz3 SET v = 2 WHERE id = 1");
    // Read in another zone: still within a minute of now as an instant (not 8 h off).
    await exec("SET time_zone = 'America/New_York'");
    assert.deepEqual(await rows("SELECT ABS(UNIX_TIMESTAMP(made) - UNIX_TIMESTAMP()) < 60, " +
      "ABS(UNIX_TIMESTAMP(changed) - UNIX_TIMESTAMP()) < 60, " +
      "ABS(UNIX_TIMESTAMP(made) - UNIX_TIMESTAMP(NOW())) < 60 FROM tz3"), [["1", "1", "1"]]);
  });
});

describe("ENUM and SET", { timeout: 30_000 }, () => {
  before(async () => {
    await exec("CREATE TABLE es (id INT PRIMARY KEY, e ENUM('z','a','m') NULL, " +
      "s SET('x','y','z') NULL)");
    await exec("INSERT INTO es VALUES (1,'a','z'), (2,'z','x,y'), (3,'m','x'), (4,'a','y'), " +
      "(5,NULL,'')");
  });

  const cases: readonly [string, (string | null)[][]][] = [
    ["SELECT id, e FROM es ORDER BY e, id",
      [["5", null], ["2", "z"], ["1", "a"], ["4", "a"], ["3", "m"]]],
    ["SELECT id FROM es ORDER BY e DESC, id", [["3"], ["1"], ["4"], ["2"], ["5"]]],
    ["SELECT id, e + 0 FROM es ORDER BY id",
      [["1", "2"], ["2", "1"], ["3", "3"], ["4", "2"], ["5", null]]],
    ["SELECT id FROM es WHERE e = 2 ORDER BY id", [["1"], ["4"]]],
    ["SELECT id FROM es WHERE e > 1 ORDER BY id", [["1"], ["3"], ["4"]]],
    ["SELECT id FROM es WHERE e = 'A' ORDER BY id", [["1"], ["4"]]],
    ["SELECT id FROM es WHERE e IN (1, 3) ORDER BY id", [["2"], ["3"]]],
    ["SELECT MIN(e), MAX(e) FROM es", [["a", "z"]]],
    ["SELECT e, COUNT(*) FROM es WHERE e IS NOT NULL GROUP BY e ORDER BY e",
      [["z", "1"], ["a", "2"], ["m", "1"]]],
    ["SELECT id, s FROM es ORDER BY s, id",
      [["5", ""], ["3", "x"], ["4", "y"], ["2", "x,y"], ["1", "z"]]],
    ["SELECT id, s + 0 FROM es ORDER BY id",
      [["1", "4"], ["2", "3"], ["3", "1"], ["4", "2"], ["5", "0"]]],
    ["SELECT id FROM es WHERE s = 3", [["2"]]],
    ["SELECT id FROM es WHERE s = 'x,y'", [["2"]]],
  ];
  for (const [sql, expected] of cases) {
    it(sql, async () => assert.deepEqual(await rows(sql), expected));
  }

  it("UPDATE … ORDER BY sorts an ENUM by index", async () => {
    await exec("CREATE TABLE es2 (id INT PRIMARY KEY, e ENUM('z','a','m'), n INT)");
    await exec("INSERT INTO es2 VALUES (1,'m',0), (2,'a',0), (3,'z',0)");
    await exec("UPDATE es2 SET n = 1 ORDER BY e LIMIT 2");
    assert.deepEqual(await rows("SELECT id, n FROM es2 ORDER BY id"),
      [["1", "0"], ["2", "1"], ["3", "1"]]);
  });
});

describe("TIME", { timeout: 30_000 }, () => {
  before(async () => {
    await exec("CREATE TABLE tm (id INT PRIMARY KEY, t TIME NULL)");
    await exec("INSERT INTO tm VALUES (1,'100:00:00'), (2,'-01:00:00'), (3,'99:00:00'), " +
      "(4,'00:30:00'), (5,'9:00:00'), (6,'-838:59:59')");
  });

  const cases: readonly [string, string[][]][] = [
    ["SELECT id, t FROM tm ORDER BY t", [["6", "-838:59:59"], ["2", "-01:00:00"],
      ["4", "00:30:00"], ["5", "09:00:00"], ["3", "99:00:00"], ["1", "100:00:00"]]],
    ["SELECT id FROM tm ORDER BY t DESC LIMIT 2", [["1"], ["3"]]],
    ["SELECT MIN(t), MAX(t) FROM tm", [["-838:59:59", "100:00:00"]]],
    ["SELECT id FROM tm WHERE t < '00:30:00' ORDER BY id", [["2"], ["6"]]],
    ["SELECT id FROM tm WHERE t > '10:00:00' ORDER BY id", [["1"], ["3"]]],
    ["SELECT id FROM tm WHERE t BETWEEN '-1:00:00' AND '9:00' ORDER BY id",
      [["2"], ["4"], ["5"]]],
    ["SELECT id FROM tm WHERE t = 90000", [["5"]]],
    ["SELECT t + 0 FROM tm WHERE id = 3", [["990000"]]],
    ["SELECT CAST('100:00:00' AS TIME) > CAST('99:00:00' AS TIME)", [["1"]]],
  ];
  for (const [sql, expected] of cases) {
    it(sql, async () => assert.deepEqual(await rows(sql), expected));
  }
});

describe("JSON", { timeout: 30_000 }, () => {
  before(async () => {
    await exec("CREATE TABLE js (id INT PRIMARY KEY, j JSON NULL)");
    await exec("INSERT INTO js VALUES (1,'1'), (2,'\"a\"'), (3,'[1, 2]'), (4,'2.5'), " +
      "(5,'{\"k\": \"x\", \"n\": 10}'), (6,'null'), (7,'true'), (8,'\"B\"'), (9,'10')");
  });

  const cases: readonly [string, string[][]][] = [
    ["SELECT id FROM js WHERE j = 1", [["1"]]],
    ["SELECT id FROM js WHERE j = 'a'", [["2"]]],
    ["SELECT id FROM js WHERE j = 2.50", [["4"]]],
    ["SELECT id FROM js WHERE j = '1'", []],
    ["SELECT id FROM js WHERE j > 2 ORDER BY id", [["2"], ["3"], ["4"], ["5"], ["7"], ["8"],
      ["9"]]],
    ["SELECT id FROM js WHERE j < 5 ORDER BY id", [["1"], ["4"], ["6"]]],
    ["SELECT id FROM js ORDER BY j, id",
      [["6"], ["1"], ["4"], ["9"], ["8"], ["2"], ["5"], ["3"], ["7"]]],
    ["SELECT id FROM js WHERE j->'$.k' = 'x'", [["5"]]],
    ["SELECT id FROM js WHERE j->'$.n' > 9", [["5"]]],
    ["SELECT id FROM js WHERE j->>'$.k' = 'x'", [["5"]]],
    ["SELECT JSON_EXTRACT('{\"a\": 1}', '$.a') = 1.0, JSON_ARRAY(1, 2) = JSON_ARRAY(1, 2), " +
      "JSON_OBJECT('a', 1) = '{\"a\": 1}'", [["1", "1", "0"]]],
  ];
  for (const [sql, expected] of cases) {
    it(sql, async () => assert.deepEqual(await rows(sql), expected));
  }
});

describe("joins compare TIME and JSON by value, not by text", { timeout: 30_000 }, () => {
  before(async () => {
    await exec("CREATE TABLE hj (id INT PRIMARY KEY, s VARCHAR(20))");
    await exec("INSERT INTO hj VALUES (1,'9:00:00'), (2,'x'), (3,'1'), (4,'a'), (5,'100:00')");
  });

  const cases: readonly [string, string[][]][] = [
    ["SELECT tm.id, hj.id FROM tm JOIN hj ON tm.t = hj.s ORDER BY tm.id",
      [["1", "5"], ["5", "1"]]],
    ["SELECT js.id, hj.id FROM js JOIN hj ON js.j = hj.s ORDER BY js.id", [["2", "4"]]],
    ["SELECT hj.id FROM hj WHERE hj.s IN (SELECT t FROM tm) ORDER BY hj.id", [["1"], ["5"]]],
  ];
  for (const [sql, expected] of cases) {
    it(sql, async () => assert.deepEqual(await rows(sql), expected));
  }
});
