/**
 * Validates the Jepsen checkers on a database whose isolation levels are known: a
 * throwaway MariaDB (Debian's `mariadbd`, `test/slt/mariadb.ts`) with InnoDB tables.
 *
 * Both workloads read without locks and then write, as an application that trusts its
 * isolation level would:
 * - bank: a transfer SELECTs both balances with plain reads and then writes the values it
 *   computed (`UPDATE … SET bal = <number>`); reads select every balance in one
 *   transaction, and a last read follows the run;
 * - list-append: a transaction reads a few lists with plain SELECTs and then appends to
 *   them in place (`SET v = CONCAT(v, ',', x)`).
 * At REPEATABLE READ, InnoDB's plain reads come from the transaction's snapshot while its
 * UPDATEs act on the latest version, so two transfers that read the same balance both
 * commit (a lost update: the total drifts and bank reads no longer sum to it), and two
 * list transactions that read the same list both append to it (a lost update and a
 * G-single cycle, read skew). The checkers must find these: the workloads run in seeded
 * rounds until they do, and finding none within the bound fails the test. At
 * SERIALIZABLE InnoDB turns the plain reads into shared locks, so the same workloads must
 * show no anomaly at all (while enough transactions commit that the check means something).
 *
 * Outside CI a missing `mariadbd` skips the file with the reason printed; under CI=true it
 * fails. The server runs in its own process group and is stopped in `after()`.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import mysql from "mysql2/promise";
import { Prng } from "../../src/base/mod.ts";
import { type MariadbHandle, mariadbUnavailableReason, startMariadb } from "../slt/mariadb.ts";
import { type BankAnomaly, type BankValue, checkBank } from "./checker/bank.ts";
import { type HistoryEvent, HistoryRecorder } from "./checker/history.ts";
import { type AnomalyKind, type ListAppendAnomaly, type MicroOp, type Txn,
  checkListAppend } from "./checker/list_append.ts";

type Level = "REPEATABLE READ" | "SERIALIZABLE";

const skipReason = mariadbUnavailableReason();
const skip = skipReason !== null && process.env["CI"] !== "true" ? skipReason : false;
if (skip !== false) process.stdout.write(`# skipping the MariaDB checker suite: ${skip}\n`);

/** Concurrent clients, and operations each runs per round. */
const clients = 8;
const opsPerRound = 25;
/** Rounds at REPEATABLE READ before giving up on finding an anomaly. */
const roundsMax = 8;
/** Rounds at SERIALIZABLE, all of which must be clean. */
const serializableRounds = 4;
/** Errors a transaction may fail with: deadlock, lock wait timeout. */
const allowedErrnos = [1213, 1205];

let mariadb: MariadbHandle | null = null;
let admin: mysql.Connection | null = null;
let tableSeq = 0;

before(async () => {
  if (skipReason !== null) {
    assert.notEqual(process.env["CI"], "true", `CI requires MariaDB: ${skipReason}`);
    return;
  }
  mariadb = await startMariadb();
  admin = await mysql.createConnection({ ...mariadb.address });
  await admin.query("CREATE DATABASE jepsen");
  await admin.query("USE jepsen");
}, { timeout: 60_000 });

after(async () => {
  await admin?.end();
  await mariadb?.stop();
}, { timeout: 30_000 });

async function connectClients(level: Level): Promise<mysql.Connection[]> {
  assert.ok(mariadb !== null);
  const address = mariadb.address;
  return Promise.all(Array.from({ length: clients }, async () => {
    const c = await mysql.createConnection({ ...address, database: "jepsen" });
    await c.query(`SET SESSION TRANSACTION ISOLATION LEVEL ${level}`);
    await c.query("SET SESSION innodb_lock_wait_timeout = 5");
    return c;
  }));
}

async function rows(c: mysql.Connection, sql: string): Promise<Record<string, unknown>[]> {
  const [result] = await c.query(sql);
  return result as Record<string, unknown>[];
}

/** Runs `body` in a transaction: true if it committed, false if it failed as allowed. */
async function inTxn(c: mysql.Connection, failures: Map<number, number>,
  body: () => Promise<void>): Promise<boolean> {
  try {
    await c.query("BEGIN");
    await body();
    await c.query("COMMIT");
    return true;
  } catch (error: unknown) {
    const errno = (error as { errno?: number }).errno;
    if (errno === undefined || !allowedErrnos.includes(errno)) throw error;
    failures.set(errno, (failures.get(errno) ?? 0) + 1);
    await c.query("ROLLBACK");
    return false;
  }
}

/** A short pause between a read and the write based on it, as an application has. */
function think(prng: Prng): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, prng.nextInt(3)));
}

const accounts = ["0", "1", "2", "3"];
const initialBalance = 100;
const total = accounts.length * initialBalance;

interface BankRun {
  readonly history: HistoryEvent<"read" | "transfer", BankValue>[];
  readonly anomalies: readonly BankAnomaly[];
  readonly readsChecked: number;
  readonly transfersCommitted: number;
  readonly failures: Map<number, number>;
  readonly rounds: number;
}

/**
 * The read-then-write bank at `level`, in rounds of `opsPerRound` per client, until the
 * checker finds an anomaly or `rounds` rounds ran; each round ends with a read of all.
 */
async function runBank(level: Level, seed: number, rounds: number): Promise<BankRun> {
  const table = `bank_${++tableSeq}`;
  await admin!.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, bal INT NOT NULL) ` +
    "ENGINE=InnoDB");
  await admin!.query(`INSERT INTO ${table} VALUES ${accounts.map((a) =>
    `(${a}, ${initialBalance})`).join(", ")}`);
  const connections = await connectClients(level);
  const recorder = new HistoryRecorder<"read" | "transfer", BankValue>(() => performance.now());
  const prng = new Prng(seed);
  const failures = new Map<number, number>();
  const read = async (c: mysql.Connection, process: number): Promise<void> => {
    const op = recorder.invoke(process, "read", null);
    const balances: Record<string, number> = {};
    const ok = await inTxn(c, failures, async () => {
      for (const row of await rows(c, `SELECT id, bal FROM ${table}`)) {
        balances[String(row["id"])] = Number(row["bal"]);
      }
    });
    if (ok) op.ok(balances);
    else op.fail();
  };
  const transfer = async (c: mysql.Connection, process: number): Promise<void> => {
    const from = prng.pick(accounts);
    const to = prng.pick(accounts.filter((a) => a !== from));
    const value = { from, to, amount: 1 + prng.nextInt(20) };
    const op = recorder.invoke(process, "transfer", value);
    let overdraw = false;
    const ok = await inTxn(c, failures, async () => {
      const [fromRow] = await rows(c, `SELECT bal FROM ${table} WHERE id = ${from}`);
      const [toRow] = await rows(c, `SELECT bal FROM ${table} WHERE id = ${to}`);
      const fromBal = Number(fromRow!["bal"]);
      const toBal = Number(toRow!["bal"]);
      await think(prng);
      overdraw = fromBal < value.amount;
      if (overdraw) return;
      await c.query(`UPDATE ${table} SET bal = ${fromBal - value.amount} WHERE id = ${from}`);
      await c.query(`UPDATE ${table} SET bal = ${toBal + value.amount} WHERE id = ${to}`);
    });
    if (ok && !overdraw) op.ok(value);
    else op.fail();
  };
  try {
    for (let round = 1; ; round++) {
      await Promise.all(connections.map(async (c, process) => {
        for (let i = 0; i < opsPerRound; i++) {
          if (prng.nextBool(0.25)) await read(c, process);
          else await transfer(c, process);
        }
      }));
      await read(connections[0]!, clients);
      const result = checkBank(recorder.events, { accounts, total });
      if (result.anomalies.length > 0 || round === rounds) {
        const committed = recorder.events.filter((e) => e.type === "ok" && e.f === "transfer");
        return { history: recorder.events, anomalies: result.anomalies, failures, rounds: round,
          readsChecked: result.readsChecked, transfersCommitted: committed.length };
      }
    }
  } finally {
    await Promise.all(connections.map((c) => c.end()));
  }
}

interface ListRun {
  readonly anomalies: readonly ListAppendAnomaly[];
  readonly committed: number;
  readonly failures: Map<number, number>;
  readonly rounds: number;
}

const listKeys = 4;

/**
 * The read-then-append list workload at `level`: each transaction reads one or two lists
 * (and sometimes another one) with plain SELECTs, then appends a unique element to each
 * list it read first. Rounds as in `runBank`.
 */
async function runLists(level: Level, seed: number, rounds: number): Promise<ListRun> {
  const table = `lists_${++tableSeq}`;
  await admin!.query(`CREATE TABLE ${table} (k INT PRIMARY KEY, v TEXT NOT NULL) ` +
    "ENGINE=InnoDB");
  await admin!.query(`INSERT INTO ${table} VALUES ${Array.from({ length: listKeys }, (_, k) =>
    `(${k}, '')`).join(", ")}`);
  const connections = await connectClients(level);
  const recorder = new HistoryRecorder<"txn", Txn>(() => performance.now());
  const prng = new Prng(seed);
  const failures = new Map<number, number>();
  let element = 0;
  const plan = (): MicroOp[] => {
    const keys = new Set<string>();
    const count = 1 + prng.nextInt(2);
    while (keys.size < count) keys.add(String(prng.nextInt(listKeys)));
    const ops: MicroOp[] = [...keys].map((k): MicroOp => ["r", k, null]);
    if (prng.nextBool(0.3)) ops.push(["r", String(prng.nextInt(listKeys)), null]);
    for (const k of keys) ops.push(["append", k, ++element]);
    return ops;
  };
  const txn = async (c: mysql.Connection, process: number): Promise<void> => {
    const ops = plan();
    const op = recorder.invoke(process, "txn", ops);
    const done: MicroOp[] = [];
    const ok = await inTxn(c, failures, async () => {
      for (const m of ops) {
        if (m[0] === "append") {
          await c.query(`UPDATE ${table} SET v = CONCAT(v, ',', ${m[2]}) WHERE k = ${m[1]}`);
          done.push(m);
        } else {
          const [row] = await rows(c, `SELECT v FROM ${table} WHERE k = ${m[1]}`);
          done.push(["r", m[1], String(row!["v"]).split(",").filter((s) => s !== "")
            .map(Number)]);
          await think(prng);
        }
      }
    });
    if (ok) op.ok(done);
    else op.fail();
  };
  try {
    for (let round = 1; ; round++) {
      await Promise.all(connections.map(async (c, process) => {
        for (let i = 0; i < opsPerRound; i++) await txn(c, process);
      }));
      const result = checkListAppend(recorder.events);
      if (result.anomalies.length > 0 || round === rounds) {
        return { anomalies: result.anomalies, failures, rounds: round,
          committed: recorder.events.filter((e) => e.type === "ok").length };
      }
    }
  } finally {
    await Promise.all(connections.map((c) => c.end()));
  }
}

function kinds(anomalies: readonly { readonly kind: string }[]): string[] {
  return [...new Set(anomalies.map((a) => a.kind))].sort();
}

const timeout = 60_000;

test("MariaDB REPEATABLE READ: read-then-write transfers lose updates; the bank checker " +
  "sees totals that do not add up", { timeout, skip }, async (t) => {
  const run = await runBank("REPEATABLE READ", 0x2b_a4, roundsMax);
  t.diagnostic(`after ${run.rounds} round(s): ${run.transfersCommitted} transfers ` +
    `committed, ${run.readsChecked} reads, failures ${JSON.stringify([...run.failures])}, ` +
    `anomalies ${kinds(run.anomalies)} (${run.anomalies.length})`);
  assert.ok(run.anomalies.length > 0,
    `no anomaly in ${run.rounds} rounds of read-then-write transfers at REPEATABLE READ`);
  assert.ok(run.anomalies.every((a) => a.kind === "wrong-total" ||
    a.kind === "negative-balance"), JSON.stringify(run.anomalies.slice(0, 5)));
});

test("MariaDB REPEATABLE READ: read-then-append lists show lost updates and G-single",
  { timeout, skip }, async (t) => {
    const run = await runLists("REPEATABLE READ", 0x11_57, roundsMax);
    t.diagnostic(`after ${run.rounds} round(s): ${run.committed} committed, failures ` +
      `${JSON.stringify([...run.failures])}, anomalies ${kinds(run.anomalies)}; first: ` +
      `${run.anomalies[0]?.message ?? "none"}`);
    const found = kinds(run.anomalies);
    assert.ok(found.includes("lost-update") || found.includes("G-single"),
      `no lost update or read skew at REPEATABLE READ in ${run.rounds} rounds: ${found}`);
    // Snapshot reads never see uncommitted or aborted data: no G0/G1 anywhere.
    const dirty: readonly AnomalyKind[] = ["G0", "G1a", "G1b", "G1c"];
    assert.deepEqual(found.filter((k) => dirty.includes(k as AnomalyKind)), []);
  });

test("MariaDB SERIALIZABLE: the same bank workload shows no anomaly", { timeout, skip },
  async (t) => {
    const run = await runBank("SERIALIZABLE", 0x2b_a4, serializableRounds);
    t.diagnostic(`${run.transfersCommitted} transfers committed, ${run.readsChecked} reads, ` +
      `failures ${JSON.stringify([...run.failures])}`);
    assert.deepEqual(run.anomalies, []);
    assert.equal(run.rounds, serializableRounds);
    assert.ok(run.transfersCommitted >= clients * serializableRounds,
      `only ${run.transfersCommitted} transfers committed`);
    assert.ok(run.readsChecked >= clients, `only ${run.readsChecked} reads succeeded`);
  });

test("MariaDB SERIALIZABLE: the same list workload shows no anomaly", { timeout, skip },
  async (t) => {
    const run = await runLists("SERIALIZABLE", 0x11_57, serializableRounds);
    t.diagnostic(`${run.committed} committed, failures ${JSON.stringify([...run.failures])}`);
    assert.deepEqual(run.anomalies.map((a) => a.message), []);
    assert.equal(run.rounds, serializableRounds);
    assert.ok(run.committed >= clients * serializableRounds,
      `only ${run.committed} transactions committed`);
  });
