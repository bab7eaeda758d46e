/**
 * Jepsen-style workloads through SQL (mysql2 connections to any SQL nodes), recording
 * histories for the checkers in `test/jepsen/checker`, in either transaction mode:
 *
 * - bank: accounts `(id, bal)`; reads select every balance in one transaction; a
 *   transfer moves money between two accounts and never overdraws. Pessimistic transfers
 *   either lock the source with SELECT … FOR UPDATE and then write `bal = bal ± amount`,
 *   or write in place with `UPDATE … SET bal = bal - amount WHERE … AND bal >= amount`;
 *   optimistic ones read both balances with plain SELECTs and write the values computed
 *   on the client (safe only because a write-write conflict aborts the later committer).
 * - list-append: rows `(k, v)` whose `v` is a comma-separated list; a transaction reads
 *   lists and appends unique elements with `UPDATE … SET v = CONCAT(v, ',', x)`. In
 *   pessimistic mode a transaction that appends reads with FOR UPDATE (the contract
 *   protects locking reads and in-place DML); read-only ones use plain SELECTs.
 *
 * Operations are planned from a seeded PRNG (the interleaving is the machine's). Errors
 * the mode allows (deadlock 1213, conflict 9007, lock wait 1205, 8027) make an operation
 * `fail` and are counted by errno; any other error is rethrown and fails the test.
 */
import type mysql from "mysql2/promise";
import type { Prng } from "../../src/base/mod.ts";
import type { BankTransfer, BankValue } from "../jepsen/checker/bank.ts";
import { type HistoryEvent, HistoryRecorder } from "../jepsen/checker/history.ts";
import type { MicroOp, Txn } from "../jepsen/checker/list_append.ts";

export type TxnMode = "pessimistic" | "optimistic";

/**
 * Error numbers an operation may fail with, by mode (8027: the node's schema lease lapsed
 * on a loaded machine, a refused commit that wrote nothing).
 */
export const allowedErrnos: Readonly<Record<TxnMode, readonly number[]>> = {
  pessimistic: [1213, 1205, 8027],
  optimistic: [9007, 8027],
};

export interface WorkloadRun {
  readonly connections: readonly mysql.Connection[];
  readonly mode: TxnMode;
  readonly table: string;
  readonly prng: Prng;
  readonly operationsPerClient: number;
  readonly nowMs: () => number;
}

/** Failures by errno, filled while a workload runs. */
export type ErrnoCounts = Map<number, number>;

async function query(c: mysql.Connection, sql: string): Promise<Record<string, unknown>[]> {
  const [result] = await c.query(sql);
  return result as Record<string, unknown>[];
}

async function affected(c: mysql.Connection, sql: string): Promise<number> {
  const [result] = await c.query(sql);
  return (result as { affectedRows: number }).affectedRows;
}

/**
 * Runs `body` as one transaction attempt: an allowed error rolls back and is counted
 * (returns false), anything else propagates.
 */
async function attempt(c: mysql.Connection, run: WorkloadRun, counts: ErrnoCounts,
  body: () => Promise<boolean>): Promise<boolean> {
  try {
    return await body();
  } catch (error: unknown) {
    const errno = (error as { errno?: number }).errno;
    if (errno === undefined || !allowedErrnos[run.mode].includes(errno)) throw error;
    counts.set(errno, (counts.get(errno) ?? 0) + 1);
    await c.query("ROLLBACK");
    return false;
  }
}

/** Creates the bank table with `accounts` rows of `initialBalance`. */
export async function initSqlBank(c: mysql.Connection, table: string, accounts: number,
  initialBalance: number): Promise<void> {
  await c.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, bal INT NOT NULL)`);
  const values = Array.from({ length: accounts }, (_, i) => `(${i}, ${initialBalance})`);
  await c.query(`INSERT INTO ${table} VALUES ${values.join(", ")}`);
}

/** The bank workload; see the file comment. */
export async function runSqlBank(run: WorkloadRun, options: { readonly accounts: number;
  readonly amountMax: number; readonly counts: ErrnoCounts }):
  Promise<HistoryEvent<"read" | "transfer", BankValue>[]> {
  const recorder = new HistoryRecorder<"read" | "transfer", BankValue>(run.nowMs);
  const t = run.table;
  const plans = run.connections.map(() => Array.from({ length: run.operationsPerClient }, () => {
    if (run.prng.nextBool(0.3)) return null;
    const from = run.prng.nextInt(options.accounts);
    const to = (from + 1 + run.prng.nextInt(options.accounts - 1)) % options.accounts;
    return { transfer: { from: String(from), to: String(to),
      amount: 1 + run.prng.nextInt(options.amountMax) }, inPlace: run.prng.nextBool(0.5) };
  }));
  await Promise.all(run.connections.map(async (c, process) => {
    await c.query(`SET SESSION tidb_txn_mode = '${run.mode}'`);
    for (const step of plans[process]!) {
      if (step === null) {
        const op = recorder.invoke(process, "read", null);
        const ok = await attempt(c, run, options.counts, async () => {
          await c.query("BEGIN");
          const balances: Record<string, number> = {};
          for (const row of await query(c, `SELECT id, bal FROM ${t}`)) {
            balances[String(row.id)] = Number(row.bal);
          }
          await c.query("COMMIT");
          op.ok(balances);
          return true;
        });
        if (!ok) op.fail();
        continue;
      }
      const { transfer, inPlace } = step;
      const op = recorder.invoke(process, "transfer", transfer);
      const done = await attempt(c, run, options.counts, () =>
        transferOnce(c, { table: t, mode: run.mode, transfer, inPlace }));
      if (done) op.ok(transfer);
      else op.fail();
    }
  }));
  return recorder.events;
}

/** One transfer; false (rolled back) when it would overdraw. */
async function transferOnce(c: mysql.Connection, options: { readonly table: string;
  readonly mode: TxnMode; readonly transfer: BankTransfer; readonly inPlace: boolean }):
  Promise<boolean> {
  const { table: t, transfer: { from, to, amount } } = options;
  await c.query("BEGIN");
  if (options.mode === "optimistic") {
    const [fromRow] = await query(c, `SELECT bal FROM ${t} WHERE id = ${from}`);
    const [toRow] = await query(c, `SELECT bal FROM ${t} WHERE id = ${to}`);
    const fromBal = Number(fromRow!.bal);
    if (fromBal < amount) {
      await c.query("ROLLBACK");
      return false;
    }
    await c.query(`UPDATE ${t} SET bal = ${fromBal - amount} WHERE id = ${from}`);
    await c.query(`UPDATE ${t} SET bal = ${Number(toRow!.bal) + amount} WHERE id = ${to}`);
  } else if (options.inPlace) {
    const debited = await affected(c,
      `UPDATE ${t} SET bal = bal - ${amount} WHERE id = ${from} AND bal >= ${amount}`);
    if (debited === 0) {
      await c.query("ROLLBACK");
      return false;
    }
    await c.query(`UPDATE ${t} SET bal = bal + ${amount} WHERE id = ${to}`);
  } else {
    const [fromRow] = await query(c, `SELECT bal FROM ${t} WHERE id = ${from} FOR UPDATE`);
    const fromBal = Number(fromRow!.bal);
    if (fromBal < amount) {
      await c.query("ROLLBACK");
      return false;
    }
    await c.query(`UPDATE ${t} SET bal = ${fromBal - amount} WHERE id = ${from}`);
    await c.query(`UPDATE ${t} SET bal = bal + ${amount} WHERE id = ${to}`);
  }
  await c.query("COMMIT");
  return true;
}

/** Creates the list-append table with `keys` empty lists. */
export async function initSqlLists(c: mysql.Connection, table: string, keys: number):
  Promise<void> {
  await c.query(`CREATE TABLE ${table} (k INT PRIMARY KEY, v TEXT NOT NULL)`);
  await c.query(`INSERT INTO ${table} VALUES ${Array.from({ length: keys }, (_, k) =>
    `(${k}, '')`).join(", ")}`);
}

function parseList(v: unknown): number[] {
  return String(v).split(",").filter((s) => s !== "").map(Number);
}

/** The list-append workload; see the file comment. */
export async function runSqlListAppend(run: WorkloadRun, options: { readonly keys: number;
  readonly counts: ErrnoCounts }): Promise<HistoryEvent<"txn", Txn>[]> {
  const recorder = new HistoryRecorder<"txn", Txn>(run.nowMs);
  let element = 0;
  const plans = run.connections.map(() => Array.from({ length: run.operationsPerClient },
    (): MicroOp[] => Array.from({ length: 1 + run.prng.nextInt(4) }, (): MicroOp => {
      const key = String(run.prng.nextInt(options.keys));
      return run.prng.nextBool(0.5) ? ["r", key, null] : ["append", key, ++element];
    })));
  await Promise.all(run.connections.map(async (c, process) => {
    await c.query(`SET SESSION tidb_txn_mode = '${run.mode}'`);
    for (const ops of plans[process]!) {
      const op = recorder.invoke(process, "txn", ops);
      const writes = ops.some((m) => m[0] === "append");
      const lock = run.mode === "pessimistic" && writes ? " FOR UPDATE" : "";
      const done: MicroOp[] = [];
      const ok = await attempt(c, run, options.counts, async () => {
        await c.query("BEGIN");
        for (const m of ops) {
          if (m[0] === "append") {
            await c.query(`UPDATE ${run.table} SET v = CONCAT(v, ',', ${m[2]}) ` +
              `WHERE k = ${m[1]}`);
            done.push(m);
          } else {
            const [row] = await query(c, `SELECT v FROM ${run.table} WHERE k = ${m[1]}${lock}`);
            done.push(["r", m[1], parseList(row!.v)]);
          }
        }
        await c.query("COMMIT");
        return true;
      });
      if (ok) op.ok(done);
      else op.fail();
    }
  }));
  return recorder.events;
}
