/**
 * The bank workload on the transactional client: concurrent clients transfer money
 * between accounts and read all balances, each in one transaction, and the outcomes are
 * recorded as a history for `checkBank`. A transfer that would overdraw fails without
 * writing (the workload forbids negative balances). A commit whose outcome cannot be known
 * (`ambiguous`, `CLIENT:Txn:CommitResultUnknown`) is recorded as `info`; other errors
 * (write conflicts, locks) as `fail`. The runner takes any `TxnClient`, so the same
 * workload runs against an in-process cluster, a simulated one, or real processes.
 */
import { type Prng, TesseraError } from "../../src/base/mod.ts";
import type { TxnClient } from "../../src/client/mod.ts";
import type { BankValue } from "./checker/bank.ts";
import { type HistoryEvent, HistoryRecorder } from "./checker/history.ts";

export interface BankWorkloadOptions {
  readonly accounts: readonly string[];
  /** Balance each account starts with. */
  readonly initialBalance: number;
  /** Concurrent clients (processes of the history). */
  readonly clients: number;
  readonly operationsPerClient: number;
  readonly transferAmountMax: number;
  /** Picks operations; a fixed seed gives the same choices (not the same interleaving). */
  readonly prng: Prng;
  readonly nowMs: () => number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const key = (account: string): Uint8Array => encoder.encode(account);

/** Writes the initial balances in one transaction. */
export async function initBank(client: TxnClient, options: BankWorkloadOptions): Promise<void> {
  const txn = await client.begin();
  for (const account of options.accounts) {
    txn.set(key(account), encoder.encode(String(options.initialBalance)));
  }
  await txn.commit();
}

/** Runs the workload and returns its history. */
export async function runBankWorkload(
  client: TxnClient,
  options: BankWorkloadOptions,
): Promise<HistoryEvent<"read" | "transfer", BankValue>[]> {
  const recorder = new HistoryRecorder<"read" | "transfer", BankValue>(options.nowMs);
  const plans = Array.from({ length: options.clients }, () =>
    Array.from({ length: options.operationsPerClient }, () => {
      if (options.prng.nextBool(0.4)) return { f: "read" as const };
      const from = options.prng.pick(options.accounts);
      const others = options.accounts.filter((a) => a !== from);
      return {
        f: "transfer" as const,
        transfer: {
          from,
          to: options.prng.pick(others),
          amount: 1 + options.prng.nextInt(options.transferAmountMax),
        },
      };
    }));
  await Promise.all(plans.map(async (plan, process) => {
    for (const step of plan) {
      if (step.f === "read") {
        const op = recorder.invoke(process, "read", null);
        try {
          const txn = await client.begin();
          const values = await txn.batchGet(options.accounts.map(key));
          await txn.rollback();
          const balances: Record<string, number> = {};
          options.accounts.forEach((account, i) => {
            const value = values[i];
            if (value !== null && value !== undefined) {
              balances[account] = Number(decoder.decode(value));
            }
          });
          op.ok(balances);
        } catch {
          // A read that failed saw nothing the checker needs.
          op.fail();
        }
        continue;
      }
      const { transfer } = step;
      const op = recorder.invoke(process, "transfer", transfer);
      let committing = false;
      try {
        const txn = await client.begin();
        const [fromValue, toValue] = await txn.batchGet([key(transfer.from), key(transfer.to)]);
        const fromBalance = Number(decoder.decode(fromValue ?? new Uint8Array()));
        const toBalance = Number(decoder.decode(toValue ?? new Uint8Array()));
        if (fromBalance < transfer.amount) {
          await txn.rollback();
          op.fail();
          continue;
        }
        txn.set(key(transfer.from), encoder.encode(String(fromBalance - transfer.amount)));
        txn.set(key(transfer.to), encoder.encode(String(toBalance + transfer.amount)));
        committing = true;
        await txn.commit();
        op.ok(transfer);
      } catch (error) {
        const ambiguous = committing && error instanceof TesseraError && error.ambiguous;
        if (ambiguous) op.info();
        else op.fail();
      }
    }
  }));
  return recorder.events;
}
