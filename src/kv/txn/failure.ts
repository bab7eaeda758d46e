/**
 * The expected failures of Percolator actions, as values, and their typed errors.
 *
 * Actions return a `TxnFailure` (a discriminated union) instead of throwing; the KV server
 * turns one into a `TesseraError` with a stable `KV:Txn:*` code with `failureToError` when
 * it replies, so the client can switch on the code (resolve the lock, retry, abort).
 */
import { ErrorCode, TesseraError, type Timestamp, unreachable } from "../../base/mod.ts";
import type { WriteOp } from "../engine/engine.ts";
import { describeKey } from "../mvcc/describe.ts";
import type { Lock } from "../mvcc/lock.ts";

/** Why an action could not do what was asked. */
export type TxnFailure =
  /** Another transaction's lock is on the key: resolve it (or wait) and retry. */
  | { readonly kind: "keyIsLocked"; readonly key: Uint8Array; readonly lock: Lock }
  /** A newer commit (or this transaction's own rollback) stops the write. */
  | {
      readonly kind: "writeConflict";
      readonly key: Uint8Array;
      readonly startTs: Timestamp;
      readonly conflictStartTs: Timestamp;
      readonly conflictCommitTs: Timestamp;
      readonly reason: "optimistic" | "pessimisticRetry" | "selfRolledBack";
    }
  /** Insert of a key that exists. */
  | { readonly kind: "alreadyExist"; readonly key: Uint8Array }
  /** Commit or heartbeat of a transaction whose lock is gone and that did not commit. */
  | { readonly kind: "txnLockNotFound"; readonly key: Uint8Array; readonly startTs: Timestamp }
  /** Pessimistic prewrite of a key whose pessimistic lock is gone. */
  | {
      readonly kind: "pessimisticLockNotFound";
      readonly key: Uint8Array;
      readonly startTs: Timestamp;
    }
  /** Commit below the lock's min commit ts (a reader pushed it): commit at a later ts. */
  | {
      readonly kind: "commitTsExpired";
      readonly key: Uint8Array;
      readonly startTs: Timestamp;
      readonly commitTs: Timestamp;
      readonly minCommitTs: Timestamp;
    }
  /** Status check of a transaction with no lock and no record, not told to roll it back. */
  | { readonly kind: "txnNotFound"; readonly key: Uint8Array; readonly startTs: Timestamp }
  /** Rollback of a transaction that already committed. */
  | {
      readonly kind: "cannotRollbackCommitted";
      readonly key: Uint8Array;
      readonly startTs: Timestamp;
      readonly commitTs: Timestamp;
    };

/** An action's result plus the writes to apply atomically (empty on failure). */
export interface ActionResult<T> {
  readonly outcome: T | TxnFailure;
  readonly writes: WriteOp[];
}

/** The boundary error for a failure. */
export function failureToError(failure: TxnFailure): TesseraError {
  const key = describeKey(failure.key);
  switch (failure.kind) {
    case "keyIsLocked":
      return new TesseraError(ErrorCode.KvTxnKeyIsLocked, `key ${key} is locked`, {
        details: { key, lockStartTs: failure.lock.startTs, primary: failure.lock.primary },
      });
    case "writeConflict":
      return new TesseraError(ErrorCode.KvTxnWriteConflict, `write conflict on key ${key}`, {
        details: {
          key,
          startTs: failure.startTs,
          conflictStartTs: failure.conflictStartTs,
          conflictCommitTs: failure.conflictCommitTs,
          reason: failure.reason,
        },
      });
    case "alreadyExist":
      return new TesseraError(ErrorCode.KvTxnAlreadyExist, `key ${key} already exists`, {
        details: { key },
      });
    case "txnLockNotFound":
      return new TesseraError(
        ErrorCode.KvTxnTxnLockNotFound,
        `lock of transaction ${failure.startTs} not found on key ${key}`,
        { details: { key, startTs: failure.startTs } },
      );
    case "pessimisticLockNotFound":
      return new TesseraError(
        ErrorCode.KvTxnPessimisticLockNotFound,
        `pessimistic lock of transaction ${failure.startTs} not found on key ${key}`,
        { details: { key, startTs: failure.startTs } },
      );
    case "commitTsExpired":
      return new TesseraError(
        ErrorCode.KvTxnCommitTsExpired,
        `commit ts ${failure.commitTs} is below min commit ts ${failure.minCommitTs}`,
        {
          details: {
            key,
            startTs: failure.startTs,
            commitTs: failure.commitTs,
            minCommitTs: failure.minCommitTs,
          },
        },
      );
    case "txnNotFound":
      return new TesseraError(
        ErrorCode.KvTxnTxnNotFound,
        `transaction ${failure.startTs} not found on primary ${key}`,
        { details: { key, startTs: failure.startTs } },
      );
    case "cannotRollbackCommitted":
      return new TesseraError(
        ErrorCode.KvTxnCommitted,
        `transaction ${failure.startTs} already committed at ${failure.commitTs}`,
        { details: { key, startTs: failure.startTs, commitTs: failure.commitTs } },
      );
    default:
      return unreachable(failure, "txn failure");
  }
}

/** A failure result with no writes. */
export function fail<T>(failure: TxnFailure): ActionResult<T> {
  return { outcome: failure, writes: [] };
}

/** True when `outcome` is a failure (as opposed to a success value of the action). */
export function isFailure<T extends { readonly kind: string }>(
  outcome: T | TxnFailure,
): outcome is TxnFailure {
  return failureKinds.has(outcome.kind);
}

const failureKinds: ReadonlySet<string> = new Set<TxnFailure["kind"]>([
  "keyIsLocked",
  "writeConflict",
  "alreadyExist",
  "txnLockNotFound",
  "pessimisticLockNotFound",
  "commitTsExpired",
  "txnNotFound",
  "cannotRollbackCommitted",
]);
