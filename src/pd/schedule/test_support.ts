/**
 * Compact builders of cluster states for scheduler tests. A shard's peers are named by
 * store (peer id = shard id * 100 + store id), shard `n` covers keys [`s000n`, `s000n+1`)
 * so shards with consecutive ids are neighbours, and store counts, sizes and free space are
 * derived from the shards unless a test overrides them.
 */
import { peerId, shardId, storeId } from "../../base/mod.ts";
import type { PeerId } from "../../base/mod.ts";
import { describeStep } from "./operator.ts";
import {
  defaultSchedulerConfig,
  type ClusterState,
  type Operator,
  type PeerInfo,
  type ScheduleInput,
  type SchedulerConfig,
  type ShardEpoch,
  type ShardInfo,
  type StoreInfo,
} from "./types.ts";

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
/** The clock of every test cluster. */
export const NOW = 100_000_000;

/** A store; counts and sizes left out are derived from the shards by `cluster`. */
export type StoreSpec = { readonly id: number } & Partial<Omit<StoreInfo, "id">>;

export function store(id: number, overrides: Partial<Omit<StoreInfo, "id">> = {}): StoreSpec {
  return { id, ...overrides };
}

/** A shard spec: voters on `stores`, leader on `leader` (default: the first store). */
export interface ShardSpec {
  readonly stores: readonly number[];
  readonly leader?: number;
  readonly learners?: readonly number[];
  /** Stores whose peer is still pending (catching up). */
  readonly pending?: readonly number[];
  readonly sizeMiB?: number;
  readonly keys?: number;
  readonly epoch?: ShardEpoch;
  /** The last shard: its range runs to the end of the key space. */
  readonly last?: boolean;
  readonly readBytesPerSec?: number;
  readonly readKeysPerSec?: number;
  readonly writeBytesPerSec?: number;
  readonly writeKeysPerSec?: number;
  readonly queriesPerSec?: number;
  readonly lastSplitMs?: number;
}

export function shardKey(n: number): Uint8Array {
  return new TextEncoder().encode(`s${String(n).padStart(4, "0")}`);
}

export function peerIdOf(shard: number, store: number): PeerId {
  return peerId(shard * 100 + store);
}

export function shard(id: number, spec: ShardSpec): ShardInfo {
  const peers: PeerInfo[] = [
    ...spec.stores.map((s) => ({
      peerId: peerIdOf(id, s),
      storeId: storeId(s),
      role: "voter" as const,
    })),
    ...(spec.learners ?? []).map((s) => ({
      peerId: peerIdOf(id, s),
      storeId: storeId(s),
      role: "learner" as const,
    })),
  ];
  const leader = spec.leader ?? spec.stores[0] ?? 1;
  const base: ShardInfo = {
    id: shardId(id),
    startKey: id === 1 ? new Uint8Array() : shardKey(id),
    endKey: spec.last === true ? new Uint8Array() : shardKey(id + 1),
    epoch: spec.epoch ?? { confVersion: 5, version: 5 },
    peers,
    leaderPeerId: peerIdOf(id, leader),
    pendingPeerIds: (spec.pending ?? []).map((s) => peerIdOf(id, s)),
    approximateSizeBytes: (spec.sizeMiB ?? 10) * MiB,
    approximateKeys: spec.keys ?? 10_000,
    readBytesPerSec: spec.readBytesPerSec ?? 0,
    readKeysPerSec: spec.readKeysPerSec ?? 0,
    writeBytesPerSec: spec.writeBytesPerSec ?? 0,
    writeKeysPerSec: spec.writeKeysPerSec ?? 0,
    queriesPerSec: spec.queriesPerSec ?? 0,
    lastHeartbeatMs: NOW,
  };
  return spec.lastSplitMs === undefined ? base : { ...base, lastSplitMs: spec.lastSplitMs };
}

/** A cluster whose store counts, sizes and free space follow from its shards. */
export function cluster(stores: readonly StoreSpec[], shards: readonly ShardInfo[]): ClusterState {
  const built: StoreInfo[] = stores.map((spec) => {
    const id = storeId(spec.id);
    let leaderCount = 0;
    let shardCount = 0;
    let shardSizeBytes = 0;
    for (const s of shards) {
      if (!s.peers.some((p) => p.storeId === id)) continue;
      shardCount++;
      shardSizeBytes += s.approximateSizeBytes;
      if (s.peers.find((p) => p.peerId === s.leaderPeerId)?.storeId === id) leaderCount++;
    }
    const capacityBytes = spec.capacityBytes ?? 100 * GiB;
    return {
      address: `127.0.0.1:${20160 + spec.id}`,
      state: "up",
      lastHeartbeatMs: NOW,
      capacityBytes,
      availableBytes: capacityBytes - shardSizeBytes,
      leaderCount,
      shardCount,
      shardSizeBytes,
      readBytesPerSec: 0,
      writeBytesPerSec: 0,
      ...spec,
      id,
    };
  });
  return { stores: built, shards };
}

/** Stores 1..n, all up. */
export function stores(n: number): StoreSpec[] {
  return Array.from({ length: n }, (_, i) => store(i + 1));
}

/** Options for `scheduleInput`. */
export interface InputOptions {
  readonly config?: Partial<SchedulerConfig>;
  readonly nowMs?: number;
  readonly inFlight?: readonly Operator[];
}

/** A schedule input at `NOW` whose peer ids count up from 1000. */
export function scheduleInput(state: ClusterState, options: InputOptions = {}): ScheduleInput {
  let next = 1000;
  return {
    state,
    config: { ...defaultSchedulerConfig, ...options.config },
    nowMs: options.nowMs ?? NOW,
    inFlight: options.inFlight ?? [],
    allocPeerId: () => peerId(next++),
  };
}

/** One line per operator: kind, shard and steps. */
export function trace(ops: readonly Operator[]): string[] {
  return ops.map(
    (op) => `${op.kind} shard ${op.shardId}: ${op.steps.map((s) => describeStep(s)).join(", ")}`,
  );
}
