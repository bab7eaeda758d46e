/**
 * Splits without keys, shard load reports and merges on three in-process stores
 * (simulated time): a split at the approximate middle, heartbeat stats, a merge back
 * under concurrent writes that loses nothing and leaves one shard, `epochNotMatch` for
 * requests to a merged-away source, and a merge rolled back because its target changed.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { ShardMeta } from "../../proto/mod.ts";
import type { MultiRaftStore } from "./multi_raft_store.ts";
import { bytes, putOp, text } from "./test_cluster.ts";
import { get, merge, put, sleep, splitInTwo, threeStores } from "./test_merge.ts";

const timeout = { timeout: 30_000 };

test("MultiRaftStore: a split without keys cuts at the middle user key; stats count load",
  timeout, async () => {
    const cluster = await threeStores();
    try {
      for (let i = 0; i < 40; i++) {
        await cluster.drive(put(cluster, `k${String(i).padStart(3, "0")}`, "v"), "write");
      }
      const leader = await cluster.waitLeader(1);
      const first = leader.shardStats(1, 0);
      assert.equal(first.approximateKeys, 40);
      assert.ok(first.approximateSizeBytes > 0);
      assert.equal(await cluster.drive(get(cluster, "k001"), "read"), "v");
      const second = leader.shardStats(1, 2_000);
      assert.equal(second.readKeysPerSec, 0.5, "one key read in two seconds");
      assert.equal(second.writeKeysPerSec, 0, "writes were counted in the first interval");
      const right = await splitInTwo(cluster);
      assert.equal(text(right.startKey), "k020");
      assert.equal(leader.shardStats(1000, 0).approximateKeys, 20);
      assert.equal(cluster.fatals.length, 0);
    } finally {
      await cluster.close();
    }
  });

test("MultiRaftStore: a merge under concurrent writes keeps every acknowledged write once",
  timeout, async () => {
    const cluster = await threeStores();
    try {
      for (let i = 0; i < 40; i++) {
        await cluster.drive(put(cluster, `k${String(i).padStart(3, "0")}`, "old"), "write");
      }
      const right = await splitInTwo(cluster);
      const acked: string[] = [];
      let stop = false;
      const writer = (async () => {
        for (let i = 0; !stop && i < 2_000; i++) {
          const key = i % 2 === 0 ? `k0${i}x` : `a${i}`; // both sides of the split
          await put(cluster, key, `w${i}`);
          acked.push(key);
          await sleep(cluster, 10); // one write per tick, so writes span the merge
        }
      })();
      let atCommit = -1;
      const result = await merge(cluster, {
        source: right.id,
        target: 1,
        beforeCommit: () => {
          atCommit = acked.length;
          return Promise.resolve();
        },
      });
      assert.equal(result.kind, "ok", JSON.stringify(result));
      const atMerge = acked.length;
      await cluster.runUntil(() => acked.length >= atMerge + 10, "writes after the merge");
      stop = true;
      await cluster.drive(writer, "the writer");
      assert.ok(atCommit > 0 && acked.length > atCommit, `${atCommit} ${acked.length}`);
      await cluster.runUntil(
        () => [1, 2, 3].every((s) => {
          const shards = cluster.store(s).shards();
          return shards.length === 1 && shards[0]?.shard.endKey.length === 0;
        }),
        "the merge on every store",
      );
      for (const s of [1, 2, 3]) {
        const only = cluster.store(s).shards()[0]?.shard;
        assert.equal(only?.id, 1);
        assert.equal(only?.startKey.length, 0);
        assert.equal(only?.epoch.version, right.epoch.version + 2);
      }
      for (const key of acked) {
        const i = Number(key.replace(/\D/g, "").slice(key.startsWith("k0") ? 1 : 0));
        assert.equal(await cluster.drive(get(cluster, key), "read"), `w${i}`, key);
      }
      for (let i = 0; i < 40; i++) {
        assert.equal(await cluster.drive(get(cluster, `k${String(i).padStart(3, "0")}`),
          "read"), "old");
      }
      // Every store holds the same data once: one copy per user key in one shard.
      const last = acked[acked.length - 1] as string;
      const lastValue = await cluster.drive(get(cluster, last), "read");
      await cluster.runUntil(
        () => [2, 3].every((s) => cluster.engineValue(s, last) === lastValue),
        "replication of the last write",
      );
      const count = (s: number): number =>
        [...(cluster.engines.get(s)?.scan({ start: Uint8Array.of(0x6c),
          end: Uint8Array.of(0x6d) }) ?? [])].length;
      for (const s of [1, 2, 3]) assert.equal(count(s), 40 + acked.length);
      assert.equal(cluster.fatals.length, 0);
    } finally {
      await cluster.close();
    }
  });

test("MultiRaftStore: requests to a merged-away source get epochNotMatch with the merged shard",
  timeout, async () => {
    const cluster = await threeStores();
    try {
      await cluster.drive(put(cluster, "k010", "v"), "write");
      await cluster.drive(put(cluster, "k030", "v"), "write");
      const right = await splitInTwo(cluster);
      const result = await merge(cluster, { source: right.id, target: 1 });
      assert.equal(result.kind, "ok", JSON.stringify(result));
      const store = await cluster.waitLeader(1);
      const stale = { shardId: right.id, epoch: right.epoch };
      const w = await cluster.drive(store.write(stale, [putOp("k031", "x")]), "stale write");
      assert.equal(w.kind, "epochNotMatch");
      assert.ok(w.kind === "epochNotMatch" && w.current.some((s) => s.id === 1 &&
        s.startKey.length === 0 && s.endKey.length === 0));
      const r = await cluster.drive(store.read(stale, { keys: [bytes("k030")] }), "stale read");
      assert.equal(r.kind, "epochNotMatch");
      assert.equal(await cluster.drive(get(cluster, "k030"), "read"), "v");
    } finally {
      await cluster.close();
    }
  });

test("MultiRaftStore: a merge whose target changed rolls back and the source takes writes",
  timeout, async () => {
    const cluster = await threeStores();
    try {
      for (let i = 0; i < 40; i++) {
        await cluster.drive(put(cluster, `k${String(i).padStart(3, "0")}`, "v"), "write");
      }
      const right = await splitInTwo(cluster);
      let splitDone = false;
      const result = await merge(cluster, {
        source: right.id,
        target: 1,
        beforeCommit: async () => {
          if (splitDone) return;
          splitDone = true;
          // The target splits after the source prepared: its epoch moves on.
          const leader = cluster.leaderStore(1) as MultiRaftStore;
          const target = leader.shards().find((s) => s.shard.id === 1)?.shard as ShardMeta;
          const split = await leader.split({ shardId: 1, epoch: target.epoch },
            { splitKey: bytes("k005"), newShardId: 2000, newPeerIds: [2001, 2002, 2003] });
          assert.equal(split.kind, "ok");
        },
      });
      assert.equal(splitDone, true);
      assert.deepEqual(result, {
        kind: "refused",
        reason: "the merge target changed; merge rolled back",
      });
      const source = cluster.leaderStore(right.id) as MultiRaftStore;
      const meta = source.shards().find((s) => s.shard.id === right.id)?.shard as ShardMeta;
      assert.equal(meta.epoch.version, right.epoch.version + 2, "prepare and rollback");
      assert.equal(text(meta.startKey), "k020");
      await cluster.drive(put(cluster, "k030", "after"), "write to the source");
      assert.equal(await cluster.drive(get(cluster, "k030"), "read"), "after");
      await cluster.runUntil(
        () => [1, 2, 3].every((s) => cluster.engineValue(s, "k030") === "after" &&
          cluster.store(s).shards().length === 3),
        "every store serving three shards",
      );
      assert.equal(cluster.fatals.length, 0);
    } finally {
      await cluster.close();
    }
  });
