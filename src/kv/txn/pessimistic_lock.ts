/**
 * Acquiring pessimistic locks: the lock a pessimistic transaction takes on a key when a DML
 * statement or a locking read touches it, before the value is known.
 *
 * A pessimistic lock is checked at `forUpdateTs` (the statement's ts), not `startTs`: a
 * commit newer than `forUpdateTs` is a `writeConflict` (the statement retries with a
 * newer for-update ts); one between `startTs` and `forUpdateTs` is fine. Another
 * transaction's lock is `keyIsLocked` in no-wait mode, or `mustWait` in wait mode (the
 * caller parks the request in the lock wait queue and asks the deadlock detector first).
 * Retrying with the same or a newer for-update ts is idempotent. A transaction whose own
 * rollback record is on the key has been rolled back: `writeConflict` (self rolled back).
 */
import { type Timestamp, maxOfTimestamps, maxTimestamp } from "../../base/mod.ts";
import type { EngineReader } from "../engine/engine.ts";
import type { Lock } from "../mvcc/lock.ts";
import { makeLock } from "../mvcc/lock.ts";
import { MvccWrites } from "../mvcc/mvcc_writes.ts";
import { MvccReader } from "../mvcc/reader.ts";
import { type ActionResult, type TxnFailure, fail } from "./failure.ts";

/** One key to lock. */
export interface PessimisticLockKey {
  readonly key: Uint8Array;
  /** Fail with `alreadyExist` if the key has a value (INSERT). */
  readonly shouldNotExist?: boolean;
}

/** A request to lock keys of one transaction. */
export interface PessimisticLockRequest {
  readonly keys: readonly PessimisticLockKey[];
  readonly primary: Uint8Array;
  readonly startTs: Timestamp;
  readonly forUpdateTs: Timestamp;
  readonly lockTtlMs: number;
  /** Return the latest committed value of each key (UPDATE/SELECT … FOR UPDATE). */
  readonly returnValues: boolean;
  /** What to do when another transaction holds a lock. */
  readonly waitMode: "wait" | "noWait";
}

/** The success outcomes. */
export type PessimisticLockOutcome =
  | {
      readonly kind: "acquired";
      /** Parallel to `keys` when `returnValues`; else empty. */
      readonly values: readonly (Uint8Array | undefined)[];
    }
  /** Wait mode: `key` is held by `lock`'s transaction; park the request and retry later. */
  | { readonly kind: "mustWait"; readonly key: Uint8Array; readonly lock: Lock };

/** Locks every key of `request`, or fails as a whole with no writes. */
export function acquirePessimisticLock(
  snapshot: EngineReader,
  request: PessimisticLockRequest,
): ActionResult<PessimisticLockOutcome> {
  const reader = new MvccReader(snapshot);
  const writes = new MvccWrites();
  const values: (Uint8Array | undefined)[] = [];
  for (const item of request.keys) {
    const result = lockKey(reader, writes, request, item);
    if (result.kind === "value") {
      if (request.returnValues) values.push(result.value);
      continue;
    }
    if (result.kind === "keyIsLocked" && request.waitMode === "wait") {
      return { outcome: { kind: "mustWait", key: result.key, lock: result.lock }, writes: [] };
    }
    return fail(result);
  }
  return { outcome: { kind: "acquired", values }, writes: writes.ops };
}

function lockKey(
  reader: MvccReader,
  writes: MvccWrites,
  request: PessimisticLockRequest,
  item: PessimisticLockKey,
): { readonly kind: "value"; readonly value: Uint8Array | undefined } | TxnFailure {
  const { key } = item;
  const { startTs, forUpdateTs } = request;
  const lock = reader.loadLock(key);
  if (lock !== undefined) {
    if (lock.startTs !== startTs) return { kind: "keyIsLocked", key, lock };
    // Our own lock: a retry, or the key was already prewritten. Only raise for-update ts.
    if (lock.kind === "pessimistic" && lock.forUpdateTs < forUpdateTs) {
      writes.putLock(key, { ...lock, forUpdateTs });
    }
    return { kind: "value", value: latestValue(reader, key) };
  }
  const latest = reader.seekWrite(key, maxTimestamp);
  if (latest !== undefined) {
    if (latest.commitTs > forUpdateTs) {
      return {
        kind: "writeConflict",
        key,
        startTs,
        conflictStartTs: latest.write.startTs,
        conflictCommitTs: latest.commitTs,
        reason: "pessimisticRetry",
      };
    }
    if (latest.commitTs >= startTs) {
      const record = reader.getTxnCommitRecord(key, startTs);
      if (record.kind !== "none") {
        // Rolled back (or, impossibly for a live transaction, committed): stop it.
        return {
          kind: "writeConflict",
          key,
          startTs,
          conflictStartTs: startTs,
          conflictCommitTs: startTs,
          reason: "selfRolledBack",
        };
      }
    }
  }
  const value = latestValue(reader, key);
  if (item.shouldNotExist === true && value !== undefined) return { kind: "alreadyExist", key };
  writes.putLock(
    key,
    makeLock({
      kind: "pessimistic",
      primary: request.primary,
      startTs,
      ttlMs: request.lockTtlMs,
      forUpdateTs,
      minCommitTs: (maxOfTimestamps(forUpdateTs, startTs) + 1n) as Timestamp,
    }),
  );
  return { kind: "value", value };
}

function latestValue(reader: MvccReader, key: Uint8Array): Uint8Array | undefined {
  return reader.getValueIgnoringLocks(key, maxTimestamp);
}
