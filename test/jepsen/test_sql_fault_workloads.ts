/**
 * Jepsen-style SQL workloads that survive faults of the processes they talk to: clients
 * connect with mysql2 to whichever SQL node is up (their preferred one first), reconnect
 * after a dropped connection, and record every operation as `ok`, `fail` (it certainly
 * did not happen) or `info` (it may have happened: the connection dropped, or the server
 * answered something other than a definite abort, while COMMIT was in flight).
 *
 * - bank: accounts `(id, bal)`; a read selects every balance in one transaction; a
 *   transfer moves money between two accounts and never overdraws. Pessimistic transfers
 *   lock the source with SELECT … FOR UPDATE and write `bal = bal ± x`, or write in place
 *   with `UPDATE … SET bal = bal - x WHERE … AND bal >= x`; optimistic ones either read
 *   both balances with plain SELECTs and write computed values, or write in place (both
 *   rely on the later of two conflicting committers aborting).
 * - list-append: rows `(k, v)` whose `v` is a comma-separated list; a transaction reads
 *   lists and appends unique elements in place with `UPDATE … SET v = CONCAT(v, ',', x)`
 *   (pessimistic transactions that append read with FOR UPDATE).
 *
 * Operations are drawn from a seeded PRNG per client; the interleaving is the machine's.
 * Error numbers are counted (with the start of the message) so that the caller can
 * require that only the ones faults explain occurred. The bank and list-append histories
 * go to `checker/bank.ts` and `checker/list_append.ts`.
 */
import mysql from "mysql2/promise";
import { Prng } from "../../src/base/mod.ts";
import type { BankTransfer, BankValue } from "./checker/bank.ts";
import { HistoryRecorder } from "./checker/history.ts";
import type { MicroOp, Txn } from "./checker/list_append.ts";

export type TxnMode = "pessimistic" | "optimistic";

/** Errors at COMMIT that say the transaction certainly did not commit. */
const definiteAbortErrnos: readonly number[] = [1205, 1213, 8027, 8028, 9007];

/** Where the clients may connect now (undefined: that node is down). */
export type SqlAddresses = () => readonly ({ host: string; port: number } | undefined)[];

/** What every client of a run shares. */
export interface ClientContext {
  readonly addresses: SqlAddresses;
  readonly mode: TxnMode;
  readonly stopped: () => boolean;
  readonly nowMs: () => number;
  /** Errors seen, by `errno: message start` (or the connection error code). */
  readonly errors: Map<string, number>;
  /** Deadline of one statement; a statement past it counts as a dropped connection. */
  readonly statementTimeoutMs: number;
  /** Statements that ran past the deadline: `process@start on node: sql`. */
  readonly timedOut: string[];
}

type Outcome<T> =
  | { readonly type: "ok"; readonly value: T }
  | { readonly type: "fail" | "info" };

/** A server error (an error packet), as opposed to a dropped or timed-out connection. */
function serverErrno(error: unknown): number | undefined {
  const e = error as { errno?: unknown; sqlState?: unknown; fatal?: unknown };
  return typeof e.errno === "number" && e.errno > 0 && typeof e.sqlState === "string" &&
    e.fatal !== true ? e.errno : undefined;
}

function errorKey(error: unknown): string {
  const errno = serverErrno(error);
  const e = error as { code?: unknown; message?: unknown };
  return errno === undefined ? `connection: ${String(e.code ?? e.message)}`
    : `${errno}: ${String(e.message).replaceAll(/\d{4,}/g, "N").slice(0, 70)}`;
}

/** One client: a connection to some SQL node, replaced after it drops. */
export class FaultClient {
  readonly process: number;
  private readonly context: ClientContext;
  private readonly preferred: number;
  private connection: mysql.Connection | undefined;
  /** The index of the SQL node the connection is to. */
  private node = -1;
  /** Connections opened, the first included. */
  connects = 0;

  constructor(context: ClientContext, process: number, preferred: number) {
    this.context = context;
    this.process = process;
    this.preferred = preferred;
  }

  /** An open connection, (re)connecting to the preferred node or another; undefined if none. */
  private async connect(): Promise<mysql.Connection | undefined> {
    if (this.connection !== undefined) return this.connection;
    const addresses = this.context.addresses();
    for (let i = 0; i < addresses.length; i++) {
      const address = addresses[(this.preferred + i) % addresses.length];
      if (address === undefined) continue;
      let c: mysql.Connection | undefined;
      try {
        c = await mysql.createConnection({ ...address, user: "root", database: "test",
          connectTimeout: this.context.statementTimeoutMs });
        c.on("error", () => undefined);
        await c.query({ sql: `SET SESSION tidb_txn_mode = '${this.context.mode}'`,
          timeout: this.context.statementTimeoutMs });
        await c.query({ sql: "SET SESSION innodb_lock_wait_timeout = 5",
          timeout: this.context.statementTimeoutMs });
        this.connection = c;
        this.node = (this.preferred + i) % addresses.length;
        this.connects++;
        return c;
      } catch (error) {
        this.count(error);
        c?.destroy();
      }
    }
    return undefined;
  }

  private count(error: unknown): void {
    const key = errorKey(error);
    this.context.errors.set(key, (this.context.errors.get(key) ?? 0) + 1);
  }

  /** Waits (bounded by `stopped`) for a connection; false once stopped without one. */
  async ready(): Promise<boolean> {
    for (let backoffMs = 20; !this.context.stopped(); backoffMs = Math.min(backoffMs * 2, 500)) {
      if (await this.connect() !== undefined) return true;
      await new Promise((resolve) => setTimeout(resolve, backoffMs));
    }
    return false;
  }

  drop(): void {
    this.connection?.destroy();
    this.connection = undefined;
  }

  /**
   * Runs `body` as one transaction on the current connection. `body` returns the value
   * (null: it rolled back by itself) and calls `commit()` for its COMMIT, which is what
   * makes an unclear ending `info` rather than `fail`.
   */
  async transaction<T>(body: (tx: SqlTx) => Promise<T | null>): Promise<Outcome<T>> {
    const c = this.connection;
    if (c === undefined) return { type: "fail" };
    const tx = new SqlTx(c, this.context.statementTimeoutMs);
    tx.onTimeout = (sql, startMs) => {
      if (this.context.timedOut.length < 100) {
        this.context.timedOut.push(
          `${this.process}@${(startMs / 1_000).toFixed(1)}s on sql-${this.node + 1}: ${sql}`);
      }
    };
    try {
      const value = await body(tx);
      return value === null ? { type: "fail" } : { type: "ok", value };
    } catch (error) {
      this.count(error);
      const errno = serverErrno(error);
      if (errno === undefined) {
        this.drop();
        return { type: tx.committing ? "info" : "fail" };
      }
      if (!tx.committing) {
        try {
          await tx.query("ROLLBACK");
        } catch (rollbackError) {
          this.count(rollbackError);
          this.drop();
        }
      }
      return { type: tx.committing && !definiteAbortErrnos.includes(errno) ? "info" : "fail" };
    }
  }

  close(): void {
    this.drop();
  }
}

/** The statements of one transaction attempt. */
export class SqlTx {
  private readonly connection: mysql.Connection;
  private readonly timeoutMs: number;
  committing = false;
  onTimeout: (sql: string, startMs: number) => void = () => undefined;

  constructor(connection: mysql.Connection, timeoutMs: number) {
    this.connection = connection;
    this.timeoutMs = timeoutMs;
  }

  private async run(sql: string): Promise<unknown> {
    const startMs = performance.now();
    try {
      const [result] = await this.connection.query({ sql, timeout: this.timeoutMs });
      return result;
    } catch (error) {
      if ((error as { code?: unknown }).code === "PROTOCOL_SEQUENCE_TIMEOUT") {
        this.onTimeout(sql, startMs);
      }
      throw error;
    }
  }

  async query(sql: string): Promise<Record<string, unknown>[]> {
    return await this.run(sql) as Record<string, unknown>[];
  }

  async affected(sql: string): Promise<number> {
    return (await this.run(sql) as { affectedRows: number }).affectedRows;
  }

  async rollback(): Promise<null> {
    await this.query("ROLLBACK");
    return null;
  }

  async commit(): Promise<void> {
    this.committing = true;
    await this.query("COMMIT");
  }
}

/** A workload's clients running until stopped. */
export interface Workload<F extends string, V> {
  readonly name: string;
  readonly recorder: HistoryRecorder<F, V>;
  readonly clients: readonly FaultClient[];
  /** Operations completed so far (ok, fail or info). */
  completed(): number;
  /** Resolves once every client has stopped. */
  run(): Promise<void>;
}

function completedCount(recorder: HistoryRecorder<string, unknown>): number {
  return recorder.events.filter((e) => e.type !== "invoke").length;
}

/** Runs `step` on each client until stopped, with a connection each time. */
async function runClients(context: ClientContext, clients: readonly FaultClient[],
  step: (client: FaultClient, prng: Prng) => Promise<void>, seed: number): Promise<void> {
  await Promise.all(clients.map(async (client) => {
    const prng = new Prng(seed * 1_000 + client.process);
    while (!context.stopped()) {
      if (!(await client.ready())) break;
      await step(client, prng);
    }
    client.close();
  }));
}

function recordOutcome<F extends string, V>(op: ReturnType<HistoryRecorder<F, V>["invoke"]>,
  outcome: Outcome<V>): void {
  if (outcome.type === "ok") op.ok(outcome.value);
  else if (outcome.type === "fail") op.fail();
  else op.info();
}

/** Creates the bank table with `accounts` rows of `initial`. */
export async function createBankTable(c: mysql.Connection, table: string, accounts: number,
  initial: number): Promise<void> {
  await c.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, bal INT NOT NULL)`);
  await c.query(`INSERT INTO ${table} VALUES ${Array.from({ length: accounts }, (_, i) =>
    `(${i}, ${initial})`).join(", ")}`);
}

/** Creates the list-append table with `keys` empty lists. */
export async function createListTable(c: mysql.Connection, table: string, keys: number):
  Promise<void> {
  await c.query(`CREATE TABLE ${table} (k INT PRIMARY KEY, v TEXT NOT NULL)`);
  await c.query(`INSERT INTO ${table} VALUES ${Array.from({ length: keys }, (_, k) =>
    `(${k}, '')`).join(", ")}`);
}

/** Every balance, read in one transaction. */
export async function readBalances(tx: SqlTx, table: string): Promise<Record<string, number>> {
  await tx.query("BEGIN");
  const balances: Record<string, number> = {};
  for (const row of await tx.query(`SELECT id, bal FROM ${table}`)) {
    balances[String(row.id)] = Number(row.bal);
  }
  await tx.commit();
  return balances;
}

/** The bank workload on `table` (see the file comment). */
export function bankWorkload(context: ClientContext, options: { readonly table: string;
  readonly accounts: number; readonly clients: number; readonly seed: number;
  readonly processBase: number }): Workload<"read" | "transfer", BankValue> {
  const recorder = new HistoryRecorder<"read" | "transfer", BankValue>(context.nowMs);
  const clients = Array.from({ length: options.clients }, (_, i) =>
    new FaultClient(context, options.processBase + i, i));
  const t = options.table;
  const step = async (client: FaultClient, prng: Prng): Promise<void> => {
    if (prng.nextBool(0.3)) {
      const op = recorder.invoke(client.process, "read", null);
      recordOutcome(op, await client.transaction((tx) => readBalances(tx, t)));
      return;
    }
    const from = prng.nextInt(options.accounts);
    const to = (from + 1 + prng.nextInt(options.accounts - 1)) % options.accounts;
    const transfer: BankTransfer = { from: String(from), to: String(to),
      amount: 1 + prng.nextInt(20) };
    const inPlace = prng.nextBool(0.5);
    const op = recorder.invoke(client.process, "transfer", transfer);
    recordOutcome(op, await client.transaction(async (tx) => {
      const { amount } = transfer;
      await tx.query("BEGIN");
      if (inPlace) {
        const debited = await tx.affected(
          `UPDATE ${t} SET bal = bal - ${amount} WHERE id = ${from} AND bal >= ${amount}`);
        if (debited === 0) return tx.rollback();
        await tx.query(`UPDATE ${t} SET bal = bal + ${amount} WHERE id = ${to}`);
      } else if (context.mode === "pessimistic") {
        const [row] = await tx.query(`SELECT bal FROM ${t} WHERE id = ${from} FOR UPDATE`);
        if (Number(row!.bal) < amount) return tx.rollback();
        await tx.query(`UPDATE ${t} SET bal = bal - ${amount} WHERE id = ${from}`);
        await tx.query(`UPDATE ${t} SET bal = bal + ${amount} WHERE id = ${to}`);
      } else {
        const [fromRow] = await tx.query(`SELECT bal FROM ${t} WHERE id = ${from}`);
        const [toRow] = await tx.query(`SELECT bal FROM ${t} WHERE id = ${to}`);
        const fromBal = Number(fromRow!.bal);
        if (fromBal < amount) return tx.rollback();
        await tx.query(`UPDATE ${t} SET bal = ${fromBal - amount} WHERE id = ${from}`);
        await tx.query(`UPDATE ${t} SET bal = ${Number(toRow!.bal) + amount} WHERE id = ${to}`);
      }
      await tx.commit();
      return transfer;
    }));
  };
  return {
    name: `bank ${context.mode}`,
    recorder,
    clients,
    completed: () => completedCount(recorder),
    run: () => runClients(context, clients, step, options.seed),
  };
}

function parseList(v: unknown): number[] {
  return String(v).split(",").filter((s) => s !== "").map(Number);
}

/** Reads every list in one transaction. */
export async function readLists(tx: SqlTx, table: string): Promise<MicroOp[]> {
  await tx.query("BEGIN");
  const rows = await tx.query(`SELECT k, v FROM ${table} ORDER BY k`);
  await tx.commit();
  return rows.map((row): MicroOp => ["r", String(row.k), parseList(row.v)]);
}

/** The list-append workload on `table` (see the file comment). */
export function listAppendWorkload(context: ClientContext, options: { readonly table: string;
  readonly keys: number; readonly clients: number; readonly seed: number;
  readonly processBase: number }): Workload<"txn", Txn> {
  const recorder = new HistoryRecorder<"txn", Txn>(context.nowMs);
  const clients = Array.from({ length: options.clients }, (_, i) =>
    new FaultClient(context, options.processBase + i, i));
  let element = 0;
  const step = async (client: FaultClient, prng: Prng): Promise<void> => {
    const ops = Array.from({ length: 1 + prng.nextInt(4) }, (): MicroOp => {
      const key = String(prng.nextInt(options.keys));
      return prng.nextBool(0.5) ? ["r", key, null] : ["append", key, ++element];
    });
    const writes = ops.some((m) => m[0] === "append");
    const lock = context.mode === "pessimistic" && writes ? " FOR UPDATE" : "";
    const op = recorder.invoke(client.process, "txn", ops);
    recordOutcome(op, await client.transaction(async (tx) => {
      const done: MicroOp[] = [];
      await tx.query("BEGIN");
      for (const m of ops) {
        if (m[0] === "append") {
          await tx.query(`UPDATE ${options.table} SET v = CONCAT(v, ',', ${m[2]}) ` +
            `WHERE k = ${m[1]}`);
          done.push(m);
        } else {
          const [row] = await tx.query(
            `SELECT v FROM ${options.table} WHERE k = ${m[1]}${lock}`);
          done.push(["r", m[1], parseList(row!.v)]);
        }
      }
      await tx.commit();
      return done;
    }));
  };
  return {
    name: `list-append ${context.mode}`,
    recorder,
    clients,
    completed: () => completedCount(recorder),
    run: () => runClients(context, clients, step, options.seed),
  };
}
