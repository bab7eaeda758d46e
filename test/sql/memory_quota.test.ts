/**
 * The per-query memory quota (`tidb_mem_quota_query`, T9) end to end through mysql2 on
 * an in-process cluster: over a table of 3,000 rows, sorts, hash aggregation (with
 * GROUP_CONCAT), hash joins, DISTINCT, window functions, UNION, derived tables and
 * INSERT … SELECT end with TiDB's error 8175 (its exact message, naming the connection)
 * under a small quota with `tidb_enable_tmp_storage_on_oom` OFF, while the session stays
 * usable (a COUNT(*) and a point get still answer); with it ON (the default) the sorts,
 * groupings, DISTINCT and windows sharing a PARTITION BY of one table, or of an equi-join
 * (inner or outer) of two, and UNION complete by spilling to disk (test/sql/spill.test.ts,
 * spill_more.test.ts) and the others (a window over the whole table) still end with
 * 8175; under the default quota
 * (1 GiB) and with the quota off (0) the same queries return the rows computed here
 * independently. EXPLAIN ANALYZE's `memory` shows the tracker's peak.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type mysql from "mysql2/promise";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";

const opts = { timeout: 60_000 };
const rowCount = 3000;
/** A quota the full scan of `t` fits in, but none of the heavier queries. */
const smallQuota = 1_000_000;

let cluster: SqlCluster;
let node: SqlNodeHandle;
let c: mysql.Connection;
let other: mysql.Connection;

interface Row { readonly id: number; readonly g: number; readonly s: string }
const table: Row[] = [];
for (let i = 0; i < rowCount; i++) {
  table.push({ id: i, g: i % 50, s: `row-${String((i * 7919) % rowCount).padStart(4, "0")}` });
}

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
  c = await node.connect();
  await c.query("CREATE DATABASE mq");
  await c.query("USE mq");
  await c.query("CREATE TABLE t (id INT PRIMARY KEY, g INT, s VARCHAR(40))");
  await c.query("CREATE TABLE copy (id INT PRIMARY KEY, g INT, s VARCHAR(40))");
  for (let b = 0; b < rowCount; b += 500) {
    const values = table.slice(b, b + 500).map((r) => `(${r.id}, ${r.g}, '${r.s}')`);
    await c.query(`INSERT INTO t VALUES ${values.join(", ")}`);
  }
  other = await node.connect("mq");
}, { timeout: 60_000 });

after(async () => {
  await cluster?.close();
}, { timeout: 30_000 });

async function rowsOf(conn: mysql.Connection, sql: string): Promise<string[][]> {
  const [result] = await conn.query({ sql, rowsAsArray: true });
  return (result as unknown[][]).map((row) => row.map((v) => (v === null ? "NULL" : String(v))));
}

const bySorted = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const groups = [...new Set(table.map((r) => r.g))].sort((a, b) => a - b);

/**
 * Heavy queries and their rows, computed from `table`; `spills`: one that completes past
 * the quota with `tidb_enable_tmp_storage_on_oom` ON (a SELECT over one table or an inner
 * equi-join of two reruns streaming its tables and spilling its join, sort or groups).
 */
const heavy: readonly { readonly sql: string; readonly expected: () => string[][];
  readonly spills?: true }[] = [
  { sql: "SELECT id, s FROM t ORDER BY s DESC", spills: true,
    expected: () => [...table].sort((x, y) => bySorted(y.s, x.s)).map((r) => [String(r.id), r.s]) },
  { sql: "SELECT g, COUNT(*), MAX(s), GROUP_CONCAT(id ORDER BY id SEPARATOR '') FROM t " +
      "GROUP BY g ORDER BY g", spills: true,
  expected: () => groups.map((g) => {
    const rows = table.filter((r) => r.g === g);
    return [String(g), String(rows.length), rows.map((r) => r.s).sort(bySorted).at(-1)!,
      rows.map((r) => r.id).join("").slice(0, 1024)];
  }) },
  { sql: "SELECT id, COUNT(*) FROM t GROUP BY id ORDER BY id LIMIT 3", spills: true,
    expected: () => [["0", "1"], ["1", "1"], ["2", "1"]] },
  { sql: "SELECT COUNT(*), SUM(a.g + b.g) FROM t a JOIN t b ON a.id = b.id", spills: true,
    expected: () => [[String(rowCount), String(table.reduce((n, r) => n + 2 * r.g, 0))]] },
  // A window without PARTITION BY: its one partition is the whole table (no spill).
  { sql: "SELECT id, RANK() OVER (ORDER BY s) FROM t ORDER BY id LIMIT 2",
    expected: () => [["0", "1"], ["1", String(1 + (7919 % rowCount))]] },
  { sql: "SELECT COUNT(*) FROM t a LEFT JOIN t b ON a.id = b.id + 1 WHERE b.id IS NULL",
    spills: true, expected: () => [["1"]] },
  { sql: "SELECT DISTINCT s FROM t ORDER BY s LIMIT 2", spills: true,
    expected: () => table.map((r) => r.s).sort(bySorted).slice(0, 2).map((s) => [s]) },
  { sql: "SELECT id, ROW_NUMBER() OVER (PARTITION BY g ORDER BY id) AS n FROM t " +
      "ORDER BY n DESC, id LIMIT 2", spills: true,
  expected: () => [["2950", "60"], ["2951", "60"]] },
  // A UNION branch reading its table past the quota streams it (the set's keys then fit).
  { sql: "SELECT COUNT(*) FROM (SELECT s FROM t UNION SELECT s FROM t) u", spills: true,
    expected: () => [[String(new Set(table.map((r) => r.s)).size)]] },
  // The CTE's SELECT reads its table past the quota: it streams it (its rows then fit).
  { sql: "WITH d AS (SELECT id, s, g FROM t) SELECT COUNT(*), MIN(s) FROM d", spills: true,
    expected: () => [[String(rowCount), table.map((r) => r.s).sort(bySorted)[0]!]] },
];

async function assertQuotaError(conn: mysql.Connection, sql: string): Promise<void> {
  await assert.rejects(conn.query(sql), (error: { errno?: number; message?: string;
    sqlState?: string }) => {
    assert.equal(error.errno, 8175, `${sql}: ${error.message}`);
    assert.equal(error.sqlState, "HY000");
    assert.equal(error.message, "Your query has been cancelled due to exceeding the allowed " +
      "memory limit for a single SQL query. Please try narrowing your query scope or " +
      `increase the tidb_mem_quota_query limit and try again.[conn=${conn.threadId}]`);
    return true;
  }, sql);
}

describe("tidb_mem_quota_query", () => {
  it("defaults to 1 GiB as TiDB and is a session and global variable", opts, async () => {
    assert.deepEqual(await rowsOf(c, "SELECT @@tidb_mem_quota_query, " +
      "@@global.tidb_mem_quota_query"), [["1073741824", "1073741824"]]);
    await c.query("SET tidb_mem_quota_query = 8388608");
    assert.deepEqual(await rowsOf(c, "SELECT @@session.tidb_mem_quota_query"), [["8388608"]]);
    assert.deepEqual(await rowsOf(other, "SELECT @@tidb_mem_quota_query"), [["1073741824"]]);
    await c.query("SET tidb_mem_quota_query = DEFAULT");
    assert.deepEqual(await rowsOf(c, "SELECT @@tidb_mem_quota_query"), [["1073741824"]]);
  });

  it("under the default quota, the heavy queries return their rows", opts, async () => {
    for (const q of heavy) assert.deepEqual(await rowsOf(c, q.sql), q.expected(), q.sql);
  });

  it("under a small quota, they end with 8175 and the session stays usable", opts, async () => {
    await c.query(`SET tidb_mem_quota_query = ${smallQuota}`);
    await c.query("SET tidb_enable_tmp_storage_on_oom = OFF");
    try {
      for (const q of heavy) {
        await assertQuotaError(c, q.sql);
        // The failed statement left nothing held: small queries still answer.
        assert.deepEqual(await rowsOf(c, "SELECT COUNT(*) FROM t"), [[String(rowCount)]]);
      }
      assert.deepEqual(await rowsOf(c, "SELECT s FROM t WHERE id = 5"), [[table[5]!.s]]);
      // A correlated subquery reruns per outer group; each run gives its memory back.
      assert.deepEqual(await rowsOf(c, "SELECT COUNT(*) FROM t a WHERE a.s = " +
        "(SELECT MAX(s) FROM t b WHERE b.g = a.g)"), [[String(groups.length)]]);
      // A write reading through the query engine is bounded too, and writes nothing.
      await assertQuotaError(c, "INSERT INTO copy SELECT * FROM t ORDER BY s");
      assert.deepEqual(await rowsOf(c, "SELECT COUNT(*) FROM copy"), [["0"]]);
      // Another session keeps its own quota.
      assert.deepEqual(await rowsOf(other, heavy[0]!.sql), heavy[0]!.expected());
      // Spilling ON (TiDB's default): sorts and groupings of one table complete.
      await c.query("SET tidb_enable_tmp_storage_on_oom = ON");
      for (const q of heavy) {
        if (q.spills === true) assert.deepEqual(await rowsOf(c, q.sql), q.expected(), q.sql);
        else await assertQuotaError(c, q.sql);
      }
    } finally {
      await c.query("SET tidb_enable_tmp_storage_on_oom = DEFAULT");
      await c.query("SET tidb_mem_quota_query = DEFAULT");
    }
    for (const q of heavy) assert.deepEqual(await rowsOf(c, q.sql), q.expected(), q.sql);
  });

  it("a global quota applies to new sessions; 0 is no limit", opts, async () => {
    await c.query(`SET GLOBAL tidb_mem_quota_query = ${smallQuota}`);
    try {
      // Globals are per SQL node: a new session of this node starts from them.
      const fresh = await node.connect("mq");
      const join = heavy.find((q) => q.spills !== true)!;
      await assertQuotaError(fresh, join.sql);
      await fresh.query("SET tidb_mem_quota_query = 0");
      assert.deepEqual(await rowsOf(fresh, join.sql), join.expected());
    } finally {
      await c.query("SET GLOBAL tidb_mem_quota_query = DEFAULT");
    }
  });

  it("EXPLAIN ANALYZE shows the statement's peak as the root's memory", opts, async () => {
    const peak = async (sql: string): Promise<number> => {
      const rows = await rowsOf(c, `EXPLAIN ANALYZE ${sql}`);
      const memory = rows[0]![7]!;
      assert.match(memory, /^\d+ Bytes$/, sql);
      return Number(memory.split(" ")[0]);
    };
    const count = await peak("SELECT COUNT(*) FROM t");
    const sort = await peak(heavy[0]!.sql);
    assert.ok(count > 0 && count < smallQuota, `COUNT(*) peak ${count}`);
    assert.ok(sort > smallQuota, `ORDER BY peak ${sort}`);
  });
});
