/**
 * Spilling to disk past `tidb_mem_quota_query` (`tidb_enable_tmp_storage_on_oom`, T9) end
 * to end through mysql2 on an in-process cluster: over a table several times larger than
 * a small quota, ORDER BY (with and without LIMIT / OFFSET, WHERE, expressions), GROUP BY
 * with few groups and with one group per row (COUNT, SUM, AVG, MIN, MAX, GROUP_CONCAT,
 * COUNT(DISTINCT), HAVING) and an implicit aggregate complete with exactly the rows the
 * same queries give under the default quota; the temp files are gone afterwards; with the
 * variable OFF the queries end with 8175 as before; KILL QUERY while a run is spilling
 * ends it with 1317 and removes its files. The node's temp storage is a directory of the
 * test on the real file system, behind a file system that can hold a spill's first write
 * until the test has sent KILL QUERY.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type mysql from "mysql2/promise";
import { type SqlCluster, startSqlCluster } from "./sql_cluster.ts";
import { type FileHandle, type FileSystem, createNodeEnv } from "../../src/env/mod.ts";
import { SpillSpace } from "../../src/sql/plan/spill_store.ts";

const opts = { timeout: 60_000 };
const rowCount = 3000;
/** Far below what the table's rows take (about 1.3 MB as the tracker counts them). */
const smallQuota = 300_000;

let cluster: SqlCluster;
let c: mysql.Connection;
let killer: mysql.Connection;
let dir: string;
let space: SpillSpace;
/** While set, a spill file's first append waits for it (the KILL QUERY test). */
let gate: { reached: () => void; open: Promise<void> } | null = null;

/** The node's file system with `gate` in front of appends. */
function gatedFs(fs: FileSystem): FileSystem {
  const wrap = (handle: FileHandle): FileHandle => ({
    read: (p, n) => handle.read(p, n),
    write: (p, d) => handle.write(p, d),
    append: async (d) => {
      const g = gate;
      if (g !== null) {
        gate = null;
        g.reached();
        await g.open;
      }
      return handle.append(d);
    },
    size: () => handle.size(),
    truncate: (n) => handle.truncate(n),
    sync: () => handle.sync(),
    close: () => handle.close(),
  });
  return { ...fs, open: async (path, o) => wrap(await fs.open(path, o)),
    readFile: (p) => fs.readFile(p), writeFileAtomic: (p, d) => fs.writeFileAtomic(p, d),
    createExclusive: (p, d) => fs.createExclusive(p, d), mkdir: (p) => fs.mkdir(p),
    readdir: (p) => fs.readdir(p), rename: (a, b) => fs.rename(a, b),
    remove: (p) => fs.remove(p), exists: (p) => fs.exists(p), syncDir: (p) => fs.syncDir(p) };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "tessera-spill-test-"));
  space = new SpillSpace(gatedFs(createNodeEnv().fs), join(dir, "tmp"));
  cluster = await startSqlCluster();
  const node = await cluster.startNode({ tmpStorage: space });
  c = await node.connect();
  await c.query("CREATE DATABASE sp");
  await c.query("USE sp");
  await c.query("CREATE TABLE t (id INT PRIMARY KEY, g INT, v DECIMAL(10,2), " +
    "d DATETIME, s VARCHAR(200))");
  for (let b = 0; b < rowCount; b += 500) {
    const values: string[] = [];
    for (let i = b; i < b + 500; i++) {
      const s = `${String((i * 7919) % 1000).padStart(3, "0")}-${"x".repeat(100)}-${i % 7}`;
      const v = i % 11 === 0 ? "NULL" : `${(i * 37) % 1000}.${String(i % 100).padStart(2, "0")}`;
      values.push(`(${i}, ${i % 13}, ${v}, '2024-01-${String(1 + (i % 28)).padStart(2, "0")} ` +
        `10:00:${String(i % 60).padStart(2, "0")}', '${s}')`);
    }
    await c.query(`INSERT INTO t VALUES ${values.join(", ")}`);
  }
  killer = await node.connect("sp");
}, { timeout: 60_000 });

after(async () => {
  await cluster?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}, { timeout: 30_000 });

async function rowsOf(conn: mysql.Connection, sql: string): Promise<string[][]> {
  const [result] = await conn.query({ sql, rowsAsArray: true });
  return (result as unknown[][]).map((row) => row.map((v) => (v === null ? "NULL"
    : v instanceof Date ? v.toISOString() : String(v))));
}

async function tempFiles(): Promise<string[]> {
  try {
    return await readdir(join(dir, "tmp"));
  } catch {
    return [];
  }
}

/**
 * The queries: the last three may not spill (a TopN, small groups: pushed down to the KV
 * nodes or held in the quota), the one before them has no ORDER BY.
 */
const queries: readonly string[] = [
  "SELECT id, g, v, d, s FROM t ORDER BY s, v DESC",
  "SELECT id, s FROM t WHERE g <> 3 ORDER BY d DESC, id LIMIT 50 OFFSET 1000",
  "SELECT id, v * 2 AS w FROM t ORDER BY w, s DESC LIMIT 2000000",
  "SELECT g, COUNT(*), SUM(v), AVG(v), MIN(s), MAX(d), COUNT(DISTINCT v), " +
    "GROUP_CONCAT(id ORDER BY id DESC SEPARATOR ':') FROM t GROUP BY g ORDER BY g",
  "SELECT id, COUNT(*), SUM(v), MAX(s) FROM t GROUP BY id ORDER BY SUM(v) DESC, id",
  "SELECT id % 500 AS k, COUNT(v), GROUP_CONCAT(DISTINCT g) FROM t GROUP BY k " +
    "HAVING COUNT(v) > 5",
  "SELECT id, s FROM t ORDER BY CONCAT(s, id) DESC, id LIMIT 7 OFFSET 3",
  "SELECT g % 4, SUM(v), MIN(d) FROM t WHERE s LIKE '1%' GROUP BY g % 4 ORDER BY 1",
  "SELECT COUNT(*), SUM(v), MIN(d) FROM t WHERE s LIKE '1%'",
];
/** Rows in a canonical order, for a query without ORDER BY. */
const unordered = (rows: string[][] | undefined): string[] =>
  (rows ?? []).map((r) => r.join("|")).sort();
const spilling = queries.slice(0, -3);

/** Inner equi-joins of two tables (spilled as grace hash joins, spill_join.ts). */
const joins: readonly string[] = [
  "SELECT a.id, b.s, a.v FROM t a JOIN t b ON a.id = b.id WHERE b.g <> 5 ORDER BY b.s, a.id",
  "SELECT a.g, COUNT(*), SUM(b.v) FROM t a JOIN t b ON a.g = b.id AND a.v < b.v " +
    "GROUP BY a.g ORDER BY a.g",
  "SELECT COUNT(*), MAX(a.s) FROM t a, t b WHERE a.id = b.id + 1 AND a.g = b.g + 1",
  // Neither sorted nor grouped: the joined rows stream to the result.
  "SELECT a.id, b.d FROM t a JOIN t b ON a.id = b.id WHERE a.id % 3 = 0",
];

describe("spilling past tidb_mem_quota_query", () => {
  const expected = new Map<string, string[][]>();

  it("is ON by default as TiDB, a session and global variable", opts, async () => {
    assert.deepEqual(await rowsOf(c, "SELECT @@tidb_enable_tmp_storage_on_oom, " +
      "@@global.tidb_enable_tmp_storage_on_oom"), [["1", "1"]]);
    for (const q of queries) expected.set(q, await rowsOf(c, q));
    assert.equal(space.stats.filesCreated, 0, "nothing spills under the default quota");
  });

  it("sorts and groups over a table past the quota with the same rows", opts, async () => {
    await c.query(`SET tidb_mem_quota_query = ${smallQuota}`);
    try {
      for (const q of queries) {
        const before = space.stats.filesCreated;
        const got = await rowsOf(c, q);
        if (q.includes("ORDER BY")) assert.deepEqual(got, expected.get(q), q);
        else assert.deepEqual(unordered(got), unordered(expected.get(q)), q);
        assert.ok(!spilling.includes(q) || space.stats.filesCreated > before, `${q} spilled`);
        assert.equal(space.stats.filesLive, 0, q);
        assert.deepEqual(await tempFiles(), [], q);
      }
      assert.ok(space.stats.bytesWritten > 3 * smallQuota, `${space.stats.bytesWritten}`);
      assert.equal(space.stats.bytesLive, 0);
      // Read here, not on KV: ORDER BY … LIMIT reruns streaming the table into a TopN heap
      // (nothing written).
      await c.query("SET tessera_enable_coprocessor = 0");
      const topN = queries.find((q) => q.includes("ORDER BY CONCAT"))!;
      const before = space.stats.filesCreated;
      assert.deepEqual(await rowsOf(c, topN), expected.get(topN));
      assert.equal(space.stats.filesCreated, before);
      await assert.rejects(c.query("SET tidb_enable_tmp_storage_on_oom = OFF")
        .then(() => c.query(topN)), (error: { errno?: number }) => error.errno === 8175);
    } finally {
      await c.query("SET tessera_enable_coprocessor = DEFAULT");
      await c.query("SET tidb_enable_tmp_storage_on_oom = DEFAULT");
      await c.query("SET tidb_mem_quota_query = DEFAULT");
    }
  });

  it("an inner equi-join of two tables joins partition by partition", opts, async () => {
    const want = new Map<string, string[][]>();
    for (const q of joins) want.set(q, await rowsOf(c, q));
    await c.query(`SET tidb_mem_quota_query = ${smallQuota}`);
    try {
      for (const q of joins) {
        const before = space.stats.filesCreated;
        const got = await rowsOf(c, q);
        if (q.includes("ORDER BY") || q.includes("COUNT")) assert.deepEqual(got, want.get(q), q);
        else assert.deepEqual(unordered(got), unordered(want.get(q)), q);
        assert.ok(space.stats.filesCreated > before, `${q} spilled`);
        assert.equal(space.stats.filesLive, 0, q);
      }
      await c.query("SET tidb_enable_tmp_storage_on_oom = OFF");
      await assert.rejects(c.query(joins[0]!), (error: { errno?: number }) =>
        error.errno === 8175);
    } finally {
      await c.query("SET tidb_enable_tmp_storage_on_oom = DEFAULT");
      await c.query("SET tidb_mem_quota_query = DEFAULT");
    }
  });

  it("a partitioned table spills with the rows of its partitions in handle order", opts,
    async () => {
      await c.query("CREATE TABLE p (id INT PRIMARY KEY, g INT, v DECIMAL(10,2), " +
        "d DATETIME, s VARCHAR(200)) PARTITION BY HASH(id) PARTITIONS 4");
      await c.query("INSERT INTO p SELECT * FROM t");
      // ORDER BY g has ties: they keep handle order, as the in-memory sort of the scan.
      const list = ["SELECT id, g FROM p ORDER BY g", "SELECT id FROM p PARTITION (p1, p3) " +
        "WHERE g > 2 ORDER BY v, id", "SELECT g, COUNT(*), SUM(v) FROM p GROUP BY g ORDER BY g"];
      const want = new Map<string, string[][]>();
      for (const q of list) want.set(q, await rowsOf(c, q));
      await c.query(`SET tidb_mem_quota_query = ${smallQuota}`);
      try {
        for (const q of list) {
          const before = space.stats.filesCreated;
          assert.deepEqual(await rowsOf(c, q), want.get(q), q);
          assert.ok(q.includes("GROUP BY") || space.stats.filesCreated > before, q);
        }
      } finally {
        await c.query("SET tidb_mem_quota_query = DEFAULT");
      }
      assert.equal(space.stats.filesLive, 0);
    });

  it("EXPLAIN ANALYZE shows the rows read and the disk a spill used", opts, async () => {
    await c.query(`SET tidb_mem_quota_query = ${smallQuota}`);
    try {
      const rows = await rowsOf(c, `EXPLAIN ANALYZE ${queries[0]}`);
      const root = rows[0]!;
      assert.equal(root[2], String(rowCount));
      assert.match(root[8]!, /^\d+ Bytes$/);
      assert.ok(Number(root[8]!.split(" ")[0]) > smallQuota, root[8]);
      assert.ok(rows.some((r) => r[0]!.includes("TableFullScan") && r[2] === String(rowCount)),
        JSON.stringify(rows));
      // Without a spill the disk column stays N/A.
      const small = await rowsOf(c, "EXPLAIN ANALYZE SELECT id FROM t WHERE id < 3 ORDER BY s");
      assert.equal(small[0]![8], "N/A");
    } finally {
      await c.query("SET tessera_enable_coprocessor = DEFAULT");
      await c.query("SET tidb_enable_tmp_storage_on_oom = DEFAULT");
      await c.query("SET tidb_mem_quota_query = DEFAULT");
    }
  });

  it("with tidb_enable_tmp_storage_on_oom OFF ends with 8175", opts, async () => {
    await c.query(`SET tidb_mem_quota_query = ${smallQuota}`);
    await c.query("SET tidb_enable_tmp_storage_on_oom = OFF");
    try {
      const before = space.stats.filesCreated;
      for (const q of spilling) {
        await assert.rejects(c.query(q), (error: { errno?: number }) => error.errno === 8175, q);
      }
      assert.equal(space.stats.filesCreated, before);
      // A join of three tables and a window without PARTITION BY do not spill: 8175 also
      // with the variable ON (outer joins, DISTINCT, windows: spill_more.test.ts).
      await c.query("SET tidb_enable_tmp_storage_on_oom = ON");
      for (const q of ["SELECT a.id, c.s FROM t a JOIN t b ON a.id = b.id JOIN t c " +
        "ON b.id = c.id ORDER BY c.s", "SELECT id, RANK() OVER (ORDER BY s) FROM t ORDER BY id"]) {
        await assert.rejects(c.query(q), (error: { errno?: number }) => error.errno === 8175, q);
      }
      // Nor does a SELECT whose rerun would repeat effects (a variable assigned per row,
      // RAND()): the first run's assignments stand, so it ends with 8175.
      await c.query("SET @n = 0");
      for (const q of ["SELECT id, @n := @n + 1 FROM t ORDER BY s",
        "SELECT id FROM t ORDER BY RAND(7), s"]) {
        await assert.rejects(c.query(q), (error: { errno?: number }) => error.errno === 8175, q);
      }
      assert.equal(space.stats.filesCreated, before, "an effectful SELECT did not spill");
    } finally {
      await c.query("SET tidb_enable_tmp_storage_on_oom = DEFAULT");
      await c.query("SET tidb_mem_quota_query = DEFAULT");
    }
  });

  it("KILL QUERY during a spill ends it with 1317 and removes its files", opts, async () => {
    await c.query(`SET tidb_mem_quota_query = ${smallQuota}`);
    try {
      let reached!: () => void;
      let open!: () => void;
      const spilling = new Promise<void>((resolve) => {
        reached = resolve;
      });
      gate = { reached, open: new Promise<void>((resolve) => {
        open = resolve;
      }) };
      const running = c.query(queries[0]!);
      running.catch(() => {});
      await spilling;
      assert.ok(space.stats.filesLive > 0);
      await killer.query(`KILL QUERY ${c.threadId}`);
      open();
      await assert.rejects(running, (error: { errno?: number }) => error.errno === 1317);
      assert.equal(space.stats.filesLive, 0);
      assert.deepEqual(await tempFiles(), []);
      // The session goes on.
      assert.deepEqual(await rowsOf(c, queries[3]!), expected.get(queries[3]!));
    } finally {
      gate = null;
      await c.query("SET tidb_mem_quota_query = DEFAULT");
    }
  });
});
