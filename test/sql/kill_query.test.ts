/**
 * KILL QUERY stops the statement's work, not only its reply: a long read (one point get
 * per outer row through a correlated subquery) is killed from a second connection, the
 * client gets 1317 at once, and the node's read counters show the statement stopped well
 * before it would have finished; the connection stays usable. Before the executor
 * checked the kill signal, the client waited for the whole statement and then got 1317.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";
import { freshDatabase, rows } from "./test_sql_helpers.ts";

let cluster: SqlCluster;
let node: SqlNodeHandle;

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
}, { timeout: 30_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

/** Rows of the table; the killed statement would read each once by its key. */
const tableRows = 16_384;

/** Resolves once `condition()` holds, checking every few ms; fails after `deadlineMs`. */
async function until(condition: () => boolean, deadlineMs: number): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > deadlineMs) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test("KILL QUERY stops a long read where it is and answers 1317", { timeout: 120_000 },
  async () => {
    const c = await freshDatabase(node, "killq");
    await c.query("CREATE TABLE t (id INT PRIMARY KEY, v INT)");
    await c.query("INSERT INTO t VALUES (1, 1)");
    for (let n = 1; n < tableRows; n *= 2) {
      await c.query(`INSERT INTO t SELECT id + ${n}, v FROM t`);
    }
    assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n FROM t"), [{ n: tableRows }]);
    const killer = await node.connect();
    const stats = node.storage.stats;
    const before = stats.pointGets;
    const running = c.query("SELECT COUNT(*) FROM t a WHERE " +
      "(SELECT b.v FROM t b WHERE b.id = a.id) IS NOT NULL").then(
      () => ({ errno: 0 }), (error: unknown) => error as { errno: number });
    // Kill it once it is working.
    await until(() => stats.pointGets > before + 20, 60_000);
    await killer.query(`KILL QUERY ${c.threadId}`);
    const outcome = await running;
    assert.equal(outcome.errno, 1317, JSON.stringify(outcome));
    const done = stats.pointGets - before;
    assert.ok(done < tableRows, `the killed statement read ${done} of ${tableRows} rows`);
    // KILL QUERY keeps the connection.
    assert.deepEqual(await rows(c, "SELECT 1 AS one"), [{ one: 1 }]);
    await killer.end();
  });
