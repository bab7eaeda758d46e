/**
 * A SQL node killed in the middle of transactions leaves no partial transaction visible
 * ([T8] "Done when"). A real cluster: an in-process PD, one `tessera kv` child and a
 * `tessera sql` child (`--port 0`, its port read from the `mysql:` line it prints). Many
 * connections run bank transfers, each one transaction that debits one account, credits
 * another and records the transfer in a ledger table (pessimistic by default, some
 * optimistic), while readers check that every snapshot sums to the total. The SQL node is
 * SIGKILLed (its whole process group) mid-run and started again on the same cluster; then
 * every snapshot still sums exactly, every balance equals its initial value plus what the
 * ledger says it received minus what it sent (each transaction is all or nothing), every
 * transfer acknowledged before the crash is in the ledger, and the locks the dead node
 * left behind are resolved so new transfers on the same rows commit.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import mysql from "mysql2/promise";
import { Prng } from "../../src/base/mod.ts";
import { type Child, Children } from "../../src/cmd/test_child.ts";
import { LoopbackCluster, waitFor } from "../kv/cluster_harness.ts";
import { rows } from "./test_sql_helpers.ts";

const launcher = join(import.meta.dirname, "..", "..", "bin", "tessera.js");
const accounts = 8;
const initialBalance = 1_000;
const total = accounts * initialBalance;

let cluster: LoopbackCluster;
const children = new Children();
const connections: mysql.Connection[] = [];
const connectionErrors: string[] = [];

before(async () => {
  cluster = await LoopbackCluster.start({
    kvFlags: ["--store-heartbeat-interval", "100ms", "--shard-heartbeat-interval", "100ms",
      "--raft-tick-interval", "50ms", "--raft-election-ticks", "10"],
  });
  await cluster.startNode().serving;
}, { timeout: 60_000 });

after(async () => {
  for (const c of connections) c.destroy();
  children.killAll();
  await cluster.close();
}, { timeout: 30_000 });

/** Starts `tessera sql` on the cluster and returns it with its MySQL port. */
async function startSql(dataDir: string): Promise<{ child: Child; port: number }> {
  const child = children.spawn([launcher, "sql", "--pd", cluster.pdAddress, "--port", "0",
    "--status-port", "0", "--data-dir", dataDir, "--log-level", "warn"]);
  const line = await child.waitForLine(/mysql:\s+\S+:\d+/);
  const port = Number(/:(\d+)\s*$/.exec(line)?.[1]);
  assert.ok(port > 0, line);
  return { child, port };
}

async function connect(port: number): Promise<mysql.Connection> {
  const c = await mysql.createConnection({ host: "127.0.0.1", port, user: "root",
    database: "test" });
  // An idle connection learns of the crash as an 'error' event: expected, kept for debug.
  c.on("error", (error: Error) => connectionErrors.push(error.message));
  connections.push(c);
  return c;
}

async function sumOfBalances(c: mysql.Connection): Promise<number> {
  const [row] = await rows(c, "SELECT SUM(bal) AS s FROM accounts");
  return Number(row!.s);
}

test("a SIGKILLed SQL node leaves no partial transaction visible after restart",
  { timeout: 120_000 }, async () => {
    const dataDir = join(cluster.root, "sql");
    const first = await startSql(dataDir);
    const setup = await connect(first.port);
    await setup.query("CREATE TABLE accounts (id INT PRIMARY KEY, bal INT NOT NULL)");
    await setup.query("CREATE TABLE ledger (id INT PRIMARY KEY, src INT, dst INT, amount INT)");
    await setup.query(`INSERT INTO accounts VALUES ${Array.from({ length: accounts },
      (_, i) => `(${i}, ${initialBalance})`).join(", ")}`);

    const prng = new Prng(4242);
    const acknowledged = new Set<number>();
    const badSums: number[] = [];
    let nextId = 0;
    let crashed = false;
    const writer = async (c: mysql.Connection, optimistic: boolean): Promise<void> => {
      while (!crashed) {
        const id = ++nextId;
        const src = prng.nextInt(accounts);
        const dst = (src + 1 + prng.nextInt(accounts - 1)) % accounts;
        const amount = 1 + prng.nextInt(50);
        try {
          await c.query(optimistic ? "BEGIN OPTIMISTIC" : "BEGIN");
          await c.query(`UPDATE accounts SET bal = bal - ${amount} WHERE id = ${src}`);
          await c.query(`UPDATE accounts SET bal = bal + ${amount} WHERE id = ${dst}`);
          await c.query(`INSERT INTO ledger VALUES (${id}, ${src}, ${dst}, ${amount})`);
          await c.query("COMMIT");
          acknowledged.add(id);
        } catch (error: unknown) {
          if (crashed) return;
          const errno = (error as { errno?: number }).errno;
          // Conflicts (optimistic 9007), deadlocks (1213) and a lapsed schema lease (8027)
          // abort the transfer only.
          if (errno !== 9007 && errno !== 1213 && errno !== 8027) {
            const exit = first.child.process.exitCode ?? first.child.process.signalCode;
            throw new Error(`transfer failed before the crash: ${String(error)}; SQL node ` +
              `exit ${String(exit)}, stderr:\n${first.child.stderr().slice(-3000)}`,
            { cause: error });
          }
          try {
            await c.query("ROLLBACK");
          } catch (rollbackError: unknown) {
            // The node may be killed while the ROLLBACK of an aborted transfer is in flight.
            if (crashed) return;
            throw rollbackError;
          }
        }
      }
    };
    const reader = async (c: mysql.Connection): Promise<void> => {
      while (!crashed) {
        try {
          const sum = await sumOfBalances(c);
          if (sum !== total) badSums.push(sum);
        } catch (error: unknown) {
          if (crashed) return;
          throw error;
        }
      }
    };
    const clients = await Promise.all(Array.from({ length: 10 }, () => connect(first.port)));
    const running = Promise.all(clients.map((c, i) =>
      i < 2 ? reader(c) : writer(c, i % 4 === 0)));
    await waitFor("40 acknowledged transfers", () => (acknowledged.size >= 40 ? true : undefined));
    process.kill(-first.child.process.pid!, "SIGKILL");
    crashed = true;
    const exit = await first.child.exited;
    assert.equal(exit.signal, "SIGKILL");
    await running;
    assert.deepEqual(badSums, []);

    const second = await startSql(dataDir);
    const check = await connect(second.port);
    for (let i = 0; i < 3; i++) assert.equal(await sumOfBalances(check), total);
    const balances = new Map((await rows(check, "SELECT id, bal FROM accounts"))
      .map((r) => [Number(r.id), Number(r.bal)]));
    const expected = new Map(Array.from({ length: accounts }, (_, i) => [i, initialBalance]));
    const ledger = await rows(check, "SELECT id, src, dst, amount FROM ledger");
    for (const entry of ledger) {
      const amount = Number(entry.amount);
      expected.set(Number(entry.src), expected.get(Number(entry.src))! - amount);
      expected.set(Number(entry.dst), expected.get(Number(entry.dst))! + amount);
    }
    assert.deepEqual(balances, expected);
    const recorded = new Set(ledger.map((entry) => Number(entry.id)));
    assert.deepEqual([...acknowledged].filter((id) => !recorded.has(id)), []);
    assert.ok(ledger.length >= acknowledged.size);
    // The dead node's locks are resolved: every account takes a new transfer.
    for (let i = 0; i < accounts; i++) {
      await check.query("BEGIN");
      await check.query(`UPDATE accounts SET bal = bal - 1 WHERE id = ${i}`);
      await check.query(`UPDATE accounts SET bal = bal + 1 WHERE id = ${(i + 1) % accounts}`);
      await check.query("COMMIT");
    }
    assert.equal(await sumOfBalances(check), total);
  });
