/**
 * Building blocks shared by the Percolator actions: lock expiry, rolling back a lock,
 * writing rollback records (protected, overlapped, collapsed) and committing a lock.
 *
 * They append to an `MvccWrites` and never read their own writes, so each is called at
 * most once per key per action.
 */
import { type Timestamp, assert, decomposeTimestamp } from "../../base/mod.ts";
import type { Lock } from "../mvcc/lock.ts";
import type { MvccWrites } from "../mvcc/mvcc_writes.ts";
import type { MvccReader } from "../mvcc/reader.ts";
import { makeWrite } from "../mvcc/write.ts";

/**
 * True when `lock`'s TTL has run out at physical time `nowMs`: its owner has stopped
 * heartbeating, so others may roll it back (or commit it, if the primary committed).
 */
export function isLockExpired(lock: Lock, nowMs: number): boolean {
  return decomposeTimestamp(lock.startTs).physicalMs + lock.ttlMs < nowMs;
}

/**
 * Writes the rollback record of transaction `startTs` on `key`. If another transaction's
 * commit record sits at `commitTs == startTs`, a protected rollback is recorded as a flag on
 * it (an unprotected one is dropped: the commit record already stops a late prewrite).
 * An unprotected rollback collapses the unprotected rollback just below it, so a key that
 * is rolled back over and over does not pile up records.
 */
export function writeRollback(
  reader: MvccReader,
  writes: MvccWrites,
  key: Uint8Array,
  options: { startTs: Timestamp; isProtected: boolean },
): void {
  const { startTs, isProtected } = options;
  const atStart = reader.seekWrite(key, startTs);
  if (atStart !== undefined && atStart.commitTs === startTs) {
    if (atStart.write.startTs === startTs) return; // Already rolled back (or committed).
    if (isProtected && !atStart.write.hasOverlappedRollback) {
      writes.putWrite(key, startTs, { ...atStart.write, hasOverlappedRollback: true });
    }
    return;
  }
  if (
    !isProtected &&
    atStart !== undefined &&
    atStart.write.kind === "rollback" &&
    !atStart.write.isProtected
  ) {
    writes.deleteWrite(key, atStart.commitTs);
  }
  writes.putWrite(key, startTs, makeWrite({ kind: "rollback", startTs, isProtected }));
}

/** Rolls back `lock` (owned by the transaction being rolled back) on `key`. */
export function rollbackLock(
  reader: MvccReader,
  writes: MvccWrites,
  key: Uint8Array,
  options: { lock: Lock; isProtected: boolean },
): void {
  const { lock, isProtected } = options;
  if (lock.kind === "put" && lock.shortValue === undefined) {
    writes.deleteValue(key, lock.startTs);
  }
  writeRollback(reader, writes, key, { startTs: lock.startTs, isProtected });
  writes.deleteLock(key);
}

/**
 * Turns `lock` into a commit record at `commitTs` and removes it (1PC passes
 * `lockIsStored: false` when the lock was never written). A rollback record of another
 * transaction already at `commitTs` is kept as the overlapped-rollback flag.
 */
export function commitLock(
  reader: MvccReader,
  writes: MvccWrites,
  key: Uint8Array,
  options: { lock: Lock; commitTs: Timestamp; lockIsStored?: boolean },
): void {
  const { lock, commitTs } = options;
  assert(lock.kind !== "pessimistic", "committing a pessimistic lock");
  const existing = reader.seekWrite(key, commitTs);
  let hasOverlappedRollback = false;
  if (existing !== undefined && existing.commitTs === commitTs) {
    assert(
      existing.write.kind === "rollback",
      "two transactions committed one key at one commit ts",
    );
    hasOverlappedRollback = true;
  }
  writes.putWrite(
    key,
    commitTs,
    makeWrite({
      kind: lock.kind,
      startTs: lock.startTs,
      shortValue: lock.shortValue,
      hasOverlappedRollback,
    }),
  );
  if (options.lockIsStored ?? true) writes.deleteLock(key);
}
