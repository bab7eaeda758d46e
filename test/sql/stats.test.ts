/**
 * Statistics and access paths end to end on two SQL nodes: index range reads of string
 * (case-insensitive), DECIMAL, DOUBLE, DATE columns and composite indexes giving the rows
 * a scan gives; ANALYZE TABLE's result and errors; after ANALYZE a predicate matching
 * most rows scanning the table while a selective one reads the index; the other node
 * picking the statistics up; and auto-analyze after enough inserted rows.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type mysql from "mysql2/promise";
import { StatsService, readStats } from "../../src/sql/stats/mod.ts";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";

let cluster: SqlCluster;
let first: SqlNodeHandle;
let second: SqlNodeHandle;
let c1: mysql.Connection;
let c2: mysql.Connection;

before(async () => {
  cluster = await startSqlCluster();
  first = await cluster.startNode({ ddl: { leaseMs: 2_000 } });
  second = await cluster.startNode({ ddl: { leaseMs: 2_000 } });
  for (const node of [first, second]) {
    Object.assign(StatsService.of(node.storage).options, { tickMs: 100,
      autoAnalyzeMinRows: 150 });
  }
  c1 = await first.connect();
  await c1.query("CREATE DATABASE st");
  await c1.query("USE st");
  c2 = await second.connect("st");
  await c1.query("CREATE TABLE t (id INT PRIMARY KEY, a INT, s VARCHAR(20), c DECIMAL(8,2), " +
    "b DOUBLE, d DATE, KEY ka (a), KEY ks (s), KEY kc (c), KEY kb (b), KEY kd (d), " +
    "KEY kas (a, s))");
  const words = ["apple", "Apple", "APPLY", "banana", "Cherry", "cherry ", "date", "éclair",
    "eclair", "fig"];
  const values = Array.from({ length: 100 }, (_, i) => `(${i}, ${i % 10}, ` +
    `'${words[i % words.length]}${i % 3 === 0 ? "" : i % 7}', ${(i * 37) % 1000 / 10}, ` +
    `${(i % 13) / 2}, '2024-${String(1 + (i % 12)).padStart(2, "0")}-${String(1 + (i % 28))
      .padStart(2, "0")}')`);
  await c1.query(`INSERT INTO t VALUES ${values.join(", ")}`);
  await c1.query("INSERT INTO t VALUES (100, NULL, NULL, NULL, NULL, NULL)");
}, { timeout: 60_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

async function rows(c: mysql.Connection, sql: string): Promise<unknown[][]> {
  const [result] = await c.query({ sql, rowsAsArray: true });
  return result as unknown[][];
}

/** The ids `where` selects, and how the node read them (counter deltas). */
async function idsOf(node: SqlNodeHandle, c: mysql.Connection, where: string):
  Promise<{ ids: number[]; index: number; scans: number }> {
  const stats = node.storage.stats;
  const index0 = stats.indexRangeScans ?? 0;
  const scans0 = stats.tableScans;
  const got = await rows(c, `SELECT id FROM t WHERE ${where}`);
  return { ids: got.map((r) => Number(r[0])).sort((x, y) => x - y),
    index: (stats.indexRangeScans ?? 0) - index0, scans: stats.tableScans - scans0 };
}

/** The ids a full scan selects (the condition is hidden from range planning by `+ 0`). */
async function scannedIds(c: mysql.Connection, where: string): Promise<number[]> {
  const got = await rows(c, `SELECT id FROM t WHERE (${where}) OR id + 0 < -1000`);
  return got.map((r) => Number(r[0])).sort((x, y) => x - y);
}

describe("access paths and statistics", () => {
  it("reads index ranges of strings, decimals, doubles, dates and composite keys", async () => {
    const conditions = [
      "s = 'APPLE'", "s LIKE 'app%'", "s > 'c' AND s < 'd'", "s IN ('fig', 'FIG1', 'date2')",
      "s = 'cherry'", "s = 'eclair'", "s IS NULL", "c BETWEEN 10 AND 20.5", "c = 3.7",
      "b >= 5.5", "b IN (0.5, 1, 6)", "d = '2024-03-04'", "d BETWEEN '2024-02-01' AND '2024-02-28'",
      "d > DATE '2024-11-30'", "a = 3 AND s LIKE 'ba%'", "a IN (1, 2) AND s >= 'b'",
    ];
    for (const where of conditions) {
      const got = await idsOf(first, c1, where);
      assert.deepEqual(got.ids, await scannedIds(c1, where), where);
      assert.ok(got.index > 0 && got.scans === 0, `${where}: ${JSON.stringify(got)}`);
    }
  });

  it("ANALYZE TABLE reports status rows, 1146 for a missing table", async () => {
    const [result, fields] = await c1.query({ sql: "ANALYZE TABLE t", rowsAsArray: true });
    assert.deepEqual(fields.map((f) => f.name), ["Table", "Op", "Msg_type", "Msg_text"]);
    assert.deepEqual(result, [["st.t", "analyze", "status", "OK"]]);
    await assert.rejects(c1.query("ANALYZE TABLE nope"), (e: { errno?: number }) => e.errno ===
      1146);
    const txn = await first.storage.client.begin();
    const table = (await first.storage.catalog.schemaAt(txn)).table("st", "t")!;
    const stats = await readStats(txn, table.id);
    await txn.rollback();
    assert.equal(stats?.count, 101);
    assert.equal(stats?.columns.get(table.columns[1]!.id)?.nullCount, 1);
    assert.equal(stats?.columns.get(table.columns[1]!.id)?.ndv, 10);
  });

  it("with statistics, unselective predicates scan and selective ones use the index",
    async () => {
      const wide = await idsOf(first, c1, "a >= 0");
      assert.equal(wide.ids.length, 100);
      assert.deepEqual([wide.scans, wide.index], [1, 0]);
      const narrow = await idsOf(first, c1, "s = 'fig'");
      assert.deepEqual(narrow.ids, await scannedIds(c1, "s = 'fig'"));
      assert.deepEqual([narrow.scans, narrow.index], [0, 1]);
      // The other node loads the statistics from KV (its loop refreshes the cache).
      for (let i = 0; ; i++) {
        const other = await idsOf(second, c2, "a >= 0");
        if (other.scans === 1) break;
        assert.ok(i < 100, "the second node never used the statistics");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });

  it("auto-analyze runs on the owner after enough rows changed", async () => {
    await c2.query("CREATE TABLE g (id INT PRIMARY KEY, v INT, KEY kv (v))");
    const values = Array.from({ length: 200 }, (_, i) => `(${i}, ${i % 4})`);
    await c2.query(`INSERT INTO g VALUES ${values.join(", ")}`);
    const txn = await first.storage.client.begin();
    const table = (await first.storage.catalog.schemaAt(txn)).table("st", "g")!;
    await txn.rollback();
    for (let i = 0; ; i++) {
      const check = await first.storage.client.begin();
      const stats = await readStats(check, table.id);
      await check.rollback();
      if (stats !== null) {
        assert.equal(stats.count, 200);
        break;
      }
      assert.ok(i < 200, "no auto-analyze");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const analyzed = StatsService.of(first.storage).autoAnalyzed +
      StatsService.of(second.storage).autoAnalyzed;
    assert.ok(analyzed >= 1);
  });
});
