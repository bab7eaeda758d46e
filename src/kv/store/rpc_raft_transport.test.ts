/**
 * `RpcRaftTransport` on loopback: three stores, each with its own RPC server, replicate a
 * shard through `raft.Batch` calls, and a learner added on the third store joins through
 * a snapshot streamed in many small chunks over `raft.Snapshot`.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createNodeEnv } from "../../env/mod.ts";
import { RpcServer } from "../../rpc/mod.ts";
import { MemoryEngine } from "../engine/memory_engine.ts";
import { lockKey } from "../mvcc/keys.ts";
import { MultiRaftStore } from "./multi_raft_store.ts";
import { RpcRaftTransport, serveRaft } from "./rpc_raft_transport.ts";
import { bytes, putOp, shardMeta, testRaftOptions, text } from "./test_cluster.ts";

const logger = { warn: () => {}, error: () => {} };

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 4_000; i++) {
    if (cond()) return;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test("RpcRaftTransport: stores replicate over RPC and a learner joins by a chunked snapshot",
  { timeout: 30_000 }, async () => {
    const env = createNodeEnv();
    const addresses = new Map<number, { host: string; port: number }>();
    const servers: RpcServer[] = [];
    const transports: RpcRaftTransport[] = [];
    const stores = new Map<number, MultiRaftStore>();
    const engines = new Map<number, MemoryEngine>();
    const meta = shardMeta(1, [1, 2]);
    try {
      for (const storeId of [1, 2, 3]) {
        const server = new RpcServer(env, { logger });
        servers.push(server);
        const engine = new MemoryEngine();
        engines.set(storeId, engine);
        const transport = new RpcRaftTransport(env, {
          logger, addressOf: (id) => addresses.get(id), chunkBytes: 64,
        });
        transports.push(transport);
        const store = await MultiRaftStore.open({
          env, engine, storeId, transport, raft: testRaftOptions,
          ...(storeId === 3 ? {} : { bootstrap: meta }),
        });
        stores.set(storeId, store);
        serveRaft(server, (envelopes) => store.receive(envelopes));
        addresses.set(storeId, await server.listen({ host: "127.0.0.1", port: 0 }));
      }
      const leaderOf = (): MultiRaftStore | undefined =>
        [...stores.values()].find((s) => s.shards().some((x) => x.isLeader));
      await until(() => leaderOf() !== undefined, "a leader");
      const leader = leaderOf() as MultiRaftStore;
      for (let i = 0; i < 30; i++) {
        const r = await leader.write({ shardId: 1, epoch: meta.epoch }, [putOp(`k${i}`, `v${i}`)]);
        assert.equal(r.kind, "ok");
      }
      const other = leader.storeId === 1 ? 2 : 1;
      const get = (storeId: number, key: string): string | undefined =>
        text(engines.get(storeId)?.get(lockKey(bytes(key))));
      await until(() => get(other, "k29") === "v29", "replication over raft.Batch");
      const added = await leader.changePeer(1, "addLearner", { peerId: 103, storeId: 3 });
      assert.equal(added.kind, "ok");
      await until(() => get(3, "k29") === "v29", "the learner's snapshot");
      assert.equal(stores.get(3)?.snapshotsInstalled, 1);
      assert.equal(get(3, "k0"), "v0");
    } finally {
      for (const s of stores.values()) await s.close();
      for (const t of transports) await t.close();
      for (const s of servers) await s.close();
    }
  });
