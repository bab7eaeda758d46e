/**
 * `Transaction`: one Percolator transaction as a SQL session sees it — snapshot reads at
 * its start ts (through the lock resolver), a write buffer, pessimistic locks, and commit
 * (through `committer.ts`, which records the path taken in `commitPath`).
 *
 * Reads merge the buffer over the snapshot: a buffered put or delete wins. A read that
 * meets a lock resolves it and retries; live locks are waited out with a backoff within
 * `lockWaitMsMax`, then `CLIENT:Txn:LockResolveTimeout`. Every snapshot read first checks
 * the start ts against the GC safe point (`CLIENT:Txn:SnapshotTooOld`).
 *
 * Pessimistic mode: `lockKeys` takes a fresh for-update ts, locks the primary first (so
 * every secondary lock's primary exists), then the rest in parallel. A lock held by another
 * transaction is waited on at the store in slices of `limits.txnLockWaitSliceMs`, resolving
 * the holder between slices (a crashed holder's lock expires), up to `waitTimeoutMs`
 * (`KV:Txn:LockWaitTimeout`); a cycle is `KV:Txn:Deadlock`; a newer commit takes a new
 * for-update ts and locks again (bounded). While a primary lock exists, a heartbeat (Env
 * timer) extends its TTL so a long transaction is not taken for crashed.
 *
 * For SQL statements: reads may be taken at a later `readTs` than the start ts (a
 * pessimistic statement's "current read" at its for-update ts, READ COMMITTED's statement
 * snapshot), still under the transaction's own writes; `lockKeys` with a fixed
 * `forUpdateTs` fails with `KV:Txn:WriteConflict` on a newer commit instead of retrying,
 * so the statement that read at that ts can run again; buffer checkpoints undo a failed
 * statement's writes or roll back to a savepoint (pessimistic locks stay held), and tell
 * which keys a statement wrote. `setStatementOptions` makes a statement's read ts,
 * for-update ts and lock wait the defaults of every call until cleared, so executors
 * that know nothing of isolation read and lock at the right ts (TiDB's snapshot-ts
 * option on its transaction).
 *
 * Coprocessor reads (`coprocessor.ts`) run at the read ts over committed data only: the
 * caller checks `hasWritesIn` first, since the KV nodes cannot see the write buffer.
 *
 * State is owned by the transaction; it is single-user (one session), and finishes once
 * (commit or rollback), after which every call fails with `CLIENT:Txn:Finished`.
 */
import {
  ErrorCode,
  TesseraError,
  type Timestamp,
  limits,
} from "../base/mod.ts";
import { compareBytes } from "../codec/mod.ts";
import type { Env } from "../env/mod.ts";
import {
  type BatchGetReply,
  type GetReply,
  type KvPair,
  type KvReply,
  KvMethod,
  type LockInfo,
  type MutationInfo,
  type PessimisticLockReply,
  type ScanReply,
  type ShardMeta,
} from "../proto/mod.ts";
import { Backoff } from "./backoff.ts";
import {
  type CommitOptions,
  type CommitPath,
  type CommitterContext,
  commitTransaction,
} from "./committer.ts";
import { type CopPage, type CopRequest, runCoprocessor } from "./coprocessor.ts";
import { type KvClient } from "./kv_client.ts";
import {
  type LockResolver,
  keyErrorToError,
  lockResolveTimeout,
} from "./lock_resolver.ts";
import { type BufferCheckpoint, WriteBuffer } from "./write_buffer.ts";

/** Options of one transaction. */
export interface TxnOptions {
  /** Pessimistic (lock on write) instead of optimistic; default false. */
  readonly pessimistic?: boolean;
  /** Default `limits.txnLockTtlMsDefault`. */
  readonly lockTtlMs?: number;
  /** Default `limits.txnHeartbeatIntervalMsDefault`. */
  readonly heartbeatIntervalMs?: number;
  /** Defaults true. */
  readonly enableOnePc?: boolean;
  readonly enableAsyncCommit?: boolean;
  /** A fresh TSO min commit ts for 1PC and async commit (default true). */
  readonly linearizable?: boolean;
  /**
   * The prewrite gives up at once (keyIsLocked) on a live lock of another transaction
   * instead of waiting for it to end or expire: for an autocommit statement's optimistic
   * first attempt, which the SQL layer reruns pessimistically, waiting on the lock then
   * with its lock wait timeout. Default false.
   */
  readonly failOnLiveLocks?: boolean;
  /** Write buffer bounds (defaults `limits.txnBuffer{Bytes,Keys}Max`). */
  readonly bufferBytesMax?: number;
  readonly bufferKeysMax?: number;
  /** How long a read waits for live locks; default `limits.clientLockWaitMsMax`. */
  readonly lockWaitMsMax?: number;
}

/** What a transaction needs from its client. */
export interface TxnContext extends CommitterContext {
  readonly env: Pick<Env, "random" | "timers" | "clock" | "buggify">;
  readonly kv: KvClient;
  readonly resolver: LockResolver;
  /** Fails with `CLIENT:Txn:SnapshotTooOld` if `ts` is below the GC safe point. */
  checkSafePoint(ts: Timestamp): Promise<void>;
  /** Called once when the transaction finishes. */
  onFinish(startTs: Timestamp): void;
  reportError(message: string, error: unknown): void;
}

/** Options of `lockKeys`. */
export interface LockKeysOptions {
  /** Default `limits.kvLockWaitTimeoutMsDefault`; 0: fail at once on a held lock. */
  readonly waitTimeoutMs?: number;
  /**
   * Pessimistic: lock at exactly this for-update ts (the ts a statement read at); a
   * commit newer than it fails with `KV:Txn:WriteConflict` instead of locking again at a
   * fresh ts, so the caller can rerun its statement. Must not be below the start ts.
   */
  readonly forUpdateTs?: Timestamp;
  /**
   * Pessimistic: resolve with each key's latest committed value (a "current read" at the
   * for-update ts, what UPDATE and SELECT … FOR UPDATE need), parallel to `keys`.
   */
  readonly returnValues?: boolean;
}

/** Defaults for the calls of the SQL statement running now; see the file comment. */
export interface StatementOptions {
  /** Default read ts (never below the start ts). */
  readonly readTs?: Timestamp;
  /** Default fixed for-update ts of `lockKeys`. */
  readonly forUpdateTs?: Timestamp;
  /** Default lock wait of `lockKeys`. */
  readonly lockWaitTimeoutMs?: number;
}

/** Options of a read. */
export interface ReadOptions {
  /**
   * Read committed data at this ts instead of the start ts (never below it); the
   * transaction's own writes still win.
   */
  readonly readTs?: Timestamp;
}

/** Options of a scan. */
export interface ScanOptions extends ReadOptions {
  /** Pairs at most; default and bound `limits.kvScanLimitMax`. */
  readonly limit?: number;
  readonly reverse?: boolean;
}

function hexOf(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("hex");
}

function minEnd(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return compareBytes(a, b) <= 0 ? a : b;
}

function maxStart(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compareBytes(a, b) >= 0 ? a : b;
}

/** One transaction; see the file comment. */
export class Transaction {
  readonly startTs: Timestamp;
  readonly pessimistic: boolean;
  private readonly ctx: TxnContext;
  private readonly options: TxnOptions;
  private readonly buffer: WriteBuffer;
  private readonly locked = new Set<string>();
  private lockedKeys: Uint8Array[] = [];
  private primary: Uint8Array | undefined;
  private forUpdateTs: Timestamp;
  private heartbeat: { cancel(): void } | undefined;
  private state: "active" | "committing" | "committed" | "rolledBack" = "active";
  private path: CommitPath | undefined;
  private commitTsValue: Timestamp | undefined;
  private statement: StatementOptions = {};
  /** Monotonic time when the transaction began (just after its start ts arrived). */
  private readonly begunAtMs: number;

  constructor(ctx: TxnContext, startTs: Timestamp, options: TxnOptions = {}) {
    this.ctx = ctx;
    this.startTs = startTs;
    this.begunAtMs = ctx.env.clock.monotonicMs();
    this.forUpdateTs = startTs;
    this.options = options;
    this.pessimistic = options.pessimistic ?? false;
    this.buffer = new WriteBuffer({
      ...(options.bufferBytesMax === undefined ? {} : { bytesMax: options.bufferBytesMax }),
      ...(options.bufferKeysMax === undefined ? {} : { keysMax: options.bufferKeysMax }),
    });
  }

  /** The path the commit took (undefined before commit, and for read-only commits). */
  get commitPath(): CommitPath | undefined {
    return this.path;
  }

  get commitTs(): Timestamp | undefined {
    return this.commitTsValue;
  }

  /** Keys buffered and their bytes. */
  get bufferSize(): { readonly keys: number; readonly bytes: number } {
    return { keys: this.buffer.size, bytes: this.buffer.sizeBytes };
  }

  // ---- reads ------------------------------------------------------------------------------

  /** The value of `key` as this transaction sees it (its own writes over its snapshot). */
  async get(key: Uint8Array, options: ReadOptions = {}): Promise<Uint8Array | null> {
    this.checkActive();
    const op = this.buffer.get(key);
    if (op !== undefined && op.kind !== "lock") return op.kind === "delete" ? null : op.value;
    return this.snapshotGet(key, this.readTsOf(options));
  }

  /** Values of `keys`, parallel to them (`null`: no value). */
  async batchGet(
    keys: readonly Uint8Array[],
    options: ReadOptions = {},
  ): Promise<(Uint8Array | null)[]> {
    this.checkActive();
    const readTs = this.readTsOf(options);
    const out = new Map<string, Uint8Array | null>();
    const fromSnapshot: Uint8Array[] = [];
    for (const key of keys) {
      const op = this.buffer.get(key);
      if (op === undefined || op.kind === "lock") fromSnapshot.push(key);
      else out.set(hexOf(key), op.kind === "delete" ? null : op.value);
    }
    if (fromSnapshot.length > 0) {
      await this.ctx.checkSafePoint(readTs);
      let pending = fromSnapshot;
      await this.withLocks(readTs, async (bypassLocks) => {
        const replies = await this.ctx.kv.sendKeys<BatchGetReply>(
          pending,
          KvMethod.batchGet,
          (group) => ({ keys: group, version: readTs, bypassLocks }),
        );
        const locks: LockInfo[] = [];
        const retry: Uint8Array[] = [];
        for (const { keys: group, reply } of replies) {
          this.throwKeyError(reply, "batch get");
          for (const pair of reply.pairs) out.set(hexOf(pair.key), pair.value);
          for (const lock of reply.locked) {
            locks.push(lock);
            retry.push(lock.key);
          }
          for (const key of group) {
            if (!out.has(hexOf(key)) && !reply.locked.some((l) => compareBytes(l.key, key) === 0)) {
              out.set(hexOf(key), null);
            }
          }
        }
        pending = retry;
        return locks;
      });
    }
    return keys.map((k) => out.get(hexOf(k)) ?? null);
  }

  /**
   * Pairs with keys in `[start, end)` (empty end: to the end of the key space), in key
   * order (or reversed), own writes merged over the snapshot.
   */
  async scan(start: Uint8Array, end: Uint8Array, options: ScanOptions = {}): Promise<KvPair[]> {
    this.checkActive();
    const limit = Math.min(options.limit ?? limits.kvScanLimitMax, limits.kvScanLimitMax);
    const reverse = options.reverse ?? false;
    const buffered = this.buffer.range(start, end, { reverse });
    const hidden = buffered.filter((e) => e.op.kind === "delete").length;
    const snapshot = await this.snapshotScan(start, end, {
      limit: limit + hidden,
      reverse,
      readTs: this.readTsOf(options),
    });
    // Nothing of ours in the range (a read-only transaction): the snapshot as it is.
    if (buffered.length === 0) {
      return snapshot.length > limit ? snapshot.slice(0, limit) : snapshot;
    }
    const mine = new Map(buffered.map((e) => [hexOf(e.key), e.op]));
    const merged: KvPair[] = [];
    for (const pair of snapshot) {
      const op = mine.get(hexOf(pair.key));
      if (op === undefined || op.kind === "lock") merged.push(pair);
    }
    for (const e of buffered) {
      if (e.op.kind === "put" || e.op.kind === "insert") {
        merged.push({ key: e.key, value: e.op.value });
      }
    }
    merged.sort((a, b) => (reverse ? compareBytes(b.key, a.key) : compareBytes(a.key, b.key)));
    return merged.slice(0, limit);
  }

  /**
   * A coprocessor read (`coprocessor.ts`) at this transaction's read ts, over committed
   * data only: the caller must not push work down over ranges this transaction wrote
   * (`hasWritesIn`), whose buffered writes the KV nodes cannot see.
   */
  coprocessor<T>(request: CopRequest<T>, options: ReadOptions = {}): AsyncGenerator<CopPage<T>> {
    this.checkActive();
    return runCoprocessor(this.ctx, request, this.readTsOf(options));
  }

  /** Whether this transaction buffered a put or delete with a key in `[start, end)`. */
  hasWritesIn(start: Uint8Array, end: Uint8Array): boolean {
    return this.buffer.range(start, end).some((e) => e.op.kind !== "lock");
  }

  // ---- writes -----------------------------------------------------------------------------

  set(key: Uint8Array, value: Uint8Array): void {
    this.checkActive();
    this.buffer.set(key, { kind: "put", value });
  }

  /** A put that fails at commit (`KV:Txn:AlreadyExist`) if the key has a value. */
  insert(key: Uint8Array, value: Uint8Array): void {
    this.checkActive();
    this.buffer.set(key, { kind: "insert", value });
  }

  delete(key: Uint8Array): void {
    this.checkActive();
    this.buffer.set(key, { kind: "delete" });
  }

  /**
   * Locks `keys` for this transaction. Pessimistic: at a fresh for-update ts, waiting for
   * other holders (see the file comment). Optimistic: the keys join the commit as
   * lock-only mutations, so a concurrent writer conflicts.
   */
  async lockKeys(
    keys: readonly Uint8Array[],
    options: LockKeysOptions = {},
  ): Promise<(Uint8Array | null)[]> {
    this.checkActive();
    if (!this.pessimistic) {
      for (const key of keys) {
        if (this.buffer.get(key) === undefined) this.buffer.set(key, { kind: "lock" });
      }
      return options.returnValues === true ? this.batchGet(keys) : [];
    }
    const returnValues = options.returnValues === true;
    const values = new Map<string, Uint8Array | null>();
    // Keys locked before are locked again when their values are wanted (idempotent).
    const todo = [...new Map(keys.map((k) => [hexOf(k), k])).values()]
      .filter((k) => returnValues || !this.locked.has(hexOf(k)))
      .sort(compareBytes);
    if (todo.length === 0) return [];
    const waitTimeoutMs = options.waitTimeoutMs ?? this.statement.lockWaitTimeoutMs ??
      limits.kvLockWaitTimeoutMsDefault;
    const deadlineMs = this.ctx.env.clock.monotonicMs() + waitTimeoutMs;
    const newlyLocked: Uint8Array[] = [];
    const fixedForUpdateTs = options.forUpdateTs ?? this.statement.forUpdateTs;
    if (fixedForUpdateTs !== undefined && fixedForUpdateTs < this.startTs) {
      throw new TesseraError(ErrorCode.ClientTxnSnapshotTooOld,
        `for-update ts ${fixedForUpdateTs} is below the start ts ${this.startTs}`);
    }
    try {
      const lock = {
        deadlineMs,
        newlyLocked,
        values: returnValues ? values : undefined,
        fixedForUpdateTs,
      };
      if (this.primary === undefined) {
        const first = todo[0] as Uint8Array;
        this.primary = first.slice();
        await this.lockSome([first], lock);
        this.startHeartbeat();
        await this.lockSome(todo.slice(1), lock);
      } else {
        await this.lockSome(todo, lock);
      }
      return returnValues ? keys.map((k) => values.get(hexOf(k)) ?? null) : [];
    } catch (error) {
      if (newlyLocked.length > 0) {
        await this.pessimisticRollback(newlyLocked);
        for (const k of newlyLocked) this.locked.delete(hexOf(k));
        this.lockedKeys = this.lockedKeys.filter((k) => this.locked.has(hexOf(k)));
      }
      if (this.lockedKeys.length === 0) {
        this.primary = undefined;
        this.stopHeartbeat();
      }
      throw error;
    }
  }

  // ---- checkpoints ------------------------------------------------------------------------

  /** Marks the write buffer's contents, for `rollbackTo` (statement or savepoint). */
  checkpoint(): BufferCheckpoint {
    this.checkActive();
    return this.buffer.checkpoint();
  }

  /**
   * Restores the write buffer to `checkpoint` (which stays usable; later ones are gone).
   * Pessimistic locks taken since stay held until the transaction ends, as in TiDB.
   */
  rollbackTo(checkpoint: BufferCheckpoint): void {
    this.checkActive();
    this.buffer.rollbackTo(checkpoint);
  }

  /** Forgets `checkpoint` and every later one; the buffer keeps its contents. */
  releaseCheckpoint(checkpoint: BufferCheckpoint): void {
    this.buffer.releaseCheckpoint(checkpoint);
  }

  /** Keys written since `checkpoint` and still buffered (a statement's keys to lock). */
  keysChangedSince(checkpoint: BufferCheckpoint): Uint8Array[] {
    return this.buffer.changedSince(checkpoint);
  }

  /** Sets (or, with `{}`, clears) the running statement's defaults; see the file comment. */
  setStatementOptions(options: StatementOptions): void {
    this.statement = options;
  }

  // ---- commit and rollback ----------------------------------------------------------------

  /**
   * Commits: nothing to do for a read-only transaction; else see `committer.ts`. Fails
   * with a typed error (the transaction is rolled back) or `CLIENT:Txn:CommitResultUnknown`.
   */
  async commit(): Promise<void> {
    this.checkActive();
    this.state = "committing";
    const mutations: MutationInfo[] = [];
    for (const e of this.buffer.entries()) {
      switch (e.op.kind) {
        case "put":
        case "insert":
          mutations.push({ kind: e.op.kind, key: e.key, value: e.op.value });
          break;
        case "delete":
        case "lock":
          mutations.push({ kind: e.op.kind, key: e.key });
          break;
        default:
          e.op satisfies never;
      }
    }
    for (const key of this.lockedKeys) {
      if (this.buffer.get(key) === undefined) mutations.push({ kind: "lock", key });
    }
    mutations.sort((a, b) => compareBytes(a.key, b.key));
    try {
      if (mutations.length === 0) {
        this.state = "committed";
        return;
      }
      this.primary ??= (mutations[0] as MutationInfo).key;
      const primary = this.primary;
      const outcome = await commitTransaction(this.ctx, {
        startTs: this.startTs,
        primary,
        mutations,
        ...(this.pessimistic
          ? {
              pessimistic: {
                forUpdateTs: this.forUpdateTs,
                isLocked: (k: Uint8Array) => this.locked.has(hexOf(k)),
              },
            }
          : {}),
        options: this.commitOptions(),
        onPrimaryLocked: () => this.startHeartbeat(),
      });
      this.path = outcome.path;
      this.commitTsValue = outcome.commitTs;
      this.state = "committed";
    } catch (error) {
      this.state = "rolledBack";
      throw error;
    } finally {
      this.finish();
    }
  }

  /** Drops the buffer and releases pessimistic locks. */
  async rollback(): Promise<void> {
    this.checkActive();
    this.state = "rolledBack";
    try {
      if (this.lockedKeys.length > 0) await this.pessimisticRollback(this.lockedKeys);
    } finally {
      this.finish();
    }
  }

  // ---- internals ----------------------------------------------------------------------------

  private commitOptions(): CommitOptions {
    return {
      enableOnePc: this.options.enableOnePc ?? true,
      enableAsyncCommit: this.options.enableAsyncCommit ?? true,
      linearizable: this.options.linearizable ?? true,
      lockTtlMs: this.lockTtlMs(),
      failOnLiveLocks: this.options.failOnLiveLocks ?? false,
    };
  }

  private lockTtlMs(): number {
    return this.options.lockTtlMs ?? limits.txnLockTtlMsDefault;
  }

  private readTsOf(options: ReadOptions): Timestamp {
    const readTs = options.readTs ?? this.statement.readTs ?? this.startTs;
    if (readTs < this.startTs) {
      throw new TesseraError(ErrorCode.ClientTxnSnapshotTooOld,
        `read ts ${readTs} is below the start ts ${this.startTs}`);
    }
    return readTs;
  }

  private checkActive(): void {
    if (this.state !== "active") {
      throw new TesseraError(
        ErrorCode.ClientTxnFinished,
        `transaction ${this.startTs} is ${this.state}`,
      );
    }
  }

  private finish(): void {
    this.stopHeartbeat();
    this.ctx.onFinish(this.startTs);
  }

  private throwKeyError(reply: KvReply, what: string): void {
    if (reply.keyError !== undefined && reply.keyError.kind !== "keyIsLocked") {
      throw keyErrorToError(reply.keyError, what);
    }
  }

  /**
   * Runs `attempt` until it reports no locks, resolving the ones it reports, waiting out
   * live ones within `lockWaitMsMax`. `attempt` gets the locks it may read past.
   */
  private async withLocks(
    readTs: Timestamp,
    attempt: (bypassLocks: readonly Timestamp[]) => Promise<readonly LockInfo[]>,
  ): Promise<void> {
    const bypass: Timestamp[] = [];
    const startedMs = this.ctx.env.clock.monotonicMs();
    const waitMax = this.options.lockWaitMsMax ?? limits.clientLockWaitMsMax;
    const backoff = new Backoff(this.ctx.env.random, {
      baseMs: 5,
      capMs: 500,
      attemptsMax: limits.txnLockConflictAttemptsMax * 4,
    });
    for (;;) {
      const locks = await attempt(bypass);
      if (locks.length === 0) return;
      const result = await this.ctx.resolver.resolve(locks, readTs);
      bypass.push(...result.bypass);
      if (result.msBeforeExpired === 0) continue;
      const waited = this.ctx.env.clock.monotonicMs() - startedMs;
      const delay = backoff.next();
      if (delay === null || waited >= waitMax) {
        throw lockResolveTimeout(locks[0] as LockInfo, waited);
      }
      await this.ctx.env.timers.sleep(Math.min(delay, result.msBeforeExpired, waitMax - waited));
    }
  }

  private async snapshotGet(key: Uint8Array, readTs: Timestamp): Promise<Uint8Array | null> {
    await this.ctx.checkSafePoint(readTs);
    let value: Uint8Array | null = null;
    await this.withLocks(readTs, async (bypassLocks) => {
      const { reply } = await this.ctx.kv.sendKey<GetReply>(key, KvMethod.get, () => ({
        key,
        version: readTs,
        bypassLocks,
      }));
      this.throwKeyError(reply, "get");
      if (reply.keyError?.kind === "keyIsLocked") return [reply.keyError.lock];
      value = reply.value;
      return [];
    });
    return value;
  }

  /** Snapshot pairs in the range, at most `limit`, across shards. */
  private async snapshotScan(
    start: Uint8Array,
    end: Uint8Array,
    options: { readonly limit: number; readonly reverse: boolean; readonly readTs: Timestamp },
  ): Promise<KvPair[]> {
    const { limit, reverse, readTs } = options;
    await this.ctx.checkSafePoint(readTs);
    const out: KvPair[] = [];
    let lo = start;
    let hi = end;
    for (let step = 0; step < limits.pdShardsMax && out.length < limit; step++) {
      if (hi.length > 0 && compareBytes(lo, hi) >= 0) break;
      let anchor = lo;
      if (reverse) {
        const routes = await this.ctx.kv.shardsInRange(lo, hi);
        const last = routes[routes.length - 1];
        if (last === undefined) break;
        anchor = maxStart(lo, last.shard.startKey);
      }
      let used: ShardMeta | undefined;
      let pairs: readonly KvPair[] = [];
      await this.withLocks(readTs, async (bypassLocks) => {
        const { reply, shard } = await this.ctx.kv.sendKey<ScanReply>(
          anchor,
          KvMethod.scan,
          (s) => ({
            startKey: maxStart(lo, s.startKey),
            endKey: minEnd(hi, s.endKey),
            limit: Math.min(limit - out.length, limits.kvScanLimitMax),
            version: readTs,
            reverse,
            bypassLocks,
          }),
        );
        used = shard;
        this.throwKeyError(reply, "scan");
        if (reply.keyError?.kind === "keyIsLocked") return [reply.keyError.lock];
        pairs = reply.pairs;
        return [];
      });
      const shard = used as ShardMeta | undefined;
      if (shard === undefined) break;
      // A reverse step routed to a shard that ends below `hi` (a split): list again.
      const endsBelow =
        shard.endKey.length > 0 && (hi.length === 0 || compareBytes(shard.endKey, hi) < 0);
      if (reverse && endsBelow) {
        if (pairs.length === 0) hi = shard.endKey;
        else continue;
      }
      out.push(...pairs);
      if (out.length >= limit) break;
      if (reverse) {
        if (compareBytes(shard.startKey, lo) <= 0) break;
        hi = shard.startKey;
      } else {
        if (shard.endKey.length === 0) break;
        lo = shard.endKey;
      }
    }
    return out;
  }

  /** Locks `keys` (pessimistic), retrying on conflicts; see the file comment. */
  private async lockSome(
    keys: readonly Uint8Array[],
    lock: {
      readonly deadlineMs: number;
      readonly newlyLocked: Uint8Array[];
      readonly values: Map<string, Uint8Array | null> | undefined;
      readonly fixedForUpdateTs: Timestamp | undefined;
    },
  ): Promise<void> {
    const { deadlineMs, newlyLocked, values, fixedForUpdateTs } = lock;
    let pending = keys;
    let conflicts = 0;
    const primary = this.primary as Uint8Array;
    while (pending.length > 0) {
      const forUpdateTs = fixedForUpdateTs ?? await this.ctx.timestamp();
      if (forUpdateTs > this.forUpdateTs) this.forUpdateTs = forUpdateTs;
      const requestForUpdateTs = fixedForUpdateTs ?? this.forUpdateTs;
      const leftMs = Math.max(0, deadlineMs - this.ctx.env.clock.monotonicMs());
      const sliceMs = Math.min(leftMs, limits.txnLockWaitSliceMs);
      const replies = await this.ctx.kv.sendKeys<PessimisticLockReply>(
        pending,
        KvMethod.pessimisticLock,
        (group) => ({
          keys: group.map((key) => ({ key })),
          primary,
          startTs: this.startTs,
          forUpdateTs: requestForUpdateTs,
          lockTtlMs: this.lockTtlMs(),
          waitMode: sliceMs > 0 ? "wait" : "noWait",
          waitTimeoutMs: Math.ceil(sliceMs),
          returnValues: values !== undefined,
        }),
        { extraDeadlineMs: sliceMs },
      );
      const retry: Uint8Array[] = [];
      const locks: LockInfo[] = [];
      let conflict = false;
      for (const { keys: group, reply } of replies) {
        const keyError = reply.keyError;
        if (keyError === undefined) {
          group.forEach((key, i) => {
            values?.set(hexOf(key), reply.values[i] ?? null);
            if (this.locked.has(hexOf(key))) return;
            this.locked.add(hexOf(key));
            this.lockedKeys.push(key);
            newlyLocked.push(key);
          });
          continue;
        }
        retry.push(...group);
        switch (keyError.kind) {
          case "writeConflict":
            // At a fixed for-update ts the caller's reads are stale: it must rerun.
            if (fixedForUpdateTs !== undefined) throw keyErrorToError(keyError, "pessimistic lock");
            conflict = true;
            break;
          case "keyIsLocked":
            locks.push(keyError.lock);
            break;
          case "lockWaitTimeout":
            locks.push(keyError.lock);
            break;
          default:
            throw keyErrorToError(keyError, "pessimistic lock");
        }
      }
      pending = retry;
      if (pending.length === 0) return;
      if (conflict && ++conflicts > limits.txnPessimisticRetriesMax) {
        throw new TesseraError(ErrorCode.KvTxnWriteConflict, "pessimistic lock kept conflicting");
      }
      if (locks.length > 0) {
        const result = await this.ctx.resolver.resolve(locks, 0n as Timestamp);
        const nowMs = this.ctx.env.clock.monotonicMs();
        if (result.msBeforeExpired > 0 && nowMs >= deadlineMs) {
          throw new TesseraError(
            ErrorCode.KvTxnLockWaitTimeout,
            `lock wait of transaction ${this.startTs} timed out`,
            { details: { lockTs: String((locks[0] as LockInfo).startTs) } },
          );
        }
        if (result.msBeforeExpired > 0 && sliceMs === 0) {
          await this.ctx.env.timers.sleep(Math.min(result.msBeforeExpired, deadlineMs - nowMs));
        }
      }
    }
  }

  private async pessimisticRollback(keys: readonly Uint8Array[]): Promise<void> {
    const replies = await this.ctx.kv.sendKeys<KvReply>(
      keys,
      KvMethod.pessimisticRollback,
      (group) => ({ keys: group, startTs: this.startTs, forUpdateTs: this.forUpdateTs }),
    );
    for (const { reply } of replies) this.throwKeyError(reply, "pessimistic rollback");
  }

  private startHeartbeat(): void {
    const key = this.primary;
    if (this.heartbeat !== undefined || key === undefined) return;
    const intervalMs = this.options.heartbeatIntervalMs ?? limits.txnHeartbeatIntervalMsDefault;
    this.heartbeat = this.ctx.env.timers.setInterval(intervalMs, () => {
      if (this.state === "committed" || this.state === "rolledBack") return;
      // The TTL counts from the start ts: time since then plus the lock TTL, measured on the
      // monotonic clock (as TiDB does), since this process's wall clock may be off the TSO's.
      const elapsedMs = this.ctx.env.clock.monotonicMs() - this.begunAtMs;
      const ttl = Math.ceil(elapsedMs) + this.lockTtlMs();
      this.ctx.background(async () => {
        const { reply } = await this.ctx.kv.sendKey<KvReply>(key, KvMethod.txnHeartbeat, () => ({
          primary: key,
          startTs: this.startTs,
          adviseLockTtlMs: ttl,
        }));
        // The lock is gone once the transaction committed or was rolled back: not an error.
        if (reply.keyError !== undefined && reply.keyError.kind !== "txnNotFound" &&
          reply.keyError.kind !== "txnLockNotFound") {
          throw keyErrorToError(reply.keyError, "heartbeat");
        }
      }, "txn heartbeat");
    });
  }

  private stopHeartbeat(): void {
    this.heartbeat?.cancel();
    this.heartbeat = undefined;
  }
}
