/**
 * Cost-based joins end to end on a SQL node (mysql2): after ANALYZE TABLE, a join of a
 * large indexed table with a filtered small one reads the large one by index lookups
 * (ExecStats: one table scan, of the small table, and index range reads) and EXPLAIN
 * shows the IndexJoin; the rows are the same with the index join and the join reorder
 * switched off (`tessera_opt_index_join`, `tessera_opt_join_reorder`) over NULL keys,
 * duplicates, case-insensitive string keys and INT against DECIMAL keys; STRAIGHT_JOIN
 * keeps the written order; prepared statements too.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type mysql from "mysql2/promise";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";

let cluster: SqlCluster;
let node: SqlNodeHandle;
let c: mysql.Connection;

const bigRows = 2000;
const words = ["apple", "Apple", "APPLE ", "banana", "cherry", "Cherry", "date", "fig"];

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
  c = await node.connect();
  await c.query("CREATE DATABASE jr");
  await c.query("USE jr");
  await c.query("CREATE TABLE big (id INT PRIMARY KEY, k INT, s VARCHAR(20), d DECIMAL(10,2), " +
    "KEY kk (k), KEY ks (s), KEY kd (d))");
  await c.query("CREATE TABLE small (id INT PRIMARY KEY, x INT, k INT, s VARCHAR(20), " +
    "d DECIMAL(10,2))");
  for (let from = 1; from <= bigRows; from += 500) {
    const values = Array.from({ length: 500 }, (_, n) => {
      const i = from + n;
      return `(${i}, ${i % 37 === 0 ? "NULL" : i % 200}, ${i % 41 === 0 ? "NULL"
        : `'${words[i % words.length]}'`}, ${(i % 20) / 2})`;
    });
    await c.query(`INSERT INTO big VALUES ${values.join(", ")}`);
  }
  const small = Array.from({ length: 20 }, (_, n) => {
    const i = n + 1;
    return `(${i}, ${i % 4}, ${i === 20 ? "NULL" : i % 7}, ${i === 19 ? "NULL"
      : `'${words[(i * 3) % words.length]!.toUpperCase()}'`}, ${i % 3 === 0 ? i : i + 0.5})`;
  });
  await c.query(`INSERT INTO small VALUES ${small.join(", ")}`);
  await c.query("ANALYZE TABLE big, small");
}, { timeout: 60_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

async function sorted(sql: string): Promise<string[]> {
  const [result] = await c.query({ sql, rowsAsArray: true });
  return (result as unknown[][]).map((r) => JSON.stringify(r)).sort();
}

const queries = [
  "SELECT big.id, small.id FROM big JOIN small ON big.k = small.k WHERE small.x = 1",
  "SELECT big.id, small.id FROM small JOIN big ON big.id = small.k * 13 WHERE small.x < 3",
  "SELECT big.id, small.id FROM big JOIN small ON big.s = small.s WHERE small.x = 2",
  "SELECT big.id, small.id FROM small JOIN big ON big.k = small.d WHERE small.x = 3",
  "SELECT big.id, small.id FROM small JOIN big ON big.d = small.k WHERE small.x = 0",
  "SELECT b1.id, b2.id FROM small JOIN big b1 ON b1.k = small.k JOIN big b2 " +
    "ON b2.id = b1.k + 1 WHERE small.x = 1 AND b2.s <> 'fig'",
  "SELECT COUNT(*), SUM(big.id) FROM small, big WHERE small.k = big.k AND big.d > 3",
  "SELECT STRAIGHT_JOIN big.id, small.id FROM big, small WHERE big.k = small.k AND " +
    "small.x = 1",
  "SELECT big.id, small.id FROM big STRAIGHT_JOIN small ON big.k = small.k WHERE small.x = 1",
  "SELECT b1.id, b2.id FROM big b1 JOIN big b2 ON b1.id = b2.id WHERE b1.k = 7",
];

describe("cost-based joins on a SQL node", () => {
  it("reads the large table by index lookups, not a scan", async () => {
    const sql = queries[0]!;
    const stats = node.storage.stats;
    const scans = stats.tableScans;
    const lookups = stats.indexRangeScans ?? 0;
    const got = await sorted(sql);
    assert.equal(stats.tableScans - scans, 1, "only the small table is scanned");
    assert.ok((stats.indexRangeScans ?? 0) > lookups);
    await c.query("SET tessera_opt_index_join = OFF");
    const scansOff = stats.tableScans;
    assert.deepEqual(await sorted(sql), got);
    assert.equal(stats.tableScans - scansOff, 2);
    await c.query("SET tessera_opt_index_join = ON");
    // STRAIGHT_JOIN: big is read first, so it is scanned, and small is hash-joined.
    const [straight] = await c.query({ sql: `EXPLAIN FORMAT = 'brief' ${
      queries[8]!}`, rowsAsArray: true });
    assert.equal((straight as string[][])[0]![0], "HashJoin");
    const [plan] = await c.query({ sql: `EXPLAIN FORMAT = 'brief' ${sql}`, rowsAsArray: true });
    const ops = (plan as string[][]).map((r) => r[0]!);
    assert.equal(ops[0], "IndexJoin", ops.join("\n"));
    const [analyzed] = await c.query({ sql: `EXPLAIN ANALYZE ${sql}`, rowsAsArray: true });
    const range = (analyzed as string[][]).find((r) => r[0]!.includes("IndexRangeScan"))!;
    assert.ok(Number(range[2]) < bigRows / 10, range.join(" | "));
  });

  it("gives the same rows with the index join and the reorder switched off", async () => {
    for (const sql of queries) {
      const chosen = await sorted(sql);
      await c.query("SET tessera_opt_index_join = 0");
      const hashed = await sorted(sql);
      await c.query("SET tessera_opt_join_reorder = 0");
      const legacy = await sorted(sql);
      await c.query("SET tessera_opt_index_join = 1, tessera_opt_join_reorder = 1");
      assert.ok(legacy.length > 0, sql);
      assert.deepEqual(chosen, legacy, sql);
      assert.deepEqual(hashed, legacy, sql);
    }
    // A prepared statement's parameters bound the lookups as constants do.
    const [prepared] = await c.execute({ sql: "SELECT big.id, small.id FROM big JOIN small " +
      "ON big.k = small.k WHERE small.x = ?", rowsAsArray: true }, [1]);
    assert.deepEqual((prepared as unknown[][]).map((r) => JSON.stringify(r)).sort(),
      await sorted(queries[0]!));
    await c.query("SET tidb_opt_join_reorder_threshold = 0");
    assert.deepEqual(await sorted(queries[5]!), await (async () => {
      await c.query("SET tidb_opt_join_reorder_threshold = DEFAULT");
      return sorted(queries[5]!);
    })());
  });
});
