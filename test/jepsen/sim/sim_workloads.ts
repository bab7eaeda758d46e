/**
 * The simulator's workloads on the transactional client, each running concurrent logical
 * processes until told to stop and recording a Jepsen-style history for its checker:
 * - bank: transfers between accounts (never overdrawing) and reads of every balance;
 * - list-append: transactions of 1–4 micro-operations appending unique elements to lists
 *   (stored as comma-separated numbers) and reading whole lists;
 * - register: reads, writes and compare-and-sets of single keys (values 0–4).
 * All three run in one transaction mode per run: optimistic, or pessimistic, where what a
 * transaction will write is read with a locking read (`lockKeys` with values, TiDB's
 * `SELECT … FOR UPDATE`) and plain reads stay snapshot reads. An operation whose commit
 * failed ambiguously (`TesseraError.ambiguous`) is recorded `info`; any other error `fail`.
 * Choices come from a seeded `Prng`; the interleaving from the simulation.
 */
import { type Prng, TesseraError } from "../../../src/base/mod.ts";
import type { Transaction, TxnClient } from "../../../src/client/mod.ts";
import type { BankValue } from "../checker/bank.ts";
import { HistoryRecorder } from "../checker/history.ts";
import type { MicroOp, Txn } from "../checker/list_append.ts";
import type { RegisterOpValue } from "../checker/register.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (s: string): Uint8Array => encoder.encode(s);

/** What every workload is given. */
export interface WorkloadContext {
  readonly client: TxnClient;
  readonly prng: Prng;
  readonly pessimistic: boolean;
  readonly nowMs: () => number;
  /** Checked before each operation: true ends the process's loop. */
  readonly stopped: () => boolean;
  /** Virtual pause between a process's operations (lets faults interleave). */
  readonly think: () => Promise<void>;
}

/** Records `info` for an ambiguous commit, `fail` otherwise. */
function classify(error: unknown, committing: boolean): "info" | "fail" {
  return committing && error instanceof TesseraError && error.ambiguous ? "info" : "fail";
}

async function abandon(txn: Transaction | undefined): Promise<void> {
  if (txn === undefined) return;
  await txn.rollback().catch(() => undefined);
}

// ---- bank ---------------------------------------------------------------------------------

export const bankAccounts = ["bank/a", "bank/b", "bank/c", "bank/d", "bank/e"];
export const bankInitialBalance = 100;

export class BankWorkload {
  readonly recorder: HistoryRecorder<"read" | "transfer", BankValue>;
  /** Timestamps of each completed operation, by history index (to debug a finding). */
  readonly timestamps = new Map<number, { startTs: bigint; commitTs?: bigint; path?: string }>();
  /** Why each failed transfer failed, by history index (debugging). */
  readonly errors = new Map<number, string>();
  private readonly ctx: WorkloadContext;

  constructor(ctx: WorkloadContext) {
    this.ctx = ctx;
    this.recorder = new HistoryRecorder(ctx.nowMs);
  }

  /** Writes the initial balances; retried by the caller until it succeeds. */
  async init(): Promise<void> {
    const txn = await this.ctx.client.begin();
    for (const account of bankAccounts) txn.set(bytes(account), bytes(String(bankInitialBalance)));
    await txn.commit();
  }

  /** Runs `processes` loops numbered from `firstProcess` until stopped. */
  run(firstProcess: number, processes: number): Promise<void> {
    return Promise.all(Array.from({ length: processes }, (_, i) =>
      this.loop(firstProcess + i))).then(() => undefined);
  }

  /** One balance read; resolves with the balances or undefined if it failed. */
  async read(process: number): Promise<Record<string, number> | undefined> {
    const op = this.recorder.invoke(process, "read", null);
    let txn: Transaction | undefined;
    try {
      txn = await this.ctx.client.begin();
      const values = await txn.batchGet(bankAccounts.map(bytes));
      await txn.rollback();
      this.timestamps.set(this.recorder.events.length, { startTs: txn.startTs });
      const balances: Record<string, number> = {};
      bankAccounts.forEach((account, i) => {
        const value = values[i];
        if (value !== null && value !== undefined) {
          balances[account] = Number(decoder.decode(value));
        }
      });
      op.ok(balances);
      return balances;
    } catch {
      await abandon(txn);
      op.fail();
      return undefined;
    }
  }

  private async loop(process: number): Promise<void> {
    const { prng, client } = this.ctx;
    while (!this.ctx.stopped()) {
      await this.ctx.think();
      if (prng.nextBool(0.3)) {
        await this.read(process);
        continue;
      }
      const from = prng.pick(bankAccounts);
      const to = prng.pick(bankAccounts.filter((a) => a !== from));
      const transfer = { from, to, amount: 1 + prng.nextInt(20) };
      const op = this.recorder.invoke(process, "transfer", transfer);
      let txn: Transaction | undefined;
      let committing = false;
      try {
        txn = await client.begin({ pessimistic: this.ctx.pessimistic });
        const keys = [bytes(from), bytes(to)];
        const [fromValue, toValue] = this.ctx.pessimistic
          ? await txn.lockKeys(keys, { returnValues: true })
          : await txn.batchGet(keys);
        const fromBalance = Number(decoder.decode(fromValue ?? new Uint8Array()));
        const toBalance = Number(decoder.decode(toValue ?? new Uint8Array()));
        if (fromBalance < transfer.amount) {
          await txn.rollback();
          op.fail();
          continue;
        }
        txn.set(bytes(from), bytes(String(fromBalance - transfer.amount)));
        txn.set(bytes(to), bytes(String(toBalance + transfer.amount)));
        committing = true;
        await txn.commit();
        this.timestamps.set(this.recorder.events.length, {
          startTs: txn.startTs,
          ...(txn.commitTs === undefined ? {} : { commitTs: txn.commitTs }),
          ...(txn.commitPath === undefined ? {} : { path: txn.commitPath }),
        });
        op.ok(transfer);
      } catch (error) {
        if (!committing) await abandon(txn);
        this.errors.set(this.recorder.events.length, error instanceof Error
          ? `${(error as { code?: string }).code ?? ""} ${error.message}` : String(error));
        if (classify(error, committing) === "info") op.info();
        else op.fail();
      }
    }
  }
}

// ---- list-append --------------------------------------------------------------------------

const listKeys = Array.from({ length: 6 }, (_, i) => `list/${i}`);

export class ListAppendWorkload {
  readonly recorder: HistoryRecorder<"txn", Txn>;
  /** Why each failed or unknown transaction ended so, by history index (debugging). */
  readonly errors = new Map<number, string>();
  private readonly ctx: WorkloadContext;
  private nextElement = 1;

  constructor(ctx: WorkloadContext) {
    this.ctx = ctx;
    this.recorder = new HistoryRecorder(ctx.nowMs);
  }

  run(firstProcess: number, processes: number): Promise<void> {
    return Promise.all(Array.from({ length: processes }, (_, i) =>
      this.loop(firstProcess + i))).then(() => undefined);
  }

  private plan(): MicroOp[] {
    const { prng } = this.ctx;
    const count = 1 + prng.nextInt(4);
    return Array.from({ length: count }, (): MicroOp => {
      const key = prng.pick(listKeys);
      return prng.nextBool(0.5) ? ["append", key, this.nextElement++] : ["r", key, null];
    });
  }

  private async loop(process: number): Promise<void> {
    while (!this.ctx.stopped()) {
      await this.ctx.think();
      const plan = this.plan();
      const op = this.recorder.invoke(process, "txn", plan);
      let txn: Transaction | undefined;
      let committing = false;
      try {
        txn = await this.ctx.client.begin({ pessimistic: this.ctx.pessimistic });
        const appended = new Set(plan.filter((m) => m[0] === "append").map((m) => m[1]));
        const known = new Map<string, number[]>();
        const current = async (key: string): Promise<number[]> => {
          const have = known.get(key);
          if (have !== undefined) return have;
          const t = txn as Transaction;
          const value = this.ctx.pessimistic && appended.has(key)
            ? (await t.lockKeys([bytes(key)], { returnValues: true }))[0] ?? null
            : await t.get(bytes(key));
          const list = value === null || value.length === 0
            ? []
            : decoder.decode(value).split(",").map(Number);
          known.set(key, list);
          return list;
        };
        const done: MicroOp[] = [];
        for (const micro of plan) {
          const list = await current(micro[1]);
          if (micro[0] === "r") {
            done.push(["r", micro[1], [...list]]);
            continue;
          }
          const next = [...list, micro[2]];
          known.set(micro[1], next);
          txn.set(bytes(micro[1]), bytes(next.join(",")));
          done.push(micro);
        }
        committing = appended.size > 0;
        if (committing) await txn.commit();
        else await txn.rollback();
        op.ok(done);
      } catch (error) {
        if (!committing) await abandon(txn);
        const stage = committing ? "commit" : "before commit";
        this.errors.set(this.recorder.events.length, `${stage}: ` +
          `${error instanceof TesseraError ? `${error.code} ambiguous=${error.ambiguous} ` : ""}` +
          `${error instanceof Error ? error.message : String(error)} (start ts ${txn?.startTs})`);
        if (classify(error, committing) === "info") op.info();
        else op.fail();
      }
    }
  }
}

// ---- register -----------------------------------------------------------------------------

export const registerKeys = ["reg/0", "reg/1"];

export class RegisterWorkload {
  /** One history per key. */
  readonly recorders = new Map<string, HistoryRecorder<"read" | "write" | "cas",
    RegisterOpValue>>();
  private readonly ctx: WorkloadContext;
  /** Operations per key, bounded so the linearizability search stays small. */
  private readonly perKeyMax: number;
  private readonly counts = new Map<string, number>();

  constructor(ctx: WorkloadContext, perKeyMax: number) {
    this.ctx = ctx;
    this.perKeyMax = perKeyMax;
    for (const key of registerKeys) this.recorders.set(key, new HistoryRecorder(ctx.nowMs));
  }

  run(firstProcess: number, processes: number): Promise<void> {
    return Promise.all(Array.from({ length: processes }, (_, i) =>
      this.loop(firstProcess + i))).then(() => undefined);
  }

  private async loop(process: number): Promise<void> {
    const { prng, client } = this.ctx;
    while (!this.ctx.stopped()) {
      await this.ctx.think();
      const key = prng.pick(registerKeys);
      const count = this.counts.get(key) ?? 0;
      if (count >= this.perKeyMax) {
        if (registerKeys.every((k) => (this.counts.get(k) ?? 0) >= this.perKeyMax)) return;
        continue;
      }
      this.counts.set(key, count + 1);
      const recorder = this.recorders.get(key) as HistoryRecorder<"read" | "write" | "cas",
        RegisterOpValue>;
      const roll = prng.nextInt(3);
      const f = roll === 0 ? "read" : roll === 1 ? "write" : "cas";
      const value: RegisterOpValue = f === "read" ? null
        : f === "write" ? prng.nextInt(5)
        : [prng.nextInt(5), prng.nextInt(5)];
      const op = recorder.invoke(process, f, value);
      let txn: Transaction | undefined;
      let committing = false;
      try {
        txn = await client.begin({ pessimistic: this.ctx.pessimistic });
        if (f === "read") {
          const got = await txn.get(bytes(key));
          await txn.rollback();
          op.ok(got === null ? null : Number(decoder.decode(got)));
          continue;
        }
        if (f === "write") {
          txn.set(bytes(key), bytes(String(value)));
          committing = true;
          await txn.commit();
          op.ok(value);
          continue;
        }
        const [expected, next] = value as readonly [number, number];
        const got = this.ctx.pessimistic
          ? (await txn.lockKeys([bytes(key)], { returnValues: true }))[0] ?? null
          : await txn.get(bytes(key));
        if (got === null || Number(decoder.decode(got)) !== expected) {
          await txn.rollback();
          op.fail();
          continue;
        }
        txn.set(bytes(key), bytes(String(next)));
        committing = true;
        await txn.commit();
        op.ok(value);
      } catch (error) {
        if (!committing) await abandon(txn);
        if (classify(error, committing) === "info") op.info();
        else op.fail();
      }
    }
  }
}
