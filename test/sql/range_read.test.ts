/**
 * Range reads of a clustered integer key end to end (sysbench's oltp_read_only
 * statements, as prepared statements): `id BETWEEN ? AND ?` with plain, SUM, ORDER BY c
 * and DISTINCT … ORDER BY c, checked against a model of the rows (the test cluster
 * keeps a table in one shard; scans across shards are test/client/txn.test.ts's) —
 * - over ranges of one row, many, all, none, reversed, and past the table's ends;
 * - after rows were updated many times (the KV scan passes and seeks over versions), and
 *   from a transaction whose snapshot predates those updates (older versions);
 * - inside a transaction that inserted, updated and deleted rows of the range
 *   (read-your-writes through the write buffer);
 * - under a pessimistic `FOR UPDATE` range read, whose rows another session cannot
 *   update until the first commits (1205 after a short lock wait).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type mysql from "mysql2/promise";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";

let cluster: SqlCluster;
let node: SqlNodeHandle;
let c: mysql.Connection;
const rowCount = 400;

/** The model: id → [k, c]. */
const model = new Map<number, [number, string]>();

function cOf(id: number, round: number): string {
  // Few distinct values, so DISTINCT and ORDER BY c have ties; mixed case for the collation.
  const base = ["apple", "Apple", "banana", "cherry", "APPLE ", "date"][(id * 7 + round) % 6]!;
  return `${base}-${(id + round) % 5}`;
}

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
  c = await node.connect();
  await c.query("CREATE DATABASE rr");
  await c.query("USE rr");
  await c.query("CREATE TABLE sbtest1 (id INT AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL, " +
    "c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL, KEY k_1(k))");
  const values: string[] = [];
  for (let id = 1; id <= rowCount; id++) {
    model.set(id, [id % 17, cOf(id, 0)]);
    values.push(`(${id}, ${id % 17}, '${cOf(id, 0)}', 'pad')`);
  }
  await c.query(`INSERT INTO sbtest1 (id, k, c, pad) VALUES ${values.join(", ")}`);
}, { timeout: 60_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

/** MySQL's utf8mb4_general_ci order of the c values used here (case and trailing spaces). */
function ci(s: string): string {
  return s.replace(/ +$/, "").toUpperCase();
}

interface Expected {
  readonly plain: string[];
  readonly sum: string | null;
  readonly ordered: string[];
  readonly distinct: string[];
}

function expected(rows: ReadonlyMap<number, [number, string]>, lo: number, hi: number):
  Expected {
  const inRange = [...rows.entries()].filter(([id]) => id >= lo && id <= hi)
    .sort((a, b) => a[0] - b[0]);
  const plain = inRange.map(([, [, cv]]) => cv);
  const sum = inRange.length === 0 ? null : String(inRange.reduce((s, [, [k]]) => s + k, 0));
  const ordered = plain.map(ci).sort();
  const distinct = [...new Set(ordered)];
  return { plain, sum, ordered, distinct };
}

async function actual(conn: mysql.Connection, lo: number, hi: number): Promise<Expected> {
  const col = async (sql: string): Promise<string[]> => {
    const [rows] = await conn.execute(sql, [lo, hi]);
    return (rows as { c: string }[]).map((r) => r.c);
  };
  const [sumRows] = await conn.execute(
    "SELECT SUM(k) AS s FROM sbtest1 WHERE id BETWEEN ? AND ?", [lo, hi]);
  const sum = (sumRows as { s: string | number | null }[])[0]!.s;
  return {
    plain: await col("SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ?"),
    sum: sum === null ? null : String(sum),
    ordered: (await col("SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c"))
      .map(ci),
    distinct: (await col("SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c"))
      .map(ci),
  };
}

/** Ranges of one row, many, all, none, reversed, and past the table's ends. */
const ranges: [number, number][] = [[1, 100], [45, 55], [50, 50], [49, 121], [100, 260],
  [119, 122], [1, rowCount], [330, 500], [-5, 3], [300, 200], [401, 450], [250, 250]];

describe("range reads of a clustered key", () => {
  it("match the model", { timeout: 60_000 }, async () => {
    for (const [lo, hi] of ranges) {
      assert.deepEqual(await actual(c, lo, hi), expected(model, lo, hi), `${lo}..${hi}`);
    }
  });

  it("see the newest of many versions, and an older snapshot its own", { timeout: 60_000 },
    async () => {
      const old = await node.connect("rr");
      await old.query("BEGIN");
      // The snapshot is taken by the first read.
      assert.deepEqual(await actual(old, 90, 140), expected(model, 90, 140));
      const before = new Map(model);
      for (let round = 1; round <= 12; round++) {
        await c.query("UPDATE sbtest1 SET c = ?, k = k + 1 WHERE id BETWEEN 95 AND 130 AND " +
          "id % 3 <> 0", [cOf(0, round)]);
        for (let id = 95; id <= 130; id++) {
          if (id % 3 === 0) continue;
          const [k] = model.get(id)!;
          model.set(id, [k + 1, cOf(0, round)]);
        }
      }
      assert.deepEqual(await actual(c, 90, 140), expected(model, 90, 140));
      assert.deepEqual(await actual(c, 1, rowCount), expected(model, 1, rowCount));
      assert.deepEqual(await actual(old, 90, 140), expected(before, 90, 140));
      await old.query("COMMIT");
    });

  it("see the transaction's own inserts, updates and deletes", { timeout: 60_000 },
    async () => {
      const mine = new Map(model);
      await c.query("BEGIN");
      await c.query("DELETE FROM sbtest1 WHERE id BETWEEN 118 AND 123");
      for (let id = 118; id <= 123; id++) mine.delete(id);
      await c.query("UPDATE sbtest1 SET c = 'zeta', k = 1000 WHERE id IN (49, 50, 51, 249)");
      for (const id of [49, 50, 51, 249]) mine.set(id, [1000, "zeta"]);
      await c.query("INSERT INTO sbtest1 (id, k, c, pad) VALUES (401, 5, 'Apple', 'p'), " +
        "(402, 6, 'omega', 'p'), (1000, 7, 'far', 'p')");
      mine.set(401, [5, "Apple"]).set(402, [6, "omega"]).set(1000, [7, "far"]);
      for (const [lo, hi] of [...ranges, [390, 2000] as [number, number]]) {
        assert.deepEqual(await actual(c, lo, hi), expected(mine, lo, hi), `${lo}..${hi}`);
      }
      // Another session sees none of it before the commit.
      const other = await node.connect("rr");
      assert.deepEqual(await actual(other, 40, 130), expected(model, 40, 130));
      await c.query("ROLLBACK");
      assert.deepEqual(await actual(c, 1, 2000), expected(model, 1, 2000));
    });

  it("lock the rows of a pessimistic FOR UPDATE range read", { timeout: 60_000 }, async () => {
    const other = await node.connect("rr");
    await other.query("SET innodb_lock_wait_timeout = 1");
    await c.query("BEGIN PESSIMISTIC");
    const [rows] = await c.execute(
      "SELECT id, c FROM sbtest1 WHERE id BETWEEN ? AND ? FOR UPDATE", [118, 123]);
    assert.deepEqual((rows as { id: number }[]).map((r) => r.id), [118, 119, 120, 121, 122, 123]);
    // The other session waits for the lock in a pessimistic transaction (1 s), then fails.
    await other.query("BEGIN PESSIMISTIC");
    await assert.rejects(other.query("UPDATE sbtest1 SET k = k + 1 WHERE id = 121"),
      (error: unknown) => (error as { errno?: number }).errno === 1205);
    // A row outside the locked range is free.
    await other.query("UPDATE sbtest1 SET k = k + 1 WHERE id = 124");
    await other.query("COMMIT");
    model.set(124, [model.get(124)![0] + 1, model.get(124)![1]]);
    await c.query("COMMIT");
    await other.query("UPDATE sbtest1 SET k = k + 1 WHERE id = 121");
    model.set(121, [model.get(121)![0] + 1, model.get(121)![1]]);
    assert.deepEqual(await actual(c, 100, 130), expected(model, 100, 130));
  });
});
