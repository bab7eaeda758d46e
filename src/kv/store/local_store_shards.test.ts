/**
 * Runs the `StoreShards` conformance suite against `LocalStoreShards` (one unreplicated
 * shard covering the whole key space, on a memory engine and on LMDB), plus its own split.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { LmdbEngine } from "../engine/lmdb_engine.ts";
import { MemoryEngine } from "../engine/memory_engine.ts";
import { LocalStoreShards, wholeKeySpaceShard } from "./local_store_shards.ts";
import { storeShardsConformance } from "./store_shards_conformance.ts";

const first = wholeKeySpaceShard({ shardId: 1, peerId: 2, storeId: 1 });

storeShardsConformance("LocalStoreShards (memory)", () => {
  const engine = new MemoryEngine();
  return Promise.resolve({
    store: new LocalStoreShards(engine, [first]),
    shard: { shardId: first.id, epoch: first.epoch },
    close: () => engine.close(),
  });
});

storeShardsConformance("LocalStoreShards (LMDB)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tessera-local-shards-"));
  const engine = await LmdbEngine.open(dir);
  return {
    store: new LocalStoreShards(engine, [first]),
    shard: { shardId: first.id, epoch: first.epoch },
    close: async () => {
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

test("LocalStoreShards.split() bumps the version and reroutes keys", { timeout: 5_000 }, () => {
  const changes: number[] = [];
  const store = new LocalStoreShards(new MemoryEngine(), [first], {
    onChange: (shards) => changes.push(shards.length),
  });
  const m = new TextEncoder().encode("m");
  const result = store.split(1, [m], { newShardIds: [10], newPeerIds: [11] });
  assert.equal(result.kind, "ok");
  if (result.kind !== "ok") return;
  assert.deepEqual(result.shards.map((s) => [s.id, s.epoch.version]), [[1, 2], [10, 2]]);
  assert.deepEqual(result.shards[1]?.peers.map((p) => p.peerId), [11]);
  assert.deepEqual(changes, [2]);
  const again = store.split(1, [m], { newShardIds: [12], newPeerIds: [13] });
  assert.equal(again.kind, "keyNotInShard");
  const stale = store.split(1, [new TextEncoder().encode("c")], {
    newShardIds: [12],
    newPeerIds: [13],
    expectedEpoch: first.epoch,
  });
  assert.equal(stale.kind, "epochNotMatch");
});
