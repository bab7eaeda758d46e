/**
 * Partitioned tables end to end through mysql2 on one SQL node: CREATE TABLE … PARTITION
 * BY RANGE / RANGE COLUMNS / LIST / LIST COLUMNS / HASH / KEY and MySQL's errors for bad
 * definitions; rows routed to partitions on INSERT / REPLACE / ON DUPLICATE KEY UPDATE
 * (1526 when none takes a row, 1748 outside `PARTITION (…)`), moved by UPDATE, deleted;
 * reads pruned by WHERE and `PARTITION (…)` as EXPLAIN shows them (`partition:p0,p1`,
 * `all`, `dual`); each partition's rows keyed by its own physical id and dropped with
 * the table; SHOW CREATE TABLE and information_schema.PARTITIONS; and a seeded random
 * comparison of a partitioned table with an identical plain one.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type mysql from "mysql2/promise";
import { droppedRange } from "../../src/sql/ddl/backfill.ts";
import type { DdlJob } from "../../src/sql/mod.ts";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";
import { rejects, rows } from "./test_sql_helpers.ts";

let cluster: SqlCluster;
let node: SqlNodeHandle;
let c: mysql.Connection;
/** What the DDL owner runs before each step of a job (a test sets it, and resets it). */
let beforeStep: (job: DdlJob) => Promise<void> = () => Promise.resolve();

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode({ ddl: { leaseMs: 2_000,
    beforeStep: (job) => beforeStep(job) } });
  c = await node.connect();
  await c.query("CREATE DATABASE pt");
  await c.query("USE pt");
}, { timeout: 30_000 });

after(async () => {
  await c?.end();
  await cluster.close();
}, { timeout: 30_000 });

const opts = { timeout: 60_000 };

/** EXPLAIN's access objects that name a table. */
async function accessObjects(sql: string): Promise<string[]> {
  const got = await rows(c, `EXPLAIN ${sql}`);
  return got.map((r) => String(r["access object"] ?? "")).filter((a) => a.startsWith("table:"));
}

/** The partitions EXPLAIN says a query on one table reads (`all`, `dual`, or names). */
async function partitionsRead(sql: string): Promise<string> {
  const objects = await accessObjects(sql);
  const found = objects.map((o) => /partition:([^ ]+?)(,? index:.*)?$/.exec(o)?.[1] ?? "");
  assert.ok(found.length > 0, `no table read in ${sql}: ${JSON.stringify(objects)}`);
  return found[0]!.replace(/,$/, "");
}

/** Waits (polling, bounded) until `condition` holds. */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; !await condition(); i++) {
    assert.ok(i < 400, "the condition never held");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The physical ids of table `name` of `pt`, its own first. */
async function physicalIds(name: string): Promise<number[]> {
  const txn = await node.storage.client.begin();
  try {
    const table = (await node.storage.catalog.schemaAt(txn)).table("pt", name)!;
    return [table.id, ...(table.partition?.definitions ?? []).map((d) => d.id)];
  } finally {
    await txn.rollback();
  }
}

async function keyCount(id: number): Promise<number> {
  const range = droppedRange(id, null);
  const txn = await node.storage.client.begin();
  try {
    return (await txn.scan(range.start, range.end)).length;
  } finally {
    await txn.rollback();
  }
}

describe("partitioned tables", () => {
  it("RANGE: rows go to their partitions, keyed by the partitions' ids", opts, async () => {
    await c.query("CREATE TABLE r (id INT PRIMARY KEY, v INT, KEY iv (v)) " +
      "PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (10), " +
      "PARTITION p1 VALUES LESS THAN (20), PARTITION p2 VALUES LESS THAN MAXVALUE)");
    await c.query("INSERT INTO r VALUES (1, 1), (5, 2), (15, 3), (25, 4), (100, 5)");
    const [logical, p0, p1, p2] = await physicalIds("r");
    assert.equal(await keyCount(logical!), 0);
    // Each row has its row key and one iv entry in its partition.
    assert.deepEqual([await keyCount(p0!), await keyCount(p1!), await keyCount(p2!)], [4, 2, 4]);
    assert.deepEqual(await rows(c, "SELECT id, v FROM r ORDER BY id"), [{ id: 1, v: 1 },
      { id: 5, v: 2 }, { id: 15, v: 3 }, { id: 25, v: 4 }, { id: 100, v: 5 }]);
    assert.deepEqual(await rows(c, "SELECT id FROM r WHERE v = 3"), [{ id: 15 }]);
    assert.deepEqual(await rows(c, "SELECT id FROM r WHERE id = 25"), [{ id: 25 }]);
    assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n, SUM(v) AS s FROM r WHERE id >= 5"),
      [{ n: 4, s: "14" }]);
    assert.deepEqual(await rows(c, "SELECT id FROM r PARTITION (p1, p2) ORDER BY id"),
      [{ id: 15 }, { id: 25 }, { id: 100 }]);
  });

  it("EXPLAIN lists the partitions WHERE and PARTITION (…) leave", opts, async () => {
    await c.query("CREATE TABLE e (id INT PRIMARY KEY, d DATE, v INT, KEY iv (v)) " +
      "PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (10), " +
      "PARTITION p1 VALUES LESS THAN (20), PARTITION p2 VALUES LESS THAN (30), " +
      "PARTITION p3 VALUES LESS THAN MAXVALUE)");
    await c.query("CREATE TABLE ey (id INT, d DATE NOT NULL) " +
      "PARTITION BY RANGE (YEAR(d)) (PARTITION y2019 VALUES LESS THAN (2020), " +
      "PARTITION y2020 VALUES LESS THAN (2021), PARTITION y2021 VALUES LESS THAN (2022))");
    await c.query("CREATE TABLE el (id INT, g INT) PARTITION BY LIST (g) " +
      "(PARTITION pa VALUES IN (1, 3, 5), PARTITION pb VALUES IN (2, 4), " +
      "PARTITION pn VALUES IN (NULL, 0))");
    await c.query("CREATE TABLE eh (id INT PRIMARY KEY, v INT) PARTITION BY HASH (id) " +
      "PARTITIONS 4");
    await c.query("CREATE TABLE ek (name VARCHAR(20), v INT) PARTITION BY KEY (name) " +
      "PARTITIONS 3");
    await c.query("CREATE TABLE erc (a INT, b VARCHAR(10)) PARTITION BY RANGE COLUMNS (b) " +
      "(PARTITION pa VALUES LESS THAN ('g'), PARTITION pb VALUES LESS THAN ('n'), " +
      "PARTITION pc VALUES LESS THAN (MAXVALUE))");
    const cases: [string, string][] = [
      ["SELECT * FROM e", "all"],
      ["SELECT * FROM e WHERE id = 5", "p0"],
      ["SELECT * FROM e WHERE id = 10", "p1"],
      ["SELECT * FROM e WHERE id IN (1, 25)", "p0,p2"],
      ["SELECT * FROM e WHERE id < 10", "p0"],
      ["SELECT * FROM e WHERE id <= 10", "p0,p1"],
      ["SELECT * FROM e WHERE id > 19", "p2,p3"],
      ["SELECT * FROM e WHERE id >= 20 AND id < 30", "p2"],
      ["SELECT * FROM e WHERE id BETWEEN 12 AND 22", "p1,p2"],
      ["SELECT * FROM e WHERE id = 5 OR id = 35", "p0,p3"],
      ["SELECT * FROM e WHERE id < 15 OR id > 40", "p0,p1,p3"],
      ["SELECT * FROM e WHERE id = 5 AND id = 15", "dual"],
      ["SELECT * FROM e WHERE v = 5", "all"],
      ["SELECT * FROM e WHERE v = 5 AND id > 25", "p2,p3"],
      ["SELECT * FROM e PARTITION (p1, p3)", "p1,p3"],
      ["SELECT * FROM e PARTITION (p1, p3) WHERE id < 20", "p1"],
      ["SELECT * FROM e PARTITION (p1) WHERE id = 5", "dual"],
      ["SELECT * FROM e WHERE id = -3", "p0"],
      ["SELECT * FROM ey WHERE d = '2020-05-01'", "y2020"],
      ["SELECT * FROM ey WHERE d >= '2020-01-01'", "y2020,y2021"],
      ["SELECT * FROM ey WHERE d < '2020-01-01'", "y2019"],
      ["SELECT * FROM ey WHERE d < '2020-01-02'", "y2019,y2020"],
      ["SELECT * FROM ey WHERE d <= '2019-12-31'", "y2019"],
      ["SELECT * FROM ey WHERE d BETWEEN '2019-06-01' AND '2020-02-01'", "y2019,y2020"],
      ["SELECT * FROM ey WHERE id = 3", "all"],
      ["SELECT * FROM el WHERE g = 3", "pa"],
      ["SELECT * FROM el WHERE g IN (2, 5)", "pa,pb"],
      ["SELECT * FROM el WHERE g IS NULL", "pn"],
      ["SELECT * FROM el WHERE g = 9", "dual"],
      ["SELECT * FROM el WHERE g > 3", "pa,pb"],
      ["SELECT * FROM eh WHERE id = 6", "p2"],
      ["SELECT * FROM eh WHERE id IN (4, 8)", "p0"],
      ["SELECT * FROM eh WHERE id BETWEEN 1 AND 2", "p1,p2"],
      ["SELECT * FROM eh WHERE v = 1", "all"],
      ["SELECT * FROM ek WHERE name = 'x'", (await keyPartition("x"))],
      ["SELECT * FROM erc WHERE b = 'h'", "pb"],
      ["SELECT * FROM erc WHERE b < 'c'", "pa"],
      ["SELECT * FROM erc WHERE b >= 'n'", "pc"],
    ];
    for (const [sql, expected] of cases) {
      assert.equal(await partitionsRead(sql), expected, sql);
    }
    // An index read names the partitions too, as TiDB does.
    const objects = await accessObjects("SELECT * FROM e WHERE v = 3 AND id < 10");
    assert.ok(objects.some((o) => o === "table:e, partition:p0, index:iv(v)") ||
      objects.some((o) => o === "table:e, partition:p0"), JSON.stringify(objects));
  });

  it("bad definitions fail with MySQL's errors", opts, async () => {
    const create = (body: string): Promise<unknown> =>
      c.query(`CREATE TABLE bad ${body}`);
    const cases: [string, number][] = [
      ["(a INT) PARTITION BY RANGE (a)", 1492],
      ["(a INT) PARTITION BY LIST (a)", 1492],
      ["(a INT) PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN (10), " +
        "PARTITION p1 VALUES LESS THAN (5))", 1493],
      ["(a INT) PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN (10), " +
        "PARTITION p1 VALUES LESS THAN (10))", 1493],
      ["(a INT) PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN MAXVALUE, " +
        "PARTITION p1 VALUES LESS THAN (10))", 1481],
      ["(a INT) PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN (10), " +
        "PARTITION p0 VALUES LESS THAN (20))", 1517],
      ["(a INT) PARTITION BY RANGE (a) (PARTITION p0 VALUES IN (1))", 1480],
      ["(a INT) PARTITION BY LIST (a) (PARTITION p0 VALUES LESS THAN (1))", 1480],
      ["(a INT) PARTITION BY RANGE (a) (PARTITION p0)", 1479],
      ["(a INT) PARTITION BY LIST (a) (PARTITION p0 VALUES IN (1, 2), " +
        "PARTITION p1 VALUES IN (2))", 1495],
      ["(a VARCHAR(10)) PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN (1))", 1659],
      ["(a DOUBLE) PARTITION BY HASH (a) PARTITIONS 2", 1659],
      ["(a INT) PARTITION BY HASH (a / 2) PARTITIONS 2", 1564],
      ["(a INT) PARTITION BY HASH (RAND(a)) PARTITIONS 2", 1564],
      ["(a INT) PARTITION BY HASH (b) PARTITIONS 2", 1054],
      ["(a INT) PARTITION BY KEY (b) PARTITIONS 2", 1488],
      ["(a INT) PARTITION BY HASH (a) PARTITIONS 0", 1504],
      ["(a INT) PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN ('x'))", 1697],
      ["(a INT) PARTITION BY RANGE COLUMNS (a) (PARTITION p0 VALUES LESS THAN ('x'))", 1654],
      ["(a INT, b INT) PARTITION BY RANGE COLUMNS (a, b) " +
        "(PARTITION p0 VALUES LESS THAN (1))", 1653],
      ["(a INT, b INT, PRIMARY KEY (a)) PARTITION BY HASH (b) PARTITIONS 2", 1503],
      ["(a INT, b INT, UNIQUE KEY (a)) PARTITION BY HASH (b) PARTITIONS 2", 1503],
      ["(a INT, b INT, c VARCHAR(4), PRIMARY KEY (a, c)) PARTITION BY HASH (b) " +
        "PARTITIONS 2", 1503],
      ["(a INT) PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN (NULL))", 1566],
      ["(a INT) PARTITION BY RANGE COLUMNS (a, a) (PARTITION p0 VALUES LESS THAN (1, 1))",
        1652],
    ];
    for (const [body, errno] of cases) await rejects(create(body), errno);
    await c.query("CREATE TABLE fkp (a INT PRIMARY KEY)");
    await rejects(create("(a INT, FOREIGN KEY (a) REFERENCES fkp (a)) PARTITION BY HASH (a) " +
      "PARTITIONS 2"), 1506);
    await c.query("CREATE TABLE fkq (a INT PRIMARY KEY) PARTITION BY HASH (a) PARTITIONS 2");
    await rejects(create("(a INT, FOREIGN KEY (a) REFERENCES fkq (a))"), 1506);
    await rejects(create("(a INT) PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN (10), " +
      "PARTITION p1 VALUES LESS THAN (5))"), 1493,
    "VALUES LESS THAN value must be strictly increasing for each partition");
    await rejects(create("(a INT, b INT, PRIMARY KEY (a)) PARTITION BY HASH (b) PARTITIONS 2"),
      1503, "A PRIMARY KEY must include all columns in the table's partitioning function");
    await rejects(create("(a INT) PARTITION BY RANGE (a)"), 1492,
      "For RANGE partitions each partition must be defined");
    // None of them made a table.
    await rejects(c.query("SELECT * FROM bad"), 1146);
    // A unique index added later must hold the partitioning columns too.
    await c.query("CREATE TABLE uq (a INT, b INT) PARTITION BY HASH (a) PARTITIONS 2");
    await rejects(c.query("ALTER TABLE uq ADD UNIQUE KEY ub (b)"), 1503);
    await c.query("ALTER TABLE uq ADD UNIQUE KEY uab (a, b)");
    // PARTITION (…) naming an unknown partition, or on a table without partitions.
    await rejects(c.query("SELECT * FROM uq PARTITION (p9)"), 1735,
      "Unknown partition 'p9' in table 'uq'");
    await c.query("CREATE TABLE plain (a INT)");
    await rejects(c.query("SELECT * FROM plain PARTITION (p0)"), 1747);
  });

  it("writes: 1526, 1748, REPLACE and ON DUPLICATE KEY UPDATE, UPDATE moving rows, DELETE",
    opts, async () => {
      await c.query("CREATE TABLE w (id INT PRIMARY KEY, u INT, v INT, UNIQUE KEY uid (id, u)) " +
        "PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (10), " +
        "PARTITION p1 VALUES LESS THAN (20))");
      await rejects(c.query("INSERT INTO w VALUES (25, 1, 1)"), 1526,
        "Table has no partition for value 25");
      await c.query("INSERT INTO w VALUES (1, 1, 1), (12, 2, 2)");
      await rejects(c.query("INSERT INTO w PARTITION (p0) VALUES (13, 3, 3)"), 1748,
        "Found a row not matching the given partition set");
      await c.query("INSERT INTO w PARTITION (p1) VALUES (13, 3, 3)");
      await rejects(c.query("INSERT INTO w VALUES (12, 9, 9)"), 1062);
      // IGNORE skips the row no partition takes, with its error as a warning.
      const [ignored] = await c.query("INSERT IGNORE INTO w VALUES (30, 1, 1), (2, 2, 2)");
      assert.equal((ignored as { affectedRows: number }).affectedRows, 1);
      await c.query("REPLACE INTO w VALUES (12, 20, 20)");
      await c.query("INSERT INTO w VALUES (13, 0, 0) ON DUPLICATE KEY UPDATE v = v + 100");
      assert.deepEqual(await rows(c, "SELECT id, u, v FROM w ORDER BY id"), [
        { id: 1, u: 1, v: 1 }, { id: 2, u: 2, v: 2 }, { id: 12, u: 20, v: 20 },
        { id: 13, u: 3, v: 103 }]);
      // Moving rows between partitions.
      await c.query("UPDATE w SET id = id - 9 WHERE id > 10 AND id < 13");
      assert.deepEqual(await rows(c, "SELECT id FROM w PARTITION (p0) ORDER BY id"),
        [{ id: 1 }, { id: 2 }, { id: 3 }]);
      await rejects(c.query("UPDATE w SET id = 1 WHERE id = 13"), 1062);
      await c.query("UPDATE w SET id = 5 WHERE id = 13");
      assert.deepEqual(await rows(c, "SELECT id FROM w PARTITION (p0) ORDER BY id"),
        [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 5 }]);
      await rejects(c.query("UPDATE w SET id = 50 WHERE id = 5"), 1526);
      await rejects(c.query("UPDATE w PARTITION (p0) SET id = 15 WHERE id = 5"), 1748);
      await c.query("DELETE FROM w WHERE id = 5");
      await c.query("DELETE FROM w PARTITION (p1)");
      assert.deepEqual(await rows(c, "SELECT id FROM w ORDER BY id"), [{ id: 1 }, { id: 2 },
        { id: 3 }]);
      await c.query("UPDATE w PARTITION (p1) SET v = 7");
      assert.deepEqual(await rows(c, "SELECT SUM(v) AS s FROM w"), [{ s: "23" }]);
      // UNIX_TIMESTAMP of a TIMESTAMP: bounds read in the session's zone, rows by instant.
      await c.query("SET time_zone = '+08:00'");
      await c.query("CREATE TABLE wts (ts TIMESTAMP NOT NULL) PARTITION BY RANGE " +
        "(UNIX_TIMESTAMP(ts)) (PARTITION p0 VALUES LESS THAN " +
        "(UNIX_TIMESTAMP('2020-01-01 00:00:00')), PARTITION p1 VALUES LESS THAN MAXVALUE)");
      await c.query("INSERT INTO wts VALUES ('2019-12-31 23:00:00'), ('2020-01-01 07:00:00')");
      await c.query("SET time_zone = '+00:00'");
      assert.deepEqual(await rows(c, "SELECT CAST(ts AS CHAR) AS t FROM wts PARTITION (p1)"),
        [{ t: "2019-12-31 23:00:00" }]);
      await c.query("INSERT INTO wts VALUES ('2019-12-31 15:59:59')");
      assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n FROM wts PARTITION (p0)"), [{ n: 2 }]);
      await c.query("SET time_zone = DEFAULT");
      // AUTO_INCREMENT and _tidb_rowid are the table's, across partitions.
      await c.query("CREATE TABLE ai (id INT AUTO_INCREMENT, g INT, KEY (id)) " +
        "PARTITION BY LIST (g) (PARTITION a VALUES IN (1), PARTITION b VALUES IN (2))");
      await c.query("INSERT INTO ai (g) VALUES (1), (2), (1), (2)");
      // One allocator for the table (ids grow in statement order, whatever the partition).
      const ids = (await rows(c, "SELECT id, g FROM ai ORDER BY id"));
      assert.deepEqual(ids.map((r) => r.g), [1, 2, 1, 2]);
      assert.equal(new Set(ids.map((r) => r.id)).size, 4);
      const [first, second] = ids.map((r) => Number(r.id));
      await c.query(`UPDATE ai SET g = 3 - g WHERE id <= ${second}`);
      assert.deepEqual((await rows(c, "SELECT id FROM ai PARTITION (b) ORDER BY id"))
        .map((r) => Number(r.id)), [first, Number(ids[3]!.id)]);
      await c.query("DELETE FROM ai WHERE g = 2");
      assert.deepEqual((await rows(c, "SELECT id FROM ai ORDER BY id"))
        .map((r) => Number(r.id)), [second, Number(ids[2]!.id)]);
    });

  it("DROP and TRUNCATE clear every partition; ADD INDEX backfills each", opts, async () => {
    await c.query("CREATE TABLE dt (id INT, v INT) PARTITION BY HASH (id) PARTITIONS 3");
    await c.query("INSERT INTO dt VALUES (1, 1), (2, 2), (3, 3), (4, 4)");
    await c.query("ALTER TABLE dt ADD INDEX iv (v)");
    assert.deepEqual(await rows(c, "SELECT id FROM dt WHERE v = 3"), [{ id: 3 }]);
    await c.query("ADMIN CHECK TABLE dt");
    const before = await physicalIds("dt");
    assert.deepEqual(await Promise.all(before.map(keyCount)), [0, 2, 4, 2]);
    // DROP INDEX deletes the index's entries in every partition afterwards.
    await c.query("ALTER TABLE dt ADD INDEX iv2 (v, id)");
    assert.deepEqual(await Promise.all(before.map(keyCount)), [0, 3, 6, 3]);
    await c.query("DROP INDEX iv2 ON dt");
    await waitFor(async () => (await Promise.all(before.map(keyCount))).join() === "0,2,4,2");
    await c.query("TRUNCATE TABLE dt");
    const after = await physicalIds("dt");
    assert.ok(after.every((id) => !before.includes(id)), "truncate gives new partition ids");
    assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n FROM dt"), [{ n: 0 }]);
    await c.query("INSERT INTO dt VALUES (5, 5)");
    await c.query("DROP TABLE dt");
    await waitFor(async () => (await Promise.all([...before, ...after].map(keyCount)))
      .every((n) => n === 0));
  });

  it("SHOW CREATE TABLE reloads, and information_schema.PARTITIONS lists partitions",
    opts, async () => {
      await c.query("CREATE TABLE sc (id INT NOT NULL, d DATE NOT NULL, s VARCHAR(8)) " +
        "PARTITION BY RANGE COLUMNS (d, id) (PARTITION p0 VALUES LESS THAN ('2020-01-01', 5), " +
        "PARTITION p1 VALUES LESS THAN (MAXVALUE, MAXVALUE))");
      await c.query("CREATE TABLE sh (id INT) PARTITION BY LINEAR HASH (id) PARTITIONS 2");
      await c.query("CREATE TABLE sl (id INT, d DATE) PARTITION BY LIST (YEAR(d)) " +
        "(PARTITION a VALUES IN (2020, 2021), PARTITION b VALUES IN (NULL))");
      for (const name of ["sc", "sh", "sl", "e"]) {
        const [shown] = await rows(c, `SHOW CREATE TABLE ${name}`);
        const text = String(shown!["Create Table"]);
        assert.match(text, /PARTITION BY/);
        await c.query(`DROP TABLE IF EXISTS ${name}_copy`);
        await c.query(text.replace(`CREATE TABLE \`${name}\``, `CREATE TABLE \`${name}_copy\``));
        const [again] = await rows(c, `SHOW CREATE TABLE ${name}_copy`);
        assert.equal(String(again!["Create Table"]).replace(`${name}_copy`, name), text);
      }
      assert.deepEqual(await rows(c, "SELECT TABLE_NAME AS t, CREATE_OPTIONS AS o FROM " +
        "information_schema.TABLES WHERE TABLE_SCHEMA = 'pt' AND TABLE_NAME IN ('sh', " +
        "'plain') ORDER BY t"), [{ t: "plain", o: "" }, { t: "sh", o: "partitioned" }]);
      const [sc] = await rows(c, "SHOW CREATE TABLE sc");
      assert.ok(String(sc!["Create Table"]).endsWith("\n/*!50500 PARTITION BY RANGE  " +
        "COLUMNS(`d`,`id`)\n(PARTITION `p0` VALUES LESS THAN ('2020-01-01',5) ENGINE = InnoDB,\n" +
        " PARTITION `p1` VALUES LESS THAN (MAXVALUE,MAXVALUE) ENGINE = InnoDB) */"));
      assert.deepEqual(await rows(c, "SELECT PARTITION_NAME AS n, PARTITION_ORDINAL_POSITION " +
        "AS k, PARTITION_METHOD AS m, PARTITION_EXPRESSION AS x, PARTITION_DESCRIPTION AS d " +
        "FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = 'pt' AND TABLE_NAME IN " +
        "('sl', 'sh', 'plain') ORDER BY TABLE_NAME, k"), [
        { n: null, k: null, m: null, x: null, d: null },
        { n: "p0", k: 1, m: "LINEAR HASH", x: "`id`", d: null },
        { n: "p1", k: 2, m: "LINEAR HASH", x: "`id`", d: null },
        { n: "a", k: 1, m: "LIST", x: "year(`d`)", d: "2020,2021" },
        { n: "b", k: 2, m: "LIST", x: "year(`d`)", d: "NULL" },
      ]);
    });

  it("seeded random: a partitioned table answers as an identical plain one", opts,
    async () => {
      const layouts = [
        "PRIMARY KEY (id)) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (100), " +
          "PARTITION p1 VALUES LESS THAN (200), PARTITION p2 VALUES LESS THAN (300), " +
          "PARTITION p3 VALUES LESS THAN MAXVALUE)",
        "PRIMARY KEY (id)) PARTITION BY HASH (id) PARTITIONS 5",
        "KEY ia (a)) PARTITION BY LIST (a % 4) (PARTITION l0 VALUES IN (0), " +
          "PARTITION l1 VALUES IN (1), PARTITION l2 VALUES IN (2, 3))",
        "KEY ib (b)) PARTITION BY KEY (b) PARTITIONS 3",
        "KEY idd (d)) PARTITION BY RANGE COLUMNS (d) (PARTITION a VALUES LESS THAN " +
          "('2020-01-01'), PARTITION b VALUES LESS THAN ('2021-01-01'), " +
          "PARTITION c VALUES LESS THAN (MAXVALUE))",
        "KEY idd (d)) PARTITION BY RANGE (TO_DAYS(d)) (PARTITION a VALUES LESS THAN " +
          "(TO_DAYS('2019-03-01')), PARTITION b VALUES LESS THAN (TO_DAYS('2020-07-15')), " +
          "PARTITION c VALUES LESS THAN MAXVALUE)",
        "KEY ia (a)) PARTITION BY RANGE (YEAR(d)) (PARTITION a VALUES LESS THAN (2019), " +
          "PARTITION b VALUES LESS THAN (2021), PARTITION c VALUES LESS THAN MAXVALUE)",
      ];
      for (const [seed, layout] of layouts.entries()) {
        let state = seed * 7919 + 17;
        const next = (n: number): number => {
          state = (state * 1103515245 + 12345) % 2147483648;
          return state % n;
        };
        const cols = "(id INT NOT NULL, a INT NOT NULL, b VARCHAR(10), d DATE NOT NULL, ";
        await c.query(`DROP TABLE IF EXISTS rp${seed}, rq${seed}`);
        await c.query(`CREATE TABLE rp${seed} ${cols}${layout}`);
        await c.query(`CREATE TABLE rq${seed} ${cols}${layout.replace(/\) PARTITION.*$/, ")")}`);
        const strings = ["'x'", "'Y'", "'y'", "'zz'", "NULL", "'abc'"];
        const date = (): string => `'${2018 + next(5)}-${1 + next(12)}-${1 + next(28)}'`
          .replace(/-(\d)-/, "-0$1-").replace(/-(\d)'$/, "-0$1'");
        const statements: string[] = [];
        for (let k = 0; k < 120; k++) {
          const id = next(400);
          switch (next(10)) {
            case 0:
            case 1:
            case 2:
              statements.push(`INSERT INTO T VALUES (${id}, ${next(40)}, ` +
                `${strings[next(strings.length)]}, ${date()})`);
              break;
            case 3:
              statements.push(`UPDATE T SET id = id + ${next(150)}, a = a + ${next(3)} ` +
                `WHERE id BETWEEN ${id} AND ${id + 20}`);
              break;
            case 4:
              statements.push(`UPDATE T SET d = ${date()}, b = ${strings[next(strings.length)]} ` +
                `WHERE a = ${next(40)}`);
              break;
            case 5:
              statements.push(`DELETE FROM T WHERE id IN (${id}, ${next(400)})`);
              break;
            case 6:
              statements.push(`REPLACE INTO T VALUES (${id}, ${next(40)}, 'r', ${date()})`);
              break;
            case 7:
              statements.push(`INSERT INTO T VALUES (${id}, ${next(40)}, 'u', ${date()}) ` +
                `ON DUPLICATE KEY UPDATE a = a + 1, id = id + ${next(300)}`);
              break;
            default:
              break;
          }
          const queries = [
            `SELECT * FROM T WHERE id = ${id}`,
            `SELECT id, a FROM T WHERE id >= ${id} AND id < ${id + next(120)}`,
            `SELECT id FROM T WHERE a IN (${next(40)}, ${next(40)}, ${next(40)})`,
            `SELECT a, COUNT(*) AS n, MAX(id) AS m FROM T GROUP BY a`,
            `SELECT id FROM T WHERE b = ${strings[next(strings.length)]} OR id < ${next(50)}`,
            `SELECT id FROM T WHERE d < ${date()} AND a > ${next(20)}`,
            `SELECT COUNT(*) AS n FROM T WHERE d BETWEEN ${date()} AND '2021-06-30'`,
            `SELECT x.id, y.id AS yid FROM T x JOIN T y ON x.a = y.a AND x.id < y.id ` +
              `WHERE x.id < ${id}`,
            `SELECT id FROM T ORDER BY id DESC LIMIT 3`,
            `SELECT id FROM T WHERE a = ${next(40)} AND id > ${id}`,
          ];
          statements.push(queries[next(queries.length)]!);
        }
        for (const sql of statements) {
          const run = async (table: string): Promise<string> => {
            try {
              const got = await rows(c, sql.replaceAll(" T ", ` ${table} `));
              if (!Array.isArray(got)) return "ok";
              return JSON.stringify(got.map((r) => JSON.stringify(r)).sort());
            } catch (error: unknown) {
              return `error ${(error as { errno?: number }).errno}`;
            }
          };
          const plain = await run(`rq${seed}`);
          assert.equal(await run(`rp${seed}`), plain, `layout ${seed}: ${sql}`);
        }
        await c.query(`ADMIN CHECK TABLE rp${seed}`);
        const [count] = await rows(c, `SELECT COUNT(*) AS n FROM rp${seed}`);
        assert.ok(Number(count!.n) > 10, `layout ${seed} kept ${String(count!.n)} rows`);
      }
    });

  it("ALTER TABLE ADD / DROP / TRUNCATE PARTITION", opts, async () => {
    await c.query("CREATE TABLE ap (id INT PRIMARY KEY, v INT, KEY iv (v)) " +
      "PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (10), " +
      "PARTITION p1 VALUES LESS THAN (20))");
    await c.query("INSERT INTO ap VALUES (1, 1), (11, 11), (12, 12)");
    await rejects(c.query("INSERT INTO ap VALUES (25, 25)"), 1526);
    await rejects(c.query("ALTER TABLE ap ADD PARTITION (PARTITION p2 VALUES LESS THAN (15))"),
      1493);
    await rejects(c.query("ALTER TABLE ap ADD PARTITION (PARTITION p1 VALUES LESS THAN (30))"),
      1517);
    await c.query("ALTER TABLE ap ADD PARTITION (PARTITION p2 VALUES LESS THAN (30), " +
      "PARTITION p3 VALUES LESS THAN MAXVALUE)");
    await c.query("INSERT INTO ap VALUES (25, 25), (99, 99)");
    assert.equal(await partitionsRead("SELECT * FROM ap WHERE id = 25"), "p2");
    const before = await physicalIds("ap");
    await c.query("ALTER TABLE ap TRUNCATE PARTITION p1");
    assert.deepEqual(await rows(c, "SELECT id FROM ap ORDER BY id"), [{ id: 1 }, { id: 25 },
      { id: 99 }]);
    await c.query("ALTER TABLE ap DROP PARTITION p2");
    assert.deepEqual(await rows(c, "SELECT id FROM ap ORDER BY id"), [{ id: 1 }, { id: 99 }]);
    // A value p2 held now lands in p3, the next partition up.
    await c.query("INSERT INTO ap VALUES (26, 26)");
    assert.deepEqual(await rows(c, "SELECT id FROM ap PARTITION (p3) ORDER BY id"),
      [{ id: 26 }, { id: 99 }]);
    await rejects(c.query("ALTER TABLE ap DROP PARTITION p9"), 1507);
    await rejects(c.query("ALTER TABLE ap DROP PARTITION p0, p1, p3"), 1508);
    await c.query("CREATE TABLE apl (a INT)");
    await rejects(c.query("ALTER TABLE apl DROP PARTITION p0"), 1505);
    await c.query("CREATE TABLE ah (id INT) PARTITION BY HASH (id) PARTITIONS 2");
    await rejects(c.query("ALTER TABLE ah DROP PARTITION p0"), 1512);
    await c.query("INSERT INTO ah VALUES (1), (2)");
    await c.query("ALTER TABLE ah TRUNCATE PARTITION ALL");
    assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n FROM ah"), [{ n: 0 }]);
    await c.query("ADMIN CHECK TABLE ap");
    // Columns added before the partitioning column move it; rows are still placed by it.
    await c.query("ALTER TABLE ap ADD COLUMN w INT FIRST");
    await c.query("INSERT INTO ap VALUES (7, 15, 15)");
    assert.deepEqual(await rows(c, "SELECT id, w FROM ap PARTITION (p1)"), [{ id: 15, w: 7 }]);
    assert.equal(await partitionsRead("SELECT * FROM ap WHERE id = 15"), "p1");
    await rejects(c.query("ALTER TABLE ap DROP COLUMN id"), 1054);
    await rejects(c.query("ALTER TABLE ap MODIFY COLUMN id BIGINT"), 1235);
    await c.query("ALTER TABLE ap DROP COLUMN w");
    assert.deepEqual(await rows(c, "SELECT id FROM ap ORDER BY id"), [{ id: 1 }, { id: 15 },
      { id: 26 }, { id: 99 }]);
    // The dropped and truncated partitions' keys are deleted afterwards.
    const after = await physicalIds("ap");
    const gone = before.filter((id) => !after.includes(id));
    assert.equal(gone.length, 2);
    await waitFor(async () => (await Promise.all(gone.map(keyCount))).every((n) => n === 0));
  });

  it("prepared point gets, locking reads, ANALYZE, joins, INSERT … SELECT, pushdown",
    opts, async () => {
      await c.query("CREATE TABLE j (id INT PRIMARY KEY, g INT, v INT, KEY ig (g)) " +
        "PARTITION BY HASH (id) PARTITIONS 4");
      await c.query("CREATE TABLE jp (g INT PRIMARY KEY, name VARCHAR(8))");
      await c.query("INSERT INTO jp VALUES (1, 'one'), (2, 'two'), (3, 'three')");
      await c.query("INSERT INTO j SELECT g * 10 + k.n, g, k.n FROM jp, " +
        "(SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) k");
      assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n FROM j"), [{ n: 9 }]);
      for (const id of [11, 22, 33, 44]) {
        const [got] = await c.execute("SELECT id, v FROM j WHERE id = ?", [id]);
        assert.deepEqual(got, id === 44 ? [] : [{ id, v: id % 10 }]);
      }
      const [batch] = await c.execute("SELECT id FROM j WHERE id IN (?, ?, ?) ORDER BY id",
        [12, 23, 99]);
      assert.deepEqual(batch, [{ id: 12 }, { id: 23 }]);
      assert.deepEqual(await rows(c, "SELECT jp.name, SUM(j.v) AS s FROM j JOIN jp " +
        "ON j.g = jp.g WHERE j.id > 20 GROUP BY jp.name ORDER BY jp.name"),
      [{ name: "three", s: "6" }, { name: "two", s: "6" }]);
      assert.deepEqual(await rows(c, "SELECT jp.name FROM jp WHERE EXISTS (SELECT 1 FROM j " +
        "WHERE j.g = jp.g AND j.v = 3) ORDER BY jp.g"), [{ name: "one" }, { name: "two" },
        { name: "three" }]);
      await c.query("BEGIN");
      assert.deepEqual(await rows(c, "SELECT id FROM j WHERE g = 2 ORDER BY id FOR UPDATE"),
        [{ id: 21 }, { id: 22 }, { id: 23 }]);
      await c.query("UPDATE j SET v = v + 100 WHERE g = 2");
      assert.deepEqual(await rows(c, "SELECT SUM(v) AS s FROM j WHERE g = 2"), [{ s: "306" }]);
      await c.query("COMMIT");
      await c.query("ANALYZE TABLE j");
      assert.deepEqual(await rows(c, "SELECT id FROM j WHERE g = 3 AND v = 2"), [{ id: 32 }]);
      // Filters and aggregates over a partitioned table still run on the KV nodes.
      const plan = await rows(c, "EXPLAIN SELECT COUNT(*) FROM j WHERE v > 1");
      assert.ok(plan.some((r) => String(r.task).startsWith("cop")), JSON.stringify(plan));
      assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n FROM j WHERE v > 1"), [{ n: 7 }]);
      assert.deepEqual(await rows(c, "SELECT id FROM j WHERE v > 1 ORDER BY v DESC, id " +
        "LIMIT 2"), [{ id: 23 }, { id: 22 }]);
      assert.deepEqual(await rows(c, "SELECT id FROM j WHERE v < 3 LIMIT 10"), await rows(c,
        "SELECT id FROM j WHERE v < 3 ORDER BY id"));
    });

  it("ALTER TABLE … PARTITION BY and REMOVE PARTITIONING move the rows", opts, async () => {
    await c.query("CREATE TABLE rp (id INT PRIMARY KEY, v INT, KEY iv (v))");
    await c.query("INSERT INTO rp VALUES (1, 10), (15, 150), (30, 300)");
    const [plainId] = await physicalIds("rp");
    await rejects(c.query("ALTER TABLE rp PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS " +
      "THAN (10), PARTITION p1 VALUES LESS THAN (20))"), 1526);
    assert.deepEqual(await rows(c, "SELECT id FROM rp ORDER BY id"), [{ id: 1 }, { id: 15 },
      { id: 30 }]);
    await rejects(c.query("ALTER TABLE rp PARTITION BY HASH (v) PARTITIONS 2"), 1503);
    await c.query("ALTER TABLE rp PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN " +
      "(10), PARTITION p1 VALUES LESS THAN MAXVALUE)");
    assert.equal(await keyCount(plainId!), 0);
    const [, p0, p1] = await physicalIds("rp");
    assert.deepEqual([await keyCount(p0!), await keyCount(p1!)], [2, 4]);
    assert.deepEqual(await rows(c, "SELECT id FROM rp WHERE v = 150"), [{ id: 15 }]);
    assert.equal(await partitionsRead("SELECT * FROM rp WHERE id = 30"), "p1");
    await c.query("INSERT INTO rp VALUES (2, 20)");
    // While the rows move no statement writes the table (8028); reads go on.
    const other = await node.connect("pt");
    const during: string[] = [];
    beforeStep = async (job) => {
      if (job.args.kind !== "partitions" || job.schemaState !== "writeOnly") return;
      during.push(String((await rows(other, "SELECT COUNT(*) AS n FROM rp"))[0]!.n));
      await rejects(other.query("INSERT INTO rp VALUES (5, 50)"), 8028);
      await rejects(other.query("UPDATE rp SET v = v + 1"), 8028);
      during.push("refused");
    };
    try {
      await c.query("ALTER TABLE rp PARTITION BY HASH (id) PARTITIONS 3");
    } finally {
      beforeStep = () => Promise.resolve();
      await other.end();
    }
    assert.deepEqual(during, ["4", "refused"]);
    assert.deepEqual(await rows(c, "SELECT id FROM rp PARTITION (p0) ORDER BY id"),
      [{ id: 15 }, { id: 30 }]);
    await rejects(c.query("ALTER TABLE rp ADD COLUMN z INT, REMOVE PARTITIONING"), 1235);
    await c.query("ALTER TABLE rp REMOVE PARTITIONING");
    await rejects(c.query("ALTER TABLE rp REMOVE PARTITIONING"), 1505);
    assert.deepEqual(await rows(c, "SELECT id, v FROM rp ORDER BY id"), [{ id: 1, v: 10 },
      { id: 2, v: 20 }, { id: 15, v: 150 }, { id: 30, v: 300 }]);
    assert.deepEqual(await rows(c, "SELECT id FROM rp WHERE v = 20"), [{ id: 2 }]);
    await c.query("ADMIN CHECK TABLE rp");
    await c.query("INSERT INTO rp VALUES (3, 30)");
    const [shown] = await rows(c, "SHOW CREATE TABLE rp");
    assert.doesNotMatch(String(shown!["Create Table"]), /PARTITION/);
  });
});

/** The partition of ek a name is in, found by reading each partition. */
async function keyPartition(name: string): Promise<string> {
  await c.query("INSERT INTO ek VALUES (?, 1)", [name]);
  for (const p of ["p0", "p1", "p2"]) {
    const got = await rows(c, `SELECT name FROM ek PARTITION (${p}) WHERE name = ?`, [name]);
    if (got.length > 0) return p;
  }
  throw new Error(`${name} is in no partition`);
}
