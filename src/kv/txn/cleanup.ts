/**
 * Rollback, cleanup and pessimistic rollback of one transaction's keys.
 *
 * - `rollbackKey` rolls back unconditionally (the client gave up, or the primary says the
 *   transaction is rolled back). With no lock it still leaves a rollback record, so a
 *   prewrite that arrives late cannot succeed.
 * - `cleanupKey` is the same but refuses while the lock's TTL is alive (`keyIsLocked`).
 * - Both refuse to roll back a committed transaction (`cannotRollbackCommitted`).
 * - `pessimisticRollbackKey` drops a pessimistic lock (no rollback record: the transaction
 *   may lock the key again).
 *
 * Rollbacks of primary keys must be protected (they decide the transaction's fate and
 * must survive collapsing); secondaries may use unprotected ones.
 */
import type { Timestamp } from "../../base/mod.ts";
import type { EngineReader } from "../engine/engine.ts";
import { MvccWrites } from "../mvcc/mvcc_writes.ts";
import { MvccReader } from "../mvcc/reader.ts";
import { isLockExpired, rollbackLock, writeRollback } from "./common.ts";
import { type ActionResult, fail } from "./failure.ts";

/** The key is rolled back (now, or by an earlier call). */
export interface RolledBack {
  readonly kind: "rolledBack";
}

/** Rolls back transaction `startTs` on `key`. */
export function rollbackKey(
  snapshot: EngineReader,
  key: Uint8Array,
  options: { startTs: Timestamp; isProtected: boolean },
): ActionResult<RolledBack> {
  return cleanupKey(snapshot, key, { ...options, nowMs: undefined });
}

/**
 * Rolls back transaction `startTs` on `key` if its lock has expired at `nowMs` (or
 * unconditionally when `nowMs` is undefined).
 */
export function cleanupKey(
  snapshot: EngineReader,
  key: Uint8Array,
  options: { startTs: Timestamp; isProtected: boolean; nowMs: number | undefined },
): ActionResult<RolledBack> {
  const { startTs, isProtected, nowMs } = options;
  const reader = new MvccReader(snapshot);
  const writes = new MvccWrites();
  const lock = reader.loadLock(key);
  if (lock !== undefined && lock.startTs === startTs) {
    if (nowMs !== undefined && !isLockExpired(lock, nowMs)) {
      return fail({ kind: "keyIsLocked", key, lock });
    }
    rollbackLock(reader, writes, key, { lock, isProtected });
    return { outcome: { kind: "rolledBack" }, writes: writes.ops };
  }
  const record = reader.getTxnCommitRecord(key, startTs);
  switch (record.kind) {
    case "committed":
      return fail({ kind: "cannotRollbackCommitted", key, startTs, commitTs: record.commitTs });
    case "rolledBack":
      return { outcome: { kind: "rolledBack" }, writes: [] };
    case "none":
      writeRollback(reader, writes, key, { startTs, isProtected });
      return { outcome: { kind: "rolledBack" }, writes: writes.ops };
    default:
      return record satisfies never;
  }
}

/** Rolls back every key of a transaction; the first failure wins. */
export function rollbackKeys(
  snapshot: EngineReader,
  keys: readonly Uint8Array[],
  options: { startTs: Timestamp; isProtected: boolean },
): ActionResult<RolledBack> {
  const ops: MvccWrites["ops"] = [];
  for (const key of keys) {
    const result = rollbackKey(snapshot, key, options);
    if (result.outcome.kind !== "rolledBack") return fail(result.outcome);
    ops.push(...result.writes);
  }
  return { outcome: { kind: "rolledBack" }, writes: ops };
}

/** A pessimistic lock was removed, or there was none of this transaction to remove. */
export interface PessimisticRolledBack {
  readonly kind: "pessimisticRolledBack";
  readonly removed: boolean;
}

/**
 * Removes transaction `startTs`'s pessimistic lock on `key` if it was taken at or below
 * `forUpdateTs` (a newer lock belongs to a later statement and stays).
 */
export function pessimisticRollbackKey(
  snapshot: EngineReader,
  key: Uint8Array,
  options: { startTs: Timestamp; forUpdateTs: Timestamp },
): ActionResult<PessimisticRolledBack> {
  const reader = new MvccReader(snapshot);
  const lock = reader.loadLock(key);
  if (
    lock === undefined ||
    lock.startTs !== options.startTs ||
    lock.kind !== "pessimistic" ||
    lock.forUpdateTs > options.forUpdateTs
  ) {
    return { outcome: { kind: "pessimisticRolledBack", removed: false }, writes: [] };
  }
  const writes = new MvccWrites();
  writes.deleteLock(key);
  return { outcome: { kind: "pessimisticRolledBack", removed: true }, writes: writes.ops };
}
