/**
 * The bank checker: clients transfer money between accounts and read every balance in one
 * transaction. Under snapshot isolation (and anything stronger) every successful read sees
 * a consistent snapshot, so its balances sum to the constant total; if the workload
 * forbids overdrafts, no balance is negative; and every account is present. A read that
 * breaks one of these saw a torn or stale mix of versions (read skew, lost updates, lost
 * writes). Only `ok` reads are checked: a transfer's own outcome cannot be checked alone.
 */
import { type History, pairOperations } from "./history.ts";

export type BankOp =
  | { readonly f: "read"; readonly value: Readonly<Record<string, number>> | null }
  | { readonly f: "transfer"; readonly value: BankTransfer };

export interface BankTransfer {
  readonly from: string;
  readonly to: string;
  readonly amount: number;
}

export type BankValue = Readonly<Record<string, number>> | BankTransfer | null;

export interface BankCheckOptions {
  readonly accounts: readonly string[];
  /** The sum of all balances, constant under transfers. */
  readonly total: number;
  /** True when the workload allows overdrafts (default false). */
  readonly negativeAllowed?: boolean;
}

export type BankAnomaly =
  | { readonly kind: "wrong-total"; readonly readIndex: number; readonly total: number }
  | { readonly kind: "negative-balance"; readonly readIndex: number; readonly account: string;
      readonly balance: number }
  | { readonly kind: "missing-account"; readonly readIndex: number; readonly account: string }
  | { readonly kind: "unexpected-account"; readonly readIndex: number;
      readonly account: string };

export interface BankCheckResult {
  readonly valid: boolean;
  readonly readsChecked: number;
  readonly anomalies: readonly BankAnomaly[];
}

/** Checks every successful read of a bank history. */
export function checkBank(
  history: History<"read" | "transfer", BankValue>,
  options: BankCheckOptions,
): BankCheckResult {
  const anomalies: BankAnomaly[] = [];
  const known = new Set(options.accounts);
  let readsChecked = 0;
  for (const operation of pairOperations(history)) {
    if (operation.f !== "read" || operation.outcome !== "ok") continue;
    const balances = operation.completion?.value as Readonly<Record<string, number>>;
    const readIndex = operation.completeIndex;
    readsChecked++;
    let total = 0;
    for (const account of options.accounts) {
      const balance = balances[account];
      if (balance === undefined) {
        anomalies.push({ kind: "missing-account", readIndex, account });
        continue;
      }
      total += balance;
      if (balance < 0 && options.negativeAllowed !== true) {
        anomalies.push({ kind: "negative-balance", readIndex, account, balance });
      }
    }
    for (const account of Object.keys(balances)) {
      if (!known.has(account)) anomalies.push({ kind: "unexpected-account", readIndex, account });
    }
    if (total !== options.total) anomalies.push({ kind: "wrong-total", readIndex, total });
  }
  return { valid: anomalies.length === 0, readsChecked, anomalies };
}
