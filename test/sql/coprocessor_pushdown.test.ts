/**
 * Coprocessor pushdown end to end (src/sql/plan/pushdown.ts over src/client/coprocessor.ts
 * and the KV nodes' `dag` handler): tables split into several shards, then many queries
 * run twice — `tessera_enable_coprocessor` ON and OFF — with equal results and warnings
 * asserted, and ON asserted to have sent coprocessor requests where the query can push
 * (filters of every column type, strings under the case-insensitive collation, NULLs,
 * DECIMAL, dates, ENUM, JSON, TIMESTAMP in the session's zone, LIMIT, ORDER BY … LIMIT,
 * GROUP BY with each aggregate, aggregates over covering index ranges, empty tables;
 * warnings compared up to MySQL's max_error_count, 64, which is what a KV page returns
 * of its own). Then the cases that must not push: a transaction with its own
 * uncommitted writes in the table (it sees them), and locking reads (FOR UPDATE).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type mysql from "mysql2/promise";
import { rowKey } from "../../src/sql/table/table.ts";
import { splitShardAt } from "../client/test_split.ts";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";

let cluster: SqlCluster;
let node: SqlNodeHandle;
let c: mysql.Connection;
const rowCount = 300;

const words = ["apple", "Apple", "APPLE", "banana", "Cherry", "cherry ", "date", "", null];

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
  c = await node.connect();
  await c.query("CREATE DATABASE cp");
  await c.query("USE cp");
  await c.query("CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(20), c DECIMAL(10,2), " +
    "d DATE, e ENUM('x','y','z'), f DOUBLE, g DATETIME(3), u INT UNSIGNED, s SET('p','q'))");
  await c.query("CREATE TABLE r (a INT, b VARCHAR(20), c DECIMAL(8,3))");
  await c.query("CREATE TABLE empty_t (id INT PRIMARY KEY, a INT, b VARCHAR(10))");
  await c.query("CREATE TABLE x (id INT PRIMARY KEY, j JSON, ts TIMESTAMP(2) NULL, tm TIME, " +
    "big BIGINT)");
  await c.query("INSERT INTO x VALUES (1, '{\"a\": 1, \"b\": \"x\"}', " +
    "'2024-01-01 00:00:00', '10:00:00', 9223372036854775000), " +
    "(2, '{\"a\": 2.5, \"b\": [1, 2]}', '2024-01-01 06:30:00.25', '-01:30:00', 5), " +
    "(3, '[1, 2, 3]', '2024-06-30 23:59:59', '838:59:59', -9223372036854775000), " +
    "(4, NULL, NULL, NULL, NULL), (5, '{\"a\": null}', '2023-12-31 23:00:00', '00:00:01', 0)");
  const values: string[] = [];
  const rvalues: string[] = [];
  for (let id = 1; id <= rowCount; id++) {
    const a = id % 7 === 0 ? "NULL" : String((id * 37) % 101 - 50);
    const w = words[id % words.length];
    const b = w === null ? "NULL" : `'${w}'`;
    const cc = id % 11 === 0 ? "NULL" : `${(id * 13) % 997 - 300}.${String(id % 100).padStart(2,
      "0")}`;
    const d = id % 13 === 0 ? "NULL" : `'2024-${String(id % 12 + 1).padStart(2, "0")}-${
      String(id % 28 + 1).padStart(2, "0")}'`;
    const e = id % 5 === 0 ? "NULL" : `'${"xyz"[id % 3]}'`;
    const f = id % 9 === 0 ? "NULL" : String((id % 40) * 0.5 - 7);
    const g = `'2023-01-${String(id % 28 + 1).padStart(2, "0")} 10:${String(id % 60)
      .padStart(2, "0")}:00.${String(id % 1000).padStart(3, "0")}'`;
    const s = ["''", "'p'", "'q'", "'p,q'"][id % 4];
    values.push(`(${id}, ${a}, ${b}, ${cc}, ${d}, ${e}, ${f}, ${g}, ${id * 3}, ${s})`);
    rvalues.push(`(${id % 17}, ${b}, ${id % 3 === 0 ? "NULL" : `${id}.125`})`);
  }
  await c.query(`INSERT INTO t VALUES ${values.join(", ")}`);
  await c.query(`INSERT INTO r VALUES ${rvalues.join(", ")}`);
  await c.query("CREATE TABLE ix (id INT PRIMARY KEY, k INT, d DECIMAL(8,2), dt DATE, " +
    "s VARCHAR(10), KEY kk (k), KEY kd (d, dt), UNIQUE KEY uk (s))");
  await c.query("CREATE TABLE ri (a INT, b INT, KEY ka (a))");
  const ivalues: string[] = [];
  const rivalues: string[] = [];
  for (let i = 1; i <= 200; i++) {
    ivalues.push(`(${i}, ${i % 100 === 0 ? "NULL" : i % 97}, ${(i * 7) % 50}.25, '2024-01-${
      String(i % 28 + 1).padStart(2, "0")}', 's${i}')`);
    rivalues.push(`(${i % 13}, ${i})`);
  }
  await c.query(`INSERT INTO ix VALUES ${ivalues.join(", ")}`);
  await c.query(`INSERT INTO ri VALUES ${rivalues.join(", ")}`);
  // Split both tables' rows into several shards.
  const txn = await node.storage.client.begin();
  const schema = await node.storage.catalog.schemaAt(txn);
  await txn.commit();
  const t = schema.table("cp", "t")!;
  const r = schema.table("cp", "r")!;
  for (const h of [40n, 95n, 170n, 230n]) await splitShardAt(cluster.kv, rowKey(t, h));
  for (const h of [50n, 200n]) await splitShardAt(cluster.kv, rowKey(r, h));
}, { timeout: 60_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

/** The rows and warnings of `sql` with pushdown on or off, and the requests it sent. */
async function run(sql: string, on: boolean): Promise<{ rows: unknown; warnings: unknown;
  requests: number }> {
  await c.query(`SET tessera_enable_coprocessor = ${on ? 1 : 0}`);
  const before = node.storage.stats.coprocessorRequests ?? 0;
  const [rows] = await c.query({ sql, rowsAsArray: true });
  const requests = (node.storage.stats.coprocessorRequests ?? 0) - before;
  const [warnings] = await c.query("SHOW WARNINGS");
  return { rows, warnings, requests };
}

/** Queries and whether they push something down. */
const cases: [string, boolean][] = [
  // Filters of every type.
  ["SELECT * FROM t WHERE a > 10", true],
  ["SELECT id, a FROM t WHERE a BETWEEN -5 AND 5 OR a IS NULL", true],
  ["SELECT id FROM t WHERE a IS NOT NULL AND a % 3 = 1", true],
  ["SELECT id, b FROM t WHERE b = 'apple'", true],
  ["SELECT id, b FROM t WHERE b LIKE 'ch%'", true],
  ["SELECT id, b FROM t WHERE b > 'b' AND b < 'd'", true],
  ["SELECT id, b FROM t WHERE b IN ('APPLE', 'date', '')", true],
  ["SELECT id FROM t WHERE b IS NULL", true],
  ["SELECT id, c FROM t WHERE c > 100.5", true],
  ["SELECT id, c FROM t WHERE c * 2 < -10 AND c <> -1", true],
  ["SELECT id, d FROM t WHERE d >= '2024-06-01'", true],
  ["SELECT id, d FROM t WHERE YEAR(d) = 2024 AND MONTH(d) IN (2, 3)", true],
  ["SELECT id, e FROM t WHERE e = 'y'", true],
  ["SELECT id, e FROM t WHERE e = 2", true],
  ["SELECT id, f FROM t WHERE f > 3.5", true],
  ["SELECT id, g FROM t WHERE g < '2023-01-10 10:30:00'", true],
  ["SELECT id, u FROM t WHERE u > 600", true],
  ["SELECT id, s FROM t WHERE s = 'p,q' OR s + 0 = 2", true],
  ["SELECT id FROM t WHERE b = 1", true],
  ["SELECT id FROM t WHERE id > 50 AND id < 120 AND a > 0", true],
  ["SELECT id FROM t WHERE id IN (3, 77, 150, 299) AND a > 0", false],
  ["SELECT id FROM t WHERE a > 0 AND g < NOW() ORDER BY id LIMIT 3", true],
  ["SELECT COUNT(*) FROM t WHERE a > 0 AND g < NOW()", true],
  ["SELECT id FROM t WHERE a > (SELECT AVG(a) FROM r)", true],
  // The statement reads t whole already: the subquery filters that scan.
  ["SELECT id FROM t WHERE a > (SELECT AVG(a) FROM t)", false],
  ["SELECT * FROM r WHERE a = 3", true],
  ["SELECT a, b FROM r WHERE c > 100", true],
  ["SELECT _tidb_rowid, a FROM r WHERE _tidb_rowid > 250", true],
  ["SELECT * FROM empty_t WHERE a > 1", true],
  // LIMIT without ORDER BY.
  ["SELECT id, a FROM t LIMIT 7", true],
  ["SELECT id, a FROM t WHERE a > 0 LIMIT 5, 12", true],
  ["SELECT * FROM r WHERE b = 'apple' LIMIT 3", true],
  ["SELECT id FROM t WHERE id > 100 LIMIT 10", true],
  ["SELECT id FROM t LIMIT 0", true],
  // ORDER BY … LIMIT as TopN.
  ["SELECT id, a FROM t ORDER BY a LIMIT 10", true],
  ["SELECT id, a FROM t ORDER BY a DESC, id LIMIT 10", true],
  ["SELECT id, b FROM t WHERE a > 0 ORDER BY b, id DESC LIMIT 8", true],
  ["SELECT id, c FROM t ORDER BY c DESC LIMIT 3, 5", true],
  ["SELECT id, d FROM t ORDER BY d LIMIT 6", true],
  ["SELECT a, b FROM r ORDER BY b LIMIT 9", true],
  ["SELECT id, a + 1 AS x FROM t ORDER BY x LIMIT 4", true],
  // Aggregates.
  ["SELECT COUNT(*) FROM t", true],
  ["SELECT COUNT(a), COUNT(b), SUM(a), MIN(a), MAX(a), AVG(a) FROM t", true],
  ["SELECT SUM(c), AVG(c), MIN(c), MAX(c) FROM t WHERE a > 0", true],
  ["SELECT SUM(f), AVG(f), MIN(f), MAX(f) FROM t", true],
  ["SELECT MIN(b), MAX(b), MIN(d), MAX(d), MIN(g), MAX(e) FROM t", true],
  ["SELECT b, COUNT(*), SUM(a) FROM t GROUP BY b ORDER BY b", true],
  ["SELECT e, COUNT(*), AVG(c), MAX(d) FROM t GROUP BY e ORDER BY e", true],
  ["SELECT a % 4 AS k, COUNT(*), MIN(b) FROM t GROUP BY k HAVING COUNT(*) > 10 ORDER BY k",
    true],
  ["SELECT YEAR(d), MONTH(d), COUNT(*) FROM t GROUP BY YEAR(d), MONTH(d) ORDER BY 1, 2", true],
  ["SELECT id, b, COUNT(*) FROM t GROUP BY b ORDER BY b", true],
  ["SELECT e, b FROM t GROUP BY e HAVING c IS NOT NULL ORDER BY d", true],
  ["SELECT e, (SELECT MAX(r.a) FROM r WHERE r.b = t.b) AS m FROM t GROUP BY e ORDER BY e",
    true],
  ["SELECT * FROM t GROUP BY e ORDER BY e", true],
  ["SELECT a, SUM(c), COUNT(DISTINCT b) FROM r GROUP BY a ORDER BY a", false],
  ["SELECT a, SUM(c), AVG(c) FROM r GROUP BY a ORDER BY a", true],
  ["SELECT SUM(b), AVG(b) FROM t", true],
  ["SELECT COUNT(*), SUM(a), MAX(b) FROM empty_t", true],
  ["SELECT a, COUNT(*) FROM empty_t GROUP BY a", true],
  ["SELECT COUNT(*) FROM t WHERE a > 1000", true],
  ["SELECT b, GROUP_CONCAT(id ORDER BY id) FROM t GROUP BY b ORDER BY b", false],
  ["SELECT COUNT(*) FROM t WHERE id BETWEEN 30 AND 200", true],
  // Joins: each side's own filters go down.
  ["SELECT t.id, r.a FROM t JOIN r ON t.a = r.a WHERE t.b = 'apple' AND r.c > 250 " +
    "ORDER BY t.id, r.a", true],
  // JSON, TIMESTAMP (in the session's time zone), TIME.
  ["SELECT id FROM x WHERE j->'$.a' > 1", true],
  ["SELECT id, j->>'$.b' FROM x WHERE JSON_EXTRACT(j, '$.b') = 'x' OR JSON_TYPE(j) = 'ARRAY'",
    true],
  ["SELECT id, ts FROM x WHERE ts > '2024-01-01 03:00:00'", true],
  ["SELECT id, tm FROM x WHERE tm < '01:00:00'", true],
  ["SELECT MIN(ts), MAX(tm), COUNT(j) FROM x", true],
  // Covering index ranges: aggregates scan the index on KV (IndexReader).
  ["SELECT COUNT(*) FROM ix WHERE k BETWEEN 10 AND 50", true],
  ["SELECT SUM(d), MAX(dt), MIN(d), COUNT(dt) FROM ix WHERE d > 10", true],
  ["SELECT k, COUNT(*), SUM(k) FROM ix WHERE k BETWEEN 1 AND 30 GROUP BY k ORDER BY k", true],
  ["SELECT COUNT(*), MAX(id) FROM ix WHERE k < 20 AND k % 2 = 0", true],
  ["SELECT a, COUNT(*), MAX(_tidb_rowid) FROM ri WHERE a > 5 GROUP BY a ORDER BY a", true],
  // Other index ranges: covering reads and index lookups (coprocessor_index.test.ts).
  ["SELECT id, k FROM ix WHERE k < 5 ORDER BY id LIMIT 3", true],
  ["SELECT s FROM ix WHERE k = 3 LIMIT 2", true],
  ["SELECT COUNT(*) FROM ix WHERE s > 's5'", true],
  // Nothing pushable: NOW() reads the session.
  ["SELECT id FROM t WHERE g < NOW()", false],
];

describe("pushdown returns what the SQL node computes alone", { timeout: 60_000 }, () => {
  for (const [sql, pushes] of cases) {
    it(sql, async () => {
      const off = await run(sql, false);
      const on = await run(sql, true);
      assert.equal(off.requests, 0, "off: no coprocessor requests");
      assert.deepEqual(on.rows, off.rows);
      // A KV page returns its first 64 warnings (MySQL's max_error_count) of all it raised.
      const onWarnings = on.warnings as unknown[];
      const offWarnings = off.warnings as unknown[];
      assert.deepEqual(onWarnings.slice(0, 64), offWarnings.slice(0, 64));
      assert.ok(onWarnings.length <= offWarnings.length);
      if (pushes) assert.ok(on.requests > 0, "on: the query was pushed down");
      else assert.equal(on.requests, 0, "on: nothing was pushed down");
    });
  }
});

/** The operator column of EXPLAIN FORMAT = 'brief' (the tree, no numbers). */
async function shape(sql: string): Promise<string[]> {
  const [rows] = await c.query({ sql: `EXPLAIN FORMAT = 'brief' ${sql}`, rowsAsArray: true });
  return (rows as unknown[][]).map((r) => `${String(r[0])} ${String(r[2])}`);
}

describe("errors and session settings", { timeout: 60_000 }, () => {
  it("an evaluation error on KV fails the statement as it does on the SQL node", async () => {
    for (const sql of ["SELECT id FROM x WHERE big + 1000 > 0",
      "SELECT SUM(big * 2) FROM x", "SELECT id FROM x WHERE JSON_EXTRACT(j, '$[') = 1"]) {
      const errors: unknown[] = [];
      for (const on of [1, 0]) {
        await c.query(`SET tessera_enable_coprocessor = ${on}`);
        errors.push(await c.query(sql).then(() => null,
          (e: { errno?: number; message?: string }) => [e.errno, e.message]));
      }
      assert.ok(errors[1] !== null, `${sql} fails on the SQL node`);
      assert.deepEqual(errors[0], errors[1], sql);
    }
  });

  it("rows written before ADD COLUMN read its origin default on KV", async () => {
    await c.query("CREATE TABLE od (id INT PRIMARY KEY, a INT)");
    await c.query("INSERT INTO od VALUES (1, 1), (2, 2), (3, 3)");
    await c.query("ALTER TABLE od ADD COLUMN z VARCHAR(5) DEFAULT 'dz', ADD COLUMN n DECIMAL(6,2)" +
      " DEFAULT 1.5");
    await c.query("INSERT INTO od VALUES (4, 4, 'new', 2.25)");
    for (const sql of ["SELECT id, z, n FROM od WHERE z = 'DZ' AND n > 1",
      "SELECT z, COUNT(*), SUM(n) FROM od GROUP BY z ORDER BY z"]) {
      const off = await run(sql, false);
      const on = await run(sql, true);
      assert.deepEqual(on.rows, off.rows, sql);
      assert.ok(on.requests > 0);
    }
  });

  it("a LIMIT without a filter reads the first shard only", async () => {
    const { rows, requests } = await run("SELECT id FROM t LIMIT 3", true);
    assert.deepEqual(rows, [[1], [2], [3]]);
    assert.equal(requests, 1);
  });

  it("SQL_CALC_FOUND_ROWS counts the rows LIMIT leaves out", async () => {
    const results: unknown[] = [];
    for (const on of [1, 0]) {
      await c.query(`SET tessera_enable_coprocessor = ${on}`);
      const [got] = await c.query({ sql: "SELECT SQL_CALC_FOUND_ROWS id FROM t WHERE a > 0 " +
        "LIMIT 3", rowsAsArray: true });
      const [found] = await c.query({ sql: "SELECT FOUND_ROWS()", rowsAsArray: true });
      results.push([got, found]);
    }
    assert.deepEqual(results[0], results[1]);
  });

  it("TIMESTAMP filters see the session's time zone on KV", async () => {
    for (const zone of ["+05:00", "-08:00", "UTC"]) {
      await c.query(`SET time_zone = '${zone}'`);
      const sql = "SELECT id, ts FROM x WHERE ts > '2024-01-01 03:00:00' ORDER BY id";
      const off = await run(sql, false);
      const on = await run(sql, true);
      assert.deepEqual(on.rows, off.rows, zone);
      assert.ok(on.requests > 0);
    }
    await c.query("SET time_zone = DEFAULT");
  });
});

describe("EXPLAIN shows what runs on KV as TiDB does", { timeout: 60_000 }, () => {
  const shapes: [string, string[]][] = [
    ["SELECT * FROM t WHERE a > 1", ["TableReader root", "└─Selection cop[tikv]",
      "  └─TableFullScan cop[tikv]"]],
    ["SELECT * FROM t WHERE a > 1 LIMIT 2", ["Limit root", "└─TableReader root",
      "  └─Limit cop[tikv]", "    └─Selection cop[tikv]", "      └─TableFullScan cop[tikv]"]],
    ["SELECT * FROM t ORDER BY a DESC LIMIT 2", ["TopN root", "└─TableReader root",
      "  └─TopN cop[tikv]", "    └─TableFullScan cop[tikv]"]],
    ["SELECT COUNT(*) FROM t WHERE id > 2", ["Projection root", "└─HashAgg root",
      "  └─TableReader root", "    └─HashAgg cop[tikv]", "      └─Selection cop[tikv]",
      "        └─TableRangeScan cop[tikv]"]],
    ["SELECT b, COUNT(*) FROM r GROUP BY b", ["Projection root", "└─HashAgg root",
      "  └─TableReader root", "    └─HashAgg cop[tikv]", "      └─TableFullScan cop[tikv]"]],
    ["SELECT COUNT(*) FROM ix WHERE k BETWEEN 10 AND 50", ["Projection root",
      "└─HashAgg root", "  └─IndexReader root", "    └─HashAgg cop[tikv]",
      "      └─Selection cop[tikv]", "        └─IndexRangeScan cop[tikv]"]],
  ];
  for (const [sql, expected] of shapes) {
    it(sql, async () => {
      await c.query("SET tessera_enable_coprocessor = 1");
      assert.deepEqual((await shape(sql)).map((l) => l.replace(/_\d+/, "")), expected);
    });
  }

  it("with pushdown off, nothing is drawn on KV but the scan and filter", async () => {
    await c.query("SET tessera_enable_coprocessor = 0");
    const lines = (await shape("SELECT * FROM t WHERE a > 1 LIMIT 2"))
      .map((l) => l.replace(/_\d+/, ""));
    await c.query("SET tessera_enable_coprocessor = 1");
    assert.deepEqual(lines, ["Limit root", "└─TableReader root", "  └─Selection cop[tikv]",
      "    └─TableFullScan cop[tikv]"]);
  });
});

describe("prepared statements", { timeout: 60_000 }, () => {
  it("bind the pushed filter's values at each execution", async () => {
    for (const sql of ["SELECT id, a FROM t WHERE a > ? LIMIT 5",
      "SELECT id, a FROM t WHERE a > ? ORDER BY a, id LIMIT 4",
      "SELECT COUNT(*), SUM(a) FROM t WHERE a > ?"]) {
      for (const bound of [0, 10, 1000]) {
        const results: unknown[] = [];
        for (const on of [1, 0]) {
          await c.query(`SET tessera_enable_coprocessor = ${on}`);
          const [got] = await c.execute({ sql, rowsAsArray: true }, [bound]);
          results.push(got);
        }
        assert.deepEqual(results[0], results[1], `${sql} with ${bound}`);
      }
    }
  });
});

describe("snapshot reads under concurrent transfers", { timeout: 60_000 }, () => {
  it("a pushed SUM over shards always sees the same total", async () => {
    await c.query("CREATE TABLE bank (id INT PRIMARY KEY, balance INT NOT NULL)");
    const accounts = 40;
    await c.query(`INSERT INTO bank VALUES ${Array.from({ length: accounts }, (_, i) =>
      `(${i}, 100)`).join(", ")}`);
    const txn = await node.storage.client.begin();
    const bank = (await node.storage.catalog.schemaAt(txn)).table("cp", "bank")!;
    await txn.commit();
    for (const h of [10n, 20n, 30n]) await splitShardAt(cluster.kv, rowKey(bank, h));
    const writers = await Promise.all([node.connect("cp"), node.connect("cp")]);
    let stop = false;
    const transfer = async (w: mysql.Connection, seed: number): Promise<number> => {
      let done = 0;
      for (let i = 0; i < 60; i++) {
        const from = (seed * 7 + i * 13) % accounts;
        const to = (from + 1 + (i % (accounts - 1))) % accounts;
        try {
          await w.query("BEGIN");
          await w.query(`UPDATE bank SET balance = balance - 1 WHERE id = ${from}`);
          await w.query(`UPDATE bank SET balance = balance + 1 WHERE id = ${to}`);
          await w.query("COMMIT");
          done++;
        } catch {
          await w.query("ROLLBACK");
        }
      }
      return done;
    };
    await c.query("SET tessera_enable_coprocessor = 1");
    const before = node.storage.stats.coprocessorRequests ?? 0;
    const running = Promise.all(writers.map((w, k) => transfer(w, k + 1))).finally(() => {
      stop = true;
    });
    // Read while the transfers run (and at least 40 times).
    const totals = new Set<string>();
    for (let i = 0; !stop || i < 40; i++) {
      const [rows] = await c.query({ sql: "SELECT SUM(balance), COUNT(*) FROM bank",
        rowsAsArray: true });
      totals.add(JSON.stringify(rows));
    }
    const transfers = await running;
    assert.deepEqual([...totals], [JSON.stringify([[String(accounts * 100), accounts]])]);
    assert.ok((node.storage.stats.coprocessorRequests ?? 0) - before >= 40);
    assert.ok(transfers.reduce((a, b) => a + b, 0) > 0, "some transfers committed");
  });
});

describe("reads that must not push down", { timeout: 60_000 }, () => {
  it("a transaction reads its own uncommitted writes, not KV's snapshot", async () => {
    await c.query("SET tessera_enable_coprocessor = 1");
    await c.query("BEGIN");
    await c.query("UPDATE t SET a = 1000 WHERE id = 10");
    await c.query("INSERT INTO t (id, a) VALUES (1001, 2000)");
    const before = node.storage.stats.coprocessorRequests ?? 0;
    const [rows] = await c.query({ sql: "SELECT id, a FROM t WHERE a >= 1000 ORDER BY id",
      rowsAsArray: true });
    const [count] = await c.query({ sql: "SELECT COUNT(*) FROM t", rowsAsArray: true });
    assert.equal((node.storage.stats.coprocessorRequests ?? 0) - before, 0);
    assert.deepEqual(rows, [[10, 1000], [1001, 2000]]);
    assert.deepEqual(count, [[rowCount + 1]]);
    // Another table, untouched by the transaction, still pushes.
    await c.query("SELECT COUNT(*) FROM r WHERE a = 1");
    assert.ok((node.storage.stats.coprocessorRequests ?? 0) - before > 0);
    await c.query("ROLLBACK");
  });

  it("a locking read reads and locks on the SQL node", async () => {
    await c.query("SET tessera_enable_coprocessor = 1");
    await c.query("BEGIN");
    const before = node.storage.stats.coprocessorRequests ?? 0;
    const [rows] = await c.query({ sql: "SELECT id FROM t WHERE a = 40 FOR UPDATE",
      rowsAsArray: true });
    assert.equal((node.storage.stats.coprocessorRequests ?? 0) - before, 0);
    await c.query("SET tessera_enable_coprocessor = 0");
    const [plain] = await c.query({ sql: "SELECT id FROM t WHERE a = 40", rowsAsArray: true });
    assert.deepEqual(rows, plain);
    assert.ok((rows as unknown[]).length > 0);
    await c.query("ROLLBACK");
  });
});
