/**
 * Test support for merges on a `TestCluster` of three stores: one shard over the whole
 * key space, writes and reads that retry until a leader answers (time driven by the
 * caller), splits through PD steps, and a merge called on the source's leader once the
 * source's and the target's leaders are on one store.
 */
import { strict as assert } from "node:assert";
import type { ShardMeta } from "../../proto/mod.ts";
import { lockKey } from "../mvcc/keys.ts";
import { userKeyInRange } from "../shard/local_keys.ts";
import type { AdminResult, MultiRaftStore } from "./multi_raft_store.ts";
import { TestCluster, bytes, putOp, shardMeta, text } from "./test_cluster.ts";

/** Three stores founding shard 1 (the whole key space) with a peer on each. */
export async function threeStores(): Promise<TestCluster> {
  const cluster = new TestCluster();
  const meta = shardMeta(1, [1, 2, 3]);
  for (const id of [1, 2, 3]) await cluster.start(id, meta);
  return cluster;
}

/** The store leading the shard that holds `key`, with that shard's meta. */
export function leaderOf(cluster: TestCluster, key: string):
{ store: MultiRaftStore; shard: ShardMeta } | undefined {
  for (const store of cluster.stores.values()) {
    const entry = store.shards().find(
      (s) => s.isLeader && userKeyInRange(bytes(key), s.shard.startKey, s.shard.endKey),
    );
    if (entry !== undefined) return { store, shard: entry.shard };
  }
  return undefined;
}

/** Resolves after `ms` of virtual time (the caller drives it). */
export function sleep(cluster: TestCluster, ms: number): Promise<void> {
  return new Promise((resolve) => cluster.env.timers.setTimeout(ms, resolve));
}

/**
 * Writes `key` until a write is acknowledged, without driving time (the caller does).
 * Ambiguous outcomes (`staleCommand`) are retried with the same value, so the key holds
 * `value` either way.
 */
export async function put(cluster: TestCluster, key: string, value: string): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const leader = leaderOf(cluster, key);
    if (leader !== undefined) {
      const ctx = { shardId: leader.shard.id, epoch: leader.shard.epoch };
      const result = await leader.store.write(ctx, [putOp(key, value)]);
      if (result.kind === "ok") return;
    }
    await sleep(cluster, 10);
  }
  throw new Error(`could not write ${key}`);
}

/** Reads `key` (lock CF) from its shard's leader, retrying like `put`. */
export async function get(cluster: TestCluster, key: string): Promise<string | undefined> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const leader = leaderOf(cluster, key);
    if (leader !== undefined) {
      const ctx = { shardId: leader.shard.id, epoch: leader.shard.epoch };
      const r = await leader.store.read(ctx, { keys: [bytes(key)] });
      if (r.kind === "ok") {
        try {
          return text(r.value.snapshot.get(lockKey(bytes(key))));
        } finally {
          r.value.snapshot.release();
        }
      }
    }
    await sleep(cluster, 10);
  }
  throw new Error(`could not read ${key}`);
}

/**
 * Splits `shardId` at `splitKey` (the approximate middle without one) through a PD step
 * on its leader; the new shard gets `newShardId` and peers `newShardId + 1…`. Returns the
 * new shard once every store serves it.
 */
export async function splitShard(
  cluster: TestCluster,
  options: { shardId: number; newShardId: number; splitKey?: string },
): Promise<ShardMeta> {
  let nextId = options.newShardId;
  const leader = await cluster.waitLeader(options.shardId);
  const before = leader.shards().length;
  const step = options.splitKey === undefined
    ? { kind: "splitShard" as const, policy: "approximate" as const }
    : { kind: "splitShard" as const, policy: "byKeys" as const, keys: [bytes(options.splitKey)] };
  const result = await cluster.drive(leader.executeStep(options.shardId, step,
    { allocId: () => Promise.resolve(nextId++) }), "split");
  assert.equal(result.kind, "ok", JSON.stringify(result));
  const right = leader.shards().find((s) => s.shard.id === options.newShardId)?.shard;
  assert.ok(right !== undefined);
  await cluster.runUntil(
    () => [1, 2, 3].every((s) => cluster.store(s).shards().length === before + 1),
    "the split on every store",
  );
  await cluster.waitLeader(options.newShardId);
  return right;
}

/** Splits shard 1 at the approximate middle; returns the new shard (id 1000). */
export function splitInTwo(cluster: TestCluster): Promise<ShardMeta> {
  return splitShard(cluster, { shardId: 1, newShardId: 1000 });
}

/** Moves the source's leadership to the store leading the target (merges need both). */
export async function colocateLeaders(
  cluster: TestCluster,
  source: number,
  target: number,
): Promise<MultiRaftStore> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const t = await cluster.waitLeader(target);
    const s = await cluster.waitLeader(source);
    if (s === t) return s;
    const to = s.shards().find((x) => x.shard.id === source)?.shard.peers
      .find((p) => p.storeId === t.storeId);
    assert.ok(to !== undefined);
    s.transferLeader(source, to.peerId);
    await cluster.run(300);
  }
  throw new Error("could not bring the leaders together");
}

/** The meta of `shardId` as `store` last applied it. */
export function metaOn(store: MultiRaftStore, shardId: number): ShardMeta {
  const meta = store.shards().find((s) => s.shard.id === shardId)?.shard;
  assert.ok(meta !== undefined, `shard ${shardId} is not on store ${store.storeId}`);
  return meta;
}

/**
 * Starts `merge` on the source's leader, with both leaders on one store, planned against
 * the target's epoch there (or `targetEpoch`). `result` is not driven (wrapped, as an
 * async function's promise would adopt it).
 */
export async function startMerge(
  cluster: TestCluster,
  options: {
    source: number;
    target: number;
    targetEpoch?: ShardMeta["epoch"];
    beforeCommit?: () => Promise<void>;
  },
): Promise<{ readonly store: MultiRaftStore; readonly result: Promise<AdminResult> }> {
  const leader = await colocateLeaders(cluster, options.source, options.target);
  return { store: leader, result: leader.merge(options.source, {
    targetShardId: options.target,
    targetEpoch: options.targetEpoch ?? metaOn(leader, options.target).epoch,
    ...(options.beforeCommit === undefined ? {} : { beforeCommit: options.beforeCommit }),
  }) };
}

/** `startMerge`, driven to its outcome. */
export async function merge(
  cluster: TestCluster,
  options: { source: number; target: number; beforeCommit?: () => Promise<void> },
): Promise<AdminResult> {
  return cluster.drive((await startMerge(cluster, options)).result, "merge");
}
