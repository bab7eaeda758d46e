/**
 * `TxnClient`: the transactional KV client a SQL node (or a tool) holds — one per process.
 * It owns the `KvClient` (store connections), the `LockResolver` (resolved-txn cache), the
 * registry of running transactions (read by the GC worker), the cached GC safe point, and
 * the background work of committed transactions (secondary commits, rollbacks,
 * heartbeats), which `close()` waits for.
 *
 * `begin` takes the start ts from the TSO (batched with every concurrent caller), checks
 * it against the GC safe point and registers it. The safe point is asked of PD when the
 * cached one is older than `safePointCacheMs`.
 *
 * Cluster-wide GC input: every `serviceSafePointIntervalMs` (an Env timer) the client
 * publishes its registry's oldest start ts to PD as the service safe point
 * `sql-<random id>` with a TTL of `serviceSafePointTtlMs`, so the GC worker on any node
 * keeps what this node's transactions read; with nothing running it removes it, as
 * `close()` does. A crashed node's entry expires with its TTL. A transaction younger
 * than one interval may not be published yet; GC keeps it anyway while the GC life time
 * is far longer than the interval (`limits.clientServiceSafePointIntervalMs`), and a read
 * that GC did pass fails with `CLIENT:Txn:SnapshotTooOld` rather than returning partial
 * data (the stores refuse reads below the safe point they collected at).
 */
import {
  ErrorCode,
  TesseraError,
  type Timestamp,
  describeError,
  limits,
} from "../base/mod.ts";
import type { Env, Timer } from "../env/mod.ts";
import type { RpcLogger } from "../rpc/mod.ts";
import {
  KvClient,
  type KvClientOptions,
  RpcStoreTransport,
  type ShardRouter,
} from "./kv_client.ts";
import { LockResolver } from "./lock_resolver.ts";
import { Transaction, type TxnContext, type TxnOptions } from "./txn.ts";
import { TxnRegistry } from "./txn_registry.ts";

/** What the transaction client needs from PD; `PdClient` fits. */
export interface TxnPd extends ShardRouter {
  getTimestamp(): Promise<Timestamp>;
  getGcSafePoint(): Promise<Timestamp>;
  updateServiceSafePoint(serviceId: string, safePoint: Timestamp, ttlMs: number): Promise<unknown>;
}

/** Options of a `TxnClient`. */
export interface TxnClientOptions {
  readonly pd: TxnPd;
  readonly logger: RpcLogger;
  /** KV client tuning (attempts, backoff, concurrency); router and transport are built. */
  readonly kv?: Partial<Omit<KvClientOptions, "router">>;
  /** Defaults for every transaction. */
  readonly txn?: TxnOptions;
  /** Default `limits.clientSafePointCacheMs`. */
  readonly safePointCacheMs?: number;
  readonly registry?: TxnRegistry;
  /** Default `limits.clientServiceSafePointIntervalMs`. */
  readonly serviceSafePointIntervalMs?: number;
  /** Default `limits.clientServiceSafePointTtlMs`. */
  readonly serviceSafePointTtlMs?: number;
}

/** The transactional client; see the file comment. */
export class TxnClient {
  readonly kv: KvClient;
  readonly resolver: LockResolver;
  readonly registry: TxnRegistry;
  private readonly env: Env;
  private readonly options: TxnClientOptions;
  private readonly pending = new Set<Promise<void>>();
  private safePoint = { ts: 0n as Timestamp, atMs: -Infinity };
  private backgroundFailures = 0;
  private timestampsFetched = 0;
  private readonly ctx: TxnContext;
  /** This client's name among PD's service safe points. */
  readonly serviceId: string;
  private readonly publisher: Timer;
  private publishing: Promise<void> | undefined;
  /** The start ts PD holds for this client now, or null when it holds none. */
  private published: Timestamp | null = null;
  private closed = false;

  constructor(env: Env, options: TxnClientOptions) {
    this.env = env;
    this.options = options;
    this.kv = new KvClient(env, {
      ...options.kv,
      router: options.pd,
      transport: options.kv?.transport ?? new RpcStoreTransport(env, { logger: options.logger }),
    });
    const timestamp = () => options.pd.getTimestamp();
    this.resolver = new LockResolver({ kv: this.kv, timestamp, env });
    this.registry = options.registry ?? new TxnRegistry();
    this.ctx = {
      env,
      kv: this.kv,
      resolver: this.resolver,
      timestamp,
      checkSafePoint: (ts) => this.checkSafePoint(ts),
      onFinish: (startTs) => this.registry.unregister(startTs),
      background: (work, what) => this.background(work, what),
      reportError: (message, error) =>
        options.logger.warn({ err: describeError(error) }, message),
    };
    const id = [...env.random.bytes(8)].map((x) => x.toString(16).padStart(2, "0")).join("");
    this.serviceId = `sql-${id}`;
    this.publisher = env.timers.setInterval(
      options.serviceSafePointIntervalMs ?? limits.clientServiceSafePointIntervalMs,
      () => {
        if (this.publishing !== undefined) return;
        this.publishing = this.publishMinStartTs().finally(() => {
          this.publishing = undefined;
        });
      },
    );
  }

  /**
   * Publishes the registry's oldest start ts as this client's service safe point (or
   * removes it when nothing runs); see the file comment. Failures are logged, not thrown:
   * the next interval tries again.
   */
  async publishMinStartTs(): Promise<void> {
    const min = this.closed ? null : this.registry.minStartTs();
    if (min === null && this.published === null) return;
    const ttlMs = min === null ? 0 : (this.options.serviceSafePointTtlMs ??
      limits.clientServiceSafePointTtlMs);
    try {
      await this.options.pd.updateServiceSafePoint(this.serviceId, min ?? (0n as Timestamp), ttlMs);
      this.published = min;
    } catch (error) {
      this.options.logger.warn(
        { err: describeError(error), serviceId: this.serviceId },
        "publishing the oldest running start ts to PD failed",
      );
    }
  }

  /** The Env this client runs on (its clock and timers serve the SQL layer's workers). */
  get environment(): Env {
    return this.env;
  }

  /** Background tasks that failed (logged), for tests. */
  get failedBackgroundTasks(): number {
    return this.backgroundFailures;
  }

  /** Starts a transaction at a fresh TSO timestamp. */
  async begin(options: TxnOptions = {}): Promise<Transaction> {
    const startTs = await this.timestamp();
    return this.beginAt(startTs, options);
  }

  /**
   * A fresh TSO timestamp (batched with concurrent callers): a SQL statement's for-update
   * ts or its READ COMMITTED read ts.
   */
  timestamp(): Promise<Timestamp> {
    this.timestampsFetched++;
    return this.options.pd.getTimestamp();
  }

  /** Timestamps `begin` and `timestamp` asked PD for so far (for tests and metrics). */
  get timestampFetches(): number {
    return this.timestampsFetched;
  }

  /**
   * Waits before the `attempt`-th rerun (from 1) of a transaction that lost a write
   * conflict, so colliding reruns spread out: a jittered delay doubling from 2 ms up to
   * `limits.txnConflictBackoffMsMax`.
   */
  async conflictBackoff(attempt: number): Promise<void> {
    const stepMs = Math.min(limits.txnConflictBackoffMsMax, 2 * 2 ** Math.min(attempt - 1, 20));
    await this.env.timers.sleep(stepMs / 2 + this.env.random.float() * (stepMs / 2));
  }

  /** Starts a transaction reading at `startTs` (a stale read); fails below the safe point. */
  async beginAt(startTs: Timestamp, options: TxnOptions = {}): Promise<Transaction> {
    await this.checkSafePoint(startTs);
    this.registry.register(startTs);
    return new Transaction(this.ctx, startTs, { ...this.options.txn, ...options });
  }

  /** Fails with `CLIENT:Txn:SnapshotTooOld` when `ts` is below the GC safe point. */
  async checkSafePoint(ts: Timestamp): Promise<void> {
    const nowMs = this.env.clock.monotonicMs();
    const maxAge = this.options.safePointCacheMs ?? limits.clientSafePointCacheMs;
    if (ts >= this.safePoint.ts && nowMs - this.safePoint.atMs > maxAge) {
      this.safePoint = { ts: await this.options.pd.getGcSafePoint(), atMs: nowMs };
    }
    if (ts < this.safePoint.ts) {
      throw new TesseraError(
        ErrorCode.ClientTxnSnapshotTooOld,
        `cannot read at ts ${ts}: below the GC safe point ${this.safePoint.ts}; ` +
          "the data it needs may be collected",
        { details: { readTs: String(ts), safePoint: String(this.safePoint.ts) } },
      );
    }
  }

  /** Waits for background work (secondary commits, rollbacks) to finish. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /**
   * Waits for background work, removes this client's service safe point from PD, then
   * closes every store connection.
   */
  async close(): Promise<void> {
    this.publisher.cancel();
    await this.drain();
    await this.publishing;
    this.closed = true;
    await this.publishMinStartTs();
    await this.kv.close();
  }

  private background(work: () => Promise<void>, what: string): void {
    const task = work()
      .catch((error: unknown) => {
        this.backgroundFailures++;
        this.options.logger.warn({ err: describeError(error) }, `${what} failed`);
      })
      .finally(() => {
        this.pending.delete(task);
      });
    this.pending.add(task);
  }
}
