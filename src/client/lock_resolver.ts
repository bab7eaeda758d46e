/**
 * `LockResolver`: what a reader (or a writer, or GC) does when another transaction's lock is
 * in its way (`keyIsLocked`). It asks the lock's primary for the transaction's fate with
 * `checkTxnStatus` (passing the caller's start ts, so a live optimistic lock's min commit
 * ts is pushed above the reader, and the current TSO, so an expired lock is rolled back):
 * - committed: the lock is resolved (committed at that ts) on its shard;
 * - rolled back (explicitly, by TTL expiry, or never prewritten): the lock is resolved as a
 *   rollback;
 * - still locked: the caller may read past it when its min commit ts is above the caller's
 *   start ts (the transaction must commit later than the read: returned in `bypass`);
 *   otherwise the caller waits `msBeforeExpired` and tries again;
 * - an async-commit lock whose TTL has expired: the secondaries decide
 *   (`checkSecondaryLocks`): all locked → committed at the largest min commit ts; any
 *   committed → committed at that ts; any missing → rolled back; every key is then
 *   resolved.
 * The primary may not exist yet (`txnNotFound`, a prewrite still in flight): the lock is
 * treated as live until its TTL expires, then the primary is rolled back for good
 * (`rollbackIfNotExist`).
 *
 * Resolved transactions (committed or rolled back) are remembered in an LRU cache bounded
 * by `cacheMax`, so the next lock of the same transaction skips `checkTxnStatus`. The
 * resolver owns only that cache; routing belongs to the `KvClient`.
 */
import {
  ErrorCode,
  TesseraError,
  type Timestamp,
  decomposeTimestamp,
  limits,
} from "../base/mod.ts";
import {
  type CheckSecondaryLocksReply,
  type CheckTxnStatusReply,
  type KeyError,
  KvMethod,
  type LockInfo,
  type ResolveLockReply,
  type TxnStatusInfo,
  keyErrorCodes,
} from "../proto/mod.ts";
import type { Env } from "../env/mod.ts";
import { type KvClient, mapBounded } from "./kv_client.ts";

/** The fate of a transaction, as remembered. */
type Fate =
  | { readonly kind: "committed"; readonly commitTs: Timestamp }
  | { readonly kind: "rolledBack" };

/** What `resolve` did. */
export interface ResolveResult {
  /** Milliseconds until the first live lock may expire; 0 when none is left in the way. */
  readonly msBeforeExpired: number;
  /** Start ts of live transactions whose locks the caller may read past. */
  readonly bypass: readonly Timestamp[];
}

/** Counters for tests and metrics. */
export interface LockResolverStats {
  readonly checkTxnStatus: number;
  readonly resolved: number;
  readonly cacheHits: number;
  readonly asyncCommitChecks: number;
  readonly cacheSize: number;
}

/** A key error as a typed error with its stable code. */
export function keyErrorToError(error: KeyError, context: string): TesseraError {
  if (error.kind === "snapshotTooOld") {
    // The store collected below this read: the same outcome as the client's own check.
    return new TesseraError(
      ErrorCode.ClientTxnSnapshotTooOld,
      `${context}: cannot read at ts ${error.readTs}: below the GC safe point ` +
        `${error.safePoint}; the data it needs may be collected`,
      { details: { readTs: String(error.readTs), safePoint: String(error.safePoint) } },
    );
  }
  return new TesseraError(keyErrorCodes[error.kind], `${context}: ${error.kind}`, {
    details: { keyError: error },
  });
}

/** Milliseconds from `nowTs` until a lock taken at `startTs` with `ttlMs` expires. */
export function msUntilExpired(startTs: Timestamp, ttlMs: number, nowTs: Timestamp): number {
  const start = decomposeTimestamp(startTs).physicalMs;
  const now = decomposeTimestamp(nowTs).physicalMs;
  return Math.max(0, start + ttlMs - now);
}

/** The lock resolver; see the file comment. */
export class LockResolver {
  private readonly kv: KvClient;
  private readonly timestamp: () => Promise<Timestamp>;
  private readonly env: Pick<Env, "timers" | "buggify"> | undefined;
  private readonly cacheMax: number;
  private readonly cache = new Map<bigint, Fate>();
  private readonly counters = {
    checkTxnStatus: 0,
    resolved: 0,
    cacheHits: 0,
    asyncCommitChecks: 0,
  };

  constructor(options: {
    readonly kv: KvClient;
    /** A fresh TSO timestamp. */
    readonly timestamp: () => Promise<Timestamp>;
    /** Default `limits.clientResolvedTxnCacheMax`. */
    readonly cacheMax?: number;
    /** Timers and fault points (simulation); without it no fault point fires. */
    readonly env?: Pick<Env, "timers" | "buggify">;
  }) {
    this.kv = options.kv;
    this.env = options.env;
    this.timestamp = options.timestamp;
    this.cacheMax = Math.max(1, options.cacheMax ?? limits.clientResolvedTxnCacheMax);
  }

  get stats(): LockResolverStats {
    return { ...this.counters, cacheSize: this.cache.size };
  }

  /**
   * Resolves what it can of `locks` for a caller at `callerStartTs` (0: not a reader, e.g.
   * a writer or GC, which never reads past a lock).
   */
  async resolve(locks: readonly LockInfo[], callerStartTs: Timestamp): Promise<ResolveResult> {
    if (locks.length === 0) return { msBeforeExpired: 0, bypass: [] };
    const currentTs = await this.timestamp();
    // Fault point (simulation only): the resolver acts late on a current ts gone stale.
    if (this.env?.buggify?.("client.lockResolver.staleCurrentTs", 0.1) === true) {
      await this.env.timers.sleep(200);
    }
    const results = await mapBounded(locks, this.kv.concurrency, (lock) =>
      this.resolveOne(lock, callerStartTs, currentTs),
    );
    let msBeforeExpired = 0;
    const bypass: Timestamp[] = [];
    for (const r of results) {
      if (r.kind === "bypass") bypass.push(r.startTs);
      if (r.kind === "wait") {
        msBeforeExpired =
          msBeforeExpired === 0 ? r.ms : Math.min(msBeforeExpired, Math.max(1, r.ms));
      }
    }
    return { msBeforeExpired, bypass };
  }

  private async resolveOne(
    lock: LockInfo,
    callerStartTs: Timestamp,
    currentTs: Timestamp,
  ): Promise<
    | { readonly kind: "done" }
    | { readonly kind: "bypass"; readonly startTs: Timestamp }
    | { readonly kind: "wait"; readonly ms: number }
  > {
    // A pessimistic lock never blocks a read; a writer meets it through lock waits.
    const cached = this.cache.get(lock.startTs);
    if (cached !== undefined) {
      this.cache.delete(lock.startTs);
      this.cache.set(lock.startTs, cached);
      this.counters.cacheHits++;
      await this.resolveKeys([lock.key], lock.startTs, cached);
      return { kind: "done" };
    }
    const status = await this.checkTxnStatus(lock, callerStartTs, currentTs);
    if (status === null) {
      // The primary is not there yet: a prewrite in flight; live until the TTL runs out.
      return { kind: "wait", ms: msUntilExpired(lock.startTs, lock.ttlMs, currentTs) };
    }
    switch (status.kind) {
      case "committed":
        return this.finish(lock, { kind: "committed", commitTs: status.commitTs });
      case "rolledBack":
      case "ttlExpireRollback":
      case "lockNotExistRollback":
      case "pessimisticRollback":
        return this.finish(lock, { kind: "rolledBack" });
      case "locked": {
        const primaryLock = status.lock;
        const ms = msUntilExpired(primaryLock.startTs, primaryLock.ttlMs, currentTs);
        if (primaryLock.useAsyncCommit) {
          if (ms === 0) {
            const fate = await this.asyncCommitFate(primaryLock);
            if (fate !== null) return this.finish(lock, fate, primaryLock);
          }
          // Its commit ts is at least its min commit ts: a reader below it reads past.
          if (callerStartTs !== 0n && primaryLock.minCommitTs > callerStartTs) {
            return { kind: "bypass", startTs: lock.startTs };
          }
          return { kind: "wait", ms: Math.max(ms, 1) };
        }
        if (callerStartTs !== 0n && status.minCommitTsPushed) {
          return { kind: "bypass", startTs: lock.startTs };
        }
        return { kind: "wait", ms: Math.max(ms, 1) };
      }
      default:
        return status satisfies never;
    }
  }

  /** Remembers the fate and resolves the lock (and, for async commit, every key). */
  private async finish(
    lock: LockInfo,
    fate: Fate,
    primaryLock?: LockInfo,
  ): Promise<{ readonly kind: "done" }> {
    this.remember(lock.startTs, fate);
    const keys =
      primaryLock === undefined ? [lock.key] : [primaryLock.key, ...primaryLock.secondaries];
    await this.resolveKeys(keys, lock.startTs, fate);
    return { kind: "done" };
  }

  /** `checkTxnStatus` on the primary; null when the primary is missing and still alive. */
  private async checkTxnStatus(
    lock: LockInfo,
    callerStartTs: Timestamp,
    currentTs: Timestamp,
  ): Promise<TxnStatusInfo | null> {
    const expired = msUntilExpired(lock.startTs, lock.ttlMs, currentTs) === 0;
    for (const rollbackIfNotExist of expired ? [true] : [false]) {
      this.counters.checkTxnStatus++;
      const { reply } = await this.kv.sendKey<CheckTxnStatusReply>(
        lock.primary,
        KvMethod.checkTxnStatus,
        () => ({
          primary: lock.primary,
          lockTs: lock.startTs,
          callerStartTs,
          currentTs,
          rollbackIfNotExist,
        }),
      );
      const keyError = reply.keyError;
      if (keyError !== undefined) {
        if (keyError.kind === "txnNotFound") return null;
        throw keyErrorToError(keyError, "checkTxnStatus");
      }
      if (reply.status !== null) return reply.status;
    }
    return null;
  }

  /** The fate of an expired async-commit transaction, decided by its secondaries. */
  private async asyncCommitFate(primaryLock: LockInfo): Promise<Fate | null> {
    this.counters.asyncCommitChecks++;
    const secondaries = primaryLock.secondaries;
    let commitTs = primaryLock.minCommitTs;
    if (secondaries.length === 0) return { kind: "committed", commitTs };
    const replies = await this.kv.sendKeys<CheckSecondaryLocksReply>(
      secondaries,
      KvMethod.checkSecondaryLocks,
      (keys) => ({ keys, startTs: primaryLock.startTs }),
    );
    for (const { reply } of replies) {
      if (reply.keyError !== undefined) throw keyErrorToError(reply.keyError, "checkSecondary");
      const status = reply.status;
      if (status === null) return null;
      switch (status.kind) {
        case "committed":
          return { kind: "committed", commitTs: status.commitTs };
        case "rolledBack":
          return { kind: "rolledBack" };
        case "locked":
          for (const l of status.locks) if (l.minCommitTs > commitTs) commitTs = l.minCommitTs;
          break;
        default:
          return status satisfies never;
      }
    }
    return { kind: "committed", commitTs };
  }

  /** Resolves the transaction's locks on the shards of `keys`. */
  private async resolveKeys(keys: readonly Uint8Array[], startTs: Timestamp, fate: Fate) {
    const commitTs = fate.kind === "committed" ? fate.commitTs : (0n as Timestamp);
    const replies = await this.kv.sendKeys<ResolveLockReply>(
      keys,
      KvMethod.resolveLock,
      (group) => ({ startTs, commitTs, keys: group }),
    );
    for (const { reply } of replies) {
      if (reply.keyError !== undefined) throw keyErrorToError(reply.keyError, "resolveLock");
      this.counters.resolved += reply.resolvedKeys;
    }
  }

  private remember(startTs: Timestamp, fate: Fate): void {
    this.cache.delete(startTs);
    this.cache.set(startTs, fate);
    while (this.cache.size > this.cacheMax) {
      this.cache.delete(this.cache.keys().next().value as bigint);
    }
  }
}

/** The error a reader gets when live locks outlast its wait bound. */
export function lockResolveTimeout(lock: LockInfo, waitedMs: number): TesseraError {
  return new TesseraError(
    ErrorCode.ClientTxnLockResolveTimeout,
    `a lock of transaction ${lock.startTs} stayed live for ${Math.round(waitedMs)} ms`,
    { details: { lockTs: String(lock.startTs), waitedMs } },
  );
}
