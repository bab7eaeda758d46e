/**
 * Check txn status: run on a transaction's primary key by whoever found one of its locks in
 * the way, to learn whether the transaction committed, rolled back, or is still running.
 *
 * - Committed or rolled back: the write CF of the primary says so.
 * - An async-commit primary lock is reported as `locked` whatever its TTL: the caller
 *   decides with `checkSecondaryLocks` once the TTL has run out (`isLockExpired`).
 * - Locked and the TTL ran out at `nowMs` (physical ms, passed in): the transaction is
 *   dead; its primary is rolled back here with a protected rollback (a pessimistic primary
 *   lock is simply removed) and the caller rolls back the secondaries.
 * - Locked and alive: the caller waits, or — for a reader at `callerStartTs` — the lock's
 *   min commit ts is pushed above the reader, so the reader can ignore the lock and read
 *   the older version.
 * - No lock and no record: the prewrite has not arrived (or was lost). With
 *   `rollbackIfNotExist` a protected rollback is written so it can never succeed;
 *   otherwise `txnNotFound`.
 */
import { type Timestamp, maxOfTimestamps, maxTimestamp } from "../../base/mod.ts";
import type { EngineReader } from "../engine/engine.ts";
import type { Lock } from "../mvcc/lock.ts";
import { MvccWrites } from "../mvcc/mvcc_writes.ts";
import { MvccReader } from "../mvcc/reader.ts";
import { isLockExpired, rollbackLock, writeRollback } from "./common.ts";
import { type ActionResult, fail } from "./failure.ts";

/** The status of a transaction, as its primary key tells it. */
export type TxnStatus =
  | { readonly kind: "committed"; readonly commitTs: Timestamp }
  | { readonly kind: "rolledBack" }
  /** The primary lock expired and was rolled back by this call. */
  | { readonly kind: "ttlExpireRollback" }
  /** No lock and no record; a protected rollback was written by this call. */
  | { readonly kind: "lockNotExistRollback" }
  /** The expired primary lock was a pessimistic lock and was removed. */
  | { readonly kind: "pessimisticRollback" }
  /** Alive. `minCommitTsPushed` when the lock was rewritten with a larger min commit ts. */
  | { readonly kind: "locked"; readonly lock: Lock; readonly minCommitTsPushed: boolean };

/** Inputs of a status check. */
export interface CheckTxnStatusRequest {
  readonly primary: Uint8Array;
  /** The start ts of the transaction being checked. */
  readonly lockTs: Timestamp;
  /** The start ts of the caller (a reader pushes min commit ts above it); zero: none. */
  readonly callerStartTs: Timestamp;
  /** The caller's current ts: a pushed min commit ts is at least this. */
  readonly currentTs: Timestamp;
  /** The current physical time in ms, for TTL expiry. */
  readonly nowMs: number;
  readonly rollbackIfNotExist: boolean;
}

/** Checks (and maybe resolves or pushes) the transaction `lockTs` at its primary. */
export function checkTxnStatus(
  snapshot: EngineReader,
  request: CheckTxnStatusRequest,
): ActionResult<TxnStatus> {
  const { primary, lockTs } = request;
  const reader = new MvccReader(snapshot);
  const writes = new MvccWrites();
  const lock = reader.loadLock(primary);
  if (lock !== undefined && lock.startTs === lockTs) {
    // An async-commit transaction may already be committed (every key prewritten) even
    // if its primary expired: only its secondaries can tell, so never roll it back here.
    if (lock.useAsyncCommit) {
      return { outcome: { kind: "locked", lock, minCommitTsPushed: false }, writes: [] };
    }
    if (isLockExpired(lock, request.nowMs)) {
      if (lock.kind === "pessimistic") {
        writes.deleteLock(primary);
        return { outcome: { kind: "pessimisticRollback" }, writes: writes.ops };
      }
      rollbackLock(reader, writes, primary, { lock, isProtected: true });
      return { outcome: { kind: "ttlExpireRollback" }, writes: writes.ops };
    }
    const canPush =
      lock.kind !== "pessimistic" &&
      request.callerStartTs !== 0n &&
      request.callerStartTs !== maxTimestamp &&
      lock.minCommitTs <= request.callerStartTs;
    if (!canPush) {
      return { outcome: { kind: "locked", lock, minCommitTsPushed: false }, writes: [] };
    }
    const minCommitTs = maxOfTimestamps(
      (request.callerStartTs + 1n) as Timestamp,
      request.currentTs,
    );
    const pushed: Lock = { ...lock, minCommitTs };
    writes.putLock(primary, pushed);
    return {
      outcome: { kind: "locked", lock: pushed, minCommitTsPushed: true },
      writes: writes.ops,
    };
  }
  const record = reader.getTxnCommitRecord(primary, lockTs);
  switch (record.kind) {
    case "committed":
      return { outcome: { kind: "committed", commitTs: record.commitTs }, writes: [] };
    case "rolledBack":
      return { outcome: { kind: "rolledBack" }, writes: [] };
    case "none":
      if (!request.rollbackIfNotExist) {
        return fail({ kind: "txnNotFound", key: primary, startTs: lockTs });
      }
      writeRollback(reader, writes, primary, { startTs: lockTs, isProtected: true });
      return { outcome: { kind: "lockNotExistRollback" }, writes: writes.ops };
    default:
      return record satisfies never;
  }
}
