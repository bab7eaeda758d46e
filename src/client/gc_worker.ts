/**
 * `GcWorker`: the cluster's MVCC garbage collector — one owner per cluster, elected through
 * PD (`campaign` on the `gc-worker` election, renewed every round).
 *
 * Each round (`runOnce`, driven every `intervalMs` by an Env timer after `start`):
 * 1. safe point = min(TSO now − `gcLifeTimeMs`, PD's lowest service safe point (every SQL
 *    node's oldest running start ts, published by its `TxnClient`, and dumps' and
 *    imports'), the oldest start ts any local source reports (this node's `TxnRegistry`,
 *    which needs no publication delay)); a round whose safe point is not above PD's does
 *    nothing (the safe point only moves forward);
 * 2. resolves every lock below it: each shard is scanned at the safe point (a lock with a
 *    start ts at or below it blocks the scan and is resolved through the `LockResolver`).
 *    The KV proto has no lock-scanning method, so this reads keys too; a `kv.ScanLock`
 *    would make it cheaper. A lock that stays live fails the round (nothing is advanced);
 * 3. stores the safe point in PD (readers check it: `CLIENT:Txn:SnapshotTooOld`);
 * 4. waits `collectDelayMs` (an Env timer), longer than clients trust a cached safe point
 *    (`limits.clientSafePointCacheMs`): a reader that checked the old safe point just
 *    before step 3 has then finished checking, or asks PD again;
 * 5. sends `kv.Gc` for every shard to its leader's store, carrying the safe point; the
 *    store records it and refuses reads below it (`KV:Txn:SnapshotTooOld`, raised by the
 *    client as `CLIENT:Txn:SnapshotTooOld`), which closes the race for a read already in
 *    flight.
 */
import {
  type Timestamp,
  describeError,
  limits,
  logicalBits,
} from "../base/mod.ts";
import { compareBytes } from "../codec/mod.ts";
import type { Env, Timer } from "../env/mod.ts";
import { type GcReply, KvMethod, type LockInfo, type ScanReply } from "../proto/mod.ts";
import type { RpcLogger } from "../rpc/mod.ts";
import type { KvClient } from "./kv_client.ts";
import { type LockResolver, keyErrorToError, lockResolveTimeout } from "./lock_resolver.ts";
import type { MinStartTsSource } from "./txn_registry.ts";

/** What the GC worker needs from PD; `PdClient` fits. */
export interface GcPd {
  getTimestamp(): Promise<Timestamp>;
  getGcSafePoint(): Promise<Timestamp>;
  updateGcSafePoint(safePoint: Timestamp): Promise<Timestamp>;
  /** The lowest unexpired service safe point, or null. */
  getMinServiceSafePoint(): Promise<Timestamp | null>;
  campaign(
    election: string,
    candidate: string,
    ttlMs: number,
  ): Promise<{ readonly elected: boolean; readonly owner: string | null }>;
}

/** Options of a `GcWorker`. */
export interface GcWorkerOptions {
  readonly pd: GcPd;
  readonly kv: KvClient;
  readonly resolver: LockResolver;
  readonly logger: RpcLogger;
  /** This process's name in the election. */
  readonly candidate: string;
  /** Sources of start ts GC must keep readable. */
  readonly sources?: readonly MinStartTsSource[];
  /** Default `limits.gcLifeTimeMsDefault`. */
  readonly gcLifeTimeMs?: number;
  /** Default `limits.gcIntervalMsDefault`. */
  readonly intervalMs?: number;
  /** Default `limits.gcOwnerTtlMs`. */
  readonly ownerTtlMs?: number;
  /**
   * Wait between storing the safe point in PD and sending `kv.Gc`; must exceed the
   * clients' safe-point cache age. Default `limits.clientSafePointCacheMs +
   * limits.gcCollectDelayMarginMs`.
   */
  readonly collectDelayMs?: number;
}

/** What one round did. */
export type GcRoundResult =
  | { readonly kind: "notOwner"; readonly owner: string | null }
  | { readonly kind: "unchanged"; readonly safePoint: Timestamp }
  | {
      readonly kind: "collected";
      readonly safePoint: Timestamp;
      readonly locksResolved: number;
      readonly deletedVersions: number;
    };

/** The election every GC worker of a cluster campaigns in. */
export const gcElection = "gc-worker";

/** The GC worker; see the file comment. */
export class GcWorker {
  private readonly env: Pick<Env, "timers">;
  private readonly options: GcWorkerOptions;
  private timer: Timer | undefined;
  private running: Promise<void> | undefined;

  constructor(env: Pick<Env, "timers">, options: GcWorkerOptions) {
    this.env = env;
    this.options = options;
  }

  /** Runs a round every interval until `stop`. */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = this.env.timers.setInterval(
      this.options.intervalMs ?? limits.gcIntervalMsDefault,
      () => {
        if (this.running !== undefined) return;
        this.running = this.runOnce()
          .then(
            () => undefined,
            (error: unknown) => {
              this.options.logger.warn({ err: describeError(error) }, "GC round failed");
            },
          )
          .finally(() => {
            this.running = undefined;
          });
      },
    );
  }

  /** Stops the timer and waits for a round in progress. */
  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    await this.running;
  }

  /** The safe point this round would use: see the file comment, step 1. */
  async computeSafePoint(): Promise<Timestamp> {
    const now = await this.options.pd.getTimestamp();
    const lifeMs = this.options.gcLifeTimeMs ?? limits.gcLifeTimeMsDefault;
    const lifeTs = BigInt(Math.max(0, Math.floor(lifeMs))) << BigInt(logicalBits);
    let safePoint = (now > lifeTs ? now - lifeTs : 0n) as Timestamp;
    const service = await this.options.pd.getMinServiceSafePoint();
    if (service !== null && service < safePoint) safePoint = service;
    for (const source of this.options.sources ?? []) {
      const ts = await source();
      if (ts !== null && ts < safePoint) safePoint = ts;
    }
    return safePoint;
  }

  /** One round; see the file comment. */
  async runOnce(): Promise<GcRoundResult> {
    const { pd, candidate } = this.options;
    const ttlMs = this.options.ownerTtlMs ?? limits.gcOwnerTtlMs;
    const { elected, owner } = await pd.campaign(gcElection, candidate, ttlMs);
    if (!elected) return { kind: "notOwner", owner };
    const safePoint = await this.computeSafePoint();
    const current = await pd.getGcSafePoint();
    if (safePoint <= current) return { kind: "unchanged", safePoint: current };
    const routes = await this.options.kv.shardsInRange(new Uint8Array(0), new Uint8Array(0));
    let locksResolved = 0;
    for (const route of routes) {
      locksResolved += await this.resolveLocksBelow(route.shard, safePoint);
    }
    const inForce = await pd.updateGcSafePoint(safePoint);
    await this.env.timers.sleep(
      this.options.collectDelayMs ?? limits.clientSafePointCacheMs + limits.gcCollectDelayMarginMs,
    );
    let deletedVersions = 0;
    for (const route of routes) {
      const anchor = route.shard.startKey;
      const { reply } = await this.options.kv.sendKey<GcReply>(anchor, KvMethod.gc, () => ({
        safePoint: inForce,
      }));
      if (reply.keyError !== undefined) throw keyErrorToError(reply.keyError, "gc");
      deletedVersions += reply.deletedVersions;
    }
    return { kind: "collected", safePoint: inForce, locksResolved, deletedVersions };
  }

  /** Scans one shard at the safe point, resolving every lock that blocks it. */
  private async resolveLocksBelow(
    shard: { readonly startKey: Uint8Array; readonly endKey: Uint8Array },
    safePoint: Timestamp,
  ): Promise<number> {
    let resolved = 0;
    let cursor = shard.startKey;
    const pageMax = 1_024;
    for (let round = 0; round < limits.gcResolveRoundsMax; round++) {
      const from = cursor;
      const { reply } = await this.options.kv.sendKey<ScanReply>(from, KvMethod.scan, (s) => ({
        startKey: from,
        endKey: s.endKey,
        limit: pageMax,
        version: safePoint,
        keyOnly: true,
      }));
      const keyError = reply.keyError;
      if (keyError !== undefined) {
        if (keyError.kind !== "keyIsLocked") throw keyErrorToError(keyError, "gc scan");
        const lock: LockInfo = keyError.lock;
        const result = await this.options.resolver.resolve([lock], 0n as Timestamp);
        if (result.msBeforeExpired > 0) throw lockResolveTimeout(lock, 0);
        resolved++;
        continue;
      }
      const last = reply.pairs[reply.pairs.length - 1];
      if (reply.pairs.length < pageMax || last === undefined) return resolved;
      // The smallest key above `last.key`.
      cursor = Uint8Array.of(...last.key, 0);
      if (shard.endKey.length > 0 && compareBytes(cursor, shard.endKey) >= 0) {
        return resolved;
      }
    }
    return resolved;
  }
}
