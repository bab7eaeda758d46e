/**
 * Online DDL end to end on two SQL nodes (schema lease 2 s): ADD INDEX / ADD UNIQUE while
 * another connection keeps inserting, updating and deleting, then ADMIN CHECK TABLE
 * (index = table); ADMIN CHECK catching a missing entry; a unique backfill over duplicates
 * rolling back with 1062; ADMIN SHOW DDL JOBS with row counts; DDL on one table not
 * failing a transaction on another; column changes, renames and SHOW CREATE TABLE; and
 * the DDL owner stopped in the middle of a job, the other node finishing it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type mysql from "mysql2/promise";
import type { DdlJob } from "../../src/sql/mod.ts";
import { indexEntry } from "../../src/sql/table/table.ts";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";
import { rejects, rows } from "./test_sql_helpers.ts";

let cluster: SqlCluster;
let first: SqlNodeHandle;
let second: SqlNodeHandle;
/** What each node's owner runs before each step (the takeover test blocks in it). */
const beforeStep: ((job: DdlJob) => Promise<void>)[] = [() => Promise.resolve(),
  () => Promise.resolve()];

const ddl = { leaseMs: 2_000, backfillBatchRows: 40, backfillWorkers: 3 };

before(async () => {
  cluster = await startSqlCluster();
  first = await cluster.startNode({ ddl: { ...ddl, beforeStep: (job) => beforeStep[0]!(job) } });
  second = await cluster.startNode({ ddl: { ...ddl,
    beforeStep: (job) => beforeStep[1]!(job) } });
}, { timeout: 30_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

/** Errors a concurrent writer retries: schema changed/expired, conflicts, lock waits. */
const retryable = new Set([8027, 8028, 9007, 1213, 1205]);

/**
 * Inserts, updates and deletes rows of `table` in small explicit transactions (each
 * spans a scan, so DDL steps land inside them) until `stop.done`; counts the outcomes.
 */
async function writeLoop(c: mysql.Connection, table: string, stop: { done: boolean }):
  Promise<{ committed: number; retried: number }> {
  let committed = 0;
  let retried = 0;
  for (let i = 0; !stop.done; i++) {
    const statements = i % 2 === 0
      ? [`INSERT INTO ${table} VALUES (${1000 + i}, ${i % 17}, 'n${i}')`,
        `SELECT COUNT(*) FROM ${table} WHERE v > 3`,
        `UPDATE ${table} SET v = v + 1 WHERE id = ${(i * 7) % 300 + 1}`]
      : [`DELETE FROM ${table} WHERE id = ${1000 + i - 3}`,
        `SELECT COUNT(*) FROM ${table} WHERE v > 3`,
        `UPDATE ${table} SET v = v + 2, s = 'u${i}' WHERE id = ${(i * 11) % 300 + 1}`];
    try {
      await c.query("BEGIN");
      for (const sql of statements) await c.query(sql);
      await c.query("COMMIT");
      committed++;
    } catch (error: unknown) {
      const errno = (error as { errno?: number }).errno;
      if (errno === undefined || !retryable.has(errno)) throw error;
      await c.query("ROLLBACK");
      retried++;
    }
  }
  return { committed, retried };
}

async function fillTable(c: mysql.Connection, table: string, count: number): Promise<void> {
  await c.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, v INT, s VARCHAR(20))`);
  const values = Array.from({ length: count }, (_, k) => `(${k + 1}, ${(k + 1) % 17}, ` +
    `'s${k + 1}')`);
  await c.query(`INSERT INTO ${table} VALUES ${values.join(", ")}`);
}

describe("online DDL", { timeout: 60_000 }, () => {
  it("ADD INDEX and ADD UNIQUE under concurrent writes complete, and index = table",
    async () => {
      const a = await first.connect("test");
      const b = await second.connect("test");
      await fillTable(a, "busy", 300);
      const stop = { done: false };
      const writer = writeLoop(b, "busy", stop);
      try {
        await a.query("CREATE INDEX iv ON busy (v)");
        await a.query("ALTER TABLE busy ADD UNIQUE KEY us (s)");
      } finally {
        stop.done = true;
      }
      const written = await writer;
      assert.ok(written.committed > 0, "the writer committed nothing");
      await a.query("ADMIN CHECK TABLE busy");
      await b.query("ADMIN CHECK INDEX busy iv");
      await b.query("ADMIN CHECK INDEX busy us");
      const create = (await rows(b, "SHOW CREATE TABLE busy"))[0]!["Create Table"] as string;
      assert.match(create, /KEY `iv` \(`v`\)/);
      assert.match(create, /UNIQUE KEY `us` \(`s`\)/);
    });

  it("ADMIN CHECK finds an index entry missing (8003); ADMIN SHOW DDL JOBS shows the job " +
    "with its row count", async () => {
    const a = await first.connect("test");
    await fillTable(a, "checked", 123);
    await a.query("ALTER TABLE checked ADD INDEX cv (v)");
    await a.query("ADMIN CHECK TABLE checked");
    const jobs = await rows(a, "ADMIN SHOW DDL JOBS");
    const job = jobs.find((j) => j.TABLE_NAME === "checked" && j.JOB_TYPE === "add index");
    assert.ok(job !== undefined, JSON.stringify(jobs));
    assert.equal(job.ROW_COUNT, "123");
    assert.equal(job.STATE, "synced");
    assert.equal(job.SCHEMA_STATE, "public");
    assert.equal(job.DB_NAME, "test");
    // Remove one entry behind the SQL layer's back.
    const storage = first.storage;
    const txn = await storage.client.begin();
    const table = (await storage.catalog.schemaAt(txn)).table("test", "checked")!;
    const index = table.indexes.find((i) => i.name === "cv")!;
    txn.delete(indexEntry(table, index, { handle: 7n,
      values: [{ kind: "int", value: 7n }, { kind: "int", value: 7n }, null] }).key);
    await txn.commit();
    await rejects(a.query("ADMIN CHECK TABLE checked"), 8003);
    await rejects(a.query("ADMIN CHECK INDEX checked cv"), 8003);
    await rejects(a.query("ADMIN CHECK INDEX checked nope"), 1176);
  });

  it("a unique index over duplicates fails with 1062 and is rolled back", async () => {
    const a = await first.connect("test");
    await fillTable(a, "dups", 50);
    await rejects(a.query("CREATE UNIQUE INDEX uv ON dups (v)"), 1062);
    const create = (await rows(a, "SHOW CREATE TABLE dups"))[0]!["Create Table"] as string;
    assert.doesNotMatch(create, /uv/);
    const jobs = await rows(a, "ADMIN SHOW DDL JOBS");
    assert.equal(jobs.find((j) => j.TABLE_NAME === "dups" && j.JOB_TYPE === "add index")
      ?.STATE, "rollback done");
    await a.query("ADMIN CHECK TABLE dups");
    // The name is free again, and a non-unique index over the same column works.
    await a.query("CREATE INDEX uv ON dups (v)");
    await rejects(a.query("CREATE INDEX uv ON dups (s)"), 1061);
    await a.query("DROP INDEX uv ON dups");
    await rejects(a.query("DROP INDEX uv ON dups"), 1091);
    await a.query("ADMIN CHECK TABLE dups");
  });

  it("DDL on one table does not fail a transaction on another; DDL on its own does (8028)",
    async () => {
      const a = await first.connect("test");
      const b = await second.connect("test");
      await a.query("CREATE TABLE ta (id INT PRIMARY KEY, v INT)");
      await a.query("CREATE TABLE tb (id INT PRIMARY KEY, v INT)");
      await b.query("BEGIN");
      await b.query("INSERT INTO tb VALUES (1, 1)");
      await a.query("CREATE INDEX iva ON ta (v)");
      await a.query("ALTER TABLE ta ADD COLUMN w INT DEFAULT 5");
      await a.query("CREATE TABLE tc (id INT)");
      await b.query("COMMIT");
      await b.query("BEGIN");
      await b.query("INSERT INTO ta VALUES (1, 1, 1)");
      await a.query("CREATE INDEX iva2 ON ta (w)");
      await rejects(b.query("COMMIT"), 8028);
      assert.deepEqual(await rows(a, "SELECT COUNT(*) AS n FROM ta"), [{ n: 0 }]);
      assert.deepEqual(await rows(a, "SELECT id FROM tb"), [{ id: 1 }]);
    });

  it("adds, changes, drops and renames columns and tables, as SHOW CREATE TABLE shows",
    async () => {
      const a = await first.connect("test");
      const b = await second.connect("test");
      await a.query("CREATE TABLE cols (id INT PRIMARY KEY, v INT, name VARCHAR(5))");
      await a.query("INSERT INTO cols VALUES (1, 10, 'a'), (2, 20, 'b')");
      await a.query("ALTER TABLE cols ADD COLUMN w INT NOT NULL DEFAULT 7");
      await a.query("ALTER TABLE cols ADD COLUMN note VARCHAR(10) AFTER id");
      assert.deepEqual(await rows(b, "SELECT id, w, note FROM cols ORDER BY id"),
        [{ id: 1, w: 7, note: null }, { id: 2, w: 7, note: null }]);
      await a.query("ALTER TABLE cols MODIFY COLUMN v BIGINT");
      await a.query("ALTER TABLE cols CHANGE COLUMN name label VARCHAR(20)");
      await rejects(a.query("ALTER TABLE cols MODIFY COLUMN label VARCHAR(2)"), 1235);
      await rejects(a.query("ALTER TABLE cols MODIFY COLUMN v INT"), 1235);
      await a.query("ALTER TABLE cols DROP COLUMN note");
      // Rows written before ADD COLUMN keep reading its original default.
      await a.query("ALTER TABLE cols ALTER COLUMN w SET DEFAULT 9");
      await rejects(a.query("ALTER TABLE cols DROP COLUMN note"), 1091);
      await a.query("INSERT INTO cols (id, v, label) VALUES (3, 30, 'long label')");
      await a.query("ALTER TABLE cols RENAME COLUMN label TO title");
      assert.deepEqual(await rows(b, "SELECT * FROM cols ORDER BY id"), [
        { id: 1, v: 10, title: "a", w: 7 }, { id: 2, v: 20, title: "b", w: 7 },
        { id: 3, v: 30, title: "long label", w: 9 }]);
      await a.query("RENAME TABLE cols TO cols2");
      await a.query("ALTER TABLE cols2 RENAME TO cols3");
      await rejects(b.query("SELECT * FROM cols"), 1146);
      const create = (await rows(b, "SHOW CREATE TABLE cols3"))[0]!["Create Table"] as string;
      assert.equal(create, "CREATE TABLE `cols3` (\n" +
        "  `id` int NOT NULL,\n" +
        "  `v` bigint DEFAULT NULL,\n" +
        "  `title` varchar(20) DEFAULT NULL,\n" +
        "  `w` int NOT NULL DEFAULT 9,\n" +
        "  PRIMARY KEY (`id`)\n" +
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci");
      await rejects(a.query("ALTER TABLE cols3 ADD COLUMN w INT"), 1060);
      await a.query("CREATE TABLE cols_taken (id INT)");
      await rejects(a.query("RENAME TABLE cols3 TO cols_taken"), 1050);
    });

  it("a DDL owner stopped in the middle of a job: the other node takes over and finishes it",
    async () => {
      await fillTable(await first.connect("test"), "handover", 200);
      // The first node started first and is the owner unless a stall cost it the lease.
      const ownerIndex = first.storage.ddl.isOwner ? 0 : 1;
      const [owner, survivor] = ownerIndex === 0 ? [first, second] : [second, first];
      let reached!: () => void;
      const reachedP = new Promise<void>((resolve) => {
        reached = resolve;
      });
      let release!: () => void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      beforeStep[ownerIndex] = (job) => {
        if (job.args.kind !== "addIndex" || job.schemaState !== "writeOnly") {
          return Promise.resolve();
        }
        reached();
        return released;
      };
      const s = await survivor.connect("test");
      const stepsBefore = survivor.storage.ddl.stepsRun;
      const done = s.query("CREATE INDEX hv ON handover (v)");
      const winner = await Promise.race([reachedP.then(() => "reached"),
        done.then(() => "done")]);
      assert.equal(winner, "reached", "the owner changed before the job reached write-only");
      // Stopped as after a crash: its owner key and schema record stay until they expire.
      const closing = owner.storage.ddl.close({ deregister: false });
      const stop = { done: false };
      const writer = writeLoop(await survivor.connect("test"), "handover", stop);
      try {
        await done;
      } finally {
        stop.done = true;
        release();
        await closing;
      }
      await writer;
      assert.ok(survivor.storage.ddl.isOwner);
      assert.ok(survivor.storage.ddl.stepsRun > stepsBefore, "the other node ran steps");
      await s.query("ADMIN CHECK TABLE handover");
      const jobs = await rows(s, "ADMIN SHOW DDL JOBS");
      assert.equal(jobs.find((j) => j.TABLE_NAME === "handover")?.STATE, "synced");
      // The stopped node no longer reloads the schema: once its lease is over it refuses
      // to commit (8027, retryable) rather than write with a schema it cannot vouch for.
      const stale = await owner.connect("test");
      for (let i = 0; ; i++) {
        try {
          await stale.query(`INSERT INTO handover VALUES (${5000 + i}, 1, 'stale${i}')`);
        } catch (error: unknown) {
          assert.equal((error as { errno?: number }).errno, 8027, String(error));
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await s.query("ADMIN CHECK TABLE handover");
    });
});
