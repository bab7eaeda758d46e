/**
 * Statements run on their node's loaded schema while its lease holds (TiDB's
 * `domain.InfoSchema()`): no read of the schema version key per statement. What makes that
 * safe to users is that a DDL returns only once every live SQL node loaded its schema, so
 * a table created, altered or dropped through one node is seen at once through another.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";

let cluster: SqlCluster;
let first: SqlNodeHandle;
let second: SqlNodeHandle;

before(async () => {
  cluster = await startSqlCluster();
  first = await cluster.startNode({ ddl: { leaseMs: 2_000 } });
  second = await cluster.startNode({ ddl: { leaseMs: 2_000 } });
}, { timeout: 60_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

describe("schema lease", { timeout: 120_000 }, () => {
  it("a DDL through one node is seen through the other as soon as it returns", async () => {
    const a = await first.connect("test");
    const b = await second.connect("test");
    for (let i = 0; i < 5; i++) {
      await assert.rejects(b.query(`SELECT * FROM lease_${i}`),
        (e: { errno?: number }) => e.errno === 1146);
      await a.query(`CREATE TABLE lease_${i} (id INT PRIMARY KEY, v INT)`);
      await b.query(`INSERT INTO lease_${i} VALUES (1, ${i})`);
      await a.query(`ALTER TABLE lease_${i} ADD COLUMN w INT DEFAULT 7`);
      const [rows] = await b.query(`SELECT id, v, w FROM lease_${i}`);
      assert.deepEqual(rows, [{ id: 1, v: i, w: 7 }]);
      await b.query(`DROP TABLE lease_${i}`);
      await assert.rejects(a.query(`SELECT * FROM lease_${i}`),
        (e: { errno?: number }) => e.errno === 1146);
    }
  });

  it("point selects do not read the schema version key each", async () => {
    const a = await first.connect("test");
    await a.query("CREATE TABLE lease_reads (id INT PRIMARY KEY, v INT)");
    await a.query("INSERT INTO lease_reads VALUES (1, 10), (2, 20)");
    const before = first.storage.catalog.versionReadCount;
    const statements = 200;
    for (let i = 0; i < statements; i++) {
      const [rows] = await a.execute("SELECT v FROM lease_reads WHERE id = ?", [1 + (i % 2)]);
      assert.deepEqual(rows, [{ v: 10 * (1 + (i % 2)) }]);
    }
    // Only the lease's periodic reloads read it (one per quarter lease), however slow.
    const reads = first.storage.catalog.versionReadCount - before;
    assert.ok(reads < statements / 4, `${reads} version reads for ${statements} statements`);
  });
});
