/**
 * Check secondary locks: how a resolver learns the fate of an async-commit transaction
 * whose primary lock is still there.
 *
 * An async-commit transaction is committed once every key is prewritten, so the resolver
 * asks each secondary: if all are still locked by the transaction, it commits at the
 * largest min commit ts among them; if any is committed, it commits at that ts; if any is
 * missing, it rolls back. A missing secondary gets a protected rollback record here, so a
 * prewrite still in flight can never land and flip the decision. A pessimistic lock means
 * the key was never prewritten: it is rolled back too.
 */
import type { Timestamp } from "../../base/mod.ts";
import type { EngineReader } from "../engine/engine.ts";
import type { Lock } from "../mvcc/lock.ts";
import { MvccWrites } from "../mvcc/mvcc_writes.ts";
import { MvccReader } from "../mvcc/reader.ts";
import { rollbackLock, writeRollback } from "./common.ts";
import type { ActionResult } from "./failure.ts";

/** What the secondaries say. */
export type SecondaryLocksStatus =
  /** Every key is locked by the transaction (locks in request order). */
  | { readonly kind: "locked"; readonly locks: readonly Lock[] }
  | { readonly kind: "committed"; readonly commitTs: Timestamp }
  | { readonly kind: "rolledBack" };

/** Checks `keys` of the async-commit transaction `startTs`. */
export function checkSecondaryLocks(
  snapshot: EngineReader,
  keys: readonly Uint8Array[],
  options: { startTs: Timestamp },
): ActionResult<SecondaryLocksStatus> {
  const { startTs } = options;
  const reader = new MvccReader(snapshot);
  const writes = new MvccWrites();
  const locks: Lock[] = [];
  for (const key of keys) {
    const lock = reader.loadLock(key);
    if (lock !== undefined && lock.startTs === startTs) {
      if (lock.kind === "pessimistic") {
        rollbackLock(reader, writes, key, { lock, isProtected: true });
        return { outcome: { kind: "rolledBack" }, writes: writes.ops };
      }
      locks.push(lock);
      continue;
    }
    const record = reader.getTxnCommitRecord(key, startTs);
    switch (record.kind) {
      case "committed":
        return { outcome: { kind: "committed", commitTs: record.commitTs }, writes: [] };
      case "rolledBack":
        return { outcome: { kind: "rolledBack" }, writes: [] };
      case "none":
        writeRollback(reader, writes, key, { startTs, isProtected: true });
        return { outcome: { kind: "rolledBack" }, writes: writes.ops };
      default:
        return record satisfies never;
    }
  }
  return { outcome: { kind: "locked", locks }, writes: [] };
}
