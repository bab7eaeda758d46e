/**
 * Conversions between the store's values (locks, Percolator failures, wait-for edges) and
 * their wire shapes in `proto/kv.ts`. Pure and total: every failure kind has a wire form,
 * checked by an exhaustive switch.
 */
import { unreachable } from "../../base/mod.ts";
import type { KeyError, LockInfo, TxnStatusInfo, WaitForEdgeInfo } from "../../proto/mod.ts";
import type { Lock } from "../mvcc/lock.ts";
import type { WaitForEdge } from "../txn/deadlock_detector.ts";
import type { TxnStatus } from "../txn/check_txn_status.ts";
import type { TxnFailure } from "../txn/failure.ts";

/** The wire form of `lock` on `key`. */
export function lockInfo(key: Uint8Array, lock: Lock): LockInfo {
  return {
    key,
    kind: lock.kind,
    primary: lock.primary,
    startTs: lock.startTs,
    ttlMs: lock.ttlMs,
    forUpdateTs: lock.forUpdateTs,
    txnSize: lock.txnSize,
    minCommitTs: lock.minCommitTs,
    useAsyncCommit: lock.useAsyncCommit,
    secondaries: lock.secondaries,
  };
}

/** The key error a client sees for an action's failure. */
export function keyErrorOf(failure: TxnFailure): KeyError {
  switch (failure.kind) {
    case "keyIsLocked":
      return { kind: "keyIsLocked", lock: lockInfo(failure.key, failure.lock) };
    case "writeConflict":
      return {
        kind: "writeConflict",
        key: failure.key,
        startTs: failure.startTs,
        conflictStartTs: failure.conflictStartTs,
        conflictCommitTs: failure.conflictCommitTs,
        reason: failure.reason,
      };
    case "alreadyExist":
      return { kind: "alreadyExist", key: failure.key };
    case "txnLockNotFound":
    case "pessimisticLockNotFound":
    case "txnNotFound":
      return { kind: failure.kind, key: failure.key, startTs: failure.startTs };
    case "commitTsExpired":
      return {
        kind: "commitTsExpired",
        key: failure.key,
        startTs: failure.startTs,
        commitTs: failure.commitTs,
        minCommitTs: failure.minCommitTs,
      };
    case "cannotRollbackCommitted":
      return {
        kind: "committed",
        key: failure.key,
        startTs: failure.startTs,
        commitTs: failure.commitTs,
      };
    default:
      return unreachable(failure, "txn failure");
  }
}

/** The wire form of a transaction status. */
export function txnStatusInfo(primary: Uint8Array, status: TxnStatus): TxnStatusInfo {
  if (status.kind === "locked") {
    return {
      kind: "locked",
      lock: lockInfo(primary, status.lock),
      minCommitTsPushed: status.minCommitTsPushed,
    };
  }
  return status;
}

/** The wire form of a wait-for edge. */
export function edgeInfo(edge: WaitForEdge): WaitForEdgeInfo {
  return { waiterTs: edge.waiterTs, holderTs: edge.holderTs, keyHash: edge.keyHash };
}
