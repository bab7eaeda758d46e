/**
 * Online DDL beyond ADD INDEX, end to end on one SQL node: DML run in every F1 state of
 * an ADD / DROP COLUMN job (the DDL owner's `beforeStep` hook pauses the job in each
 * state while another connection writes), DROP COLUMN of an indexed column, several
 * changes in one ALTER TABLE, ALTER TABLE ADD/DROP FOREIGN KEY and CHECK, and the
 * delete-range of dropped tables and indexes.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type mysql from "mysql2/promise";
import type { DdlJob } from "../../src/sql/mod.ts";
import { readSchemaVersion } from "../../src/sql/ddl/meta.ts";
import { droppedRange } from "../../src/sql/ddl/backfill.ts";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";
import { rejects, rows } from "./test_sql_helpers.ts";

let cluster: SqlCluster;
let node: SqlNodeHandle;
/** What the owner runs before each step of a job (tests set it, and reset it after). */
let beforeStep: (job: DdlJob) => Promise<void> = () => Promise.resolve();

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode({ ddl: { leaseMs: 2_000, backfillBatchRows: 16,
    beforeStep: (job) => beforeStep(job) } });
}, { timeout: 30_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

/** Waits until the node runs the latest schema version (the owner waits after its hook). */
async function synced(): Promise<void> {
  const txn = await node.storage.client.begin();
  const version = await readSchemaVersion(txn);
  await txn.rollback();
  await node.storage.ddl.syncer.waitForVersion(version);
}

/** Waits (polling, bounded) until `condition` holds. */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; !await condition(); i++) {
    assert.ok(i < 400, "the condition never held");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The id of table `name` of `test`. */
async function tableId(name: string): Promise<number> {
  const txn = await node.storage.client.begin();
  try {
    return (await node.storage.catalog.schemaAt(txn)).table("test", name)!.id;
  } finally {
    await txn.rollback();
  }
}

/** The number of KV keys (rows and index entries) of table `name` of `test`. */
async function keyCount(name: string): Promise<number> {
  return tableKeyCount(await tableId(name));
}

async function tableKeyCount(id: number): Promise<number> {
  const range = droppedRange(id, null);
  const txn = await node.storage.client.begin();
  try {
    return (await txn.scan(range.start, range.end)).length;
  } finally {
    await txn.rollback();
  }
}

/**
 * Runs `ddl` on `c` while `atState` runs before each step of its job, given the job's
 * schema state then (`none` before the first step); returns the states seen.
 */
async function runPaused(c: mysql.Connection, ddl: string,
  atState: (state: string) => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  let failed: unknown = null;
  beforeStep = async (job) => {
    if (!ddl.includes(` ${job.tableName} `) || failed !== null) return;
    seen.push(job.schemaState);
    await synced();
    // A failed check must not fail the job: it is reported after the DDL returns.
    await atState(job.schemaState).catch((error: unknown) => {
      failed = error;
    });
  };
  try {
    await c.query(ddl);
  } finally {
    beforeStep = () => Promise.resolve();
  }
  if (failed !== null) throw failed;
  return seen;
}

describe("online DDL: column states, indexed columns, several changes, constraints",
  { timeout: 60_000 }, () => {
    it("ADD COLUMN: in every state before public the column is invisible, and rows " +
      "written then read its default once it is public", async () => {
      const a = await node.connect("test");
      const w = await node.connect("test");
      await a.query("CREATE TABLE addc (id INT PRIMARY KEY, v INT, UNIQUE KEY uv (v))");
      await a.query("INSERT INTO addc VALUES (1, 1), (2, 2)");
      let n = 10;
      const seen = await runPaused(a, "ALTER TABLE addc ADD COLUMN c INT NOT NULL DEFAULT 7",
        async () => {
          n++;
          await w.query(`INSERT INTO addc VALUES (${n}, ${n})`);
          await w.query(`INSERT INTO addc SET id = ${n + 100}, v = ${n + 100}`);
          await w.query(`INSERT INTO addc VALUES (${n}, 0) ON DUPLICATE KEY UPDATE v = v + 1000`);
          await w.query(`REPLACE INTO addc VALUES (${n + 100}, ${n + 200})`);
          await w.query("UPDATE addc SET v = v + 1000 WHERE id = 1");
          await w.query("DELETE FROM addc WHERE id = 2");
          assert.deepEqual(Object.keys((await rows(w, "SELECT * FROM addc"))[0]!), ["id", "v"]);
          await rejects(w.query("SELECT c FROM addc"), 1054);
          await rejects(w.query("UPDATE addc SET c = 1"), 1054);
          await rejects(w.query("UPDATE addc SET v = 1 WHERE c = 7"), 1054);
          await rejects(w.query("DELETE FROM addc ORDER BY c LIMIT 1"), 1054);
          await rejects(w.query(`INSERT INTO addc (id, v, c) VALUES (${n + 300}, 0, 1)`), 1054);
          await rejects(w.query(`INSERT INTO addc VALUES (${n}, 0) ` +
            "ON DUPLICATE KEY UPDATE c = 1"), 1054);
          await rejects(w.query(`INSERT INTO addc VALUES (${n + 300}, 0, 1)`), 1136);
        });
      assert.deepEqual(seen, ["none", "deleteOnly", "writeOnly", "writeReorg"]);
      const all = await rows(a, "SELECT id, v, c FROM addc ORDER BY id");
      assert.deepEqual(all, [{ id: 1, v: 4001, c: 7 },
        { id: 11, v: 1011, c: 7 }, { id: 12, v: 1012, c: 7 }, { id: 13, v: 1013, c: 7 },
        { id: 14, v: 1014, c: 7 }, { id: 111, v: 211, c: 7 }, { id: 112, v: 212, c: 7 },
        { id: 113, v: 213, c: 7 }, { id: 114, v: 214, c: 7 }]);
      await a.query("ADMIN CHECK TABLE addc");
    });

    it("DROP COLUMN: once it leaves public the column is invisible, a NOT NULL one without " +
      "a default no longer blocks inserts, and no state loses a row", async () => {
      const a = await node.connect("test");
      const w = await node.connect("test");
      await a.query("CREATE TABLE dropc (id INT PRIMARY KEY, d INT NOT NULL, v INT)");
      await a.query("INSERT INTO dropc VALUES (1, 10, 1), (2, 20, 2)");
      let n = 10;
      const seen = await runPaused(a, "ALTER TABLE dropc DROP COLUMN d", async (state) => {
        n++;
        if (state === "none") {
          await w.query(`INSERT INTO dropc VALUES (${n}, 0, ${n})`);
          return;
        }
        await w.query(`INSERT INTO dropc VALUES (${n}, ${n})`);
        await w.query(`INSERT INTO dropc (id, v) VALUES (${n + 100}, ${n})`);
        await w.query("UPDATE dropc SET v = v + 1 WHERE id = 1");
        assert.deepEqual(Object.keys((await rows(w, "SELECT * FROM dropc"))[0]!), ["id", "v"]);
        await rejects(w.query("SELECT d FROM dropc"), 1054);
        await rejects(w.query("UPDATE dropc SET d = 1"), 1054);
        await rejects(w.query("DELETE FROM dropc WHERE d = 10"), 1054);
      });
      assert.deepEqual(seen, ["none", "writeOnly", "deleteOnly"]);
      assert.deepEqual(await rows(a, "SELECT * FROM dropc ORDER BY id"), [
        { id: 1, v: 3 }, { id: 2, v: 2 }, { id: 11, v: 11 }, { id: 12, v: 12 },
        { id: 13, v: 13 }, { id: 112, v: 12 }, { id: 113, v: 13 }]);
      // The column's name is free again, with none of the old values.
      await a.query("ALTER TABLE dropc ADD COLUMN d INT");
      assert.deepEqual(await rows(a, "SELECT COUNT(*) AS n FROM dropc WHERE d IS NULL"),
        [{ n: 7 }]);
    });

    it("DROP COLUMN drops the indexes of the column alone with it and shortens the others; " +
      "a column a foreign key, a CHECK or the row handle needs is refused", async () => {
      const a = await node.connect("test");
      await a.query("CREATE TABLE dropi (id INT PRIMARY KEY, k INT, u INT, x INT, y INT, " +
        "KEY ik (k), UNIQUE KEY uu (u), KEY ixy (x, y), CONSTRAINT cy CHECK (y > 0))");
      await a.query("INSERT INTO dropi VALUES (1, 1, 1, 1, 1), (2, 2, 2, 2, 2)");
      const before = await keyCount("dropi");
      await a.query("ALTER TABLE dropi DROP COLUMN k");
      await a.query("ALTER TABLE dropi DROP COLUMN u");
      const create = (await rows(a, "SHOW CREATE TABLE dropi"))[0]!["Create Table"] as string;
      assert.doesNotMatch(create, /`ik`|`uu`|`k`|`u`/);
      assert.match(create, /KEY `ixy` \(`x`,`y`\)/);
      await a.query("ADMIN CHECK TABLE dropi");
      await a.query("INSERT INTO dropi VALUES (3, 3, 3)");
      assert.deepEqual(await rows(a, "SELECT * FROM dropi WHERE x = 3"), [{ id: 3, x: 3, y: 3 }]);
      // The dropped indexes' entries are deleted afterwards (delete-range).
      await waitFor(async () => await keyCount("dropi") === before - 4 + 2);
      await rejects(a.query("ALTER TABLE dropi DROP COLUMN id"), 8200);
      await rejects(a.query("ALTER TABLE dropi DROP COLUMN y"), 3959);
      // An index over several columns loses the dropped one (rebuilt, same name).
      await a.query("ALTER TABLE dropi ADD COLUMN z INT DEFAULT 1, ADD UNIQUE KEY uxz (x, z)");
      await rejects(a.query("ALTER TABLE dropi DROP COLUMN x"), 1062);
      await a.query("UPDATE dropi SET z = id");
      await a.query("ALTER TABLE dropi DROP COLUMN x");
      const shortened = (await rows(a, "SHOW CREATE TABLE dropi"))[0]!["Create Table"] as string;
      assert.match(shortened, /\n {2}KEY `ixy` \(`y`\),\n {2}UNIQUE KEY `uxz` \(`z`\),\n/);
      await a.query("ADMIN CHECK TABLE dropi");
      await rejects(a.query("INSERT INTO dropi VALUES (4, 4, 3)"), 1062);
      await a.query("ALTER TABLE dropi RENAME INDEX uxz TO uz");
      await rejects(a.query("ALTER TABLE dropi RENAME INDEX uxz TO uz2"), 1176);
      await rejects(a.query("ALTER TABLE dropi RENAME INDEX uz TO ixy"), 1061);
      await rejects(a.query("INSERT INTO dropi VALUES (4, 4, 3)"), 1062);
      await a.query("CREATE TABLE fkp (id INT PRIMARY KEY, r INT, UNIQUE KEY ur (r))");
      await a.query("CREATE TABLE fkc (id INT PRIMARY KEY, pr INT, " +
        "CONSTRAINT fc FOREIGN KEY (pr) REFERENCES fkp (r))");
      await rejects(a.query("ALTER TABLE fkc DROP COLUMN pr"), 1828);
      await rejects(a.query("ALTER TABLE fkp DROP COLUMN r"), 1829);
      await rejects(a.query("ALTER TABLE fkp DROP INDEX ur"), 1553);
      await rejects(a.query("ALTER TABLE fkc DROP INDEX fc"), 1553);
    });

    it("delete-range: the keys of dropped and truncated tables and of dropped indexes are " +
      "deleted after the drop", async () => {
      const a = await node.connect("test");
      const fill = async (name: string): Promise<number> => {
        await a.query(`CREATE TABLE ${name} (id INT PRIMARY KEY, v INT, KEY iv (v))`);
        const values = Array.from({ length: 1500 }, (_, k) => `(${k}, ${k % 7})`);
        await a.query(`INSERT INTO ${name} VALUES ${values.join(", ")}`);
        const id = await tableId(name);
        assert.equal(await tableKeyCount(id), 3000);
        return id;
      };
      const dropped = await fill("dr_drop");
      const truncated = await fill("dr_trunc");
      const indexed = await fill("dr_index");
      await a.query("CREATE DATABASE dr_db");
      await a.query("CREATE TABLE dr_db.t (id INT PRIMARY KEY)");
      await a.query("INSERT INTO dr_db.t VALUES (1), (2)");
      const inDb = (await node.storage.catalog.schemaAt(await node.storage.client.begin()))
        .table("dr_db", "t")!.id;
      assert.equal(await tableKeyCount(inDb), 2);
      await a.query("DROP DATABASE dr_db");
      await a.query("DROP TABLE dr_drop");
      await a.query("TRUNCATE TABLE dr_trunc");
      await a.query("DROP INDEX iv ON dr_index");
      await waitFor(async () => await tableKeyCount(dropped) === 0 &&
        await tableKeyCount(inDb) === 0 &&
        await tableKeyCount(truncated) === 0 && await tableKeyCount(indexed) === 1500);
      await waitFor(async () => await node.storage.ddl.deleteRangesPending() === 0);
      assert.deepEqual(await rows(a, "SELECT COUNT(*) AS n FROM dr_index"), [{ n: 1500 }]);
      assert.deepEqual(await rows(a, "SELECT COUNT(*) AS n FROM dr_trunc"), [{ n: 0 }]);
    });

    it("several changes in one ALTER TABLE run in order, and one the catalog refuses " +
      "changes nothing", async () => {
      const a = await node.connect("test");
      await a.query("CREATE TABLE multi (id INT PRIMARY KEY, d INT, v INT)");
      await a.query("INSERT INTO multi VALUES (1, 10, 100), (2, 20, 200)");
      await a.query("ALTER TABLE multi ADD COLUMN c INT DEFAULT 3, ADD INDEX ic (c), " +
        "DROP COLUMN d");
      assert.deepEqual(await rows(a, "SELECT * FROM multi WHERE c = 3 ORDER BY id"),
        [{ id: 1, v: 100, c: 3 }, { id: 2, v: 200, c: 3 }]);
      await a.query("ADMIN CHECK TABLE multi");
      await rejects(a.query("ALTER TABLE multi ADD COLUMN e INT, DROP COLUMN nope"), 1091);
      await rejects(a.query("ALTER TABLE multi ADD INDEX iv (v), ADD INDEX iv (c)"), 1061);
      await rejects(a.query("ALTER TABLE multi ADD COLUMN e INT, ADD COLUMN e INT"), 1060);
      await rejects(a.query("ALTER TABLE multi DROP COLUMN v, DROP COLUMN id"), 8200);
      await rejects(a.query("ALTER TABLE multi DROP COLUMN v, ADD INDEX iv (v)"), 1072);
      const create = (await rows(a, "SHOW CREATE TABLE multi"))[0]!["Create Table"] as string;
      assert.equal(create, "CREATE TABLE `multi` (\n" +
        "  `id` int NOT NULL,\n" +
        "  `v` int DEFAULT NULL,\n" +
        "  `c` int DEFAULT 3,\n" +
        "  PRIMARY KEY (`id`),\n" +
        "  KEY `ic` (`c`)\n" +
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci");
      await a.query("ALTER TABLE multi ADD COLUMN (p INT, q INT DEFAULT 5), DROP INDEX ic, " +
        "RENAME TO multi2, ADD UNIQUE KEY uq (id, q)");
      assert.deepEqual(await rows(a, "SELECT id, p, q FROM multi2 ORDER BY id"),
        [{ id: 1, p: null, q: 5 }, { id: 2, p: null, q: 5 }]);
      await a.query("ADMIN CHECK TABLE multi2");
      await rejects(a.query("ALTER TABLE multi2 DROP PRIMARY KEY"), 8200);
      await a.query("CREATE TABLE npk (s VARCHAR(5) PRIMARY KEY)");
      await a.query("ALTER TABLE npk DROP PRIMARY KEY");
      await rejects(a.query("ALTER TABLE npk DROP PRIMARY KEY"), 1091);
      // Keys and CHECKs in a new column's definition, an index a foreign key then uses.
      await a.query("ALTER TABLE multi2 ADD COLUMN u INT NULL UNIQUE CHECK (u > 0), " +
        "ADD INDEX iuq (u, q), ADD FOREIGN KEY (u, q) REFERENCES multi2 (u, q)");
      const keys = (await rows(a, "SHOW CREATE TABLE multi2"))[0]!["Create Table"] as string;
      assert.match(keys, /UNIQUE KEY `u` \(`u`\)/);
      assert.match(keys, /KEY `iuq` \(`u`,`q`\)/);
      assert.match(keys, /CONSTRAINT `multi2_ibfk_1` FOREIGN KEY \(`u`, ?`q`\)/);
      assert.match(keys, /CONSTRAINT `multi2_chk_1` CHECK/);
      assert.equal(keys.match(/KEY/g)?.length, 5, keys);
      await rejects(a.query("UPDATE multi2 SET u = 0 WHERE id = 1"), 3819);
      await a.query("ADMIN CHECK TABLE multi2");
    });

    it("ALTER TABLE ADD/DROP FOREIGN KEY: existing rows are checked (1452) unless " +
      "foreign_key_checks = 0, and an index is added for it", async () => {
      const a = await node.connect("test");
      await a.query("CREATE TABLE par (id INT PRIMARY KEY)");
      await a.query("INSERT INTO par VALUES (1), (2)");
      await a.query("CREATE TABLE chi (id INT PRIMARY KEY, p INT)");
      await a.query("INSERT INTO chi VALUES (1, 1), (2, 3), (3, NULL)");
      const add = "ALTER TABLE chi ADD CONSTRAINT fk FOREIGN KEY (p) REFERENCES par (id)";
      await rejects(a.query(add), 1452);
      let create = (await rows(a, "SHOW CREATE TABLE chi"))[0]!["Create Table"] as string;
      assert.doesNotMatch(create, /CONSTRAINT/);
      await a.query("DELETE FROM chi WHERE id = 2");
      await a.query(add);
      create = (await rows(a, "SHOW CREATE TABLE chi"))[0]!["Create Table"] as string;
      assert.match(create, /KEY `fk` \(`p`\)/);
      assert.match(create, /CONSTRAINT `fk` FOREIGN KEY \(`p`\) REFERENCES `par` \(`id`\)/);
      await a.query("ADMIN CHECK TABLE chi");
      await rejects(a.query("INSERT INTO chi VALUES (4, 9)"), 1452);
      await rejects(a.query("DELETE FROM par WHERE id = 1"), 1451);
      await rejects(a.query("ALTER TABLE chi ADD CONSTRAINT fk FOREIGN KEY (p) " +
        "REFERENCES par (id)"), 1826);
      await rejects(a.query("ALTER TABLE chi ADD FOREIGN KEY (p) REFERENCES nope (id)"), 1824);
      await a.query("ALTER TABLE chi DROP FOREIGN KEY fk");
      await rejects(a.query("ALTER TABLE chi DROP FOREIGN KEY fk"), 1091);
      await a.query("INSERT INTO chi VALUES (4, 9)");
      await a.query("SET foreign_key_checks = 0");
      await a.query("ALTER TABLE chi ADD FOREIGN KEY (p) REFERENCES par (id)");
      await a.query("SET foreign_key_checks = 1");
      create = (await rows(a, "SHOW CREATE TABLE chi"))[0]!["Create Table"] as string;
      assert.match(create, /CONSTRAINT `chi_ibfk_1` FOREIGN KEY \(`p`\) REFERENCES `par`/);
      await rejects(a.query("INSERT INTO chi VALUES (5, 8)"), 1452);
    });

    it("ALTER TABLE ADD/DROP CHECK: existing rows are checked (3819), writes during the " +
      "check already obey it, NOT ENFORCED checks nothing", async () => {
      const a = await node.connect("test");
      const w = await node.connect("test");
      await a.query("CREATE TABLE chk (id INT PRIMARY KEY, v INT)");
      await a.query("INSERT INTO chk VALUES (1, 5), (2, -5)");
      await rejects(a.query("ALTER TABLE chk ADD CONSTRAINT pos CHECK (v > 0)"), 3819);
      await a.query("DELETE FROM chk WHERE id = 2");
      let n = 10;
      const seen = await runPaused(a, "ALTER TABLE chk ADD CONSTRAINT pos CHECK (v > 0)",
        async (state) => {
          n++;
          if (state !== "writeOnly") return;
          await rejects(w.query(`INSERT INTO chk VALUES (${n}, -1)`), 3819);
          await w.query(`INSERT INTO chk VALUES (${n}, 1)`);
          const create = (await rows(w, "SHOW CREATE TABLE chk"))[0]!["Create Table"] as string;
          assert.doesNotMatch(create, /CHECK/);
        });
      assert.deepEqual(seen, ["none", "writeOnly", "writeOnly"]);
      await rejects(a.query("INSERT INTO chk VALUES (3, 0)"), 3819);
      await rejects(a.query("ALTER TABLE chk ADD CONSTRAINT pos CHECK (v > 1)"), 3822);
      await rejects(a.query("ALTER TABLE chk ADD CHECK (nope > 1)"), 3820);
      await a.query("ALTER TABLE chk ADD CHECK (v > 100) NOT ENFORCED");
      const create = (await rows(a, "SHOW CREATE TABLE chk"))[0]!["Create Table"] as string;
      assert.match(create,
        /CONSTRAINT `chk_chk_1` CHECK \(\(`?v`? > 100\)\) \/\*!80016 NOT ENFORCED/);
      assert.match(create, /CONSTRAINT `pos` CHECK \(\(`?v`? > 0\)\)/);
      await a.query("ALTER TABLE chk DROP CHECK pos");
      await rejects(a.query("ALTER TABLE chk DROP CHECK pos"), 3821);
      await a.query("INSERT INTO chk VALUES (3, 0)");
    });

    it("ADD COLUMN, DROP COLUMN (indexed) and ADD CHECK under concurrent writes keep index " +
      "= table and every row right", async () => {
      const a = await node.connect("test");
      const w = await node.connect("test");
      await a.query("CREATE TABLE busy (id INT PRIMARY KEY, v INT, s VARCHAR(20), d INT, " +
        "KEY id_d (d), KEY ivd (v, d))");
      const values = Array.from({ length: 200 }, (_, k) => `(${k + 1}, ${k % 13}, 's${k}', ${k})`);
      await a.query(`INSERT INTO busy VALUES ${values.join(", ")}`);
      const stop = { done: false };
      const writer = (async (): Promise<number> => {
        let committed = 0;
        for (let i = 0; !stop.done; i++) {
          try {
            await w.query("BEGIN");
            await w.query(`INSERT INTO busy (id, v, s) VALUES (${1000 + i}, ${i % 11}, 'n${i}')`);
            await w.query("SELECT COUNT(*) FROM busy WHERE v > 3");
            await w.query(`UPDATE busy SET v = v + 1 WHERE id = ${(i * 7) % 200 + 1}`);
            await w.query(`DELETE FROM busy WHERE id = ${1000 + i - 2}`);
            await w.query("COMMIT");
            committed++;
          } catch (error: unknown) {
            const errno = (error as { errno?: number }).errno ?? 0;
            if (![8027, 8028, 9007, 1213, 1205].includes(errno)) throw error;
            await w.query("ROLLBACK");
          }
        }
        return committed;
      })();
      try {
        await a.query("ALTER TABLE busy ADD COLUMN w INT NOT NULL DEFAULT 4");
        await a.query("ALTER TABLE busy DROP COLUMN d");
        await a.query("ALTER TABLE busy ADD CONSTRAINT cv CHECK (v >= 0)");
      } finally {
        stop.done = true;
      }
      assert.ok(await writer > 0, "the writer committed nothing");
      await a.query("ADMIN CHECK TABLE busy");
      assert.deepEqual(await rows(a, "SELECT COUNT(*) AS n FROM busy WHERE w <> 4 OR v < 0"),
        [{ n: 0 }]);
      const create = (await rows(a, "SHOW CREATE TABLE busy"))[0]!["Create Table"] as string;
      assert.match(create, /KEY `ivd` \(`v`\)/);
      assert.doesNotMatch(create, /`d`|id_d/);
    });
  });
