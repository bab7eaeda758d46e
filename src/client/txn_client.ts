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
 */
import {
  ErrorCode,
  TesseraError,
  type Timestamp,
  describeError,
  limits,
} from "../base/mod.ts";
import type { Env } from "../env/mod.ts";
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
  private readonly ctx: TxnContext;

  constructor(env: Env, options: TxnClientOptions) {
    this.env = env;
    this.options = options;
    this.kv = new KvClient(env, {
      ...options.kv,
      router: options.pd,
      transport: options.kv?.transport ?? new RpcStoreTransport(env, { logger: options.logger }),
    });
    const timestamp = () => options.pd.getTimestamp();
    this.resolver = new LockResolver({ kv: this.kv, timestamp });
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
  }

  /** Background tasks that failed (logged), for tests. */
  get failedBackgroundTasks(): number {
    return this.backgroundFailures;
  }

  /** Starts a transaction at a fresh TSO timestamp. */
  async begin(options: TxnOptions = {}): Promise<Transaction> {
    const startTs = await this.options.pd.getTimestamp();
    return this.beginAt(startTs, options);
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

  /** Waits for background work, then closes every store connection. */
  async close(): Promise<void> {
    await this.drain();
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
