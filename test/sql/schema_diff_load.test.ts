/**
 * A node loads a newer schema version by patching its cached catalog with the versions'
 * diffs (`src/sql/catalog/schema_diff.ts`) instead of scanning every database again. Here
 * a catalog kept warm across a series of DDLs — tables created, altered through the F1
 * states, renamed across databases, truncated, dropped, views created and dropped, a
 * database created and dropped — must equal, after every DDL, a catalog loaded whole at
 * the same snapshot (tables and views in the same order too); and the warm one must have
 * used diffs for the table and view DDL.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TxnClient } from "../../src/client/mod.ts";
import { Catalog, type InfoSchema } from "../../src/sql/catalog/catalog.ts";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";

let cluster: SqlCluster;
let node: SqlNodeHandle;
let client: TxnClient;

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
  client = cluster.kv.client();
}, { timeout: 60_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

/** Every database with its tables and views, as plain data in the schema's own order. */
function contents(schema: InfoSchema): unknown {
  return schema.databaseNames().map((name) => {
    const db = schema.database(name)!;
    return { info: db.info, tables: [...db.tables], views: [...db.views ?? new Map()] };
  });
}

async function schemaOf(catalog: Catalog): Promise<InfoSchema> {
  const txn = await client.begin();
  try {
    return await catalog.schemaAt(txn);
  } finally {
    await txn.rollback();
  }
}

describe("schema diffs", { timeout: 120_000 }, () => {
  it("a catalog patched by diffs equals one loaded whole, after every kind of DDL",
    async () => {
      const c = await node.connect("test");
      const warm = new Catalog(client);
      await schemaOf(warm);
      const statements = [
        "CREATE TABLE t1 (id INT PRIMARY KEY, v INT, w VARCHAR(10))",
        "CREATE TABLE t2 (id INT PRIMARY KEY, v INT)",
        "INSERT INTO t1 VALUES (1, 10, 'a'), (2, 20, 'b')",
        "CREATE INDEX iv ON t1 (v)",
        "CREATE UNIQUE INDEX iw ON t1 (w DESC, v)",
        "ALTER TABLE t1 ADD COLUMN x INT DEFAULT 3",
        "ALTER TABLE t1 DROP COLUMN x",
        "DROP INDEX iv ON t1",
        "CREATE DATABASE other",
        "RENAME TABLE t2 TO other.t2moved",
        "ALTER TABLE t1 RENAME TO t1b",
        "TRUNCATE TABLE t1b",
        "CREATE VIEW v1 AS SELECT id, v FROM t1b",
        "CREATE TABLE other.t3 (a INT)",
        "DROP VIEW v1",
        "DROP TABLE other.t2moved, other.t3",
        "DROP TABLE t1b",
        "DROP DATABASE other",
        "CREATE TABLE t4 (id INT PRIMARY KEY)",
      ];
      for (const sql of statements) {
        await c.query(sql);
        const patched = await schemaOf(warm);
        const whole = await schemaOf(new Catalog(client));
        assert.equal(patched.version, whole.version, sql);
        assert.deepEqual(contents(patched), contents(whole), sql);
      }
      // Table and view DDL was loaded by diffs; only database DDL needed whole loads.
      assert.ok(warm.diffLoadCount >= statements.length - 6,
        `${warm.diffLoadCount} of ${warm.loadCount} loads by diffs`);
      assert.equal(node.storage.catalog.diffLoadCount > 0, true);
    });
});
