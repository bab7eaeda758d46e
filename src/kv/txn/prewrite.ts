/**
 * Prewrite: the first phase of Percolator, plus async commit and one-phase commit.
 *
 * For each mutation, prewrite checks the key and writes a lock:
 * - another transaction's lock on the key → `keyIsLocked`;
 * - optimistic: a commit record newer than `startTs` → `writeConflict`;
 * - pessimistic, key locked by this transaction: the pessimistic lock already excluded
 *   conflicts (up to its for-update ts), so it is converted in place; if it is gone →
 *   `pessimisticLockNotFound` (unless the transaction already committed: a retry, below);
 * - pessimistic, key not locked (e.g. non-unique index keys): conflicts above
 *   `forUpdateTs` → `writeConflict`;
 * - this transaction's own rollback record at `startTs` → `writeConflict` (self rolled
 *   back), so a prewrite that arrives after a rollback can never succeed;
 * - insert / check-not-exists of a key with a visible value → `alreadyExist`.
 *
 * Async commit and 1PC: every lock gets `minCommitTs = max(maxReadTs, startTs,
 * forUpdateTs) + 1` (and at least the client's `minCommitTs`), where `maxReadTs` is the
 * concurrency manager's max read ts read while the caller holds the keys' latches. The
 * transaction commits at the largest of these, which is above every read that has already
 * happened, so no reader can observe the transaction's commit "in its past" after the fact.
 * If that ts exceeds `maxCommitTs` the whole request falls back to plain 2PC. 1PC writes
 * commit records directly instead of locks. Async-commit and 1PC results return
 * `memoryLocks`: the caller must install them in the concurrency manager before the writes
 * are proposed and remove them once applied, so readers arriving in between see them.
 *
 * A retried request (the KV client resends one whose reply was lost) may find that its
 * first attempt already committed the transaction: 1PC commits in the prewrite, and a
 * reader's lock resolution commits an async-commit transaction. A key whose lock is gone,
 * or that conflicts with a newer write, is therefore first looked up for the
 * transaction's own commit record; if one exists the request writes nothing and reports
 * that record's commit ts (as the 1PC commit ts, or the async-commit min commit ts), as
 * TiKV does, never a fresh one: the client must learn the ts the data really has. Every
 * other key of the transaction was prewritten before anything could commit, so there is
 * nothing left to write.
 *
 * A request fails as a whole on its first failure and then writes nothing; the client
 * resolves the lock or aborts and retries the request.
 */
import { type Timestamp, assert, limits, maxOfTimestamps, unreachable } from "../../base/mod.ts";
import type { EngineReader } from "../engine/engine.ts";
import { bytesEqual } from "../mvcc/bytes.ts";
import { type Lock, type LockKind, makeLock } from "../mvcc/lock.ts";
import { MvccWrites } from "../mvcc/mvcc_writes.ts";
import { MvccReader } from "../mvcc/reader.ts";
import { commitLock } from "./common.ts";
import { type ActionResult, type TxnFailure, fail } from "./failure.ts";

/** One key a transaction writes or checks. */
export type Mutation =
  | { readonly kind: "put"; readonly key: Uint8Array; readonly value: Uint8Array }
  /** A put that requires the key not to exist. */
  | { readonly kind: "insert"; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly kind: "delete"; readonly key: Uint8Array }
  /** A lock record only (SELECT … FOR UPDATE in optimistic transactions). */
  | { readonly kind: "lock"; readonly key: Uint8Array }
  /** Only checks that the key does not exist; writes nothing. */
  | { readonly kind: "checkNotExists"; readonly key: Uint8Array };

/** How the transaction will commit. */
export type CommitMode =
  | { readonly kind: "twoPc" }
  | {
      readonly kind: "asyncCommit";
      /** Every key of the transaction but the primary; stored in the primary's lock. */
      readonly secondaries: readonly Uint8Array[];
      /** Fall back to 2PC if the commit ts would exceed this (zero: no bound). */
      readonly maxCommitTs: Timestamp;
    }
  | { readonly kind: "onePc"; readonly maxCommitTs: Timestamp };

/** A prewrite request: some (or all) keys of one transaction on one shard. */
export interface PrewriteRequest {
  readonly mutations: readonly Mutation[];
  readonly primary: Uint8Array;
  readonly startTs: Timestamp;
  readonly lockTtlMs: number;
  readonly txnSize?: number;
  /** Pessimistic transactions: the for-update ts, and which mutations hold our lock. */
  readonly pessimistic?: {
    readonly forUpdateTs: Timestamp;
    /** Parallel to `mutations`: true when the key must hold our pessimistic lock. */
    readonly locked: readonly boolean[];
  };
  /** Lower bound for the commit ts the client already knows (zero: none). */
  readonly minCommitTs?: Timestamp;
  readonly commitMode: CommitMode;
  /** The concurrency manager's max read ts; used by async commit and 1PC. */
  readonly maxReadTs: Timestamp;
}

/** A lock async commit or 1PC must show to readers before it lands in the engine. */
export interface MemoryLock {
  readonly key: Uint8Array;
  readonly lock: Lock;
}

/** A successful prewrite. */
export type PrewriteOutcome =
  | {
      readonly kind: "prewritten";
      /** Async commit: the commit ts to use (max over the keys); zero for 2PC. */
      readonly minCommitTs: Timestamp;
      readonly memoryLocks: readonly MemoryLock[];
      /** Set when async commit or 1PC was asked for but the commit ts was too large. */
      readonly fellBackFrom: "asyncCommit" | "onePc" | undefined;
    }
  | {
      readonly kind: "onePcCommitted";
      readonly commitTs: Timestamp;
      readonly memoryLocks: readonly MemoryLock[];
    };

/** The per-key result before the request-wide commit ts is known. */
interface KeyPlan {
  readonly kind: "plan";
  readonly key: Uint8Array;
  /** The lock to write, or undefined for `checkNotExists` and idempotent retries. */
  readonly lock: Lock | undefined;
  /** The long value to put in default CF. */
  readonly longValue: Uint8Array | undefined;
  /** This transaction's pessimistic lock being replaced (1PC must remove it). */
  readonly hadPessimisticLock: boolean;
  /** The lock an earlier, identical prewrite already wrote. */
  readonly duplicate: Lock | undefined;
}

/** The transaction's own commit record was found: the request is a committed retry. */
interface AlreadyCommitted {
  readonly kind: "alreadyCommitted";
  readonly commitTs: Timestamp;
}

function lockKindOf(mutation: Mutation): LockKind | undefined {
  switch (mutation.kind) {
    case "put":
    case "insert":
      return "put";
    case "delete":
      return "delete";
    case "lock":
      return "lock";
    case "checkNotExists":
      return undefined;
    default:
      return unreachable(mutation, "mutation");
  }
}

function shouldNotExist(mutation: Mutation): boolean {
  return mutation.kind === "insert" || mutation.kind === "checkNotExists";
}

function nextTs(ts: Timestamp): Timestamp {
  return (ts + 1n) as Timestamp;
}

/** Checks one key and plans its lock; a duplicate of an earlier prewrite plans nothing. */
function prewriteKey(
  reader: MvccReader,
  request: PrewriteRequest,
  index: number,
): KeyPlan | TxnFailure | AlreadyCommitted {
  const mutation = request.mutations[index];
  assert(mutation !== undefined, "mutation index out of range");
  const { key } = mutation;
  const { startTs } = request;
  const mustHoldPessimisticLock = request.pessimistic?.locked[index] ?? false;
  const lock = reader.loadLock(key);
  let hadPessimisticLock = false;
  if (lock !== undefined) {
    if (lock.startTs !== startTs) return { kind: "keyIsLocked", key, lock };
    if (lock.kind !== "pessimistic") {
      // A retried prewrite: the lock is already there.
      return {
        kind: "plan",
        key,
        lock: undefined,
        longValue: undefined,
        hadPessimisticLock: false,
        duplicate: lock,
      };
    }
    hadPessimisticLock = true;
  } else if (mustHoldPessimisticLock) {
    const record = reader.getTxnCommitRecord(key, startTs);
    if (record.kind === "committed") {
      return { kind: "alreadyCommitted", commitTs: record.commitTs };
    }
    return { kind: "pessimisticLockNotFound", key, startTs };
  }
  if (!hadPessimisticLock) {
    const failure = checkConstraints(reader, request, mutation);
    if (failure !== undefined) return failure;
  }
  // A pessimistic lock already checked conflicts and existence at its for-update ts, and
  // nothing newer can commit while we hold it. A check-only key that holds one becomes a
  // lock record, so commit replaces the pessimistic lock.
  const kind = lockKindOf(mutation) ?? (hadPessimisticLock ? "lock" : undefined);
  if (kind === undefined) {
    return {
      kind: "plan",
      key,
      lock: undefined,
      longValue: undefined,
      hadPessimisticLock,
      duplicate: undefined,
    };
  }
  const value = mutation.kind === "put" || mutation.kind === "insert" ? mutation.value : undefined;
  const isShort = value !== undefined && value.length <= limits.mvccShortValueBytesMax;
  const forUpdateTs = request.pessimistic?.forUpdateTs;
  const newLock = makeLock({
    kind,
    primary: request.primary,
    startTs,
    ttlMs: request.lockTtlMs,
    shortValue: isShort ? value : undefined,
    txnSize: request.txnSize ?? request.mutations.length,
    minCommitTs: request.minCommitTs ?? (0n as Timestamp),
    ...(forUpdateTs === undefined ? {} : { forUpdateTs }),
  });
  return {
    kind: "plan",
    key,
    lock: newLock,
    longValue: value !== undefined && !isShort ? value : undefined,
    hadPessimisticLock,
    duplicate: undefined,
  };
}

/**
 * The write-conflict, self-rollback and existence checks of a key without our lock. A
 * conflict with the transaction's own commit record is a retry of a committed request.
 */
function checkConstraints(
  reader: MvccReader,
  request: PrewriteRequest,
  mutation: Mutation,
): TxnFailure | AlreadyCommitted | undefined {
  const { key } = mutation;
  const { startTs } = request;
  const latest = reader.seekWrite(key, 0xffff_ffff_ffff_ffffn as Timestamp);
  if (latest !== undefined) {
    const limitTs = request.pessimistic?.forUpdateTs ?? startTs;
    const conflict = !skipWriteConflictCheckForTest.value && latest.commitTs > limitTs;
    if (conflict) {
      const record = reader.getTxnCommitRecord(key, startTs);
      if (record.kind === "committed") {
        return { kind: "alreadyCommitted", commitTs: record.commitTs };
      }
      return {
        kind: "writeConflict",
        key,
        startTs,
        conflictStartTs: latest.write.startTs,
        conflictCommitTs: latest.commitTs,
        reason: request.pessimistic === undefined ? "optimistic" : "pessimisticRetry",
      };
    }
    if (latest.commitTs >= startTs) {
      const record = reader.getTxnCommitRecord(key, startTs);
      if (record.kind === "rolledBack") {
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
  if (shouldNotExist(mutation)) {
    const visible = reader.getWrite(key, 0xffff_ffff_ffff_ffffn as Timestamp);
    if (visible !== undefined && visible.write.kind === "put") {
      return { kind: "alreadyExist", key };
    }
  }
  return undefined;
}

/**
 * A test-only switch that skips the write-conflict check, so the snapshot-isolation
 * property test can show that it catches the resulting lost updates. Never set elsewhere.
 */
export const skipWriteConflictCheckForTest = { value: false };

/** Prewrites the mutations of `request`. */
export function prewrite(
  snapshot: EngineReader,
  request: PrewriteRequest,
): ActionResult<PrewriteOutcome> {
  const reader = new MvccReader(snapshot);
  const plans: KeyPlan[] = [];
  for (let i = 0; i < request.mutations.length; i++) {
    const plan = prewriteKey(reader, request, i);
    switch (plan.kind) {
      case "plan":
        plans.push(plan);
        break;
      case "alreadyCommitted":
        return committedRetry(request, plan.commitTs);
      default:
        return fail(plan);
    }
  }
  const mode = request.commitMode;
  switch (mode.kind) {
    case "twoPc":
      return writeLocks(request, plans, undefined);
    case "asyncCommit":
    case "onePc": {
      let commitTs = maxOfTimestamps(request.maxReadTs, request.startTs);
      if (request.pessimistic !== undefined) {
        commitTs = maxOfTimestamps(commitTs, request.pessimistic.forUpdateTs);
      }
      commitTs = maxOfTimestamps(nextTs(commitTs), request.minCommitTs ?? (0n as Timestamp));
      for (const plan of plans) {
        if (plan.duplicate !== undefined) {
          commitTs = maxOfTimestamps(commitTs, plan.duplicate.minCommitTs);
        }
      }
      if (mode.maxCommitTs !== 0n && commitTs > mode.maxCommitTs) {
        return writeLocks(request, plans, mode.kind);
      }
      return mode.kind === "asyncCommit"
        ? writeAsyncCommitLocks(request, plans, mode.secondaries, commitTs)
        : writeOnePc(reader, plans, commitTs);
    }
    default:
      return unreachable(mode, "commit mode");
  }
}

/** A retried request of a committed transaction: nothing to write; see the file comment. */
function committedRetry(
  request: PrewriteRequest,
  commitTs: Timestamp,
): ActionResult<PrewriteOutcome> {
  const mode = request.commitMode;
  switch (mode.kind) {
    case "onePc":
      return { outcome: { kind: "onePcCommitted", commitTs, memoryLocks: [] }, writes: [] };
    case "asyncCommit":
    case "twoPc":
      return {
        outcome: {
          kind: "prewritten",
          minCommitTs: mode.kind === "asyncCommit" ? commitTs : (0n as Timestamp),
          memoryLocks: [],
          fellBackFrom: undefined,
        },
        writes: [],
      };
    default:
      return unreachable(mode, "commit mode");
  }
}

function writeLocks(
  request: PrewriteRequest,
  plans: readonly KeyPlan[],
  fellBackFrom: "asyncCommit" | "onePc" | undefined,
): ActionResult<PrewriteOutcome> {
  const writes = new MvccWrites();
  for (const plan of plans) {
    if (plan.lock === undefined) continue;
    if (plan.longValue !== undefined) writes.putValue(plan.key, request.startTs, plan.longValue);
    writes.putLock(plan.key, plan.lock);
  }
  return {
    outcome: { kind: "prewritten", minCommitTs: 0n as Timestamp, memoryLocks: [], fellBackFrom },
    writes: writes.ops,
  };
}

function writeAsyncCommitLocks(
  request: PrewriteRequest,
  plans: readonly KeyPlan[],
  secondaries: readonly Uint8Array[],
  minCommitTs: Timestamp,
): ActionResult<PrewriteOutcome> {
  const writes = new MvccWrites();
  const memoryLocks: MemoryLock[] = [];
  for (const plan of plans) {
    if (plan.lock === undefined) continue;
    const isPrimary = bytesEqual(plan.key, request.primary);
    const lock: Lock = {
      ...plan.lock,
      useAsyncCommit: true,
      minCommitTs,
      secondaries: isPrimary ? secondaries : [],
    };
    if (plan.longValue !== undefined) writes.putValue(plan.key, request.startTs, plan.longValue);
    writes.putLock(plan.key, lock);
    memoryLocks.push({ key: plan.key, lock });
  }
  return {
    outcome: { kind: "prewritten", minCommitTs, memoryLocks, fellBackFrom: undefined },
    writes: writes.ops,
  };
}

function writeOnePc(
  reader: MvccReader,
  plans: readonly KeyPlan[],
  commitTs: Timestamp,
): ActionResult<PrewriteOutcome> {
  const writes = new MvccWrites();
  const memoryLocks: MemoryLock[] = [];
  for (const plan of plans) {
    if (plan.lock === undefined) continue;
    const lock: Lock = { ...plan.lock, minCommitTs: commitTs };
    if (plan.longValue !== undefined) writes.putValue(plan.key, lock.startTs, plan.longValue);
    // Our pessimistic lock, if any, is replaced by the commit record.
    commitLock(reader, writes, plan.key, {
      lock,
      commitTs,
      lockIsStored: plan.hadPessimisticLock,
    });
    memoryLocks.push({ key: plan.key, lock });
  }
  return { outcome: { kind: "onePcCommitted", commitTs, memoryLocks }, writes: writes.ops };
}
