/**
 * `PdClient`: how a Tessera process talks to the placement driver — timestamps (through
 * the batching `TsoClient`), ids, stores, shard routing, heartbeats, the GC safe point,
 * service safe points and owner elections — with leader following and two caches.
 *
 * Leader following: the client asks every configured member at once for the leader
 * (`pd.GetMembers`, which also teaches it the cluster id), then sends calls there. A
 * `PD:Member:NotLeader` reply names the leader it knows; the client follows that hint at
 * once. A transport failure (connect refused, connection lost, deadline) forgets the
 * leader and asks the members again after a backoff that doubles from
 * `limits.pdClientBackoffMsMin` to `limits.pdClientBackoffMsMax`. After
 * `limits.pdClientAttemptsMax` attempts a call fails with `PD:Client:Unavailable`, the last
 * error as its cause. Every PD method may be retried: each is idempotent or, for
 * `allocIds`, merely wastes the ids of a lost reply. Other errors (bad request, stale
 * epoch, unknown store, cluster id mismatch) go straight to the caller.
 *
 * Shard cache: routes (shard range, epoch, peers, leader) sorted by start key, so a key
 * is found by binary search; a map by id keeps least-recently-used order and bounds the
 * cache to `shardCacheMax` routes. A route fetched from PD replaces every cached route its
 * range overlaps. Callers report routing errors from stores (epoch not match, not leader)
 * with `invalidateShard`, or `updateShardLeader` when the store named the new leader.
 * Store cache: store descriptions by id (addresses change only by re-registration), bounded
 * and invalidated the same way.
 *
 * State is owned by the client; callers get the cached route objects, which are never
 * mutated (a leader update replaces the route).
 */
import {
  ErrorCode,
  TesseraError,
  type Timestamp,
  describeError,
  hasErrorCode,
  limits,
} from "../base/mod.ts";
import { compareBytes } from "../codec/mod.ts";
import {
  type AllocIdsReply,
  type CampaignReply,
  type GcSafePointReply,
  type GetMembersReply,
  type GetOwnerReply,
  type IsBootstrappedReply,
  PdMethod,
  type PeerMeta,
  type ScanShardsReply,
  type ServiceSafePointReply,
  type ShardHeartbeatReply,
  type ShardHeartbeatRequest,
  type ShardMeta,
  type ShardOperatorStep,
  type ShardReply,
  type ShardRoute,
  type StoreHeartbeatReply,
  type StoreInfoReply,
  type StoreMeta,
  type StoreReply,
  type StoreStats,
} from "../proto/mod.ts";
import { RpcClient, type RpcEnv, type RpcLogger } from "../rpc/mod.ts";
import { TsoClient } from "./tso_client.ts";

export interface PdClientOptions {
  /** PD members' RPC addresses (`host:port`); any one leads the client to the leader. */
  readonly endpoints: readonly string[];
  readonly logger: RpcLogger;
  /** Attempts per call (default `limits.pdClientAttemptsMax`). */
  readonly attemptsMax?: number;
  /** Backoff bounds between attempts (defaults `limits.pdClientBackoffMs{Min,Max}`). */
  readonly backoffMsMin?: number;
  readonly backoffMsMax?: number;
  /** Deadline of one attempt (default 3 s). */
  readonly callDeadlineMs?: number;
  /** Routes cached at most (default `limits.pdClientShardCacheMax`). */
  readonly shardCacheMax?: number;
}

/** Counters for tests and metrics. */
export interface PdClientStats {
  /** RPC attempts sent (retries included). */
  readonly calls: number;
  readonly retries: number;
  /** Times the client moved to another leader address. */
  readonly leaderChanges: number;
  readonly shardCacheHits: number;
  readonly shardCacheMisses: number;
  readonly shardCacheSize: number;
  readonly storeCacheHits: number;
  readonly storeCacheMisses: number;
}

/** Transport failures worth another attempt, maybe at another member. */
const retryableCodes: ReadonlySet<string> = new Set([
  ErrorCode.RpcConnectFailed,
  ErrorCode.RpcConnectionClosed,
  ErrorCode.RpcDeadlineExceeded,
  ErrorCode.RpcTooManyInFlight,
  ErrorCode.RpcWriteBufferFull,
  ErrorCode.PdTsoUnavailable,
  ErrorCode.PdMetaUnavailable,
]);

/** RPC clients kept for addresses learned from hints, beyond the configured endpoints. */
const extraClientsMax = 8;

function splitEndpoint(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(":");
  return {
    host: endpoint.slice(0, i).replace(/^\[|\]$/g, ""),
    port: Number(endpoint.slice(i + 1)),
  };
}

/** True when `key` lies in the shard's range. */
export function shardContains(shard: ShardMeta, key: Uint8Array): boolean {
  if (compareBytes(key, shard.startKey) < 0) return false;
  return shard.endKey.length === 0 || compareBytes(key, shard.endKey) < 0;
}

/** Routes by start key, bounded, least recently used evicted first. See the file comment. */
export class ShardCache {
  private readonly capacity: number;
  /** Sorted by start key; ranges never overlap. */
  private sorted: ShardRoute[] = [];
  /** By shard id, in least-recently-used order (oldest first). */
  private readonly byId = new Map<number, ShardRoute>();

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
  }

  get size(): number {
    return this.byId.size;
  }

  /** The cached route whose range holds `key`, marked as recently used. */
  findByKey(key: Uint8Array): ShardRoute | undefined {
    const i = this.upperBound(key) - 1;
    const route = this.sorted[i];
    if (route === undefined || !shardContains(route.shard, key)) return undefined;
    this.touch(route);
    return route;
  }

  findById(shardId: number): ShardRoute | undefined {
    const route = this.byId.get(shardId);
    if (route !== undefined) this.touch(route);
    return route;
  }

  /**
   * Caches a route, dropping every cached route it overlaps — unless one of those is newer
   * (a higher epoch version: split or merged after it), when the route is stale and
   * ignored. A PD lookup that started before PD heard of a split must not undo the split's
   * routes a store already reported (it would bounce requests off `epochNotMatch`).
   */
  insert(route: ShardRoute): void {
    const version = route.shard.epoch.version;
    const own = this.byId.get(route.shard.id);
    if (own !== undefined && own.shard.epoch.version > version) return;
    const [first, end] = this.overlapping(route.shard.startKey, route.shard.endKey);
    for (let k = first; k < end; k++) {
      if ((this.sorted[k] as ShardRoute).shard.epoch.version > version) return;
    }
    this.remove(route.shard.id);
    const [i, j] = this.overlapping(route.shard.startKey, route.shard.endKey);
    for (let k = i; k < j; k++) this.byId.delete((this.sorted[k] as ShardRoute).shard.id);
    this.sorted.splice(i, j - i, route);
    this.byId.set(route.shard.id, route);
    while (this.byId.size > this.capacity) {
      const oldest = this.byId.keys().next().value as number;
      this.remove(oldest);
    }
  }

  /** Forgets a shard's route; true if it was cached. */
  remove(shardId: number): boolean {
    const route = this.byId.get(shardId);
    if (route === undefined) return false;
    this.byId.delete(shardId);
    const i = this.upperBound(route.shard.startKey) - 1;
    if (this.sorted[i] === route) this.sorted.splice(i, 1);
    return true;
  }

  /** Replaces the cached route of a shard, keeping its place. */
  replace(route: ShardRoute): void {
    const old = this.byId.get(route.shard.id);
    if (old === undefined) return;
    const i = this.upperBound(old.shard.startKey) - 1;
    if (this.sorted[i] === old) this.sorted[i] = route;
    this.byId.set(route.shard.id, route);
  }

  /** The index range `[i, j)` of the cached routes overlapping `[startKey, endKey)`. */
  private overlapping(startKey: Uint8Array, endKey: Uint8Array): [number, number] {
    // The first cached route that may overlap: the one holding the start key, or after it.
    let i = this.upperBound(startKey) - 1;
    const before = this.sorted[i];
    if (before === undefined || !shardContains(before.shard, startKey)) i++;
    let j = i;
    while (j < this.sorted.length) {
      const next = this.sorted[j] as ShardRoute;
      if (endKey.length > 0 && compareBytes(next.shard.startKey, endKey) >= 0) break;
      j++;
    }
    return [i, j];
  }

  /** The first index whose start key is above `key`. */
  private upperBound(key: Uint8Array): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes((this.sorted[mid] as ShardRoute).shard.startKey, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private touch(route: ShardRoute): void {
    this.byId.delete(route.shard.id);
    this.byId.set(route.shard.id, route);
  }
}

/** The PD client; see the file comment. */
export class PdClient {
  private readonly env: RpcEnv;
  private readonly options: PdClientOptions;
  private readonly attemptsMax: number;
  private readonly backoffMsMin: number;
  private readonly backoffMsMax: number;
  private readonly callDeadlineMs: number;
  private readonly clients = new Map<string, RpcClient>();
  private readonly tso: TsoClient;
  private readonly shards: ShardCache;
  private readonly stores = new Map<number, StoreInfoReply>();
  private leaderAddress: string | undefined;
  private finding: Promise<string> | undefined;
  private clusterIdValue = 0n;
  private closed = false;
  private readonly counters = {
    calls: 0,
    retries: 0,
    leaderChanges: 0,
    shardCacheHits: 0,
    shardCacheMisses: 0,
    storeCacheHits: 0,
    storeCacheMisses: 0,
  };

  constructor(env: RpcEnv, options: PdClientOptions) {
    if (options.endpoints.length === 0) {
      throw new TesseraError(ErrorCode.PdRequestMalformed, "a PD client needs an endpoint");
    }
    this.env = env;
    this.options = options;
    this.attemptsMax = options.attemptsMax ?? limits.pdClientAttemptsMax;
    this.backoffMsMin = options.backoffMsMin ?? limits.pdClientBackoffMsMin;
    this.backoffMsMax = options.backoffMsMax ?? limits.pdClientBackoffMsMax;
    this.callDeadlineMs = options.callDeadlineMs ?? 3_000;
    this.shards = new ShardCache(options.shardCacheMax ?? limits.pdClientShardCacheMax);
    this.tso = new TsoClient(env, { endpoints: options.endpoints, logger: options.logger });
  }

  get stats(): PdClientStats {
    return { ...this.counters, shardCacheSize: this.shards.size };
  }

  /** The cluster id, asking the members if it is not known yet. */
  async clusterId(): Promise<bigint> {
    if (this.clusterIdValue === 0n) await this.call(PdMethod.getMembers, {});
    return this.clusterIdValue;
  }

  /** The leader's address as last learned (undefined before the first call). */
  get leader(): string | undefined {
    return this.leaderAddress;
  }

  // ---- TSO and ids ----------------------------------------------------------------------

  /** One timestamp, batched with every concurrent caller in the process. */
  getTimestamp(): Promise<Timestamp> {
    return this.tso.getTimestamp();
  }

  /** `count` fresh ids; resolves with the first (they are consecutive). */
  async allocIds(count: number): Promise<number> {
    const reply = (await this.call(PdMethod.allocIds, { count })) as AllocIdsReply;
    return reply.firstId;
  }

  // ---- cluster and stores -----------------------------------------------------------------

  async isBootstrapped(): Promise<boolean> {
    return ((await this.call(PdMethod.isBootstrapped, {})) as IsBootstrappedReply).bootstrapped;
  }

  /** Writes the first store and the shard covering the whole key space, once. */
  async bootstrap(store: StoreMeta, shard: ShardMeta): Promise<void> {
    await this.call(PdMethod.bootstrap, { store, shard });
  }

  /** Registers a store or updates its description. */
  async putStore(store: StoreMeta): Promise<void> {
    await this.call(PdMethod.putStore, { store });
    this.stores.delete(store.id);
  }

  /** A store's description, from the cache when it has one. */
  async getStore(storeId: number): Promise<StoreInfoReply> {
    const cached = this.stores.get(storeId);
    if (cached !== undefined) {
      this.counters.storeCacheHits++;
      return cached;
    }
    this.counters.storeCacheMisses++;
    const { store } = (await this.call(PdMethod.getStore, { storeId })) as StoreReply;
    if (this.stores.size >= limits.pdClientStoreCacheMax) {
      this.stores.delete(this.stores.keys().next().value as number);
    }
    this.stores.set(storeId, store);
    return store;
  }

  /** Forgets a cached store (its address failed). */
  invalidateStore(storeId: number): void {
    this.stores.delete(storeId);
  }

  /** Reports a store's load; resolves with the cluster's GC safe point. */
  async storeHeartbeat(storeId: number, stats: StoreStats): Promise<Timestamp> {
    const reply = (await this.call(PdMethod.storeHeartbeat, {
      storeId,
      stats,
    })) as StoreHeartbeatReply;
    return reply.gcSafePoint;
  }

  /** Reports a shard as its leader sees it; resolves with the step PD asks for, if any. */
  async shardHeartbeat(
    request: Omit<ShardHeartbeatRequest, "header">,
  ): Promise<ShardOperatorStep | null> {
    const reply = (await this.call(PdMethod.shardHeartbeat, request)) as ShardHeartbeatReply;
    return reply.step;
  }

  // ---- routing ----------------------------------------------------------------------------

  /** The shard holding `key` with its leader; cached. Null when PD knows no such shard. */
  async getShardByKey(key: Uint8Array): Promise<ShardRoute | null> {
    const cached = this.shards.findByKey(key);
    if (cached !== undefined) {
      this.counters.shardCacheHits++;
      return cached;
    }
    this.counters.shardCacheMisses++;
    const { route } = (await this.call(PdMethod.getShardByKey, { key })) as ShardReply;
    if (route === null) return null;
    this.shards.insert(route);
    // A newer route cached meanwhile (a store reported a split) wins over PD's stale one.
    return this.shards.findByKey(key) ?? route;
  }

  /** A shard by id with its leader; cached. */
  async getShardById(shardId: number): Promise<ShardRoute | null> {
    const cached = this.shards.findById(shardId);
    if (cached !== undefined) {
      this.counters.shardCacheHits++;
      return cached;
    }
    this.counters.shardCacheMisses++;
    const { route } = (await this.call(PdMethod.getShardById, { shardId })) as ShardReply;
    if (route !== null) this.shards.insert(route);
    return route;
  }

  /**
   * Shards overlapping `[startKey, endKey)` (empty end: to the end), in key order, at most
   * `limit`; always asked of PD, and cached.
   */
  async scanShards(
    startKey: Uint8Array,
    endKey: Uint8Array,
    limit: number = limits.pdScanShardsMax,
  ): Promise<ShardRoute[]> {
    const { routes } = (await this.call(PdMethod.scanShards, {
      startKey,
      endKey,
      limit,
    })) as ScanShardsReply;
    for (const route of routes) this.shards.insert(route);
    return [...routes];
  }

  /** Forgets a shard's route: a store answered with an epoch or not-leader error. */
  invalidateShard(shardId: number): void {
    this.shards.remove(shardId);
  }

  /**
   * A store said another peer leads the shard now: the cached route points there, if that
   * peer is in it (otherwise the route is dropped).
   */
  updateShardLeader(shardId: number, leader: PeerMeta): void {
    const route = this.shards.findById(shardId);
    if (route === undefined) return;
    const peer = route.shard.peers.find((p) => p.peerId === leader.peerId);
    if (peer === undefined) this.shards.remove(shardId);
    else this.shards.replace({ shard: route.shard, leader: peer });
  }

  /**
   * Caches routes a store reported (the shards now covering a stale route, from an epoch
   * mismatch), so the next request goes straight to them instead of asking PD, which may
   * not have heard of a split yet.
   */
  cacheShardRoutes(routes: readonly ShardRoute[]): void {
    for (const route of routes) this.shards.insert(route);
  }

  // ---- GC safe point and elections ------------------------------------------------------

  async getGcSafePoint(): Promise<Timestamp> {
    return ((await this.call(PdMethod.getGcSafePoint, {})) as GcSafePointReply).safePoint;
  }

  /** Proposes a safe point; resolves with the one in force (never lower than before). */
  async updateGcSafePoint(safePoint: Timestamp): Promise<Timestamp> {
    const reply = (await this.call(PdMethod.updateGcSafePoint, {
      safePoint,
    })) as GcSafePointReply;
    return reply.safePoint;
  }

  /**
   * Holds GC at or below `safePoint` for `serviceId` during `ttlMs` (by PD's clock; 0
   * removes it); resolves with the lowest service safe point in force afterwards.
   * `PD:GC:SafePointTooOld` when `safePoint` is below the GC safe point.
   */
  updateServiceSafePoint(
    serviceId: string,
    safePoint: Timestamp,
    ttlMs: number,
  ): Promise<ServiceSafePointReply> {
    return this.call(PdMethod.updateServiceSafePoint, {
      serviceId,
      safePoint,
      ttlMs,
    }) as Promise<ServiceSafePointReply>;
  }

  /** The lowest unexpired service safe point, or null when none holds GC back. */
  async getMinServiceSafePoint(): Promise<Timestamp | null> {
    const reply = (await this.call(PdMethod.getMinServiceSafePoint, {})) as ServiceSafePointReply;
    return reply.minSafePoint;
  }

  campaign(election: string, candidate: string, ttlMs: number): Promise<CampaignReply> {
    return this.call(PdMethod.campaign, { election, candidate, ttlMs }) as Promise<CampaignReply>;
  }

  /** Renews ownership; `PD:Election:NotOwner` if it was lost. */
  renewOwner(election: string, candidate: string): Promise<CampaignReply> {
    return this.call(PdMethod.renewOwner, { election, candidate }) as Promise<CampaignReply>;
  }

  async resignOwner(election: string, candidate: string): Promise<void> {
    await this.call(PdMethod.resignOwner, { election, candidate });
  }

  async getOwner(election: string): Promise<string | null> {
    return ((await this.call(PdMethod.getOwner, { election })) as GetOwnerReply).owner;
  }

  /** Fails later calls with `RPC:Client:Closed` and closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tso.close();
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
  }

  // ---- calls ----------------------------------------------------------------------------

  /** Calls `method` on the leader, following hints and retrying; see the file comment. */
  private async call(method: string, body: Record<string, unknown>): Promise<unknown> {
    let lastError: unknown;
    let backoffMs = this.backoffMsMin;
    let wait = false;
    for (let attempt = 0; attempt < this.attemptsMax; attempt++) {
      if (this.closed) throw new TesseraError(ErrorCode.RpcClientClosed, "PD client closed");
      if (wait) {
        await this.env.timers.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, this.backoffMsMax);
      }
      if (attempt > 0) this.counters.retries++;
      wait = true;
      let target: string;
      try {
        target = await this.findLeader();
      } catch (error) {
        if (hasErrorCode(error, ErrorCode.PdClusterIdMismatch)) throw error;
        lastError = error;
        continue;
      }
      if (method === PdMethod.getMembers) return undefined;
      try {
        this.counters.calls++;
        return await this.rpc(target).call(
          method,
          { header: { clusterId: this.clusterIdValue }, ...body },
          { deadlineMs: this.callDeadlineMs },
        );
      } catch (error) {
        lastError = error;
        if (hasErrorCode(error, ErrorCode.PdNotLeader)) {
          const hint = error.details["leaderAddress"];
          const next = typeof hint === "string" && hint !== target ? hint : undefined;
          this.setLeader(next);
          // A fresh hint is followed at once; no hint (an election is on) waits first.
          wait = next === undefined;
          continue;
        }
        if (error instanceof TesseraError && retryableCodes.has(error.code)) {
          if (this.leaderAddress === target) this.setLeader(undefined);
          continue;
        }
        throw error;
      }
    }
    throw new TesseraError(
      ErrorCode.PdUnavailable,
      `PD unavailable after ${this.attemptsMax} attempts: ${describeError(lastError)}`,
      { cause: lastError },
    );
  }

  private setLeader(address: string | undefined): void {
    if (address !== undefined && address !== this.leaderAddress) this.counters.leaderChanges++;
    this.leaderAddress = address;
  }

  /** The leader's address: the last one learned, or asked of every endpoint at once. */
  private findLeader(): Promise<string> {
    if (this.leaderAddress !== undefined) return Promise.resolve(this.leaderAddress);
    this.finding ??= this.askMembers().finally(() => {
      this.finding = undefined;
    });
    return this.finding;
  }

  private async askMembers(): Promise<string> {
    // In parallel: a stopped member must not delay finding the live leader.
    const asks = this.options.endpoints.map(async (endpoint) => {
      const reply = (await this.rpc(endpoint).call(
        PdMethod.getMembers,
        { header: { clusterId: this.clusterIdValue } },
        { deadlineMs: this.callDeadlineMs },
      )) as GetMembersReply;
      if (reply.leader === null) throw new Error(`${endpoint} knows no leader`);
      return reply;
    });
    let reply: GetMembersReply;
    try {
      reply = await Promise.any(asks);
    } catch (error) {
      const causes = error instanceof AggregateError ? error.errors : [error];
      throw new TesseraError(
        ErrorCode.PdUnavailable,
        `no PD leader found: ${causes.map(describeError).join("; ")}`,
        { cause: error },
      );
    }
    if (this.clusterIdValue !== 0n && reply.clusterId !== this.clusterIdValue) {
      throw new TesseraError(
        ErrorCode.PdClusterIdMismatch,
        `PD serves cluster ${reply.clusterId}, this client belongs to ${this.clusterIdValue}`,
      );
    }
    this.clusterIdValue = reply.clusterId;
    const leader = (reply.leader as { address: string }).address;
    this.setLeader(leader);
    return leader;
  }

  private rpc(address: string): RpcClient {
    let client = this.clients.get(address);
    if (client === undefined) {
      const extra = [...this.clients.keys()].filter((a) => !this.options.endpoints.includes(a));
      const oldest = extra[0];
      if (extra.length >= extraClientsMax && oldest !== undefined) {
        const old = this.clients.get(oldest) as RpcClient;
        this.clients.delete(oldest);
        old.close().catch((error: unknown) => {
          this.options.logger.warn({ err: describeError(error) }, "closing a PD client failed");
        });
      }
      client = new RpcClient(this.env, { ...splitEndpoint(address), logger: this.options.logger });
      this.clients.set(address, client);
    }
    return client;
  }
}
