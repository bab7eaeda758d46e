/**
 * Index reads pushed to the KV nodes (src/sql/plan/pushdown.ts `readIndexEntries`): an
 * index lookup (TiDB's IndexLookUp) runs the filters that read only index columns on the
 * index entries and the others on the rows fetched by handle; LIMIT / ORDER BY … LIMIT
 * run on the entries when no row filter can drop a row (in index order: each shard stops
 * early); covering reads return the entries themselves. Checked here: EXPLAIN's shapes,
 * results equal to `tessera_enable_coprocessor = 0` over seeded random queries on indexed
 * tables split into several shards (NULLs, DESC, duplicates and ties), fewer rows fetched
 * by handle (`ExecStats.indexLookupRows`), and EXPLAIN ANALYZE's `cop_task` details.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type mysql from "mysql2/promise";
import { type DagRequest, decodeDagRequest } from "../../src/expr/mod.ts";
import type { CoprocessorHandler } from "../../src/kv/server/coprocessor.ts";
import { indexEntry, rowKey } from "../../src/sql/table/table.ts";
import { splitShardAt } from "../client/test_split.ts";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";

let cluster: SqlCluster;
let node: SqlNodeHandle;
let c: mysql.Connection;
const rowCount = 400;
const words = ["apple", "Apple", "kiwi", "melon", "x-ray", "zebra", "", null];

/** A small seeded generator (mulberry32), so every run asks the same queries. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
  c = await node.connect();
  await c.query("CREATE DATABASE ci");
  await c.query("USE ci");
  await c.query("CREATE TABLE t (id INT PRIMARY KEY, k INT, k2 INT, c VARCHAR(10), " +
    "d DECIMAL(8,2), u INT, KEY kk (k), KEY kc (k, k2), UNIQUE KEY uu (u))");
  await c.query("CREATE TABLE h (a INT, b INT, s VARCHAR(8), KEY ka (a))");
  // Only a two-column index: ORDER BY its first column has ties in other than handle order.
  await c.query("CREATE TABLE m (id INT PRIMARY KEY, a INT, b INT, e DOUBLE, KEY ab (a, b))");
  const rnd = random(7);
  const values: string[] = [];
  const hvalues: string[] = [];
  for (let id = 1; id <= rowCount; id++) {
    const k = id % 13 === 0 ? "NULL" : String(Math.floor(rnd() * 50));
    const k2 = id % 7 === 0 ? "NULL" : String(Math.floor(rnd() * 10));
    const w = words[Math.floor(rnd() * words.length)];
    const d = id % 11 === 0 ? "NULL" : (rnd() * 200 - 50).toFixed(2);
    const u = id % 5 === 0 ? "NULL" : String(id * 3);
    values.push(`(${id}, ${k}, ${k2}, ${w === null ? "NULL" : `'${w}'`}, ${d}, ${u})`);
    hvalues.push(`(${id % 9 === 0 ? "NULL" : Math.floor(rnd() * 30)}, ${id}, '${
      words[id % 6]}')`);
  }
  await c.query(`INSERT INTO t VALUES ${values.join(", ")}`);
  await c.query(`INSERT INTO h VALUES ${hvalues.join(", ")}`);
  const mvalues: string[] = [];
  for (let id = 1; id <= 300; id++) {
    mvalues.push(`(${id}, ${id % 17 === 0 ? "NULL" : Math.floor(rnd() * 20)}, ${
      id % 6 === 0 ? "NULL" : Math.floor(rnd() * 8)}, ${id % 10 === 0 ? "NULL"
      : (rnd() * 10).toFixed(1)})`);
  }
  await c.query(`INSERT INTO m VALUES ${mvalues.join(", ")}`);
  // Rows and index entries both split into several shards.
  const txn = await node.storage.client.begin();
  const schema = await node.storage.catalog.schemaAt(txn);
  await txn.commit();
  const t = schema.table("ci", "t")!;
  const kk = t.indexes.find((i) => i.name === "kk")!;
  const kc = t.indexes.find((i) => i.name === "kc")!;
  for (const h of [60n, 150n, 280n]) await splitShardAt(cluster.kv, rowKey(t, h));
  const m = schema.table("ci", "m")!;
  const ab = m.indexes.find((i) => i.name === "ab")!;
  // Some splits fall inside a group of equal values near the top (a read in reverse
  // order must read the rest of the last group it keeps from the next shard).
  const middle = async (sql: string): Promise<number[]> => {
    const [got] = await c.query({ sql, rowsAsArray: true });
    const rows = got as number[][];
    return rows[Math.floor(rows.length / 2)]!;
  };
  const [topA, topB] = ((await c.query({ sql: "SELECT a, b FROM m WHERE a > 15 AND " +
    "b IS NOT NULL GROUP BY a, b HAVING COUNT(*) > 2 ORDER BY a DESC, b DESC LIMIT 1",
  rowsAsArray: true }))[0] as number[][])[0]!;
  const [ta, tb, th] = await middle(`SELECT a, b, id FROM m WHERE a = ${topA} AND b = ${
    topB} ORDER BY id`);
  for (const [a, bv, h] of [[6, 3, 0], [13, 0, 0], [ta!, tb!, th!]]) {
    await splitShardAt(cluster.kv, indexEntry(m, ab, { values: [null, { kind: "int",
      value: BigInt(a!) }, { kind: "int", value: BigInt(bv!) }, null], handle: BigInt(h!) })
      .key);
  }
  const [kTop, hTop] = await middle("SELECT k, id FROM t WHERE k = (SELECT MAX(k) - 1 FROM t) " +
    "ORDER BY id");
  for (const [k, h] of [[12, 0n], [30, 0n], [kTop!, BigInt(hTop!)]] as const) {
    const row = { values: [null, { kind: "int", value: BigInt(k) }, null, null, null, null],
      handle: h } as const;
    await splitShardAt(cluster.kv, indexEntry(t, kk, row).key);
    await splitShardAt(cluster.kv, indexEntry(t, kc, row).key);
  }
}, { timeout: 60_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

/** The rows of `sql` with pushdown on or off, the requests sent and rows fetched. */
async function run(sql: string, on: boolean): Promise<{ rows: unknown; warnings: unknown;
  requests: number; fetched: number }> {
  await c.query(`SET tessera_enable_coprocessor = ${on ? 1 : 0}`);
  const stats = node.storage.stats;
  const requests = stats.coprocessorRequests ?? 0;
  const fetched = stats.indexLookupRows ?? 0;
  const [rows] = await c.query({ sql, rowsAsArray: true });
  const [warnings] = await c.query("SHOW WARNINGS");
  return { rows, warnings, requests: (stats.coprocessorRequests ?? 0) - requests,
    fetched: (stats.indexLookupRows ?? 0) - fetched };
}

/** The operator column of EXPLAIN FORMAT = 'brief' and the task. */
async function shape(sql: string): Promise<string[]> {
  await c.query("SET tessera_enable_coprocessor = 1");
  const [rows] = await c.query({ sql: `EXPLAIN FORMAT = 'brief' ${sql}`, rowsAsArray: true });
  return (rows as unknown[][]).map((r) => `${String(r[0])} ${String(r[2])}`);
}

describe("EXPLAIN draws index reads on KV as TiDB does", { timeout: 60_000 }, () => {
  const shapes: [string, string[]][] = [
    ["SELECT * FROM t WHERE k BETWEEN 1 AND 100 AND k % 3 = 0 AND c > 'x'", [
      "IndexLookUp root",
      "├─Selection(Build) cop[tikv]",
      "│ └─IndexRangeScan cop[tikv]",
      "└─Selection(Probe) cop[tikv]",
      "  └─TableRowIDScan cop[tikv]"]],
    ["SELECT * FROM t WHERE k > 10 ORDER BY k LIMIT 5", [
      "TopN root",
      "└─IndexLookUp root",
      "  ├─Limit(Build) cop[tikv]",
      "  │ └─Selection cop[tikv]",
      "  │   └─IndexRangeScan cop[tikv]",
      "  └─TableRowIDScan(Probe) cop[tikv]"]],
    ["SELECT * FROM t WHERE k > 10 AND c <> 'x' ORDER BY k DESC LIMIT 5", [
      "TopN root",
      "└─IndexLookUp root",
      "  ├─Selection(Build) cop[tikv]",
      "  │ └─IndexRangeScan cop[tikv]",
      "  └─TopN(Probe) cop[tikv]",
      "    └─Selection cop[tikv]",
      "      └─TableRowIDScan cop[tikv]"]],
    ["SELECT id, k FROM t WHERE k < 20 ORDER BY k DESC LIMIT 3", [
      "TopN root",
      "└─IndexReader root",
      "  └─Limit cop[tikv]",
      "    └─Selection cop[tikv]",
      "      └─IndexRangeScan cop[tikv]"]],
    ["SELECT id, k FROM t WHERE k < 20 ORDER BY id DESC LIMIT 3", [
      "TopN root",
      "└─IndexReader root",
      "  └─TopN cop[tikv]",
      "    └─Selection cop[tikv]",
      "      └─IndexRangeScan cop[tikv]"]],
  ];
  for (const [sql, expected] of shapes) {
    it(sql, async () => {
      assert.deepEqual((await shape(sql)).map((l) => l.replace(/_\d+/, "")), expected);
    });
  }

  it("an index-ordered LIMIT reads the index in order (keep order)", async () => {
    const [rows] = await c.query({ sql: "EXPLAIN FORMAT = 'brief' SELECT * FROM t " +
      "WHERE k > 10 ORDER BY k, id LIMIT 5", rowsAsArray: true });
    const scan = (rows as string[][]).find((r) => r[0]!.includes("IndexRangeScan"))!;
    assert.match(scan[4]!, /keep order:true/);
  });
});

describe("index reads return what the SQL node computes alone", { timeout: 60_000 }, () => {
  it("over seeded random queries (NULLs, DESC, duplicates, ties)", async () => {
    const rnd = random(20261126);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const n = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
    let pushed = 0;
    const total = 240;
    for (let q = 0; q < total; q++) {
      const which = rnd();
      let sql: string;
      if (which < 0.25) {
        const lo = n(0, 18);
        const range = pick([`a BETWEEN ${lo} AND ${lo + n(0, 8)}`, `a > ${n(0, 18)}`,
          `a < ${n(1, 15)}`, `a IN (${n(0, 19)}, ${n(0, 19)})`, "a IS NULL",
          `a = ${n(0, 19)} AND b > ${n(0, 6)}`]);
        const extra = pick(["", " AND b IS NULL", " AND b % 2 = 0", " AND e > 5",
          " AND id % 3 = 1", " AND a + b > 10"]);
        const tail = pick(["", ` ORDER BY a LIMIT ${n(0, 15)}`, ` ORDER BY a DESC LIMIT ${
          n(1, 15)}`, ` ORDER BY a, b LIMIT ${n(1, 15)}`, ` ORDER BY a, b, id LIMIT ${
          n(1, 15)}`, ` ORDER BY b DESC LIMIT ${n(1, 15)}`, ` ORDER BY a DESC, b DESC LIMIT ${
          n(1, 15)}`, ` ORDER BY a DESC, b LIMIT ${
          n(1, 15)}`, ` LIMIT ${n(1, 12)}`, ` ORDER BY e LIMIT ${n(1, 8)}`,
        ` ORDER BY a + b, id DESC LIMIT ${n(1, 8)}`, ` LIMIT ${n(0, 4)}, ${n(1, 6)}`]);
        const fields = pick(["*", "id, a", "a, b", "a", "e", "a, COUNT(*), MIN(e)"]);
        sql = `SELECT ${fields} FROM m WHERE ${range}${extra}${fields.includes("COUNT")
          ? " GROUP BY a ORDER BY a" : tail}`;
      } else if (which < 0.45) {
        const range = pick([`a BETWEEN ${n(0, 10)} AND ${n(10, 30)}`, `a < ${n(1, 20)}`,
          "a IS NULL", `a IN (${n(0, 29)}, ${n(0, 29)}, ${n(0, 29)})`]);
        const extra = pick(["", " AND a % 2 = 1", " AND b > 100", " AND s = 'kiwi'",
          " AND _tidb_rowid % 3 = 0"]);
        const tail = pick(["", ` ORDER BY a LIMIT ${n(0, 12)}`, ` ORDER BY a DESC LIMIT ${
          n(1, 12)}`, ` LIMIT ${n(1, 9)}`, ` ORDER BY b DESC LIMIT ${n(1, 6)}`,
        ` ORDER BY a, _tidb_rowid LIMIT ${n(1, 9)}`]);
        const fields = pick(["*", "a, b", "a", "COUNT(*), SUM(b)"]);
        sql = `SELECT ${fields} FROM h WHERE ${range}${extra}${fields.startsWith("COUNT")
          ? "" : tail}`;
      } else {
        const lo = n(0, 45);
        const range = pick([`k BETWEEN ${lo} AND ${lo + n(0, 20)}`, `k > ${n(0, 48)}`,
          `k < ${n(1, 30)}`, `k IN (${n(0, 49)}, ${n(0, 49)}, ${n(0, 49)})`, "k IS NULL",
          `k = ${n(0, 49)} AND k2 > ${n(0, 8)}`, `u > ${n(0, 1100)}`, "u IS NULL",
          `u BETWEEN ${n(0, 600)} AND ${n(600, 1200)}`]);
        const extra = pick(["", " AND k % 3 = 0", " AND k2 IS NULL", " AND c > 'l'",
          " AND d < 20", " AND id % 2 = 0", " AND k2 + k > 20 AND c IS NOT NULL",
          " AND u % 4 = 0"]);
        const key = range.startsWith("u") ? "u" : "k";
        const tail = pick(["", ` ORDER BY ${key} LIMIT ${n(0, 15)}`,
          ` ORDER BY ${key} DESC LIMIT ${n(1, 15)}`, ` ORDER BY ${key}, id LIMIT ${n(1, 15)}`,
          ` ORDER BY ${key} DESC, id DESC LIMIT ${n(1, 15)}`, ` LIMIT ${n(1, 15)}`,
          ` LIMIT ${n(1, 5)}, ${n(1, 8)}`, ` ORDER BY id DESC LIMIT ${n(1, 10)}`,
          ` ORDER BY k, k2 LIMIT ${n(1, 15)}`, ` ORDER BY k2 DESC, k LIMIT ${n(1, 10)}`,
          ` ORDER BY c, id LIMIT ${n(1, 10)}`, ` ORDER BY d LIMIT ${n(1, 10)}`]);
        const fields = pick(["*", "id, k", "k", "k, k2", "id, c", "u", "COUNT(*)",
          "k, COUNT(*), MAX(d)", "SUM(d), MIN(c)"]);
        const grouped = fields.includes("(");
        sql = `SELECT ${fields} FROM t WHERE ${range}${extra}${grouped
          ? fields.startsWith("k,") ? " GROUP BY k ORDER BY k" : "" : tail}`;
      }
      const off = await run(sql, false);
      const on = await run(sql, true);
      assert.equal(off.requests, 0, sql);
      assert.deepEqual(on.rows, off.rows, sql);
      assert.deepEqual(on.warnings, off.warnings, sql);
      if (on.requests > 0) pushed++;
    }
    // Most of them read an index range with something pushed.
    assert.ok(pushed > total / 2, `${pushed} of ${total} pushed`);
  });


  it("a reverse index-order LIMIT keeps the ties a shard boundary splits", async () => {
    for (let limit = 1; limit <= 24; limit++) {
      for (const sql of [`SELECT * FROM t WHERE k > 40 ORDER BY k DESC LIMIT ${limit}`,
        `SELECT id, a, b FROM m WHERE a > 15 ORDER BY a DESC, b DESC LIMIT ${limit}`]) {
        const off = await run(sql, false);
        const on = await run(sql, true);
        assert.deepEqual(on.rows, off.rows, sql);
        assert.ok(on.requests > 0, sql);
      }
    }
  });
});

describe("index reads fetch fewer rows", { timeout: 60_000 }, () => {
  it("filters on index columns run on the entries: their rows are not fetched", async () => {
    const sql = "SELECT * FROM t WHERE k BETWEEN 1 AND 40 AND k % 3 = 0 AND c > 'l'";
    const off = await run(sql, false);
    const on = await run(sql, true);
    assert.deepEqual(on.rows, off.rows);
    assert.ok(on.requests > 0);
    const [matching] = await c.query({ sql: "SELECT COUNT(*) FROM t WHERE k BETWEEN 1 AND 40 " +
      "AND k % 3 = 0", rowsAsArray: true });
    assert.equal(on.fetched, Number((matching as number[][])[0]![0]));
    assert.ok(on.fetched < off.fetched, `${on.fetched} < ${off.fetched}`);
  });

  it("ORDER BY the index LIMIT n fetches n rows", async () => {
    for (const sql of ["SELECT * FROM t WHERE k > 10 ORDER BY k LIMIT 5",
      "SELECT * FROM t WHERE k > 10 ORDER BY k DESC LIMIT 5",
      "SELECT * FROM t WHERE k > 10 AND k % 2 = 0 ORDER BY k, id LIMIT 5",
      "SELECT * FROM t WHERE k < 40 LIMIT 5",
      "SELECT * FROM t WHERE u > 100 ORDER BY u DESC LIMIT 5"]) {
      const off = await run(sql, false);
      const on = await run(sql, true);
      assert.deepEqual(on.rows, off.rows, sql);
      assert.equal(on.fetched, 5, sql);
      assert.ok(off.fetched > 5, sql);
    }
  });

  it("a LIMIT in index order (or its reverse) reads few entries", async () => {
    await c.query("SET tessera_enable_coprocessor = 1");
    for (const [order, info] of [["k", "keep order:true"], ["k DESC", "keep order:true, desc"],
      ["k, id", "keep order:true"], ["k DESC, id DESC", "keep order:true, desc"]] as const) {
      const [rows] = await c.query({ sql: "EXPLAIN ANALYZE SELECT * FROM t WHERE k > 10 " +
        `ORDER BY ${order} LIMIT 5`, rowsAsArray: true });
      const lines = rows as string[][];
      const scan = lines.find((r) => r[0]!.includes("IndexRangeScan"))!;
      assert.ok(scan[6]!.includes(info), `${order}: ${scan[6]}`);
      // One page of one shard: the paging floor (256 keys) at most, not the whole range.
      assert.ok(Number(scan[2]) <= 256, `${order}: scanned ${scan[2]}`);
      const probe = lines.find((r) => r[0]!.includes("TableRowIDScan"))!;
      assert.equal(Number(probe[2]), 5, order);
    }
  });
});

describe("EXPLAIN ANALYZE shows the coprocessor tasks", { timeout: 60_000 }, () => {
  it("readers and index lookups carry cop_task details and actual rows", async () => {
    await c.query("SET tessera_enable_coprocessor = 1");
    const [lookupRows] = await c.query({ sql: "EXPLAIN ANALYZE SELECT * FROM t WHERE " +
      "k BETWEEN 1 AND 40 AND k % 3 = 0 AND c > 'l'", rowsAsArray: true });
    const lines = lookupRows as string[][];
    const [count] = await c.query({ sql: "SELECT COUNT(*) FROM t WHERE k BETWEEN 1 AND 40 " +
      "AND k % 3 = 0", rowsAsArray: true });
    const handles = Number((count as number[][])[0]![0]);
    const root = lines.find((r) => r[0]!.startsWith("IndexLookUp"))!;
    assert.match(root[5]!, new RegExp(`index_task: \\{fetch_handle: ${handles}\\}`));
    const build = lines.find((r) => r[0]!.includes("Selection") && r[0]!.includes("(Build)"))!;
    assert.equal(Number(build[2]), handles);
    assert.match(build[5]!, /cop_task: \{num: [1-9]\d*, max: .*, proc_keys: \d+, rpc_num: [1-9]/);
    const scan = lines.find((r) => r[0]!.includes("IndexRangeScan"))!;
    assert.ok(Number(scan[2]) > handles);
    const probe = lines.find((r) => r[0]!.includes("(Probe)"))!;
    assert.match(probe[5]!, /cop_task: \{num: [1-9]\d*, .*rpc_time: /);
    const [readerRows] = await c.query({ sql: "EXPLAIN ANALYZE SELECT id FROM t WHERE " +
      "d > 0", rowsAsArray: true });
    const reader = (readerRows as string[][]).find((r) => r[0]!.startsWith("TableReader"))!;
    // Four shards of rows: four tasks, a request each (more if a route was stale).
    const cop = /cop_task: \{num: 4, max: .*, p95: .*, proc_keys: 400, rpc_num: (\d+), rpc_time: /
      .exec(reader[5]!);
    assert.ok(cop !== null && Number(cop[1]) >= 4, reader[5]);
    const fullScan = (readerRows as string[][]).find((r) => r[0]!.includes("TableFullScan"))!;
    assert.equal(Number(fullScan[2]), rowCount);
  });
});

describe("pushed reads bring only the columns the query reads", { timeout: 60_000 }, () => {
  /** The DAG requests the KV nodes ran for `sql` (decoded), by spying on the handler. */
  async function requestsOf(sql: string): Promise<DagRequest[]> {
    const registry = cluster.kv.coprocessor;
    const get = registry.get.bind(registry);
    const seen: DagRequest[] = [];
    registry.get = (name: string): CoprocessorHandler => {
      const handler = get(name);
      return (input) => {
        seen.push(decodeDagRequest(input.plan));
        return handler(input);
      };
    };
    try {
      await c.query("SET tessera_enable_coprocessor = 1");
      await c.query(sql);
    } finally {
      registry.get = get;
    }
    return seen;
  }

  it("a filter alone: the scan reads the select list's and the filter's columns", async () => {
    const seen = await requestsOf("SELECT id, c FROM t WHERE d > 0");
    assert.ok(seen.length > 0);
    for (const r of seen) {
      assert.equal(r.scan.kind, "table");
      // id is the handle; c and d are read (of six columns).
      assert.deepEqual(r.scan.columns.length, 3);
    }
  });

  it("an index lookup: entries read their filter's columns, rows the query's", async () => {
    const seen = await requestsOf("SELECT id, c FROM t WHERE k = 5 AND c > 'k'");
    const entries = seen.filter((r) => r.scan.kind === "index");
    const rows = seen.filter((r) => r.scan.kind === "table");
    assert.ok(entries.length > 0 && rows.length > 0);
    // k and the handle; then id, c.
    for (const r of entries) assert.equal(r.scan.columns.length, 2);
    for (const r of rows) assert.equal(r.scan.columns.length, 2);
  });

  it("conjuncts left on the SQL node add their columns to the projection", async () => {
    const sql = "SELECT id FROM t WHERE d > 0 AND (c < 'm' OR RAND() > 2) ORDER BY u";
    const seen = await requestsOf(sql);
    assert.ok(seen.length > 0);
    for (const r of seen) {
      // d > 0 only (RAND() is not pushed); id (the handle), d (pushed), c (filtered
      // here), u (ORDER BY) of six columns.
      assert.equal(r.selection.length, 1);
      assert.equal(r.scan.columns.length, 4);
    }
    const off = await run(sql, false);
    const on = await run(sql, true);
    assert.deepEqual(on.rows, off.rows);
  });

  it("a covering read scans only the index", async () => {
    const sql = "SELECT k, k2 FROM t WHERE k = 5 AND k2 > 3";
    const seen = await requestsOf(sql);
    assert.ok(seen.length > 0);
    for (const r of seen) assert.equal(r.scan.kind, "index");
    const off = await run(sql, false);
    const on = await run(sql, true);
    assert.deepEqual(on.rows, off.rows);
    assert.equal(on.fetched, 0);
  });
});

describe("index joins through a secondary index push their lookups", { timeout: 60_000 }, () => {
  it("one pushed index lookup per batch, results as the SQL node computes alone", async () => {
    await c.query("CREATE TABLE o (id INT PRIMARY KEY, x INT, y INT)");
    const values: string[] = [];
    for (let id = 1; id <= 60; id++) {
      values.push(`(${id}, ${id % 9 === 0 ? "NULL" : id % 50}, ${id})`);
    }
    await c.query(`INSERT INTO o VALUES ${values.join(", ")}`);
    // Statistics make the small outer side worth looking up from (last: plans above used
    // pseudo estimates).
    await c.query("ANALYZE TABLE o, t, m");
    const sqls = ["SELECT o.id, t.id, t.c FROM o JOIN t ON t.k = o.x WHERE o.y <= 6 " +
      "ORDER BY o.id, t.id",
    "SELECT o.id, t.id FROM o JOIN t ON t.k = o.x WHERE o.y BETWEEN 40 AND 46 AND " +
      "t.k2 > 3 AND t.c <> 'kiwi' ORDER BY o.id, t.id",
    "SELECT o.id, m.id FROM o JOIN m ON m.a = o.x WHERE o.y <= 7 AND m.b IS NOT NULL " +
      "ORDER BY o.id, m.id"];
    for (const sql of sqls) {
      await c.query("SET tessera_enable_coprocessor = 1");
      const [plan] = await c.query({ sql: `EXPLAIN FORMAT = 'brief' ${sql}`, rowsAsArray: true });
      const lines = (plan as string[][]).map((r) => r[0]!);
      assert.ok(lines.some((l) => l.includes("IndexJoin")), lines.join("\n"));
      const before = node.storage.stats.indexRangeScans ?? 0;
      const on = await run(sql, true);
      const onReads = (node.storage.stats.indexRangeScans ?? 0) - before;
      const middle = node.storage.stats.indexRangeScans ?? 0;
      const off = await run(sql, false);
      const offReads = (node.storage.stats.indexRangeScans ?? 0) - middle;
      assert.deepEqual(on.rows, off.rows, sql);
      assert.deepEqual(on.warnings, off.warnings, sql);
      assert.ok(on.requests > 0, sql);
      // One index read per batch of outer rows, not one per key value.
      assert.equal(onReads, 1, sql);
      assert.ok(offReads >= 5, `${sql}: ${offReads}`);
    }
  });
});

describe("index lookups elsewhere", { timeout: 60_000 }, () => {
  it("a correlated subquery looks its rows up per outer row, pushed every time", async () => {
    const sql = "SELECT m.id, (SELECT t.c FROM t WHERE t.k = m.a + 20 AND t.d > 0 " +
      "ORDER BY t.id DESC LIMIT 1) AS n FROM m WHERE m.id <= 40 ORDER BY m.id";
    const off = await run(sql, false);
    const on = await run(sql, true);
    assert.deepEqual(on.rows, off.rows);
    // Dozens of outer rows: each one's lookup was pushed (not only the first two).
    assert.ok(on.requests > 40, `${on.requests} requests`);
  });

  it("a prepared ORDER BY … LIMIT ? binds its count at each execution", async () => {
    const sql = "SELECT id, k FROM t WHERE k > ? ORDER BY k DESC LIMIT ?";
    for (const [bound, count] of [[10, 3], [40, 7], [0, 1], [45, 30]] as const) {
      const results: unknown[] = [];
      for (const on of [1, 0]) {
        await c.query(`SET tessera_enable_coprocessor = ${on}`);
        const [rows] = await c.execute({ sql, rowsAsArray: true }, [bound, String(count)]);
        results.push(rows);
      }
      assert.deepEqual(results[0], results[1], `${bound}, ${count}`);
    }
  });

  it("a transaction's own writes are read on the SQL node", async () => {
    await c.query("SET tessera_enable_coprocessor = 1");
    await c.query("BEGIN");
    try {
      await c.query("INSERT INTO t VALUES (1000, 7, 1, 'zz', 1.00, NULL)");
      const stats = node.storage.stats;
      const requests = stats.coprocessorRequests ?? 0;
      const [rows] = await c.query({ sql: "SELECT id FROM t WHERE k = 7 AND c = 'zz' " +
        "ORDER BY k LIMIT 5", rowsAsArray: true });
      assert.deepEqual(rows, [[1000]]);
      assert.equal((stats.coprocessorRequests ?? 0) - requests, 0);
    } finally {
      await c.query("ROLLBACK");
    }
  });
});
