/**
 * The transaction scheduler of one store: runs each KV request's Percolator action the way
 * TiKV's scheduler does, as latches → read snapshot → pure action → write → release.
 *
 * - Latches serialize commands touching the same keys, so each action's read-check-write
 *   runs on a snapshot nothing else is changing. They are held across the write and
 *   released once it is applied.
 * - Async commit and 1PC: the prewrite computes its commit ts from `cm.maxReadTs` and
 *   installs the resulting memory locks in the same synchronous turn, before proposing the
 *   writes; they are removed once applied (or refused).
 * - Max ts sync (TiKV's, on a region's new leader and after a merge): reads served by an
 *   earlier leader of a shard (or of a shard merged into it) raised *its* max read ts, not
 *   ours. So before the first async-commit or 1PC prewrite under a leadership and epoch
 *   (the snapshot's `leaderTerm` and the shard's version), the scheduler raises max read ts
 *   to a fresh TSO timestamp (`maxTsSource`): every read an earlier leader served used a
 *   ts the TSO handed out before this leadership (or the merge) began, hence below it.
 * - Readers raise the max read ts and check memory locks *before* asking the store for a
 *   snapshot (which may take a ReadIndex round), and again through `readKey`/`readRange`
 *   on it. A prewrite that computed its commit ts before the raise either still has its
 *   memory locks installed at the first check, or has applied its writes, which the
 *   snapshot (taken later) then contains; one that computes after the raise commits above
 *   the read ts. So no reader misses a transaction that commits at or below its ts.
 * - Lock waits: a pessimistic lock that finds another transaction's lock parks in the
 *   `LockWaitQueue` (while still holding the latches, so the holder's release cannot slip
 *   in before it is queued) and asks the `DeadlockService`; a cycle answers `deadlock`.
 *   Every applied write that removes a lock calls `queue.release` for the key; a timer
 *   drives `queue.tick` at `nextDueMs()`. A woken waiter runs its command again.
 * - Routing errors from the store pass through untouched; too many commands in flight
 *   answer `serverIsBusy`.
 * - GC: `kv.Gc` carries the cluster's safe point; the scheduler records the highest one
 *   it has seen (also from PD's heartbeat replies, `observeGcSafePoint`) before deleting
 *   anything, and answers a read below it (get, batch get, scan, coprocessor) with
 *   `snapshotTooOld` instead of data GC may have removed. A client's cached safe point
 *   can be stale; this check is what makes such a read fail rather than see partial data.
 *
 * State (latches, concurrency manager, lock wait queue, parked waiters) is owned here and
 * touched only from the event loop's turns, never across an `await` without re-checking.
 */
import {
  ErrorCode,
  TesseraError,
  type Timestamp,
  assert,
  decomposeTimestamp,
  limits,
  maxTimestamp,
} from "../../base/mod.ts";
import type { Clock, Timer, Timers } from "../../env/mod.ts";
import type {
  BatchGetReply,
  BatchGetRequest,
  CheckSecondaryLocksReply,
  CheckSecondaryLocksRequest,
  CheckTxnStatusReply,
  CheckTxnStatusRequest,
  CleanupRequest,
  CommitReply,
  CommitRequest,
  CoprocessorReply,
  CoprocessorRequest,
  GcReply,
  GcRequest,
  GetReply,
  GetRequest,
  KeyError,
  KvPair,
  KvPrewriteRequest,
  KvReply,
  LockInfo,
  PessimisticLockReply,
  PessimisticLockRequest,
  PessimisticRollbackRequest,
  PrewriteReply,
  ResolveLockReply,
  ResolveLockRequest,
  RollbackRequest,
  ScanReply,
  ScanRequest,
  ShardMeta,
  TxnHeartbeatReply,
  TxnHeartbeatRequest,
} from "../../proto/mod.ts";
import type { WriteOp } from "../engine/engine.ts";
import { compareBytes } from "../engine/bytes.ts";
import { gcRange } from "../mvcc/gc.ts";
import { Cf, decodeEngineKey } from "../mvcc/keys.ts";
import type { Lock } from "../mvcc/lock.ts";
import { scanLocks } from "../mvcc/snapshot_read.ts";
import type {
  RouteError,
  ShardContext,
  ShardSnapshot,
  StoreShards,
} from "../store/store_shards.ts";
import { checkSecondaryLocks } from "../txn/check_secondary_locks.ts";
import { checkTxnStatus } from "../txn/check_txn_status.ts";
import { cleanupKey, pessimisticRollbackKey, rollbackKeys } from "../txn/cleanup.ts";
import { commitKeys } from "../txn/commit.ts";
import { ConcurrencyManager } from "../txn/concurrency_manager.ts";
import type { WaitForEdge } from "../txn/deadlock_detector.ts";
import { type TxnFailure, isFailure } from "../txn/failure.ts";
import { txnHeartbeat } from "../txn/heartbeat.ts";
import { keyHash } from "../txn/key_hash.ts";
import { Latches } from "../txn/latches.ts";
import { type LockWaitEvent, LockWaitQueue } from "../txn/lock_wait_queue.ts";
import { acquirePessimisticLock } from "../txn/pessimistic_lock.ts";
import {
  type CommitMode,
  type MemoryLock,
  type PrewriteOutcome,
  prewrite,
} from "../txn/prewrite.ts";
import { readKey, readRange } from "../txn/read.ts";
import { resolveLocks } from "../txn/resolve_lock.ts";
import type { CoprocessorRange, CoprocessorRegistry } from "./coprocessor.ts";
import { edgeInfo, keyErrorOf, lockInfo, txnStatusInfo } from "./convert.ts";
import { type DeadlockService, LocalDeadlockService } from "./deadlock_service.ts";

/** Options of a `TxnScheduler`. */
export interface TxnSchedulerOptions {
  readonly store: StoreShards;
  readonly clock: Clock;
  readonly timers: Timers;
  /** Default: a detector in this process. */
  readonly deadlock?: DeadlockService;
  readonly coprocessor?: CoprocessorRegistry;
  /** Power of two; default 2048 (TiKV's default is 2048000 for far more cores). */
  readonly latchSlots?: number;
  /** Default `limits.kvSchedulerCommandsMax`. */
  readonly commandsMax?: number;
  readonly lockWaitQueue?: LockWaitQueue;
  /** Where failures of background work (timers, clean-ups) are reported. */
  readonly onBackgroundError?: (message: string) => void;
  /**
   * A fresh TSO timestamp (PD), for the max ts sync of each new leadership; required on
   * replicated stores, whose snapshots carry `leaderTerm`.
   */
  readonly maxTsSource?: () => Promise<Timestamp>;
  /**
   * TiKV's pipelined pessimistic lock (`pessimistic-txn.pipelined`, default on): an
   * acquired lock is answered once its write is proposed to Raft instead of once it is
   * applied. The keys' latches are still held until it is applied, so every command that
   * checks those keys sees the lock. If the proposal is lost (the leader changes first),
   * the lock is missing at prewrite, which then fails with PessimisticLockNotFound and the
   * transaction aborts: a lost lock costs a retry, never a wrong result.
   */
  readonly pipelinedPessimisticLock?: boolean;
}

/** Counters and gauges for `/metrics`. */
export interface TxnSchedulerStats {
  /** Commands admitted and not finished (running, or queued on latches). */
  readonly pendingCommands: number;
  /** Commands that had to wait for a latch, and the total time they waited. */
  readonly latchWaits: number;
  readonly latchWaitMsTotal: number;
  /** Pessimistic lock requests parked now, and ever. */
  readonly lockWaiters: number;
  readonly lockWaitsTotal: number;
  readonly deadlocks: number;
  readonly memoryLocks: number;
}

/** What an action computed on a snapshot. */
interface Computed<T> {
  readonly result: T;
  readonly writes: readonly WriteOp[];
  readonly memoryLocks?: readonly MemoryLock[];
}

type Ran<T> = { readonly kind: "done"; readonly value: T } | RouteError;

type PrewriteResult = PrewriteOutcome | TxnFailure;

/** How a parked lock wait ended. */
type WaitEnd =
  | { readonly kind: "wokenUp" }
  | { readonly kind: "timedOut" }
  | { readonly kind: "deadlock"; readonly waitChain: readonly WaitForEdge[] }
  | { readonly kind: "busy"; readonly reason: string };

interface Parked {
  readonly edge: WaitForEdge;
  readonly resolve: (end: WaitEnd) => void;
}

const busy = (reason: string): RouteError => ({ kind: "serverIsBusy", reason });

/** Max ts syncs one prewrite waits for before answering busy (leaderships kept changing). */
const maxTsSyncAttempts = 3;

/** The user keys whose locks `writes` removes. */
function releasedLockKeys(writes: readonly WriteOp[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const op of writes) {
    if (op.kind === "delete" && op.key[0] === Cf.lock) out.push(decodeEngineKey(op.key).key);
  }
  return out;
}

/** A route error as a reply with `fill` for the payload fields. */
function routeReply<T extends object>(error: RouteError, fill: T): T & KvReply {
  return { ...fill, routeError: error };
}

function keyReply<T extends object>(error: KeyError, fill: T): T & KvReply {
  return { ...fill, keyError: error };
}

/** Clips `[start, end)` (empty end: open) to the shard; undefined end is open. */
function clip(
  shard: ShardMeta,
  start: Uint8Array,
  end: Uint8Array,
): { start: Uint8Array; end: Uint8Array | undefined } {
  const lo = compareBytes(start, shard.startKey) < 0 ? shard.startKey : start;
  let hi: Uint8Array | undefined = end.length === 0 ? undefined : end;
  if (shard.endKey.length > 0 && (hi === undefined || compareBytes(shard.endKey, hi) < 0)) {
    hi = shard.endKey;
  }
  return { start: lo, end: hi };
}

/** The scheduler; see the file comment. */
export class TxnScheduler {
  readonly cm = new ConcurrencyManager();
  private readonly store: StoreShards;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly deadlock: DeadlockService;
  private readonly handlers: CoprocessorRegistry | undefined;
  private readonly latches: Latches;
  private readonly latchWaiters = new Map<number, () => void>();
  private readonly commandsMax: number;
  private readonly queue: LockWaitQueue;
  private readonly parked = new Map<number, Parked>();
  private readonly onBackgroundError: (message: string) => void;
  private nextCommandId = 1;
  private nextWaiterId = 1;
  private active = 0;
  private timer: Timer | undefined;
  private timerAtMs = Infinity;
  private closed = false;
  private counters = { latchWaits: 0, latchWaitMsTotal: 0, lockWaitsTotal: 0, deadlocks: 0 };
  private gcSafePoint: Timestamp = 0n as Timestamp;
  private readonly maxTsSource: (() => Promise<Timestamp>) | undefined;
  private readonly pipelinedPessimisticLock: boolean;
  /** Per shard, the `term/version` (leadership and epoch) whose max ts sync is done. */
  private readonly maxTsSynced = new Map<number, string>();
  /** Syncs in flight, by `shardId/term/version`. */
  private readonly maxTsSyncing = new Map<string, Promise<void>>();

  constructor(options: TxnSchedulerOptions) {
    this.maxTsSource = options.maxTsSource;
    this.store = options.store;
    this.clock = options.clock;
    this.timers = options.timers;
    this.deadlock = options.deadlock ?? new LocalDeadlockService(options.clock);
    this.handlers = options.coprocessor;
    this.latches = new Latches(options.latchSlots ?? 2048);
    this.commandsMax = options.commandsMax ?? limits.kvSchedulerCommandsMax;
    this.queue = options.lockWaitQueue ?? new LockWaitQueue();
    this.onBackgroundError = options.onBackgroundError ?? (() => undefined);
    this.pipelinedPessimisticLock = options.pipelinedPessimisticLock ?? true;
  }

  stats(): TxnSchedulerStats {
    return {
      pendingCommands: this.active,
      lockWaiters: this.parked.size,
      memoryLocks: this.cm.memoryLockCount,
      ...this.counters,
    };
  }

  /** Stops the lock wait timer and answers every parked waiter with a timeout. */
  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    for (const [id, parked] of [...this.parked]) {
      this.queue.cancel(id);
      this.parked.delete(id);
      parked.resolve({ kind: "timedOut" });
    }
  }

  // ---- GC safe point -----------------------------------------------------------------------

  /** The highest GC safe point this store has been told of; reads below it are refused. */
  get gcSafePointTs(): Timestamp {
    return this.gcSafePoint;
  }

  /** Records a GC safe point (from `kv.Gc` or PD); it only moves forward. */
  observeGcSafePoint(safePoint: Timestamp): void {
    if (safePoint > this.gcSafePoint) this.gcSafePoint = safePoint;
  }

  /** `snapshotTooOld` for a read at `readTs` below the recorded safe point. */
  private tooOld(readTs: Timestamp): KeyError | undefined {
    if (readTs >= this.gcSafePoint) return undefined;
    return { kind: "snapshotTooOld", readTs, safePoint: this.gcSafePoint };
  }

  // ---- reads ------------------------------------------------------------------------------

  async get(req: GetRequest): Promise<GetReply> {
    const stale = this.tooOld(req.version);
    if (stale !== undefined) return keyReply(stale, { value: null });
    const options = { readTs: req.version, ...this.bypass(req.bypassLocks) };
    this.cm.updateMaxTs(req.version);
    const early = this.cm.readKeyCheck(req.key, req.version, options);
    if (early.kind === "locked") {
      const lock = lockInfo(early.key, early.lock);
      return keyReply({ kind: "keyIsLocked", lock }, { value: null });
    }
    const read = await this.store.read(req.context, { keys: [req.key] });
    if (read.kind !== "ok") return routeReply(read, { value: null });
    let result;
    try {
      result = readKey(this.cm, read.value.snapshot, { key: req.key, ...options });
    } finally {
      read.value.snapshot.release();
    }
    if (result.kind === "locked") {
      return keyReply({ kind: "keyIsLocked", lock: lockInfo(result.key, result.lock) }, {
        value: null,
      });
    }
    return { value: result.value ?? null };
  }

  async batchGet(req: BatchGetRequest): Promise<BatchGetReply> {
    const stale = this.tooOld(req.version);
    if (stale !== undefined) return keyReply(stale, { pairs: [], locked: [] });
    const options = this.bypass(req.bypassLocks);
    this.cm.updateMaxTs(req.version);
    const early = req.keys.map((key) => this.cm.readKeyCheck(key, req.version, options));
    const read = await this.store.read(req.context, { keys: req.keys });
    if (read.kind !== "ok") return routeReply(read, { pairs: [], locked: [] });
    const pairs: KvPair[] = [];
    const locked: LockInfo[] = [];
    try {
      req.keys.forEach((key, i) => {
        const pre = early[i];
        const result =
          pre?.kind === "locked"
            ? pre
            : readKey(this.cm, read.value.snapshot, { key, readTs: req.version, ...options });
        if (result.kind === "locked") locked.push(lockInfo(result.key, result.lock));
        else if (result.value !== undefined) pairs.push({ key, value: result.value });
      });
    } finally {
      read.value.snapshot.release();
    }
    return { pairs, locked };
  }

  async scan(req: ScanRequest): Promise<ScanReply> {
    const stale = this.tooOld(req.version);
    if (stale !== undefined) return keyReply(stale, { pairs: [] });
    const options = this.bypass(req.bypassLocks);
    this.cm.updateMaxTs(req.version);
    const early = this.cm.readRangeCheck(
      { start: req.startKey, ...(req.endKey.length > 0 ? { end: req.endKey } : {}) },
      req.version,
      options,
    );
    if (early.kind === "locked") {
      return keyReply({ kind: "keyIsLocked", lock: lockInfo(early.key, early.lock) }, {
        pairs: [],
      });
    }
    const read = await this.store.read(req.context, { keys: [req.startKey] });
    if (read.kind !== "ok") return routeReply(read, { pairs: [] });
    let result;
    try {
      const range = clip(read.value.shard, req.startKey, req.endKey);
      result = readRange(this.cm, read.value.snapshot, {
        start: range.start,
        ...(range.end === undefined ? {} : { end: range.end }),
        limit: req.limit,
        reverse: req.reverse ?? false,
        readTs: req.version,
        ...options,
      });
    } finally {
      read.value.snapshot.release();
    }
    if (result.kind === "locked") {
      return keyReply({ kind: "keyIsLocked", lock: lockInfo(result.key, result.lock) }, {
        pairs: [],
      });
    }
    const keyOnly = req.keyOnly ?? false;
    return {
      pairs: result.pairs.map((p) => ({
        key: p.key,
        value: keyOnly ? new Uint8Array(0) : p.value,
      })),
    };
  }

  async coprocessor(req: CoprocessorRequest): Promise<CoprocessorReply> {
    if (this.handlers === undefined) {
      throw new TesseraError(ErrorCode.KvRequestUnsupported, "this store runs no coprocessor");
    }
    const handler = this.handlers.get(req.handler);
    const stale = this.tooOld(req.startTs);
    if (stale !== undefined) return keyReply(stale, { data: new Uint8Array(0) });
    const bypass = this.bypass(req.bypassLocks);
    this.cm.updateMaxTs(req.startTs);
    for (const range of req.ranges) {
      const early = this.cm.readRangeCheck(
        { start: range.start, ...(range.end.length > 0 ? { end: range.end } : {}) },
        req.startTs,
        bypass,
      );
      if (early.kind === "locked") {
        return keyReply({ kind: "keyIsLocked", lock: lockInfo(early.key, early.lock) }, {
          data: new Uint8Array(0),
        });
      }
    }
    const starts = req.ranges.map((r) => r.start).filter((k) => k.length > 0);
    const read = await this.store.read(req.context, { keys: starts });
    if (read.kind !== "ok") return routeReply(read, { data: new Uint8Array(0) });
    const { shard, snapshot } = read.value;
    let output;
    try {
      const ranges: CoprocessorRange[] = req.ranges.map((r) => clip(shard, r.start, r.end));
      output = handler({
        shard,
        plan: req.plan,
        ranges,
        startTs: req.startTs,
        scan: (range, options) =>
          readRange(this.cm, snapshot, {
            start: range.start,
            ...(range.end === undefined ? {} : { end: range.end }),
            limit: options.limit,
            reverse: options.reverse ?? false,
            readTs: req.startTs,
            ...bypass,
          }),
      });
    } finally {
      snapshot.release();
    }
    if (output.kind === "locked") {
      return keyReply({ kind: "keyIsLocked", lock: lockInfo(output.key, output.lock) }, {
        data: new Uint8Array(0),
      });
    }
    return { data: output.data };
  }

  // ---- writes -----------------------------------------------------------------------------

  async prewrite(req: KvPrewriteRequest): Promise<PrewriteReply> {
    const empty = { minCommitTs: 0n as Timestamp, onePcCommitTs: 0n as Timestamp };
    let commitMode: CommitMode = { kind: "twoPc" };
    if (req.asyncCommit !== undefined) commitMode = { kind: "asyncCommit", ...req.asyncCommit };
    else if (req.tryOnePc !== undefined) commitMode = { kind: "onePc", ...req.tryOnePc };
    const keys = req.mutations.map((m) => m.key);
    let unsynced: { shardId: number; generation: string } | undefined;
    const compute = (snap: ShardSnapshot): Computed<PrewriteResult | undefined> => {
      unsynced = commitMode.kind === "twoPc" ? undefined : this.maxTsUnsynced(snap);
      if (unsynced !== undefined) return { result: undefined, writes: [] };
      const { outcome, writes } = prewrite(snap.snapshot, {
        mutations: req.mutations,
        primary: req.primary,
        startTs: req.startTs,
        lockTtlMs: req.lockTtlMs,
        ...(req.txnSize === undefined ? {} : { txnSize: req.txnSize }),
        ...(req.pessimistic === undefined ? {} : { pessimistic: req.pessimistic }),
        ...(req.minCommitTs === undefined ? {} : { minCommitTs: req.minCommitTs }),
        commitMode,
        maxReadTs: this.cm.maxReadTs,
      });
      if (isFailure(outcome)) return { result: outcome, writes: [] };
      return { result: outcome, writes, memoryLocks: outcome.memoryLocks };
    };
    let ran = await this.run(req.context, keys, compute);
    // A new leadership: sync max ts, then compute again (a leadership lost meanwhile
    // answers with a route error from the store, or asks for another sync).
    for (let attempt = 0; ran.kind === "done" && ran.value === undefined; attempt++) {
      const pending = unsynced;
      if (pending === undefined || attempt >= maxTsSyncAttempts) {
        return routeReply(busy("max ts not synced for the new leader yet"), empty);
      }
      if (!(await this.syncMaxTs(pending.shardId, pending.generation))) {
        return routeReply(busy("max ts sync failed: the TSO did not answer"), empty);
      }
      ran = await this.run(req.context, keys, compute);
    }
    if (ran.kind !== "done") return routeReply(ran, empty);
    const outcome = ran.value;
    assert(outcome !== undefined, "prewrite computed after the max ts sync");
    if (isFailure(outcome)) return keyReply(keyErrorOf(outcome), empty);
    if (outcome.kind === "onePcCommitted") {
      return { minCommitTs: 0n as Timestamp, onePcCommitTs: outcome.commitTs };
    }
    return {
      minCommitTs: outcome.minCommitTs,
      onePcCommitTs: 0n as Timestamp,
      ...(outcome.fellBackFrom === undefined ? {} : { fellBackFrom: outcome.fellBackFrom }),
    };
  }

  async commit(req: CommitRequest): Promise<CommitReply> {
    const ran = await this.run(req.context, req.keys, (snap) => {
      const { outcome, writes } = commitKeys(snap.snapshot, req.keys, {
        startTs: req.startTs,
        commitTs: req.commitTs,
      });
      return { result: outcome, writes };
    });
    const fill = { commitTs: 0n as Timestamp };
    if (ran.kind !== "done") return routeReply(ran, fill);
    if (isFailure(ran.value)) return keyReply(keyErrorOf(ran.value), fill);
    return { commitTs: ran.value.commitTs };
  }

  async rollback(req: RollbackRequest): Promise<KvReply> {
    // Protected: the keys may include the primary, whose rollback decides the outcome.
    const ran = await this.run(req.context, req.keys, (snap) => {
      const { outcome, writes } = rollbackKeys(snap.snapshot, req.keys, {
        startTs: req.startTs,
        isProtected: true,
      });
      return { result: outcome, writes };
    });
    if (ran.kind !== "done") return routeReply(ran, {});
    this.deadlock.cleanUp(req.startTs);
    if (isFailure(ran.value)) return keyReply(keyErrorOf(ran.value), {});
    return {};
  }

  async cleanup(req: CleanupRequest): Promise<KvReply> {
    const nowMs = this.clock.wallMs();
    const ran = await this.run(req.context, [req.key], (snap) => {
      const { outcome, writes } = cleanupKey(snap.snapshot, req.key, {
        startTs: req.startTs,
        isProtected: true,
        nowMs,
      });
      return { result: outcome, writes };
    });
    if (ran.kind !== "done") return routeReply(ran, {});
    if (isFailure(ran.value)) return keyReply(keyErrorOf(ran.value), {});
    return {};
  }

  async pessimisticRollback(req: PessimisticRollbackRequest): Promise<KvReply> {
    const ran = await this.run(req.context, req.keys, (snap) => {
      const writes: WriteOp[] = [];
      for (const key of req.keys) {
        const result = pessimisticRollbackKey(snap.snapshot, key, {
          startTs: req.startTs,
          forUpdateTs: req.forUpdateTs,
        });
        writes.push(...result.writes);
      }
      return { result: null, writes };
    });
    if (ran.kind !== "done") return routeReply(ran, {});
    this.deadlock.cleanUp(req.startTs);
    return {};
  }

  async checkTxnStatus(req: CheckTxnStatusRequest): Promise<CheckTxnStatusReply> {
    // A reader pushing the lock reads at callerStartTs: async commit must commit above it.
    if (req.callerStartTs !== maxTimestamp) this.cm.updateMaxTs(req.callerStartTs);
    // TTLs count from start ts, a TSO time: judge them by the caller's fresh TSO time (as
    // TiKV does), which its resolver also goes by, not by this node's clock, which may be
    // off (a node ahead rolled back live transactions; one behind kept dead locks).
    const nowMs = req.currentTs > 0n && req.currentTs !== maxTimestamp
      ? decomposeTimestamp(req.currentTs).physicalMs
      : this.clock.wallMs();
    const ran = await this.run(req.context, [req.primary], (snap) => {
      const { outcome, writes } = checkTxnStatus(snap.snapshot, {
        primary: req.primary,
        lockTs: req.lockTs,
        callerStartTs: req.callerStartTs,
        currentTs: req.currentTs,
        nowMs,
        rollbackIfNotExist: req.rollbackIfNotExist,
      });
      return { result: outcome, writes };
    });
    if (ran.kind !== "done") return routeReply(ran, { status: null });
    if (isFailure(ran.value)) return keyReply(keyErrorOf(ran.value), { status: null });
    return { status: txnStatusInfo(req.primary, ran.value) };
  }

  async checkSecondaryLocks(req: CheckSecondaryLocksRequest): Promise<CheckSecondaryLocksReply> {
    const ran = await this.run(req.context, req.keys, (snap) => {
      const { outcome, writes } = checkSecondaryLocks(snap.snapshot, req.keys, {
        startTs: req.startTs,
      });
      return { result: outcome, writes };
    });
    if (ran.kind !== "done") return routeReply(ran, { status: null });
    const status = ran.value;
    if (isFailure(status)) return keyReply(keyErrorOf(status), { status: null });
    if (status.kind === "locked") {
      const locks = status.locks.map((lock, i) => lockInfo(req.keys[i] as Uint8Array, lock));
      return { status: { kind: "locked", locks } };
    }
    return { status };
  }

  async txnHeartbeat(req: TxnHeartbeatRequest): Promise<TxnHeartbeatReply> {
    const ran = await this.run(req.context, [req.primary], (snap) => {
      const { outcome, writes } = txnHeartbeat(snap.snapshot, req.primary, {
        startTs: req.startTs,
        adviseTtlMs: req.adviseLockTtlMs,
      });
      return { result: outcome, writes };
    });
    if (ran.kind !== "done") return routeReply(ran, { lockTtlMs: 0 });
    if (isFailure(ran.value)) return keyReply(keyErrorOf(ran.value), { lockTtlMs: 0 });
    return { lockTtlMs: ran.value.ttlMs };
  }

  async resolveLock(req: ResolveLockRequest): Promise<ResolveLockReply> {
    let keys: readonly Uint8Array[] = req.keys;
    if (keys.length === 0) {
      // Find the transaction's locks first (no latches), then resolve them under latches.
      const read = await this.store.read(req.context, { keys: [] });
      if (read.kind !== "ok") return routeReply(read, { resolvedKeys: 0 });
      try {
        const { shard } = read.value;
        keys = scanLocks(read.value.snapshot, {
          start: shard.startKey,
          ...(shard.endKey.length > 0 ? { end: shard.endKey } : {}),
          maxTs: req.startTs,
          limit: limits.kvRequestKeysMax,
        })
          .filter((l) => l.lock.startTs === req.startTs)
          .map((l) => l.key);
      } finally {
        read.value.snapshot.release();
      }
      if (keys.length === 0) return { resolvedKeys: 0 };
    }
    const ran = await this.run(req.context, keys, (snap) => {
      const { outcome, writes } = resolveLocks(snap.snapshot, keys, {
        startTs: req.startTs,
        commitTs: req.commitTs,
      });
      return { result: outcome, writes };
    });
    if (ran.kind !== "done") return routeReply(ran, { resolvedKeys: 0 });
    if (isFailure(ran.value)) return keyReply(keyErrorOf(ran.value), { resolvedKeys: 0 });
    return { resolvedKeys: ran.value.keys };
  }

  async gc(req: GcRequest): Promise<GcReply> {
    // Recorded before anything is deleted, so no read below it starts after that.
    this.observeGcSafePoint(req.safePoint);
    let deletedVersions = 0;
    let next: Uint8Array | undefined;
    for (;;) {
      const read = await this.store.read(req.context, { keys: [] });
      if (read.kind !== "ok") return routeReply(read, { deletedVersions });
      let result;
      try {
        const { shard } = read.value;
        result = gcRange(read.value.snapshot, {
          start: next ?? shard.startKey,
          ...(shard.endKey.length > 0 ? { end: shard.endKey } : {}),
          safePoint: req.safePoint,
          keysMax: limits.kvGcBatchKeysMax,
        });
      } finally {
        read.value.snapshot.release();
      }
      if (result.writes.length > 0) {
        const written = await this.store.write(req.context, result.writes);
        if (written.kind !== "ok") return routeReply(written, { deletedVersions });
      }
      deletedVersions += result.deletedVersions;
      if (result.nextKey === undefined) return { deletedVersions };
      next = result.nextKey;
    }
  }

  async pessimisticLock(req: PessimisticLockRequest): Promise<PessimisticLockReply> {
    const keys = req.keys.map((k) => k.key);
    const deadlineMs = this.clock.monotonicMs() + (req.waitTimeoutMs ?? 0);
    for (;;) {
      let wait: Promise<WaitEnd> | undefined;
      const ran = await this.run(req.context, keys, (snap) => {
        const { outcome, writes } = acquirePessimisticLock(snap.snapshot, {
          keys: req.keys,
          primary: req.primary,
          startTs: req.startTs,
          forUpdateTs: req.forUpdateTs,
          lockTtlMs: req.lockTtlMs,
          returnValues: req.returnValues ?? false,
          waitMode: req.waitMode,
        });
        if (outcome.kind === "mustWait") {
          // Parked while the latches are still held: the holder's release comes after.
          wait = this.park(req.startTs, outcome.key, outcome.lock, deadlineMs);
        }
        return { result: outcome, writes };
      }, { pipelined: this.pipelinedPessimisticLock });
      if (ran.kind !== "done") return routeReply(ran, { values: [] });
      const outcome = ran.value;
      if (isFailure(outcome)) return keyReply(keyErrorOf(outcome), { values: [] });
      if (outcome.kind === "acquired") {
        return { values: outcome.values.map((v) => v ?? null) };
      }
      assert(wait !== undefined, "mustWait without a parked waiter");
      const end: WaitEnd = await wait;
      switch (end.kind) {
        case "wokenUp":
          continue;
        case "timedOut":
          return keyReply(
            { kind: "lockWaitTimeout", lock: lockInfo(outcome.key, outcome.lock) },
            { values: [] },
          );
        case "deadlock":
          return keyReply(
            {
              kind: "deadlock",
              key: outcome.key,
              lockTs: outcome.lock.startTs,
              waitChain: end.waitChain.map(edgeInfo),
            },
            { values: [] },
          );
        case "busy":
          return routeReply(busy(end.reason), { values: [] });
        default:
          return end satisfies never;
      }
    }
  }

  // ---- machinery --------------------------------------------------------------------------

  private bypass(locks: readonly Timestamp[] | undefined): { bypassLocks?: readonly Timestamp[] } {
    return locks === undefined ? {} : { bypassLocks: locks };
  }

  /** The shard and leadership needing a max ts sync before async commit or 1PC, if any. */
  private maxTsUnsynced(
    snap: ShardSnapshot,
  ): { shardId: number; generation: string } | undefined {
    if (snap.leaderTerm === undefined) return undefined;
    const generation = `${snap.leaderTerm}/${snap.shard.epoch.version}`;
    if (this.maxTsSynced.get(snap.shard.id) === generation) return undefined;
    return { shardId: snap.shard.id, generation };
  }

  /** Raises max read ts to a fresh TSO ts for `shardId` under `generation`. */
  private syncMaxTs(shardId: number, generation: string): Promise<boolean> {
    const source = this.maxTsSource;
    if (source === undefined) {
      // No TSO to ask (a store without PD): nothing better than refusing async commit.
      return Promise.resolve(false);
    }
    const key = `${shardId}/${generation}`;
    let syncing = this.maxTsSyncing.get(key);
    if (syncing === undefined) {
      syncing = source().then((ts) => {
        this.cm.updateMaxTs(ts);
        // Max ts only grows: marking an older generation synced after a newer one is
        // harmless (the newer one's prewrites find a mismatch and sync again).
        this.maxTsSynced.set(shardId, generation);
      }).finally(() => this.maxTsSyncing.delete(key));
      this.maxTsSyncing.set(key, syncing);
    }
    return syncing.then(() => true, () => false);
  }

  /** latches → snapshot → `compute` → memory locks → write → release. */
  /**
   * Runs one command under the latches of `keys`. `pipelined`: a successful command whose
   * writes were proposed is answered then; the rest (apply, waking lock waiters, releasing
   * the latches) goes on after the answer.
   */
  private run<T>(
    ctx: ShardContext,
    keys: readonly Uint8Array[],
    compute: (snapshot: ShardSnapshot) => Computed<T>,
    options: { readonly pipelined?: boolean } = {},
  ): Promise<Ran<T>> {
    if (options.pipelined !== true) return this.runCommand(ctx, keys, compute, undefined);
    return new Promise<Ran<T>>((resolve, reject) => {
      let answered = false;
      const answer = (ran: Ran<T>): void => {
        answered = true;
        resolve(ran);
      };
      this.runCommand(ctx, keys, compute, answer).then(resolve, (error: unknown) => {
        // Failing after the answer is a bug of this process: surface it as one.
        if (answered) throw error;
        reject(error);
      });
    });
  }

  private async runCommand<T>(
    ctx: ShardContext,
    keys: readonly Uint8Array[],
    compute: (snapshot: ShardSnapshot) => Computed<T>,
    answerOnProposed: ((ran: Ran<T>) => void) | undefined,
  ): Promise<Ran<T>> {
    if (this.active >= this.commandsMax) return busy("too many commands in flight");
    this.active++;
    const id = this.nextCommandId++;
    try {
      await this.acquireLatches(id, keys.map(keyHash));
      const read = await this.store.read(ctx, { keys });
      if (read.kind !== "ok") return read;
      let computed: Computed<T>;
      try {
        computed = compute(read.value);
      } finally {
        read.value.snapshot.release();
      }
      let handle: number | undefined;
      if (computed.memoryLocks !== undefined && computed.memoryLocks.length > 0) {
        const added = this.cm.addMemoryLocks(computed.memoryLocks);
        if (added.kind === "full") return busy("memory lock table is full");
        handle = added.handle;
      }
      try {
        if (computed.writes.length > 0) {
          const onProposed = answerOnProposed === undefined ? undefined
            : () => answerOnProposed({ kind: "done", value: computed.result });
          const written = await this.store.write(ctx, computed.writes,
            onProposed === undefined ? undefined : { onProposed });
          if (written.kind !== "ok") return written;
        }
      } finally {
        if (handle !== undefined) this.cm.removeMemoryLocks(handle);
      }
      this.releaseWaitersOf(computed.writes);
      return { kind: "done", value: computed.result };
    } finally {
      this.releaseLatches(id);
      this.active--;
    }
  }

  private acquireLatches(id: number, hashes: readonly number[]): Promise<void> {
    if (this.latches.acquire(id, hashes) === "acquired") return Promise.resolve();
    const startedMs = this.clock.monotonicMs();
    this.counters.latchWaits++;
    return new Promise<void>((resolve) => {
      this.latchWaiters.set(id, () => {
        this.counters.latchWaitMsTotal += this.clock.monotonicMs() - startedMs;
        resolve();
      });
    });
  }

  private releaseLatches(id: number): void {
    for (const woken of this.latches.release(id)) {
      if (this.latches.acquire(woken, []) !== "acquired") continue;
      const resolve = this.latchWaiters.get(woken);
      assert(resolve !== undefined, "a latch was granted to a command nobody waits for");
      this.latchWaiters.delete(woken);
      resolve();
    }
  }

  /** Parks a pessimistic lock request behind `lock` on `key` and asks the detector. */
  private park(
    startTs: Timestamp,
    key: Uint8Array,
    lock: Lock,
    deadlineMs: number,
  ): Promise<WaitEnd> {
    if (this.closed) return Promise.resolve({ kind: "timedOut" });
    const waiterId = this.nextWaiterId++;
    const edge: WaitForEdge = { waiterTs: startTs, holderTs: lock.startTs, keyHash: keyHash(key) };
    const queued = this.queue.wait({ waiterId, startTs, key, holderTs: lock.startTs, deadlineMs });
    if (queued.kind === "full") {
      return Promise.resolve({ kind: "busy", reason: "lock wait queue is full" });
    }
    this.counters.lockWaitsTotal++;
    const ended = new Promise<WaitEnd>((resolve) => this.parked.set(waiterId, { edge, resolve }));
    this.armTimer();
    this.deadlock.detect(edge).then(
      (result) => {
        if (result.kind === "ok") {
          // Woken before the detector answered: take the edge back out.
          if (!this.parked.has(waiterId)) this.deadlock.cleanUpWaitFor(edge);
          return;
        }
        if (result.kind === "deadlock") this.counters.deadlocks++;
        this.endWait(
          waiterId,
          result.kind === "deadlock"
            ? { kind: "deadlock", waitChain: result.waitChain }
            : { kind: "busy", reason: "deadlock detector is full" },
          { cleanUp: false },
        );
      },
      (error: unknown) => {
        this.onBackgroundError(`deadlock detection failed: ${String(error)}`);
        this.endWait(waiterId, { kind: "busy", reason: "deadlock detector unavailable" }, {
          cleanUp: false,
        });
      },
    );
    return ended;
  }

  private endWait(waiterId: number, end: WaitEnd, options: { cleanUp: boolean }): void {
    const parked = this.parked.get(waiterId);
    if (parked === undefined) return;
    this.parked.delete(waiterId);
    this.queue.cancel(waiterId);
    if (options.cleanUp) this.deadlock.cleanUpWaitFor(parked.edge);
    parked.resolve(end);
  }

  private onWaitEvents(events: readonly LockWaitEvent[]): void {
    for (const event of events) {
      const end: WaitEnd = event.kind === "wokenUp" ? { kind: "wokenUp" } : { kind: "timedOut" };
      this.endWait(event.waiter.waiterId, end, { cleanUp: true });
    }
  }

  private releaseWaitersOf(writes: readonly WriteOp[]): void {
    if (this.queue.size === 0) return;
    const nowMs = this.clock.monotonicMs();
    for (const key of releasedLockKeys(writes)) this.onWaitEvents(this.queue.release(key, nowMs));
    this.armTimer();
  }

  /** Keeps one timer armed for the queue's next due event. */
  private armTimer(): void {
    if (this.closed) return;
    const dueMs = this.queue.nextDueMs();
    if (dueMs === undefined) {
      this.timer?.cancel();
      this.timer = undefined;
      this.timerAtMs = Infinity;
      return;
    }
    if (this.timer !== undefined && this.timerAtMs <= dueMs) return;
    this.timer?.cancel();
    this.timerAtMs = dueMs;
    this.timer = this.timers.setTimeout(dueMs - this.clock.monotonicMs(), () => {
      this.timer = undefined;
      this.timerAtMs = Infinity;
      this.onWaitEvents(this.queue.tick(this.clock.monotonicMs()));
      this.armTimer();
    });
  }
}
