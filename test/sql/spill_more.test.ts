/**
 * Spilling past `tidb_mem_quota_query` (T9) of the operators added after the first
 * spilling SELECTs (test/sql/spill.test.ts): SELECT DISTINCT (with and without ORDER BY /
 * LIMIT, over a grouping and a join), LEFT / RIGHT outer equi-joins of two tables, window
 * functions sharing a PARTITION BY, and UNION / INTERSECT / EXCEPT (also ALL), end to end
 * through mysql2 on an in-process cluster over seeded random tables (`SPILL_SEED`)
 * several times larger than a small quota; a rerun reports its own warnings only. Each
 * query gives the rows it gives under the default quota (under ORDER BY in the same
 * order; without, compared as sets — a spilled hash operator's order is partition by
 * partition, as TiDB's), the temp files are gone afterwards, and with
 * `tidb_enable_tmp_storage_on_oom` OFF the queries end with 8175.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type mysql from "mysql2/promise";
import { type SqlCluster, startSqlCluster } from "./sql_cluster.ts";
import { createNodeEnv } from "../../src/env/mod.ts";
import { SpillSpace } from "../../src/sql/plan/spill_store.ts";

const opts = { timeout: 60_000 };
const rowCount = 3000;
/** Far below what the tables' rows take (over 1 MB as the tracker counts them). */
const smallQuota = 300_000;
const seed = Number(process.env.SPILL_SEED ?? 20261126);

let cluster: SqlCluster;
let c: mysql.Connection;
let dir: string;
let space: SpillSpace;

/** A small seeded PRNG (mulberry32). */
function prng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "tessera-spill-more-"));
  space = new SpillSpace(createNodeEnv().fs, join(dir, "tmp"));
  cluster = await startSqlCluster();
  const node = await cluster.startNode({ tmpStorage: space });
  c = await node.connect();
  await c.query("CREATE DATABASE sm");
  await c.query("USE sm");
  await c.query("CREATE TABLE t (id INT PRIMARY KEY, g INT, v DECIMAL(10,2), s VARCHAR(200))");
  await c.query("CREATE TABLE u (id INT PRIMARY KEY, k INT, w VARCHAR(200))");
  const rand = prng(seed);
  const int = (n: number): number => Math.floor(rand() * n);
  // A pool of strings: rows repeat them, so DISTINCT has duplicates to remove.
  const pool: string[] = [];
  for (let i = 0; i < 1200; i++) pool.push(`${int(100_000)}-${"y".repeat(60 + int(90))}`);
  for (let b = 0; b < rowCount; b += 500) {
    const tRows: string[] = [];
    const uRows: string[] = [];
    for (let i = b; i < b + 500; i++) {
      const v = int(9) === 0 ? "NULL" : `${int(1000)}.${String(int(100)).padStart(2, "0")}`;
      tRows.push(`(${i}, ${int(17)}, ${v}, '${pool[int(pool.length)]!}')`);
      // u.k: a t.id (some twice), one past t's ids, or NULL: matched and unmatched rows.
      const k = int(10) === 0 ? "NULL" : String(int(rowCount * 1.5));
      uRows.push(`(${i}, ${k}, '${pool[int(pool.length)]!}')`);
    }
    await c.query(`INSERT INTO t VALUES ${tRows.join(", ")}`);
    await c.query(`INSERT INTO u VALUES ${uRows.join(", ")}`);
  }
}, { timeout: 60_000 });

after(async () => {
  await cluster?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}, { timeout: 30_000 });

async function rowsOf(sql: string): Promise<string[][]> {
  const [result] = await c.query({ sql, rowsAsArray: true });
  return (result as unknown[][]).map((row) => row.map((v) => (v === null ? "NULL"
    : String(v))));
}

async function tempFiles(): Promise<string[]> {
  try {
    return await readdir(join(dir, "tmp"));
  } catch {
    return [];
  }
}

/** Rows in a canonical order, for a query without ORDER BY. */
const unordered = (rows: readonly string[][] | undefined): string[] =>
  (rows ?? []).map((r) => r.join("|")).sort();

/** A query, and whether it writes temp files when rerun past the quota. */
interface Case {
  readonly sql: string;
  readonly writes: boolean;
}

/**
 * Runs `cases` under the default quota, then past the small one: the same rows (ordered
 * ones in the same order), files written where expected and all gone afterwards; then
 * with the variable OFF each ends with 8175.
 */
async function sameRowsPastQuota(cases: readonly Case[]): Promise<void> {
  const want = new Map<string, string[][]>();
  for (const q of cases) want.set(q.sql, await rowsOf(q.sql));
  await c.query(`SET tidb_mem_quota_query = ${smallQuota}`);
  try {
    for (const q of cases) {
      const before = space.stats.filesCreated;
      const got = await rowsOf(q.sql);
      assert.ok(got.length > 0, q.sql);
      if (q.sql.includes("ORDER BY")) assert.deepEqual(got, want.get(q.sql), q.sql);
      else assert.deepEqual(unordered(got), unordered(want.get(q.sql)), q.sql);
      assert.equal(space.stats.filesCreated > before, q.writes, `${q.sql} wrote files`);
      assert.equal(space.stats.filesLive, 0, q.sql);
      assert.deepEqual(await tempFiles(), [], q.sql);
    }
    await c.query("SET tidb_enable_tmp_storage_on_oom = OFF");
    for (const q of cases) {
      await assert.rejects(c.query(q.sql), (error: { errno?: number }) =>
        error.errno === 8175, q.sql);
    }
  } finally {
    await c.query("SET tidb_enable_tmp_storage_on_oom = DEFAULT");
    await c.query("SET tidb_mem_quota_query = DEFAULT");
  }
}

describe("more operators spill past tidb_mem_quota_query", () => {
  it("SELECT DISTINCT deduplicates by partitions", opts, async () => {
    await sameRowsPastQuota([
      { sql: "SELECT DISTINCT s FROM t ORDER BY s", writes: true },
      { sql: "SELECT DISTINCT g, s FROM t WHERE g <> 4 ORDER BY s DESC, g LIMIT 100 OFFSET 20",
        writes: true },
      { sql: "SELECT DISTINCT LEFT(s, 40), g % 3 FROM t", writes: true },
      { sql: "SELECT DISTINCT g, COUNT(*) FROM t GROUP BY g, id % 250 ORDER BY 2 DESC, 1",
        writes: true },
      { sql: "SELECT DISTINCT a.g, b.s FROM t a JOIN t b ON a.id = b.id ORDER BY b.s, a.g",
        writes: true },
      // The first distinct rows as the table's rows come: a set of LIMIT + OFFSET keys.
      { sql: "SELECT DISTINCT s, g FROM t LIMIT 30 OFFSET 5", writes: false },
    ]);
  });

  it("LEFT and RIGHT outer equi-joins give unmatched rows NULLs partition by partition", opts,
    async () => {
      await sameRowsPastQuota([
        { sql: "SELECT a.id, a.s, b.id, b.w FROM t a LEFT JOIN u b ON a.id = b.k " +
          "ORDER BY a.s, a.id, b.id", writes: true },
        // ON conjuncts over one side: the inner side's filter it, the outer side's only
        // decide whether a row matches; WHERE applies to the joined rows.
        { sql: "SELECT a.id, b.id, b.w FROM t a LEFT JOIN u b ON a.id = b.k AND b.id % 3 <> 0 " +
          "AND a.g < 12 WHERE a.v IS NOT NULL OR a.g = 1", writes: true },
        { sql: "SELECT b.id, b.k, a.s FROM t a RIGHT JOIN u b ON b.k = a.id AND a.v > 100 " +
          "ORDER BY a.s DESC, b.id", writes: true },
        // Unmatched rows counted through a grouping; a key of two columns.
        { sql: "SELECT COUNT(*), COUNT(b.id), SUM(a.g) FROM t a LEFT JOIN u b " +
          "ON a.id = b.k AND a.g = b.id % 17", writes: true },
        { sql: "SELECT a.g, COUNT(b.w), MAX(b.w) FROM t a LEFT JOIN u b ON b.k = a.id " +
          "GROUP BY a.g ORDER BY a.g", writes: true },
        { sql: "SELECT DISTINCT b.w IS NULL, a.g FROM u b LEFT JOIN t a ON a.id = b.k " +
          "ORDER BY 1, 2", writes: true },
      ]);
    });

  it("a spilling rerun's warnings are its own: the failed run's are dropped", opts,
    async () => {
      // Every row warns (1292, truncated INTEGER value) as its field is computed.
      const q = "SELECT id, CAST(s AS SIGNED) FROM t ORDER BY s, id";
      const want = await rowsOf(q);
      const count = (await rowsOf("SELECT @@warning_count"))[0]![0]!;
      assert.ok(Number(count) > 100, count);
      // The table's scan fits, the sort does not: the first run warns, then ends with 8175.
      await c.query("SET tidb_mem_quota_query = 2000000");
      try {
        const before = space.stats.filesCreated;
        assert.deepEqual(await rowsOf(q), want);
        assert.deepEqual(await rowsOf("SELECT @@warning_count"), [[count]]);
        assert.ok(space.stats.filesCreated > before);
      } finally {
        await c.query("SET tidb_mem_quota_query = DEFAULT");
      }
    });

  it("window functions sharing a PARTITION BY run partition by partition", opts, async () => {
    // Partitions of about 75 rows: each fits in the quota, the table does not.
    await sameRowsPastQuota([
      { sql: "SELECT id, g, ROW_NUMBER() OVER (PARTITION BY id % 40 ORDER BY s, id), " +
        "SUM(v) OVER (PARTITION BY id % 40 ORDER BY g ROWS BETWEEN 2 PRECEDING AND " +
        "CURRENT ROW), LAG(s) OVER (PARTITION BY id % 40 ORDER BY id) FROM t", writes: true },
      { sql: "SELECT id, s, RANK() OVER w, MAX(v) OVER w FROM t WHERE id % 5 <> 0 " +
        "WINDOW w AS (PARTITION BY g, id % 3 ORDER BY v) ORDER BY 3 DESC, id LIMIT 40",
      writes: true },
      { sql: "SELECT id, DENSE_RANK() OVER (PARTITION BY s ORDER BY g DESC) FROM t " +
        "ORDER BY 2, s", writes: true },
    ]);
    // Windows with different PARTITION BYs (no one sort splits them): 8175 also ON.
    await c.query(`SET tidb_mem_quota_query = ${smallQuota}`);
    try {
      await assert.rejects(c.query("SELECT id, ROW_NUMBER() OVER (PARTITION BY g ORDER BY id), " +
        "RANK() OVER (PARTITION BY id % 7 ORDER BY s) FROM t"), (error: { errno?: number }) =>
        error.errno === 8175);
    } finally {
      await c.query("SET tidb_mem_quota_query = DEFAULT");
    }
  });

  it("UNION, INTERSECT and EXCEPT deduplicate by partitions", opts, async () => {
    // Each branch streams its table past the quota (spilling SELECT); the set operation's
    // rows and keys then do not fit and go to partitions.
    await sameRowsPastQuota([
      { sql: "SELECT s, g FROM t UNION SELECT w, id % 17 FROM u", writes: true },
      { sql: "SELECT s FROM t INTERSECT SELECT w FROM u ORDER BY s LIMIT 25", writes: true },
      { sql: "SELECT s, g % 2 FROM t EXCEPT SELECT w, id % 2 FROM u", writes: true },
      { sql: "SELECT g % 3, s FROM t INTERSECT ALL SELECT id % 3, w FROM u", writes: true },
      { sql: "SELECT LEFT(s, 3) FROM t EXCEPT ALL SELECT LEFT(w, 2) FROM u", writes: true },
    ]);
    // EXCEPT ALL takes one left copy per right copy (it dropped the row before as well).
    assert.deepEqual(await rowsOf("SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 2 " +
      "EXCEPT ALL SELECT 2"), [["1"], ["2"]]);
  });
});
