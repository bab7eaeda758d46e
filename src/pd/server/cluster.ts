/**
 * `Cluster`: the PD leader's view of the cluster — bootstrap flag, ID allocator, stores,
 * shards with key routing, GC safe point — loaded from the metadata store when a member
 * becomes leader and written back through transactions conditioned on its term.
 *
 * Durable: the bootstrap flag, store descriptions, shard descriptions (range, epoch,
 * peers), the end of the reserved id range, the GC safe point and the service safe points
 * (each with its expiry in PD's wall-clock ms, so the next leader honours it; expired
 * ones count for nothing and are deleted when the table is full). In memory only: store
 * and shard heartbeat statistics, shard leaders and heartbeat times, which the next
 * heartbeats rebuild after a failover.
 *
 * Rules for bad requests — each leaves the state unchanged and throws a typed error: an
 * unknown store (`PD:Store:Unknown`); a store id re-registered with another address, or an
 * address registered under two ids (`PD:Store:AddressConflict`); a tombstone heartbeating
 * (`PD:Store:Tombstone`); a shard heartbeat older than what PD knows — lower version or
 * conf version than the shard's, or overlapping a shard with a higher version
 * (`PD:Shard:StaleEpoch`).
 *
 * Routing keeps shards in an array sorted by start key (binary search for a key); the
 * shards' ranges never overlap, because an accepted heartbeat removes the older shards it
 * overlaps (the parents of a split, the source of a merge).
 *
 * Store lifecycle: `up` is stored; `disconnected` (silent past `storeDisconnectMs`) and
 * `down` (silent past `maxStoreDownTimeMs`) are derived from the last heartbeat, counted
 * from the start of the term for stores not heard from since. An operator marks a store
 * `offline` (its peers are moved away by the replica checker) and may bring it back `up`;
 * an offline store that holds no peer any more becomes a `tombstone` on the next
 * scheduling round (`buryEmptyOfflineStores`), and a tombstone never comes back. Only a
 * store without peers may be made a tombstone by hand (`PD:Store:NotEmpty`).
 *
 * For scheduling, `schedulingState` turns all of this into the pure `ClusterState` the
 * schedulers read; shards whose leader has not reported in this term are left out.
 */
import { ErrorCode, TesseraError, assert, limits } from "../../base/mod.ts";
import type { Env } from "../../env/mod.ts";
import { compareBytes } from "../../codec/mod.ts";
import type {
  PeerMeta,
  ShardHeartbeatRequest,
  ShardMeta,
  ShardRoute,
  ShardStats,
  StoreInfoReply,
  StoreMeta,
  StoreState,
  StoreStats,
  StoreStoredState,
} from "../../proto/mod.ts";
import { type MetaCompare, type MetaOp, type MetaStore, prefixEnd } from "../meta/meta_store.ts";
import type { PeerId, ShardId, StoreId } from "../../base/mod.ts";
import type { ClusterState, ShardInfo, StoreInfo } from "../schedule/types.ts";
import { Packr } from "msgpackr";

/** Cluster settings served by the HTTP API (and used by the schedulers). */
export interface ClusterConfig {
  readonly maxReplicas: number;
  readonly storeDisconnectMs: number;
  readonly maxStoreDownTimeMs: number;
}

export const defaultClusterConfig: ClusterConfig = {
  maxReplicas: 3,
  storeDisconnectMs: 20_000,
  maxStoreDownTimeMs: 30 * 60 * 1000,
};

/** Metadata keys, relative to the store's namespace. */
export const metaKeys = {
  clusterId: "/cluster_id",
  leader: "/leader",
  tso: "/tso",
  allocId: "/alloc_id",
  bootstrapped: "/bootstrapped",
  gcSafePoint: "/gc_safe_point",
  storePrefix: "/stores/",
  shardPrefix: "/shards/",
  electionPrefix: "/elections/",
  /** Scheduler settings changed through the HTTP API (`ScheduleSettings`, JSON). */
  scheduleSettings: "/config/schedule",
  /** Service safe points by service id (`StoredServiceSafePoint`, JSON). */
  serviceSafePointPrefix: "/gc/service_safe_points/",
} as const;

/** A service safe point as stored; `expiresAtWallMs` is by the PD leader's wall clock. */
interface StoredServiceSafePoint {
  readonly safePoint: string;
  readonly expiresAtWallMs: number;
}

/** The lowest service safe point in force, or nulls when none is. */
export interface MinServiceSafePoint {
  readonly minSafePoint: bigint | null;
  readonly minServiceId: string | null;
}

/**
 * Scheduler settings as stored: the overrides of the defaults (validated by the writer)
 * and the schedulers switched off. Opaque to the cluster, which only keeps them durable.
 */
export interface ScheduleSettings {
  readonly config: Readonly<Record<string, unknown>>;
  readonly disabled: readonly string[];
}

const packr = new Packr({ useRecords: false, int64AsType: "bigint", useBigIntExtension: true });
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Fixed-width decimal ids, so key order is id order. */
export function idKey(prefix: string, id: number): string {
  return `${prefix}${String(id).padStart(20, "0")}`;
}

interface StoredStore {
  readonly meta: StoreMeta;
  readonly state: StoreStoredState;
}

interface StoreEntry {
  stored: StoredStore;
  lastHeartbeatMs: number | undefined;
  stats: StoreStats | undefined;
}

interface ShardEntry {
  meta: ShardMeta;
  leader: PeerMeta | undefined;
  stats: ShardStats | undefined;
  lastHeartbeatMs: number | undefined;
  /** Peers the leader reported as still catching up. */
  pendingPeerIds: readonly number[];
  /** When this term saw the shard come out of a split (monotonic ms). */
  lastSplitMs: number | undefined;
}

function newShardEntry(meta: ShardMeta): ShardEntry {
  return {
    meta,
    leader: undefined,
    stats: undefined,
    lastHeartbeatMs: undefined,
    pendingPeerIds: [],
    lastSplitMs: undefined,
  };
}

/** True when `inner` lies inside `outer` and is smaller: what a split leaves of a shard. */
function rangeShrank(outer: ShardMeta, inner: ShardMeta): boolean {
  const startInside = compareBytes(inner.startKey, outer.startKey) >= 0;
  const endInside =
    outer.endKey.length === 0 ||
    (inner.endKey.length > 0 && compareBytes(inner.endKey, outer.endKey) <= 0);
  const same =
    compareBytes(inner.startKey, outer.startKey) === 0 &&
    compareBytes(inner.endKey, outer.endKey) === 0;
  return startInside && endInside && !same;
}

export interface ClusterOptions {
  readonly config: ClusterConfig;
  /** The term's guard: compares that hold only while this member leads. */
  readonly guard: () => MetaCompare[];
}

function epochOlder(a: ShardMeta["epoch"], b: ShardMeta["epoch"]): boolean {
  return a.version < b.version || a.confVersion < b.confVersion;
}

function sameShard(a: ShardMeta, b: ShardMeta): boolean {
  return (
    a.epoch.version === b.epoch.version &&
    a.epoch.confVersion === b.epoch.confVersion &&
    compareBytes(a.startKey, b.startKey) === 0 &&
    compareBytes(a.endKey, b.endKey) === 0 &&
    a.peers.length === b.peers.length &&
    a.peers.every((p, i) => {
      const q = b.peers[i];
      return (
        q !== undefined && p.peerId === q.peerId && p.storeId === q.storeId && p.role === q.role
      );
    })
  );
}

/** The leader's cluster state for one term. */
export class Cluster {
  private readonly env: Pick<Env, "clock">;
  private readonly store: MetaStore;
  private readonly options: ClusterOptions;
  /** The store liveness thresholds in force (the scheduler config can change them). */
  private config: ClusterConfig;
  private bootstrapped = false;
  private scheduleSettingsValue: ScheduleSettings | undefined;
  private readonly stores = new Map<number, StoreEntry>();
  private readonly shards = new Map<number, ShardEntry>();
  /** Shards sorted by start key. */
  private routing: ShardEntry[] = [];
  private gcSafePoint = 0n;
  private readonly serviceSafePoints = new Map<
    string,
    { readonly safePoint: bigint; readonly expiresAtWallMs: number }
  >();
  private idNext = 0;
  private idEnd = 0;
  private idModRevision = 0;
  private idReserving: Promise<void> | undefined;
  /** Monotonic time the term started: stores not heard from yet count from here. */
  private readonly sinceMs: number;
  /** Serializes writes that read-modify-write memory (heartbeats, stores). */
  private writes: Promise<unknown> = Promise.resolve();

  private constructor(env: Pick<Env, "clock">, store: MetaStore, options: ClusterOptions) {
    this.env = env;
    this.store = store;
    this.options = options;
    this.config = options.config;
    this.sinceMs = env.clock.monotonicMs();
  }

  /** Loads the durable state for a new term. */
  static async load(
    env: Pick<Env, "clock">,
    store: MetaStore,
    options: ClusterOptions,
  ): Promise<Cluster> {
    const cluster = new Cluster(env, store, options);
    cluster.bootstrapped = (await store.get(metaKeys.bootstrapped)) !== undefined;
    const gc = await store.get(metaKeys.gcSafePoint);
    cluster.gcSafePoint = gc === undefined ? 0n : BigInt(decoder.decode(gc.value));
    for await (const kv of scan(store, metaKeys.serviceSafePointPrefix)) {
      const stored = JSON.parse(decoder.decode(kv.value)) as StoredServiceSafePoint;
      cluster.serviceSafePoints.set(kv.key.slice(metaKeys.serviceSafePointPrefix.length), {
        safePoint: BigInt(stored.safePoint),
        expiresAtWallMs: stored.expiresAtWallMs,
      });
    }
    const alloc = await store.get(metaKeys.allocId);
    cluster.idEnd = alloc === undefined ? 0 : Number(decoder.decode(alloc.value));
    cluster.idNext = cluster.idEnd + 1;
    cluster.idModRevision = alloc?.modRevision ?? 0;
    const settings = await store.get(metaKeys.scheduleSettings);
    if (settings !== undefined) {
      cluster.scheduleSettingsValue = JSON.parse(
        decoder.decode(settings.value),
      ) as ScheduleSettings;
    }
    for await (const kv of scan(store, metaKeys.storePrefix)) {
      const stored = packr.unpack(kv.value) as StoredStore;
      cluster.stores.set(stored.meta.id, { stored, lastHeartbeatMs: undefined, stats: undefined });
    }
    for await (const kv of scan(store, metaKeys.shardPrefix)) {
      const meta = packr.unpack(kv.value) as ShardMeta;
      const entry = newShardEntry(meta);
      cluster.shards.set(meta.id, entry);
      cluster.routing.push(entry);
    }
    cluster.routing.sort((a, b) => compareBytes(a.meta.startKey, b.meta.startKey));
    return cluster;
  }

  get isBootstrapped(): boolean {
    return this.bootstrapped;
  }

  get storeCount(): number {
    return this.stores.size;
  }

  get shardCount(): number {
    return this.shards.size;
  }

  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writes.then(work);
    this.writes = run.catch(() => undefined);
    return run;
  }

  private async commit(ops: MetaOp[], extra: MetaCompare[] = []): Promise<void> {
    const result = await this.store.txn({
      compare: [...this.options.guard(), ...extra],
      success: ops,
    });
    if (!result.succeeded) {
      throw new TesseraError(
        ErrorCode.PdNotLeader,
        "metadata write refused: no longer the leader",
        {
          details: { leaderAddress: null },
        },
      );
    }
  }

  // ---- bootstrap ----------------------------------------------------------------------

  /** Writes the first store and the first shard, once. */
  bootstrap(store: StoreMeta, shard: ShardMeta): Promise<void> {
    return this.serialize(async () => {
      if (this.bootstrapped) {
        throw new TesseraError(
          ErrorCode.PdClusterAlreadyBootstrapped,
          "cluster already bootstrapped",
        );
      }
      if (!shard.peers.some((p) => p.storeId === store.id)) {
        throw new TesseraError(
          ErrorCode.PdRequestMalformed,
          "the first shard has no peer on the first store",
        );
      }
      const result = await this.store.txn({
        compare: [
          ...this.options.guard(),
          { key: metaKeys.bootstrapped, target: "createRevision", op: "=", operand: 0 },
        ],
        success: [
          { kind: "put", key: metaKeys.bootstrapped, value: encoder.encode("1") },
          {
            kind: "put",
            key: idKey(metaKeys.storePrefix, store.id),
            value: packr.pack({ meta: store, state: "up" }),
          },
          { kind: "put", key: idKey(metaKeys.shardPrefix, shard.id), value: packr.pack(shard) },
        ],
      });
      if (!result.succeeded) {
        throw new TesseraError(
          ErrorCode.PdClusterAlreadyBootstrapped,
          "cluster already bootstrapped (or leadership lost)",
        );
      }
      this.bootstrapped = true;
      this.stores.set(store.id, {
        stored: { meta: store, state: "up" },
        lastHeartbeatMs: undefined,
        stats: undefined,
      });
      const entry = newShardEntry(shard);
      this.shards.set(shard.id, entry);
      this.routing = [entry];
    });
  }

  private requireBootstrapped(): void {
    if (!this.bootstrapped) {
      throw new TesseraError(ErrorCode.PdClusterNotBootstrapped, "cluster is not bootstrapped");
    }
  }

  // ---- ids ------------------------------------------------------------------------------

  /** `count` ids never handed out before, reserved in steps of `limits.pdIdAllocStep`. */
  async allocIds(count: number): Promise<number> {
    assert(count >= 1 && count <= limits.pdIdAllocCountMax, `bad id count ${count}`);
    for (;;) {
      if (this.idNext + count - 1 <= this.idEnd && this.idNext > 0) {
        const first = this.idNext;
        this.idNext += count;
        return first;
      }
      if (this.idReserving === undefined) {
        const end = Math.max(this.idEnd, this.idNext - 1) + count + limits.pdIdAllocStep;
        this.idReserving = this.reserveIds(end).finally(() => {
          this.idReserving = undefined;
        });
      }
      await this.idReserving;
    }
  }

  private async reserveIds(end: number): Promise<void> {
    const result = await this.store.txn({
      compare: [
        ...this.options.guard(),
        { key: metaKeys.allocId, target: "modRevision", op: "=", operand: this.idModRevision },
      ],
      success: [{ kind: "put", key: metaKeys.allocId, value: encoder.encode(String(end)) }],
    });
    if (!result.succeeded) {
      throw new TesseraError(
        ErrorCode.PdNotLeader,
        "id reservation refused: no longer the leader",
        {
          details: { leaderAddress: null },
        },
      );
    }
    this.idModRevision = result.revision;
    if (this.idNext === 0) this.idNext = 1;
    this.idEnd = end;
  }

  // ---- stores ---------------------------------------------------------------------------

  /** Registers a store or updates its description. */
  putStore(meta: StoreMeta): Promise<void> {
    return this.serialize(async () => {
      this.requireBootstrapped();
      const existing = this.stores.get(meta.id);
      if (existing?.stored.state === "tombstone") {
        throw new TesseraError(ErrorCode.PdStoreTombstone, `store ${meta.id} is a tombstone`);
      }
      if (existing !== undefined && existing.stored.meta.address !== meta.address) {
        throw new TesseraError(
          ErrorCode.PdStoreAddressConflict,
          `store ${meta.id} is registered at ${existing.stored.meta.address}, not ${meta.address}`,
          { details: { storeId: meta.id } },
        );
      }
      for (const other of this.stores.values()) {
        const o = other.stored;
        if (o.meta.id !== meta.id && o.meta.address === meta.address && o.state !== "tombstone") {
          throw new TesseraError(
            ErrorCode.PdStoreAddressConflict,
            `address ${meta.address} already belongs to store ${o.meta.id}`,
            { details: { storeId: o.meta.id } },
          );
        }
      }
      if (existing === undefined && this.stores.size >= limits.pdStoresMax) {
        throw new TesseraError(ErrorCode.PdStoresFull, "too many stores", {
          details: { limit: limits.pdStoresMax },
        });
      }
      const stored: StoredStore = { meta, state: existing?.stored.state ?? "up" };
      await this.commit([
        { kind: "put", key: idKey(metaKeys.storePrefix, meta.id), value: packr.pack(stored) },
      ]);
      if (existing === undefined) {
        this.stores.set(meta.id, { stored, lastHeartbeatMs: undefined, stats: undefined });
      } else {
        existing.stored = stored;
      }
    });
  }

  /** Records a store heartbeat (memory only). */
  storeHeartbeat(storeId: number, stats: StoreStats): void {
    this.requireBootstrapped();
    const entry = this.stores.get(storeId);
    if (entry === undefined) {
      throw new TesseraError(ErrorCode.PdStoreUnknown, `unknown store ${storeId}`, {
        details: { storeId },
      });
    }
    if (entry.stored.state === "tombstone") {
      throw new TesseraError(ErrorCode.PdStoreTombstone, `store ${storeId} is a tombstone`);
    }
    entry.lastHeartbeatMs = this.env.clock.monotonicMs();
    entry.stats = stats;
  }

  /** Sets a store's stored state (operators: offline, tombstone). */
  setStoreState(storeId: number, state: StoreStoredState): Promise<void> {
    return this.serialize(async () => {
      const entry = this.stores.get(storeId);
      if (entry === undefined) {
        throw new TesseraError(ErrorCode.PdStoreUnknown, `unknown store ${storeId}`, {
          details: { storeId },
        });
      }
      if (entry.stored.state === state) return;
      if (entry.stored.state === "tombstone") {
        throw new TesseraError(ErrorCode.PdStoreTombstone, `store ${storeId} is a tombstone`);
      }
      const peers = this.peerCount(storeId);
      if (state === "tombstone" && peers > 0) {
        throw new TesseraError(
          ErrorCode.PdStoreNotEmpty,
          `store ${storeId} still holds ${peers} peers; set it offline to drain it first`,
          { details: { storeId, peers } },
        );
      }
      const stored: StoredStore = { meta: entry.stored.meta, state };
      await this.commit([
        { kind: "put", key: idKey(metaKeys.storePrefix, storeId), value: packr.pack(stored) },
      ]);
      entry.stored = stored;
    });
  }

  /** Peers of any shard on the store, by the durable shard descriptions. */
  private peerCount(storeId: number): number {
    let count = 0;
    for (const entry of this.shards.values()) {
      if (entry.meta.peers.some((p) => p.storeId === storeId)) count++;
    }
    return count;
  }

  /** Replaces the liveness thresholds (the scheduler config changed). */
  setConfig(config: ClusterConfig): void {
    this.config = config;
  }

  private storeState(entry: StoreEntry, nowMs = this.env.clock.monotonicMs()): StoreState {
    if (entry.stored.state !== "up") return entry.stored.state;
    const silentMs = nowMs - (entry.lastHeartbeatMs ?? this.sinceMs);
    if (silentMs > this.config.maxStoreDownTimeMs) return "down";
    if (silentMs > this.config.storeDisconnectMs) return "disconnected";
    return "up";
  }

  /**
   * Marks every offline store that holds no peer any more as a tombstone; returns their
   * ids. Called by the scheduling round, so a drained store retires without an operator.
   */
  async buryEmptyOfflineStores(): Promise<number[]> {
    const buried: number[] = [];
    for (const [id, entry] of [...this.stores].sort((a, b) => a[0] - b[0])) {
      if (entry.stored.state !== "offline" || this.peerCount(id) > 0) continue;
      await this.setStoreState(id, "tombstone");
      buried.push(id);
    }
    return buried;
  }

  private storeReply(entry: StoreEntry): StoreInfoReply {
    return {
      ...entry.stored.meta,
      state: this.storeState(entry),
      lastHeartbeatAgoMs:
        entry.lastHeartbeatMs === undefined
          ? null
          : Math.round(this.env.clock.monotonicMs() - entry.lastHeartbeatMs),
      stats: entry.stats ?? null,
    };
  }

  getStore(storeId: number): StoreInfoReply {
    const entry = this.stores.get(storeId);
    if (entry === undefined) {
      throw new TesseraError(ErrorCode.PdStoreUnknown, `unknown store ${storeId}`, {
        details: { storeId },
      });
    }
    return this.storeReply(entry);
  }

  allStores(): StoreInfoReply[] {
    return [...this.stores.values()].map((e) => this.storeReply(e)).sort((a, b) => a.id - b.id);
  }

  // ---- shards ---------------------------------------------------------------------------

  /** Applies a shard heartbeat; see the file comment for what is refused. */
  shardHeartbeat(request: ShardHeartbeatRequest): Promise<ShardRoute> {
    return this.serialize(async () => {
      this.requireBootstrapped();
      const shard = request.shard;
      for (const peer of shard.peers) {
        if (!this.stores.has(peer.storeId)) {
          throw new TesseraError(
            ErrorCode.PdStoreUnknown,
            `shard ${shard.id} has a peer on unknown store ${peer.storeId}`,
            {
              details: { storeId: peer.storeId },
            },
          );
        }
      }
      const existing = this.shards.get(shard.id);
      if (existing !== undefined && epochOlder(shard.epoch, existing.meta.epoch)) {
        throw staleEpoch(shard, existing.meta);
      }
      const overlaps = this.overlapping(shard.startKey, shard.endKey).filter(
        (e) => e.meta.id !== shard.id,
      );
      for (const o of overlaps) {
        if (o.meta.epoch.version > shard.epoch.version) throw staleEpoch(shard, o.meta);
      }
      const changed =
        existing === undefined || !sameShard(existing.meta, shard) || overlaps.length > 0;
      if (changed) {
        if (existing === undefined && this.shards.size >= limits.pdShardsMax) {
          throw new TesseraError(ErrorCode.PdShardsFull, "too many shards", {
            details: { limit: limits.pdShardsMax },
          });
        }
        await this.commit([
          { kind: "put", key: idKey(metaKeys.shardPrefix, shard.id), value: packr.pack(shard) },
          ...overlaps.map((o): MetaOp => ({
            kind: "delete",
            key: idKey(metaKeys.shardPrefix, o.meta.id),
          })),
        ]);
        for (const o of overlaps) this.shards.delete(o.meta.id);
        const gone = new Set<ShardEntry>(overlaps);
        if (existing !== undefined) gone.add(existing);
        const entry: ShardEntry = existing ?? newShardEntry(shard);
        // A shard new to PD after bootstrap, or one that shrank at a higher version, came
        // out of a split: the merge checker leaves it alone for a while.
        if (
          existing === undefined ||
          (shard.epoch.version > existing.meta.epoch.version && rangeShrank(existing.meta, shard))
        ) {
          entry.lastSplitMs = this.env.clock.monotonicMs();
        }
        entry.meta = shard;
        this.shards.set(shard.id, entry);
        this.routing = this.routing.filter((e) => !gone.has(e));
        this.routing.splice(this.routingIndex(shard.startKey), 0, entry);
      }
      const entry = this.shards.get(shard.id) as ShardEntry;
      entry.leader = shard.peers.find((p) => p.peerId === request.leaderPeerId);
      entry.pendingPeerIds = request.pendingPeerIds;
      entry.stats = request.stats;
      entry.lastHeartbeatMs = this.env.clock.monotonicMs();
      return route(entry);
    });
  }

  /** The first routing index whose start key is not below `key`. */
  private routingIndex(key: Uint8Array): number {
    let lo = 0;
    let hi = this.routing.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes((this.routing[mid] as ShardEntry).meta.startKey, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The routing index of the shard whose range contains `key`, or -1. */
  private containing(key: Uint8Array): number {
    let i = this.routingIndex(key);
    const at = this.routing[i];
    if (at === undefined || compareBytes(at.meta.startKey, key) !== 0) i--;
    const entry = this.routing[i];
    if (entry === undefined) return -1;
    const end = entry.meta.endKey;
    return end.length === 0 || compareBytes(key, end) < 0 ? i : -1;
  }

  /** Shards overlapping `[start, end)` (empty end: to the end), in key order. */
  private overlapping(start: Uint8Array, end: Uint8Array): ShardEntry[] {
    const out: ShardEntry[] = [];
    let i = this.containing(start);
    if (i < 0) i = this.routingIndex(start);
    for (; i < this.routing.length; i++) {
      const entry = this.routing[i] as ShardEntry;
      if (end.length > 0 && compareBytes(entry.meta.startKey, end) >= 0) break;
      out.push(entry);
    }
    return out;
  }

  getShardByKey(key: Uint8Array): ShardRoute | null {
    const i = this.containing(key);
    return i < 0 ? null : route(this.routing[i] as ShardEntry);
  }

  getShardById(shardId: number): ShardRoute | null {
    const entry = this.shards.get(shardId);
    return entry === undefined ? null : route(entry);
  }

  scanShards(start: Uint8Array, end: Uint8Array, limit: number): ShardRoute[] {
    return this.overlapping(start, end).slice(0, limit).map(route);
  }

  // ---- scheduling -----------------------------------------------------------------------

  /**
   * The cluster as the schedulers see it at `nowMs` (monotonic ms, the clock heartbeats
   * are timed on). Store loads (leaders, peers, sizes) are counted from the shards PD
   * knows, capacity and flow from the store's last heartbeat; a store never heard from in
   * this term counts as heard at the term's start. Shards without a reported leader in
   * this term are left out: nothing can be asked of them yet.
   */
  schedulingState(nowMs: number): ClusterState {
    const loads = new Map<number, { leaders: number; peers: number; sizeBytes: number }>();
    const load = (storeId: number) => {
      let l = loads.get(storeId);
      if (l === undefined) {
        l = { leaders: 0, peers: 0, sizeBytes: 0 };
        loads.set(storeId, l);
      }
      return l;
    };
    const shards: ShardInfo[] = [];
    for (const entry of this.shards.values()) {
      const size = entry.stats?.approximateSizeBytes ?? 0;
      for (const peer of entry.meta.peers) {
        const l = load(peer.storeId);
        l.peers++;
        l.sizeBytes += size;
      }
      if (entry.leader !== undefined) load(entry.leader.storeId).leaders++;
      const info = this.shardInfo(entry);
      if (info !== undefined) shards.push(info);
    }
    shards.sort((a, b) => a.id - b.id);
    const stores: StoreInfo[] = [...this.stores.values()]
      .map((entry): StoreInfo => {
        const meta = entry.stored.meta;
        const l = loads.get(meta.id);
        return {
          id: meta.id as StoreId,
          address: meta.address,
          state: this.storeState(entry, nowMs),
          lastHeartbeatMs: entry.lastHeartbeatMs ?? this.sinceMs,
          capacityBytes: entry.stats?.capacityBytes ?? 0,
          availableBytes: entry.stats?.availableBytes ?? 0,
          leaderCount: l?.leaders ?? 0,
          shardCount: l?.peers ?? 0,
          shardSizeBytes: l?.sizeBytes ?? 0,
          readBytesPerSec: entry.stats?.readBytesPerSec ?? 0,
          writeBytesPerSec: entry.stats?.writeBytesPerSec ?? 0,
        };
      })
      .sort((a, b) => a.id - b.id);
    return { stores, shards };
  }

  /** One shard as the schedulers see it, or undefined while its leader is unknown. */
  schedulingShard(shardId: number): ShardInfo | undefined {
    const entry = this.shards.get(shardId);
    return entry === undefined ? undefined : this.shardInfo(entry);
  }

  private shardInfo(entry: ShardEntry): ShardInfo | undefined {
    if (entry.leader === undefined) return undefined;
    const { meta, stats } = entry;
    return {
      id: meta.id as ShardId,
      startKey: meta.startKey,
      endKey: meta.endKey,
      epoch: meta.epoch,
      peers: meta.peers.map((p) => ({
        peerId: p.peerId as PeerId,
        storeId: p.storeId as StoreId,
        role: p.role,
      })),
      leaderPeerId: entry.leader.peerId as PeerId,
      pendingPeerIds: entry.pendingPeerIds as readonly PeerId[],
      approximateSizeBytes: stats?.approximateSizeBytes ?? 0,
      approximateKeys: stats?.approximateKeys ?? 0,
      readBytesPerSec: stats?.readBytesPerSec ?? 0,
      readKeysPerSec: stats?.readKeysPerSec ?? 0,
      writeBytesPerSec: stats?.writeBytesPerSec ?? 0,
      writeKeysPerSec: stats?.writeKeysPerSec ?? 0,
      queriesPerSec: stats?.queriesPerSec ?? 0,
      lastHeartbeatMs: entry.lastHeartbeatMs ?? this.sinceMs,
      ...(entry.lastSplitMs === undefined ? {} : { lastSplitMs: entry.lastSplitMs }),
    };
  }

  /** The scheduler settings stored by the HTTP API, if any were. */
  get scheduleSettings(): ScheduleSettings | undefined {
    return this.scheduleSettingsValue;
  }

  /** Stores the scheduler settings (the caller validated them). */
  saveScheduleSettings(settings: ScheduleSettings): Promise<void> {
    return this.serialize(async () => {
      const value = encoder.encode(JSON.stringify(settings));
      await this.commit([{ kind: "put", key: metaKeys.scheduleSettings, value }]);
      this.scheduleSettingsValue = settings;
    });
  }

  // ---- GC safe point --------------------------------------------------------------------

  get gcSafePointTs(): bigint {
    return this.gcSafePoint;
  }

  /** Moves the safe point forward (never back); resolves with the one in force. */
  updateGcSafePoint(safePoint: bigint): Promise<bigint> {
    return this.serialize(async () => {
      if (safePoint <= this.gcSafePoint) return this.gcSafePoint;
      await this.commit([
        { kind: "put", key: metaKeys.gcSafePoint, value: encoder.encode(String(safePoint)) },
      ]);
      this.gcSafePoint = safePoint;
      return safePoint;
    });
  }

  // ---- service safe points ------------------------------------------------------------

  /**
   * Sets `serviceId`'s safe point for `ttlMs` (0 removes it); resolves with the lowest one
   * in force afterwards. `PD:GC:SafePointTooOld` below the GC safe point (its snapshot may
   * be collected already); `PD:GC:TooManyServiceSafePoints` for a new service when the
   * table holds `limits.pdServiceSafePointsMax` unexpired ones.
   */
  updateServiceSafePoint(
    serviceId: string,
    safePoint: bigint,
    ttlMs: number,
  ): Promise<MinServiceSafePoint> {
    return this.serialize(async () => {
      const key = `${metaKeys.serviceSafePointPrefix}${serviceId}`;
      const nowMs = this.env.clock.wallMs();
      if (ttlMs <= 0) {
        if (this.serviceSafePoints.has(serviceId)) {
          await this.commit([{ kind: "delete", key }]);
          this.serviceSafePoints.delete(serviceId);
        }
        return this.minServiceSafePoint();
      }
      if (safePoint < this.gcSafePoint) {
        throw new TesseraError(
          ErrorCode.PdGcSafePointTooOld,
          `service safe point ${safePoint} of ${serviceId} is below the GC safe point ` +
            `${this.gcSafePoint}`,
          { details: { serviceId, gcSafePoint: String(this.gcSafePoint) } },
        );
      }
      const ops: MetaOp[] = [];
      const expired: string[] = [];
      if (
        !this.serviceSafePoints.has(serviceId) &&
        this.serviceSafePoints.size >= limits.pdServiceSafePointsMax
      ) {
        for (const [id, entry] of this.serviceSafePoints) {
          if (entry.expiresAtWallMs > nowMs) continue;
          expired.push(id);
          ops.push({ kind: "delete", key: `${metaKeys.serviceSafePointPrefix}${id}` });
        }
        if (this.serviceSafePoints.size - expired.length >= limits.pdServiceSafePointsMax) {
          throw new TesseraError(
            ErrorCode.PdGcServiceSafePointsFull,
            `too many service safe points (limit ${limits.pdServiceSafePointsMax})`,
            { details: { limit: limits.pdServiceSafePointsMax } },
          );
        }
      }
      const entry = { safePoint, expiresAtWallMs: nowMs + ttlMs };
      const stored: StoredServiceSafePoint = {
        safePoint: String(safePoint),
        expiresAtWallMs: entry.expiresAtWallMs,
      };
      ops.push({ kind: "put", key, value: encoder.encode(JSON.stringify(stored)) });
      await this.commit(ops);
      for (const id of expired) this.serviceSafePoints.delete(id);
      this.serviceSafePoints.set(serviceId, entry);
      return this.minServiceSafePoint();
    });
  }

  /** The lowest unexpired service safe point by PD's wall clock now. */
  minServiceSafePoint(): MinServiceSafePoint {
    const nowMs = this.env.clock.wallMs();
    let min: MinServiceSafePoint = { minSafePoint: null, minServiceId: null };
    for (const [id, entry] of this.serviceSafePoints) {
      if (entry.expiresAtWallMs <= nowMs) continue;
      if (min.minSafePoint === null || entry.safePoint < min.minSafePoint) {
        min = { minSafePoint: entry.safePoint, minServiceId: id };
      }
    }
    return min;
  }
}

function route(entry: ShardEntry): ShardRoute {
  return { shard: entry.meta, leader: entry.leader ?? null };
}

function staleEpoch(shard: ShardMeta, known: ShardMeta): TesseraError {
  return new TesseraError(
    ErrorCode.PdShardStaleEpoch,
    `shard ${shard.id} epoch ${shard.epoch.confVersion}/${shard.epoch.version} is older than ` +
      `shard ${known.id} epoch ${known.epoch.confVersion}/${known.epoch.version}`,
    { details: { shardId: shard.id, knownShardId: known.id } },
  );
}

/** Every key under `prefix`, paging through the store's range limit. */
async function* scan(
  store: MetaStore,
  prefix: string,
): AsyncGenerator<{ key: string; value: Uint8Array }> {
  const end = prefixEnd(prefix);
  let start = prefix;
  for (;;) {
    const page = await store.range({ start, end, limit: limits.pdMetaRangeKeysMax });
    yield* page;
    if (page.length < limits.pdMetaRangeKeysMax) return;
    start = `${(page.at(-1) as { key: string }).key}\u0000`;
  }
}
