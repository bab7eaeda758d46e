/**
 * Merges that meet trouble on three in-process stores (simulated time): a source whose
 * target was merged away while the source waited rolls back and serves again (found by
 * simulation seeds 1027, 1028 and 1071 swarm, where the source stayed in merging mode and
 * refused every request); a merge planned against a target that is itself merging is
 * refused before the source prepares; and a source leader that crashes after PrepareMerge
 * leaves the merge to the next leaders, which finish it once the crashed store is back.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { AdminResult, MultiRaftStore } from "./multi_raft_store.ts";
import type { TestCluster } from "./test_cluster.ts";
import {
  colocateLeaders,
  get,
  metaOn,
  put,
  splitShard,
  startMerge,
  threeStores,
} from "./test_merge.ts";

const timeout = { timeout: 30_000 };

/** Shards 1 [, k010), 1000 [k010, k020) and 2000 [k020, ), keys k000…k029 written. */
async function threeShards(): Promise<TestCluster> {
  const cluster = await threeStores();
  for (let i = 0; i < 30; i++) {
    await cluster.drive(put(cluster, `k${String(i).padStart(3, "0")}`, "v"), "write");
  }
  await splitShard(cluster, { shardId: 1, newShardId: 1000, splitKey: "k010" });
  await splitShard(cluster, { shardId: 1000, newShardId: 2000, splitKey: "k020" });
  // Every leader on shard 1's store, so each merge can commit at once.
  await colocateLeaders(cluster, 1000, 1);
  await colocateLeaders(cluster, 2000, 1);
  return cluster;
}

/** Every store serves exactly `ranges` ([id, start, end] in key order). */
function servesExactly(cluster: TestCluster, ranges: [number, string, string][]): boolean {
  const td = new TextDecoder();
  return [...cluster.stores.values()].every((store) => {
    const shards = store.shards().map((s) => s.shard)
      .sort((a, b) => td.decode(a.startKey).localeCompare(td.decode(b.startKey)));
    return shards.length === ranges.length && shards.every((s, i) =>
      s.id === ranges[i]?.[0] && td.decode(s.startKey) === ranges[i][1] &&
      td.decode(s.endKey) === ranges[i][2]);
  });
}

test("merge: a source whose target merged away meanwhile rolls back and serves again",
  timeout, async () => {
    const cluster = await threeShards();
    try {
      const before = metaOn(await cluster.waitLeader(2000), 2000);
      let inner: AdminResult | undefined;
      // 2000 prepares to merge into 1000; before its CommitMerge, 1000 merges into 1.
      const outer = await startMerge(cluster, {
        source: 2000,
        target: 1000,
        beforeCommit: async () => {
          if (inner !== undefined) return;
          inner = { kind: "refused", reason: "running" };
          const running = await startMerge(cluster, { source: 1000, target: 1 });
          inner = await running.result;
        },
      });
      const result = await cluster.drive(outer.result, "the merge of 2000");
      assert.deepEqual(inner, { kind: "ok" }, "1000 merged into 1");
      assert.deepEqual(result, {
        kind: "refused",
        reason: "the merge target changed; merge rolled back",
      });
      await cluster.runUntil(
        () => servesExactly(cluster, [[1, "", "k020"], [2000, "k020", ""]]),
        "two shards on every store",
      );
      const after = metaOn(cluster.leaderStore(2000) as MultiRaftStore, 2000);
      assert.equal(after.epoch.version, before.epoch.version + 2, "prepare and rollback");
      await cluster.drive(put(cluster, "k025", "after"), "write to the rolled-back source");
      assert.equal(await cluster.drive(get(cluster, "k025"), "read"), "after");
      assert.equal(await cluster.drive(get(cluster, "k015"), "read"), "v");
      assert.equal(cluster.fatals.length, 0);
    } finally {
      await cluster.close();
    }
  });

test("merge: a merge planned against a target that is itself merging is refused unprepared",
  timeout, async () => {
    const cluster = await threeShards();
    try {
      const before = metaOn(await cluster.waitLeader(2000), 2000);
      let inner: AdminResult | undefined;
      // 1000 prepares to merge into 1; meanwhile a merge of 2000 into 1000 (at 1000's
      // epoch after its PrepareMerge, as a PD that lost its operators would plan) starts.
      const outer = await startMerge(cluster, {
        source: 1000,
        target: 1,
        beforeCommit: async () => {
          if (inner !== undefined) return;
          inner = { kind: "refused", reason: "running" };
          const store = cluster.leaderStore(1000) as MultiRaftStore;
          inner = await store.merge(2000, {
            targetShardId: 1000,
            targetEpoch: metaOn(store, 1000).epoch,
          });
        },
      });
      assert.deepEqual(await cluster.drive(outer.result, "the merge of 1000"), { kind: "ok" });
      assert.deepEqual(inner, { kind: "refused", reason: "the merge target is merging" });
      await cluster.runUntil(
        () => servesExactly(cluster, [[1, "", "k020"], [2000, "k020", ""]]),
        "two shards on every store",
      );
      const after = metaOn(cluster.leaderStore(2000) as MultiRaftStore, 2000);
      assert.deepEqual(after.epoch, before.epoch, "2000 never prepared");
      await cluster.drive(put(cluster, "k025", "after"), "write to 2000");
      assert.equal(cluster.fatals.length, 0);
    } finally {
      await cluster.close();
    }
  });

test("merge: when the source's leader crashes after PrepareMerge, the next leader finishes it",
  timeout, async () => {
    const cluster = await threeShards();
    try {
      let crashed: number | undefined;
      const outer = await startMerge(cluster, {
        source: 2000,
        target: 1000,
        beforeCommit: async () => {
          if (crashed !== undefined) return;
          crashed = outer.store.storeId;
          await cluster.stop(crashed);
        },
      });
      const result = await cluster.drive(outer.result, "the merge on the crashed leader");
      assert.equal(result.kind, "shardNotFound", JSON.stringify(result));
      assert.ok(crashed !== undefined);
      // Every source peer must hold PrepareMerge before CommitMerge is proposed (a target
      // peer waits for its store's source peer), so the merge waits for the crashed store.
      await cluster.run(2_000);
      assert.ok([...cluster.stores.values()].every((s) => s.shards().length === 3));
      await cluster.start(crashed);
      // New leaders resume the merge on the tick.
      await cluster.runUntil(
        () => servesExactly(cluster, [[1, "", "k010"], [1000, "k010", ""]]),
        "the merge on every store",
      );
      await cluster.drive(put(cluster, "k025", "after"), "write to the merged range");
      assert.equal(await cluster.drive(get(cluster, "k025"), "read"), "after");
      assert.equal(await cluster.drive(get(cluster, "k029"), "read"), "v");
      assert.equal(cluster.fatals.length, 0);
    } finally {
      await cluster.close();
    }
  });
