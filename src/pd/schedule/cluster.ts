/**
 * Read-only views of a `ClusterState` shared by every scheduler: which stores may receive
 * peers or leaders, which must be evacuated, which shards are busy with an operator, and
 * each store's load as it will be once the operators in flight finish (PD's "operator
 * influence"), so one round of scheduling does not pile every move onto the same store.
 *
 * Every choice between equals breaks ties by ascending id, so a round is a deterministic
 * function of its input.
 */
import type { ShardId, StoreId } from "../../base/mod.ts";
import type {
  Operator,
  OperatorKind,
  PeerInfo,
  ScheduleInput,
  ShardInfo,
  StoreInfo,
} from "./types.ts";

/** Compares keys bytewise, as the storage orders them. */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** True when the two keys are equal byte for byte. */
export function keysEqual(a: Uint8Array, b: Uint8Array): boolean {
  return compareKeys(a, b) === 0;
}

/**
 * True when the store's peers must be replaced elsewhere: it is offline (being drained),
 * a tombstone, or silent for longer than `maxStoreDownTimeMs`. A missing store counts too.
 */
export function storeIsLost(store: StoreInfo | undefined, input: ScheduleInput): boolean {
  if (store === undefined) return true;
  if (store.state === "offline" || store.state === "tombstone") return true;
  return input.nowMs - store.lastHeartbeatMs > input.config.maxStoreDownTimeMs;
}

/** True when the store is up and heard from recently: it may serve as a leader. */
export function storeIsHealthy(store: StoreInfo, input: ScheduleInput): boolean {
  return (
    store.state === "up" &&
    input.nowMs - store.lastHeartbeatMs <= input.config.storeDisconnectTimeMs
  );
}

/** Per-store load, adjusted for the operators in flight. */
export interface StoreLoad {
  readonly store: StoreInfo;
  leaderCount: number;
  shardCount: number;
  shardSizeBytes: number;
  availableBytes: number;
}

/** Finds a shard's peer on a store. */
export function peerOnStore(shard: ShardInfo, storeId: StoreId): PeerInfo | undefined {
  return shard.peers.find((p) => p.storeId === storeId);
}

/** The leader peer of a shard. */
export function leaderOf(shard: ShardInfo): PeerInfo | undefined {
  return shard.peers.find((p) => p.peerId === shard.leaderPeerId);
}

/** The ids of shards an in-flight operator touches (a merge touches two). */
export function busyShardIds(inFlight: readonly Operator[]): Set<ShardId> {
  const busy = new Set<ShardId>();
  for (const op of inFlight) {
    busy.add(op.shardId);
    for (const step of op.steps) {
      if (step.kind === "mergeShard") busy.add(step.targetShardId);
    }
  }
  return busy;
}

/** How many more operators of `kind` may start: its limit less those in flight. */
export function remainingQuota(input: ScheduleInput, kind: OperatorKind): number {
  const running = input.inFlight.filter((op) => op.kind === kind).length;
  return Math.max(0, input.config.scheduleLimits[kind] - running);
}

/**
 * Each store's load once the in-flight operators' unfinished steps complete. A step counts
 * only while the shard does not yet show its effect, so finished steps are not counted twice.
 */
export function storeLoads(input: ScheduleInput): Map<StoreId, StoreLoad> {
  const loads = new Map<StoreId, StoreLoad>();
  for (const store of input.state.stores) {
    loads.set(store.id, {
      store,
      leaderCount: store.leaderCount,
      shardCount: store.shardCount,
      shardSizeBytes: store.shardSizeBytes,
      availableBytes: store.availableBytes,
    });
  }
  const shards = new Map(input.state.shards.map((s) => [s.id, s]));
  for (const op of input.inFlight) {
    const shard = shards.get(op.shardId);
    if (shard !== undefined) applyOperatorToLoads(op, shard, loads);
  }
  return loads;
}

/**
 * Adds an operator's effect on store loads, counting only the steps `shard` does not yet
 * show. Schedulers call it for each operator they plan, so later picks see it.
 */
export function applyOperatorToLoads(
  op: Operator,
  shard: ShardInfo,
  loads: Map<StoreId, StoreLoad>,
): void {
  for (const step of op.steps) {
    switch (step.kind) {
      case "addLearner":
        if (peerOnStore(shard, step.storeId) === undefined) {
          addPeerLoad(loads.get(step.storeId), 1, shard.approximateSizeBytes);
        }
        break;
      case "removePeer":
        if (peerOnStore(shard, step.storeId) !== undefined) {
          addPeerLoad(loads.get(step.storeId), -1, -shard.approximateSizeBytes);
        }
        break;
      case "transferLeader":
        if (leaderOf(shard)?.storeId !== step.toStoreId) {
          addLeaderLoad(loads.get(step.fromStoreId), -1);
          addLeaderLoad(loads.get(step.toStoreId), 1);
        }
        break;
      case "promoteLearner":
      case "splitShard":
      case "mergeShard":
        break;
    }
  }
}

function addPeerLoad(load: StoreLoad | undefined, count: number, sizeBytes: number): void {
  if (load === undefined) return;
  load.shardCount += count;
  load.shardSizeBytes += sizeBytes;
  load.availableBytes -= sizeBytes;
}

function addLeaderLoad(load: StoreLoad | undefined, delta: number): void {
  if (load !== undefined) load.leaderCount += delta;
}

/**
 * True when the store may receive a new peer of `sizeBytes`: healthy, room for the shard,
 * and not in low space (less than `1 - lowSpaceRatio` of its capacity free).
 */
export function storeAcceptsPeer(
  load: StoreLoad,
  input: ScheduleInput,
  sizeBytes: number,
): boolean {
  if (!storeIsHealthy(load.store, input)) return false;
  const freeAfter = load.availableBytes - sizeBytes;
  return freeAfter > load.store.capacityBytes * (1 - input.config.lowSpaceRatio);
}

/**
 * The best store for a new peer of `shard`: one that holds no peer of it and accepts the
 * peer, with the most available space, then the fewest shards, then the lowest id.
 */
export function bestTargetStore(
  input: ScheduleInput,
  shard: ShardInfo,
  loads: ReadonlyMap<StoreId, StoreLoad>,
): StoreLoad | undefined {
  let best: StoreLoad | undefined;
  for (const load of loads.values()) {
    if (peerOnStore(shard, load.store.id) !== undefined) continue;
    if (!storeAcceptsPeer(load, input, shard.approximateSizeBytes)) continue;
    if (best === undefined || betterTarget(load, best)) best = load;
  }
  return best;
}

function betterTarget(a: StoreLoad, b: StoreLoad): boolean {
  if (a.availableBytes !== b.availableBytes) return a.availableBytes > b.availableBytes;
  if (a.shardCount !== b.shardCount) return a.shardCount < b.shardCount;
  return a.store.id < b.store.id;
}

/** Shards sorted by id, for deterministic iteration. */
export function shardsById(shards: readonly ShardInfo[]): ShardInfo[] {
  return [...shards].sort((a, b) => a.id - b.id);
}

/**
 * True when the shard is fit to be moved around for balance: full replica count, no pending
 * peers, every peer on a healthy store. Sick shards are the replica checker's business.
 */
export function shardIsHealthy(
  shard: ShardInfo,
  input: ScheduleInput,
  stores: ReadonlyMap<StoreId, StoreInfo>,
): boolean {
  if (shard.pendingPeerIds.length > 0) return false;
  const voters = shard.peers.filter((p) => p.role === "voter");
  if (voters.length !== input.config.maxReplicas || voters.length !== shard.peers.length) {
    return false;
  }
  if (leaderOf(shard) === undefined) return false;
  return shard.peers.every((p) => {
    const store = stores.get(p.storeId);
    return store !== undefined && storeIsHealthy(store, input);
  });
}

/** Stores by id. */
export function storeMap(input: ScheduleInput): Map<StoreId, StoreInfo> {
  return new Map(input.state.stores.map((s) => [s.id, s]));
}
