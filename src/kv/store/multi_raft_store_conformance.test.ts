/**
 * Runs the `StoreShards` conformance suite against `MultiRaftStore`: three stores on the
 * real `Env` (short ticks) over an in-memory network, the factory's store being the
 * shard's leader; and a single-voter store on LMDB in a temp directory.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createNodeEnv } from "../../env/mod.ts";
import type { Engine } from "../engine/engine.ts";
import { LmdbEngine } from "../engine/lmdb_engine.ts";
import { MemoryEngine } from "../engine/memory_engine.ts";
import { MultiRaftStore } from "./multi_raft_store.ts";
import { LocalRaftNetwork } from "./raft_transport.ts";
import { storeShardsConformance } from "./store_shards_conformance.ts";
import { shardMeta, testRaftOptions } from "./test_cluster.ts";

async function leaderOf(stores: readonly MultiRaftStore[]): Promise<MultiRaftStore> {
  for (let i = 0; i < 2_000; i++) {
    const leader = stores.find((s) => s.shards().some((x) => x.shard.id === 1 && x.isLeader));
    if (leader !== undefined) return leader;
    await sleep(5);
  }
  throw new Error("no leader elected");
}

async function cluster(engines: readonly Engine[], cleanup: () => Promise<void>) {
  const env = createNodeEnv();
  const network = new LocalRaftNetwork();
  const ids = engines.map((_, i) => i + 1);
  const meta = shardMeta(1, ids);
  const stores: MultiRaftStore[] = [];
  for (const [i, engine] of engines.entries()) {
    const storeId = i + 1;
    const store = await MultiRaftStore.open({
      env, engine, storeId, transport: network.transport(storeId), raft: testRaftOptions,
      bootstrap: meta,
    });
    network.attach(storeId, (envelopes) => store.receive(envelopes));
    stores.push(store);
  }
  const leader = await leaderOf(stores);
  return {
    store: leader,
    shard: { shardId: 1, epoch: meta.epoch },
    close: async () => {
      for (const s of stores) await s.close();
      for (const e of engines) await e.close();
      await cleanup();
    },
  };
}

storeShardsConformance("MultiRaftStore (3 stores, MemoryEngine)", () =>
  cluster([new MemoryEngine(), new MemoryEngine(), new MemoryEngine()], () => Promise.resolve()));

storeShardsConformance("MultiRaftStore (1 store, LmdbEngine)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tessera-multi-raft-"));
  const engine = await LmdbEngine.open(dir);
  return cluster([engine], () => rm(dir, { recursive: true, force: true }));
});
