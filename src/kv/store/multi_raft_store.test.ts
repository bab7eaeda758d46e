/**
 * `MultiRaftStore` on three in-process stores (simulated time, in-memory network):
 * replication and failover, restart recovery, catch-up by snapshot, split under
 * concurrent writes, removal and re-addition of a peer, hibernation of idle shards, and
 * the routing errors a client recovers from.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { lockKey } from "../mvcc/keys.ts";
import { userKeyInRange } from "../shard/local_keys.ts";
import type { MultiRaftStore } from "./multi_raft_store.ts";
import { TestCluster, bytes, putOp, shardMeta, text } from "./test_cluster.ts";

const timeout = { timeout: 60_000 };

async function threeStores(options: ConstructorParameters<typeof TestCluster>[0] = {}) {
  const cluster = new TestCluster(options);
  const meta = shardMeta(1, [1, 2, 3]);
  for (const id of [1, 2, 3]) await cluster.start(id, meta);
  return cluster;
}

/** Writes `key` through whichever store leads the shard covering it, retrying routing. */
async function put(cluster: TestCluster, key: string, value: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    for (const store of cluster.stores.values()) {
      const entry = store.shards().find(
        (s) => s.isLeader && userKeyInRange(bytes(key), s.shard.startKey, s.shard.endKey),
      );
      if (entry === undefined) continue;
      const ctx = { shardId: entry.shard.id, epoch: entry.shard.epoch };
      const result = await cluster.drive(store.write(ctx, [putOp(key, value)]), `write ${key}`);
      if (result.kind === "ok") return;
    }
    await cluster.run(20);
  }
  throw new Error(`could not write ${key}`);
}

/** Reads `key` linearizably from the leader of the shard covering it. */
async function get(cluster: TestCluster, key: string): Promise<string | undefined> {
  for (let attempt = 0; attempt < 200; attempt++) {
    for (const store of cluster.stores.values()) {
      const entry = store.shards().find(
        (s) => s.isLeader && userKeyInRange(bytes(key), s.shard.startKey, s.shard.endKey),
      );
      if (entry === undefined) continue;
      const ctx = { shardId: entry.shard.id, epoch: entry.shard.epoch };
      const r = await cluster.drive(store.read(ctx, { keys: [bytes(key)] }), `read ${key}`);
      if (r.kind !== "ok") continue;
      try {
        return text(r.value.snapshot.get(lockKey(bytes(key))));
      } finally {
        r.value.snapshot.release();
      }
    }
    await cluster.run(20);
  }
  throw new Error(`could not read ${key}`);
}

test("MultiRaftStore: writes replicate to every store and read back after the leader's store stops",
  timeout, async () => {
    const cluster = await threeStores();
    try {
      const leader = await cluster.waitLeader(1);
      for (let i = 0; i < 20; i++) await put(cluster, `k${i}`, `v${i}`);
      await cluster.runUntil(
        () => [1, 2, 3].every((s) => cluster.engineValue(s, "k19") === "v19"),
        "replication to every store",
      );
      const down = leader.storeId;
      await cluster.stop(down);
      for (const store of cluster.stores.values()) store.storeUnreachable(down);
      const next = await cluster.waitLeader(1);
      assert.notEqual(next.storeId, down);
      for (let i = 0; i < 20; i++) assert.equal(await get(cluster, `k${i}`), `v${i}`);
      await put(cluster, "after", "failover");
      assert.equal(await get(cluster, "after"), "failover");
    } finally {
      await cluster.close();
    }
  });

test("MultiRaftStore: a store restarted from its engine recovers its shard and catches up",
  timeout, async () => {
    const cluster = await threeStores();
    try {
      const leader = await cluster.waitLeader(1);
      for (let i = 0; i < 10; i++) await put(cluster, `a${i}`, "1");
      const follower = [1, 2, 3].find((s) => s !== leader.storeId) as number;
      await cluster.runUntil(() => cluster.engineValue(follower, "a9") === "1", "replication");
      await cluster.stop(follower);
      for (let i = 0; i < 10; i++) await put(cluster, `b${i}`, "2");
      const restarted = await cluster.start(follower);
      assert.equal(restarted.shards().length, 1, "the shard is recovered from the engine");
      await cluster.runUntil(() => cluster.engineValue(follower, "b9") === "2", "catch-up");
      assert.equal(cluster.engineValue(follower, "a0"), "1");
    } finally {
      await cluster.close();
    }
  });

test("MultiRaftStore: a partitioned follower whose log was compacted catches up by snapshot",
  timeout, async () => {
    const cluster = await threeStores({ store: { logGcCountMax: 10 } });
    try {
      const leader = await cluster.waitLeader(1);
      const lagging = [1, 2, 3].find((s) => s !== leader.storeId) as number;
      cluster.network.isolate(lagging, [1, 2, 3]);
      for (let i = 0; i < 60; i++) await put(cluster, `s${String(i).padStart(2, "0")}`, `${i}`);
      await cluster.runUntil(
        () => (cluster.store(leader.storeId).status(1)?.firstIndex ?? 0) > 20,
        "the leader compacting its log",
      );
      assert.equal(cluster.engineValue(lagging, "s00"), undefined);
      assert.equal(cluster.store(lagging).snapshotsInstalled, 0);
      cluster.network.heal();
      await cluster.runUntil(
        () => cluster.engineValue(lagging, "s59") === "59",
        "snapshot catch-up",
      );
      assert.equal(cluster.store(lagging).snapshotsInstalled, 1);
      for (let i = 0; i < 60; i++) {
        assert.equal(cluster.engineValue(lagging, `s${String(i).padStart(2, "0")}`), `${i}`);
      }
      // The lagging peer's log starts after the snapshot: it never saw the early entries.
      assert.ok((cluster.store(lagging).status(1)?.firstIndex ?? 0) > 20);
      await put(cluster, "more", "x");
      await cluster.runUntil(() => cluster.engineValue(lagging, "more") === "x", "replication");
    } finally {
      await cluster.close();
    }
  });

test("MultiRaftStore: a split under concurrent writes loses no acknowledged write", timeout,
  async () => {
    const cluster = await threeStores();
    try {
      const leader = await cluster.waitLeader(1);
      const acked: string[] = [];
      const keys = Array.from({ length: 80 }, (_, i) => `r${String(i).padStart(3, "0")}`);
      const writer = (async () => {
        for (const k of keys) {
          await put(cluster, k, `v-${k}`);
          acked.push(k);
        }
      })();
      await cluster.runUntil(() => acked.length >= 20, "some writes before the split");
      const meta = leader.shards()[0]?.shard;
      assert.ok(meta !== undefined);
      const split = await cluster.drive(
        leader.split({ shardId: 1, epoch: meta.epoch },
          { splitKey: bytes("r040"), newShardId: 2, newPeerIds: [201, 202, 203] }),
        "split",
      );
      assert.equal(split.kind, "ok");
      await cluster.drive(writer, "all writes");
      assert.equal(acked.length, keys.length);
      await cluster.waitLeader(2);
      for (const store of cluster.stores.values()) {
        await cluster.runUntil(() => store.shards().length === 2, "both shards on every store");
        const ids = store.shards().map((s) => s.shard.id).sort();
        assert.deepEqual(ids, [1, 2]);
      }
      for (const k of acked) {
        const holders = cluster.store(1).shards().filter(
          (s) => userKeyInRange(bytes(k), s.shard.startKey, s.shard.endKey),
        );
        assert.equal(holders.length, 1, `${k} lies in exactly one shard`);
        assert.equal(await get(cluster, k), `v-${k}`);
      }
      const left = cluster.store(1).shards().find((s) => s.shard.id === 1)?.shard;
      assert.equal(left?.epoch.version, 2);
      assert.equal(text(left?.endKey), "r040");
      // A client still routing by the shard before the split learns the right half from
      // the epochNotMatch itself (TiKV attaches the sibling), not only from PD, which lags.
      const leftLeader = await cluster.waitLeader(1);
      const stale = await cluster.drive(
        leftLeader.read({ shardId: 1, epoch: meta.epoch }, { keys: [bytes("r050")] }),
        "read with the epoch before the split",
      );
      assert.deepEqual(stale.kind === "epochNotMatch"
        ? stale.current.map((s) => s.id).sort() : stale.kind, [1, 2]);
    } finally {
      await cluster.close();
    }
  });

test("MultiRaftStore: a removed and re-added peer catches up", timeout, async () => {
  const cluster = await threeStores();
  try {
    const leader = await cluster.waitLeader(1);
    for (let i = 0; i < 10; i++) await put(cluster, `p${i}`, "1");
    const victim = [1, 2, 3].find((s) => s !== leader.storeId) as number;
    const removed = await cluster.drive(
      leader.changePeer(1, "removePeer", { peerId: 100 + victim, storeId: victim }),
      "remove peer",
    );
    assert.equal(removed.kind, "ok");
    await cluster.runUntil(() => cluster.store(victim).shards().length === 0, "peer destroyed");
    assert.equal(cluster.engineValue(victim, "p0"), undefined, "its data is deleted");
    for (let i = 0; i < 10; i++) await put(cluster, `q${i}`, "2");
    const newPeer = { peerId: 1000 + victim, storeId: victim };
    const added = await cluster.drive(leader.changePeer(1, "addLearner", newPeer), "add learner");
    assert.equal(added.kind, "ok");
    await cluster.runUntil(() => cluster.engineValue(victim, "q9") === "2", "learner catch-up");
    assert.equal(cluster.store(victim).snapshotsInstalled, 1, "a new peer joins by snapshot");
    const promoted = await cluster.drive(leader.changePeer(1, "addVoter", newPeer), "promote");
    assert.equal(promoted.kind, "ok");
    await put(cluster, "last", "3");
    await cluster.runUntil(() => cluster.engineValue(victim, "last") === "3", "voter catch-up");
    const meta = cluster.store(victim).shards()[0]?.shard;
    assert.deepEqual(meta?.peers.map((p) => [p.peerId, p.role]).sort(),
      [[101, "voter"], [102, "voter"], [103, "voter"]]
        .map(([id, role]) => (id === 100 + victim ? [1000 + victim, role] : [id, role])).sort());
    assert.equal(meta?.epoch.confVersion, 4);
  } finally {
    await cluster.close();
  }
});

test("MultiRaftStore: 1,000 idle shards stop ticking and heartbeating once hibernated",
  timeout, async () => {
    const cluster = new TestCluster();
    try {
      for (const id of [1, 2, 3]) await cluster.start(id);
      const shards = 1_000;
      for (let i = 0; i < shards; i++) {
        const meta = shardMeta(10 + i, [1, 2, 3], {
          startKey: `t${String(i).padStart(4, "0")}`,
          endKey: `t${String(i + 1).padStart(4, "0")}`,
        });
        for (const id of [1, 2, 3]) await cluster.store(id).createShard(meta);
      }
      const stores = [1, 2, 3].map((id) => cluster.store(id));
      await cluster.runUntil(
        () => stores.every((s: MultiRaftStore) => s.hibernatedCount() === shards),
        "every group hibernated", 30_000,
      );
      const leaders = stores.reduce((n, s) => n + s.shards().filter((x) => x.isLeader).length, 0);
      assert.equal(leaders, shards, "every shard elected a leader before sleeping");
      const before = stores.map((s) => [s.ticks, s.heartbeatsSent, s.messagesSent]);
      await cluster.run(2_000);
      const after = stores.map((s) => [s.ticks, s.heartbeatsSent, s.messagesSent]);
      assert.deepEqual(after, before, "no tick, heartbeat or message while hibernated");
      // A write wakes one group only.
      const store = cluster.leaderStore(10) as MultiRaftStore;
      const meta = store.shards().find((s) => s.shard.id === 10)?.shard;
      assert.ok(meta !== undefined);
      const r = await cluster.drive(
        store.write({ shardId: 10, epoch: meta.epoch }, [putOp("t0000x", "1")]), "write");
      assert.equal(r.kind, "ok");
      assert.ok(stores.every((s) => s.hibernatedCount() >= shards - 1));
    } finally {
      await cluster.close();
    }
  });
