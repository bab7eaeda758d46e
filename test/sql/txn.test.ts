/**
 * SQL transactions end to end (mysql2 against an in-process cluster): pessimistic by
 * default with no lost updates for `SET n = n + 1` and read-FOR-UPDATE-then-write, FOR
 * UPDATE blocking then proceeding, deadlock 1213 rolling back the whole transaction, lock
 * wait timeout 1205 rolling back the statement only, NOWAIT 3572, optimistic mode and BEGIN
 * OPTIMISTIC/PESSIMISTIC, REPEATABLE READ vs READ COMMITTED, WITH CONSISTENT SNAPSHOT,
 * savepoints over writes, READ ONLY 1792, SERIALIZABLE refused, SET TRANSACTION inside
 * a transaction 1568, and the transaction size limit 8004.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import mysql from "mysql2/promise";
import { createMySqlServer, createSessionFactory, openSqlStorage, serverVersionDefault }
  from "../../src/sql/mod.ts";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";
import { rejects, rows } from "./test_sql_helpers.ts";

let cluster: SqlCluster;
let node: SqlNodeHandle;
let tableCount = 0;

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
}, { timeout: 30_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

/** A fresh table `name` (id INT PRIMARY KEY, n INT) with rows (id, 0) for `ids`. */
async function counterTable(c: mysql.Connection, ids: readonly number[]): Promise<string> {
  const name = `t${++tableCount}`;
  await c.query(`CREATE TABLE ${name} (id INT PRIMARY KEY, n INT)`);
  await c.query(`INSERT INTO ${name} VALUES ${ids.map((id) => `(${id}, 0)`).join(", ")}`);
  return name;
}

/** Waits until some store has a parked pessimistic lock request. */
async function lockWaiterParked(): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (cluster.kv.schedulers.some((s) => s.stats().lockWaiters > 0)) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error("no lock waiter parked");
}

/** Tracks whether a promise settled, without losing its rejection. */
function track<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  const tracked = promise.finally(() => {
    done = true;
  });
  tracked.catch(() => undefined);
  return { promise: tracked, settled: () => done };
}

describe("pessimistic transactions (the default)", { timeout: 60_000 }, () => {
  it("reports tidb_txn_mode pessimistic and REPEATABLE-READ by default", async () => {
    const c = await node.connect("test");
    assert.deepEqual(await rows(c, "SELECT @@tidb_txn_mode AS m, @@transaction_isolation AS i"),
      [{ m: "pessimistic", i: "REPEATABLE-READ" }]);
  });

  it("loses no update when two connections increment one row with SET n = n + 1", async () => {
    const a = await node.connect("test");
    const b = await node.connect("test");
    const t = await counterTable(a, [1]);
    const rounds = 15;
    const worker = async (c: mysql.Connection, explicit: boolean): Promise<void> => {
      for (let i = 0; i < rounds; i++) {
        if (explicit) await c.query("BEGIN");
        await c.query(`UPDATE ${t} SET n = n + 1 WHERE id = 1`);
        if (explicit) await c.query("COMMIT");
      }
    };
    await Promise.all([worker(a, true), worker(b, true)]);
    assert.deepEqual(await rows(a, `SELECT n FROM ${t}`), [{ n: 2 * rounds }]);
    // Autocommit statements too (optimistic first, rerun pessimistically on a conflict).
    await Promise.all([worker(a, false), worker(b, false)]);
    assert.deepEqual(await rows(a, `SELECT n FROM ${t}`), [{ n: 4 * rounds }]);
  });

  it("loses no update with SELECT ... FOR UPDATE followed by a write of the value read",
    async () => {
      const a = await node.connect("test");
      const b = await node.connect("test");
      const t = await counterTable(a, [1]);
      const rounds = 10;
      const worker = async (c: mysql.Connection): Promise<void> => {
        for (let i = 0; i < rounds; i++) {
          await c.query("BEGIN");
          const [row] = await rows(c, `SELECT n FROM ${t} WHERE id = 1 FOR UPDATE`);
          await c.query(`UPDATE ${t} SET n = ${Number(row!.n) + 1} WHERE id = 1`);
          await c.query("COMMIT");
        }
      };
      await Promise.all([worker(a), worker(b)]);
      assert.deepEqual(await rows(a, `SELECT n FROM ${t}`), [{ n: 2 * rounds }]);
    });

  it("blocks SELECT ... FOR UPDATE on a locked row until the holder commits, then reads " +
    "the new value", async () => {
    const a = await node.connect("test");
    const b = await node.connect("test");
    const t = await counterTable(a, [1]);
    await a.query("BEGIN");
    await a.query(`UPDATE ${t} SET n = 7 WHERE id = 1`);
    await b.query("BEGIN");
    // A plain read does not wait: it sees the snapshot.
    assert.deepEqual(await rows(b, `SELECT n FROM ${t} WHERE id = 1`), [{ n: 0 }]);
    const waiting = track(rows(b, `SELECT n FROM ${t} WHERE id = 1 FOR SHARE`));
    await lockWaiterParked();
    assert.equal(waiting.settled(), false);
    await a.query("COMMIT");
    assert.deepEqual(await waiting.promise, [{ n: 7 }]);
    // The snapshot of b's plain reads has not moved (REPEATABLE READ).
    assert.deepEqual(await rows(b, `SELECT n FROM ${t} WHERE id = 1`), [{ n: 0 }]);
    await b.query(`UPDATE ${t} SET n = n + 1 WHERE id = 1`);
    assert.deepEqual(await rows(b, `SELECT n FROM ${t} WHERE id = 1`), [{ n: 8 }]);
    await b.query("COMMIT");
  });

  it("fails one of two deadlocked transactions with 1213 and rolls it back whole", async () => {
    const a = await node.connect("test");
    const b = await node.connect("test");
    const t = await counterTable(a, [1, 2]);
    await a.query("BEGIN");
    await b.query("BEGIN");
    await a.query(`UPDATE ${t} SET n = 10 WHERE id = 1`);
    await b.query(`UPDATE ${t} SET n = 20 WHERE id = 2`);
    const first = track(a.query(`UPDATE ${t} SET n = 11 WHERE id = 2`));
    await lockWaiterParked();
    await rejects(b.query(`UPDATE ${t} SET n = 21 WHERE id = 1`), 1213,
      /^Deadlock found when trying to get lock; try restarting transaction$/);
    await first.promise;
    // b's transaction is gone: its COMMIT commits nothing, its write to row 2 is undone.
    await b.query("COMMIT");
    await a.query("COMMIT");
    assert.deepEqual(await rows(a, `SELECT id, n FROM ${t} ORDER BY id`),
      [{ id: 1, n: 10 }, { id: 2, n: 11 }]);
  });

  it("answers 1205 after innodb_lock_wait_timeout, rolling back only the statement",
    async () => {
      const a = await node.connect("test");
      const b = await node.connect("test");
      const t = await counterTable(a, [1, 2]);
      await b.query("SET SESSION innodb_lock_wait_timeout = 1");
      assert.deepEqual(await rows(b, "SELECT @@innodb_lock_wait_timeout AS w"), [{ w: 1 }]);
      await a.query("BEGIN");
      await a.query(`SELECT n FROM ${t} WHERE id = 1 FOR UPDATE`);
      await b.query("BEGIN");
      await b.query(`UPDATE ${t} SET n = 5 WHERE id = 2`);
      await rejects(b.query(`UPDATE ${t} SET n = n + 1`), 1205,
        /^Lock wait timeout exceeded; try restarting transaction$/);
      // The failed statement's write to row 2 is undone; the earlier one stays.
      assert.deepEqual(await rows(b, `SELECT id, n FROM ${t} ORDER BY id`),
        [{ id: 1, n: 0 }, { id: 2, n: 5 }]);
      await a.query("ROLLBACK");
      await b.query("COMMIT");
      assert.deepEqual(await rows(a, `SELECT id, n FROM ${t} ORDER BY id`),
        [{ id: 1, n: 0 }, { id: 2, n: 5 }]);
    });

  // Its first, optimistic attempt used to wait on the lock at prewrite for the whole
  // backoff (about 34 s, the holder's heartbeats keeping the lock alive) before the
  // pessimistic rerun that honours the timeout: the test's own deadline catches that.
  it("answers 1205 to an autocommit UPDATE of a locked row after the lock wait timeout",
    { timeout: 25_000 }, async () => {
      const a = await node.connect("test");
      const b = await node.connect("test");
      const t = await counterTable(a, [1]);
      await b.query("SET SESSION innodb_lock_wait_timeout = 1");
      await a.query("BEGIN");
      await a.query(`SELECT n FROM ${t} WHERE id = 1 FOR UPDATE`);
      await rejects(b.query(`UPDATE ${t} SET n = n + 1 WHERE id = 1`), 1205,
        /^Lock wait timeout exceeded; try restarting transaction$/);
      await a.query(`UPDATE ${t} SET n = 7 WHERE id = 1`);
      await a.query("COMMIT");
      assert.deepEqual(await rows(b, `SELECT id, n FROM ${t}`), [{ id: 1, n: 7 }]);
    });

  it("fails a locking read with NOWAIT at once with 3572 while the row is locked", async () => {
    const a = await node.connect("test");
    const b = await node.connect("test");
    const t = await counterTable(a, [1]);
    await a.query("BEGIN");
    await a.query(`SELECT n FROM ${t} WHERE id = 1 LOCK IN SHARE MODE`);
    await b.query("BEGIN");
    await rejects(b.query(`SELECT n FROM ${t} WHERE id = 1 FOR UPDATE NOWAIT`), 3572,
      /NOWAIT is set/);
    await rejects(b.query(`SELECT n FROM ${t} FOR UPDATE SKIP LOCKED`), 1235, /SKIP LOCKED/);
    await a.query("COMMIT");
    assert.deepEqual(await rows(b, `SELECT n FROM ${t} WHERE id = 1 FOR UPDATE NOWAIT`),
      [{ n: 0 }]);
    await b.query("COMMIT");
  });

  it("reads the latest committed row in DML while plain SELECTs keep the snapshot",
    async () => {
      const a = await node.connect("test");
      const b = await node.connect("test");
      const t = await counterTable(a, [1]);
      await a.query("BEGIN");
      assert.deepEqual(await rows(a, `SELECT n FROM ${t}`), [{ n: 0 }]);
      await b.query(`UPDATE ${t} SET n = 100 WHERE id = 1`);
      assert.deepEqual(await rows(a, `SELECT n FROM ${t}`), [{ n: 0 }]);
      await a.query(`UPDATE ${t} SET n = n + 1 WHERE id = 1`);
      await a.query("COMMIT");
      assert.deepEqual(await rows(a, `SELECT n FROM ${t}`), [{ n: 101 }]);
    });
});

describe("optimistic transactions and transaction modes", { timeout: 60_000 }, () => {
  it("aborts the later committer with 9007 under tidb_txn_mode = 'optimistic'", async () => {
    const a = await node.connect("test");
    const b = await node.connect("test");
    const t = await counterTable(a, [1]);
    await a.query("SET tidb_txn_mode = 'optimistic'");
    await b.query("SET SESSION tidb_txn_mode = optimistic");
    await a.query("BEGIN");
    await b.query("BEGIN");
    await a.query(`UPDATE ${t} SET n = n + 1 WHERE id = 1`);
    await b.query(`UPDATE ${t} SET n = n + 1 WHERE id = 1`);
    await a.query("COMMIT");
    await rejects(b.query("COMMIT"), 9007, /Write conflict/);
    // BEGIN PESSIMISTIC overrides the session mode: the second writer waits instead.
    await a.query("BEGIN PESSIMISTIC");
    await b.query("BEGIN PESSIMISTIC");
    await a.query(`UPDATE ${t} SET n = n + 1 WHERE id = 1`);
    const second = track(b.query(`UPDATE ${t} SET n = n + 1 WHERE id = 1`));
    await lockWaiterParked();
    await a.query("COMMIT");
    await second.promise;
    await b.query("COMMIT");
    assert.deepEqual(await rows(a, `SELECT n FROM ${t}`), [{ n: 3 }]);
    await rejects(a.query("SET tidb_txn_mode = 'serializable'"), 1231);
  });

  it("reruns conflicting optimistic autocommit statements: no update lost, no error",
    async () => {
      const a = await node.connect("test");
      const b = await node.connect("test");
      const t = await counterTable(a, [1]);
      const rounds = 15;
      const worker = async (c: mysql.Connection): Promise<void> => {
        await c.query("SET tidb_txn_mode = 'optimistic'");
        for (let i = 0; i < rounds; i++) await c.query(`UPDATE ${t} SET n = n + 1 WHERE id = 1`);
      };
      await Promise.all([worker(a), worker(b)]);
      assert.deepEqual(await rows(a, `SELECT n FROM ${t}`), [{ n: 2 * rounds }]);
    });

  it("BEGIN OPTIMISTIC in a pessimistic session conflicts at commit", async () => {
    const a = await node.connect("test");
    const b = await node.connect("test");
    const t = await counterTable(a, [1]);
    await a.query("BEGIN OPTIMISTIC");
    await a.query(`UPDATE ${t} SET n = 1 WHERE id = 1`);
    await b.query(`UPDATE ${t} SET n = 2 WHERE id = 1`);
    await rejects(a.query("COMMIT"), 9007);
    assert.deepEqual(await rows(a, `SELECT n FROM ${t}`), [{ n: 2 }]);
  });
});

describe("isolation levels", { timeout: 60_000 }, () => {
  it("READ COMMITTED sees each new commit per statement; REPEATABLE READ does not",
    async () => {
      const a = await node.connect("test");
      const b = await node.connect("test");
      const t = await counterTable(a, [1]);
      await a.query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
      assert.deepEqual(await rows(a, "SELECT @@tx_isolation AS i"), [{ i: "READ-COMMITTED" }]);
      await a.query("BEGIN");
      assert.deepEqual(await rows(a, `SELECT n FROM ${t}`), [{ n: 0 }]);
      await b.query(`UPDATE ${t} SET n = 1 WHERE id = 1`);
      assert.deepEqual(await rows(a, `SELECT n FROM ${t}`), [{ n: 1 }]);
      await b.query(`UPDATE ${t} SET n = 2 WHERE id = 1`);
      assert.deepEqual(await rows(a, `SELECT n FROM ${t}`), [{ n: 2 }]);
      await a.query("COMMIT");
      // SET TRANSACTION without a scope: the next transaction only.
      await a.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
      await a.query("BEGIN");
      assert.deepEqual(await rows(a, `SELECT n FROM ${t}`), [{ n: 2 }]);
      await b.query(`UPDATE ${t} SET n = 3 WHERE id = 1`);
      assert.deepEqual(await rows(a, `SELECT n FROM ${t}`), [{ n: 2 }]);
      await rejects(a.query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED"), 1568);
      await a.query("COMMIT");
      await a.query("BEGIN");
      await b.query(`UPDATE ${t} SET n = 4 WHERE id = 1`);
      assert.deepEqual(await rows(a, `SELECT n FROM ${t}`), [{ n: 4 }]);
      await a.query("COMMIT");
    });

  it("WITH CONSISTENT SNAPSHOT takes the snapshot at START TRANSACTION", async () => {
    const a = await node.connect("test");
    const b = await node.connect("test");
    const t = await counterTable(a, [1]);
    await a.query("START TRANSACTION WITH CONSISTENT SNAPSHOT");
    await b.query(`UPDATE ${t} SET n = 9 WHERE id = 1`);
    assert.deepEqual(await rows(a, `SELECT n FROM ${t}`), [{ n: 0 }]);
    await a.query("COMMIT");
    // Plain BEGIN takes it lazily, at the first read.
    await a.query("BEGIN");
    await b.query(`UPDATE ${t} SET n = 10 WHERE id = 1`);
    assert.deepEqual(await rows(a, `SELECT n FROM ${t}`), [{ n: 10 }]);
    await a.query("COMMIT");
  });

  it("ends the transaction at a DDL statement's implicit commit, as MySQL does", async () => {
    const a = await node.connect("test");
    const b = await node.connect("test");
    const t = await counterTable(a, [1, 2]);
    await a.query("BEGIN");
    await a.query(`UPDATE ${t} SET n = 1 WHERE id = 1`);
    await a.query(`CREATE TABLE ${t}_ddl (id INT PRIMARY KEY)`);
    assert.deepEqual(await rows(b, `SELECT n FROM ${t} WHERE id = 1`), [{ n: 1 }],
      "the DDL committed what the transaction wrote");
    // After the DDL the session is in autocommit again: this write is visible at once and
    // a ROLLBACK has nothing to undo.
    await a.query(`UPDATE ${t} SET n = 2 WHERE id = 2`);
    assert.deepEqual(await rows(b, `SELECT n FROM ${t} WHERE id = 2`), [{ n: 2 }]);
    await a.query("ROLLBACK");
    assert.deepEqual(await rows(b, `SELECT n FROM ${t} ORDER BY id`), [{ n: 1 }, { n: 2 }]);
  });

  it("refuses SERIALIZABLE rather than running it as a weaker level", async () => {
    const c = await node.connect("test");
    for (const sql of [
      "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE",
      "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
      "SET @@tx_isolation = 'SERIALIZABLE'",
      "SET GLOBAL transaction_isolation = 'SERIALIZABLE'",
    ]) {
      await rejects(c.query(sql), 1235, /SERIALIZABLE/);
    }
    assert.deepEqual(await rows(c, "SELECT @@transaction_isolation AS i"),
      [{ i: "REPEATABLE-READ" }]);
  });
});

describe("savepoints and READ ONLY", { timeout: 60_000 }, () => {
  it("ROLLBACK TO SAVEPOINT restores the writes as they were, RELEASE keeps them", async () => {
    const c = await node.connect("test");
    const t = await counterTable(c, [1]);
    await c.query("BEGIN");
    await c.query(`UPDATE ${t} SET n = 1 WHERE id = 1`);
    await c.query("SAVEPOINT a");
    await c.query(`INSERT INTO ${t} VALUES (2, 2)`);
    await c.query(`UPDATE ${t} SET n = 11 WHERE id = 1`);
    await c.query("SAVEPOINT b");
    await c.query(`DELETE FROM ${t} WHERE id = 1`);
    await c.query("ROLLBACK TO SAVEPOINT b");
    assert.deepEqual(await rows(c, `SELECT id, n FROM ${t} ORDER BY id`),
      [{ id: 1, n: 11 }, { id: 2, n: 2 }]);
    await c.query("ROLLBACK TO a");
    assert.deepEqual(await rows(c, `SELECT id, n FROM ${t} ORDER BY id`), [{ id: 1, n: 1 }]);
    await rejects(c.query("ROLLBACK TO SAVEPOINT b"), 1305, /SAVEPOINT b does not exist/);
    await c.query(`INSERT INTO ${t} VALUES (3, 3)`);
    await c.query("RELEASE SAVEPOINT a");
    await rejects(c.query("ROLLBACK TO SAVEPOINT a"), 1305);
    await c.query("COMMIT");
    assert.deepEqual(await rows(c, `SELECT id, n FROM ${t} ORDER BY id`),
      [{ id: 1, n: 1 }, { id: 3, n: 3 }]);
  });

  it("refuses writes in a READ ONLY transaction with 1792", async () => {
    const c = await node.connect("test");
    const t = await counterTable(c, [1]);
    await c.query("START TRANSACTION READ ONLY");
    assert.deepEqual(await rows(c, `SELECT n FROM ${t}`), [{ n: 0 }]);
    await rejects(c.query(`UPDATE ${t} SET n = 1`), 1792,
      /^Cannot execute statement in a READ ONLY transaction\.$/);
    await rejects(c.query(`INSERT INTO ${t} VALUES (2, 0)`), 1792);
    await c.query("COMMIT");
    await c.query("START TRANSACTION READ WRITE");
    await c.query(`UPDATE ${t} SET n = 1`);
    await c.query("COMMIT");
    await c.query("SET SESSION TRANSACTION READ ONLY");
    await rejects(c.query(`DELETE FROM ${t}`), 1792);
    await c.query("SET SESSION transaction_read_only = OFF");
    await c.query("SET TRANSACTION READ ONLY");
    await rejects(c.query(`DELETE FROM ${t}`), 1792);
    await c.query(`DELETE FROM ${t}`);
    assert.deepEqual(await rows(c, `SELECT COUNT(*) AS c FROM ${t}`), [{ c: 0 }]);
  });
});

describe("autocommit", { timeout: 60_000 }, () => {
  it("autocommit = 0 keeps a transaction open; switching it back on commits it", async () => {
    const a = await node.connect("test");
    const b = await node.connect("test");
    const t = await counterTable(a, [1]);
    await a.query("SET autocommit = 0");
    await a.query(`UPDATE ${t} SET n = 1 WHERE id = 1`);
    assert.deepEqual(await rows(b, `SELECT n FROM ${t}`), [{ n: 0 }]);
    await a.query("SET autocommit = 1");
    assert.deepEqual(await rows(b, `SELECT n FROM ${t}`), [{ n: 1 }]);
    await b.query(`UPDATE ${t} SET n = 2 WHERE id = 1`);
    assert.deepEqual(await rows(a, `SELECT n FROM ${t}`), [{ n: 2 }]);
  });
});

describe("transaction size limit", { timeout: 60_000 }, () => {
  it("fails a statement past the buffer bound with 8004 and keeps the transaction", async () => {
    const storage = await openSqlStorage(cluster.kv.client({ txn: { bufferKeysMax: 40 } }));
    const server = await createMySqlServer({ env: cluster.kv.env, host: "127.0.0.1", port: 0,
      sessions: createSessionFactory({ wallMs: () => Date.now(), version: serverVersionDefault,
        storage }) });
    const c = await mysql.createConnection({ host: "127.0.0.1", port: server.port,
      user: "root", database: "test" });
    try {
      await c.query("CREATE TABLE big (id INT PRIMARY KEY)");
      await c.query("BEGIN");
      await c.query("INSERT INTO big VALUES (1)");
      const many = Array.from({ length: 60 }, (_, i) => `(${i + 10})`).join(", ");
      await rejects(c.query(`INSERT INTO big VALUES ${many}`), 8004,
        /^Transaction is too large, size: \d+$/);
      await c.query("COMMIT");
      assert.deepEqual(await rows(c, "SELECT id FROM big"), [{ id: 1 }]);
    } finally {
      c.destroy();
      await server.close();
      await storage.ddl.close();
    }
  });
});
