/**
 * Multi-process test of the replicated KV node: an in-process PD (embedded metadata store,
 * scheduling every 100 ms, stores disconnected after 1 s of silence) and three `tessera kv`
 * children on loopback with fast Raft ticks. The story runs in order, one test per step:
 * PD's replica checker grows the bootstrapped single-voter shard to three voters; writes
 * committed through RPC survive a SIGKILL of the leader's process; the killed node
 * restarts on its data dir and its recorded port, catches up and serves as leader; a split
 * ordered through PD under concurrent writes loses no acknowledged write.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Timestamp } from "../../src/base/mod.ts";
import type { ShardRoute } from "../../src/proto/mod.ts";
import {
  type KvNode,
  KvRouter,
  LoopbackCluster,
  type Serving,
  waitFor,
} from "./cluster_harness.ts";

const opts = { timeout: 90_000 };
const te = new TextEncoder();
const td = new TextDecoder();
const b = (s: string): Uint8Array => te.encode(s);

let cluster: LoopbackCluster;
let router: KvRouter;
const servings = new Map<KvNode, Serving>();
/** Every acknowledged write: key → value. */
const written = new Map<string, string>();
const tso = (): Promise<Timestamp> => cluster.pdClient.getTimestamp();

before(async () => {
  cluster = await LoopbackCluster.start({
    scheduleIntervalMs: 100,
    schedulerConfig: { storeDisconnectTimeMs: 1_000, maxStoreDownTimeMs: 3_000 },
    kvFlags: [
      "--store-heartbeat-interval", "100ms", "--shard-heartbeat-interval", "100ms",
      "--raft-tick-interval", "50ms", "--raft-election-ticks", "10",
      "--leader-transfer-timeout", "3s",
    ],
  });
  router = new KvRouter(cluster);
});

after(async () => {
  await router?.close();
  await cluster?.close();
});

function firstShard(): ShardRoute | undefined {
  const route = cluster.route(new Uint8Array(0));
  return route === null ? undefined : route;
}

async function put(key: string, value: string): Promise<void> {
  await router.put(b(key), b(value), tso);
  written.set(key, value);
}

async function checkAllWritten(): Promise<void> {
  const version = await tso();
  for (const [key, value] of written) {
    const got = await router.get(b(key), version);
    assert.equal(got === null ? null : td.decode(got), value, `key ${key}`);
  }
}

function nodeOfStore(storeId: number): KvNode {
  for (const [node, serving] of servings) if (serving.storeId === storeId) return node;
  throw new Error(`no node runs store ${storeId}`);
}

test("three fresh stores: one bootstraps the cluster, PD grows shard 1 to three voters",
  opts, async () => {
    const nodes = [cluster.startNode(), cluster.startNode(), cluster.startNode()];
    for (const node of nodes) servings.set(node, await node.serving);
    assert.equal(new Set([...servings.values()].map((s) => s.storeId)).size, 3);
    const route = await waitFor("shard 1 with three voters and a leader", () => {
      const r = firstShard();
      if (r === undefined || r.leader === null) return undefined;
      const voters = r.shard.peers.filter((p) => p.role === "voter");
      return voters.length === 3 && r.shard.peers.length === 3 ? r : undefined;
    });
    assert.equal(route.shard.startKey.length, 0);
    assert.equal(route.shard.endKey.length, 0);
    const storeIds = route.shard.peers.map((p) => p.storeId).sort((x, y) => x - y);
    assert.deepEqual(storeIds, [...servings.values()].map((s) => s.storeId).sort((x, y) => x - y));
  });

test("writes committed through RPC survive a SIGKILL of the leader's process", opts, async () => {
  for (let i = 0; i < 30; i++) await put(`k${String(i).padStart(3, "0")}`, `v${i}`);
  // Let the idle shard hibernate everywhere first: its followers then learn of the dead
  // leader only from PD's store liveness (the node wakes groups of stores not up).
  await waitFor("shard 1 hibernating on every store", async () => {
    const counts = await Promise.all([...servings.values()].map(async (s) => {
      const status = (await (await fetch(`http://${s.status}/status`)).json()) as {
        hibernatedCount: number;
      };
      return status.hibernatedCount;
    }));
    return counts.every((n) => n === 1) ? true : undefined;
  });
  const before = firstShard();
  assert.ok(before?.leader);
  const killedStore = before.leader.storeId;
  const victim = nodeOfStore(killedStore);
  victim.kill("SIGKILL");
  await victim.exited;
  await waitFor("a new leader on another store", () => {
    const r = firstShard();
    return r?.leader != null && r.leader.storeId !== killedStore ? r : undefined;
  });
  await checkAllWritten();
  // Two of three voters still commit.
  for (let i = 30; i < 40; i++) await put(`k${String(i).padStart(3, "0")}`, `v${i}`);
  await checkAllWritten();
});

test("the killed node restarts on its data dir and recorded port, catches up, and leads",
  opts, async () => {
    const dead = [...servings.keys()].find((n) => n.process.signalCode === "SIGKILL");
    assert.ok(dead !== undefined);
    const old = servings.get(dead) as Serving;
    servings.delete(dead);
    // --addr asks for port 0: the node binds the port recorded in DIR/store.json again.
    const node = cluster.startNode({ dataDir: dead.dataDir, addr: "127.0.0.1:0" });
    const serving = await node.serving;
    servings.set(node, serving);
    assert.equal(serving.storeId, old.storeId);
    assert.equal(serving.rpc, old.rpc);

    await waitFor("leadership moved to the restarted store", () => {
      const r = firstShard();
      if (r?.leader?.storeId === serving.storeId) return true;
      if (r !== undefined && cluster.pd.operators().running.length === 0) {
        try {
          cluster.pd.addOperator({
            kind: "transferLeader",
            shardId: r.shard.id,
            toStoreId: serving.storeId,
          });
        } catch (error) {
          // Refused until PD hears the restarted store's heartbeat again; asked again.
          assert.equal((error as { code?: string }).code, "PD:Operator:Rejected");
        }
      }
      return undefined;
    });
    // Reads now go to the restarted node: it holds every committed write.
    await checkAllWritten();
    const status = (await (await fetch(`http://${serving.status}/status`)).json()) as {
      mode: string;
      shards: { id: number; isLeader: boolean; appliedIndex: number; commitIndex: number }[];
    };
    assert.equal(status.mode, "raft");
    const mine = status.shards.find((s) => s.id === firstShard()?.shard.id);
    assert.ok(mine !== undefined && mine.appliedIndex > 0);
  });

test("a split ordered through PD under concurrent writes loses no acknowledged write",
  opts, async () => {
    const shard = firstShard();
    assert.ok(shard !== undefined);
    let stop = false;
    let splitSeen = false;
    const afterSplit = new Array<number>(4).fill(0);
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        // Keys on both sides of the split key "m".
        const key = `${i % 2 === 0 ? "a" : "z"}-w${w}-${String(i).padStart(4, "0")}`;
        await put(key, `w${w}:${i}`);
        if (splitSeen) afterSplit[w] = (afterSplit[w] ?? 0) + 1;
      }
    });
    const done = Promise.all(writers);
    try {
      await waitFor("writes before the split", () => (written.size >= 60 ? true : undefined));
      cluster.pd.addOperator({
        kind: "split",
        shardId: shard.shard.id,
        policy: "byKeys",
        keys: [b("m")],
      });
      const shards = await waitFor("two shards with leaders", () => {
        const all = cluster.pd.leaderCluster().scanShards(new Uint8Array(0), new Uint8Array(0), 10);
        return all.length === 2 && all.every((r) => r.leader !== null) ? all : undefined;
      });
      assert.equal(td.decode(shards[0]?.shard.endKey), "m");
      assert.equal(td.decode(shards[1]?.shard.startKey), "m");
      splitSeen = true;
      await waitFor("writes after the split", () =>
        afterSplit.every((n) => n >= 10) ? true : undefined,
      );
    } finally {
      stop = true;
      await done;
    }
    await checkAllWritten();
  });

test("SIGTERM hands the leadership to another store before the node stops", opts, async () => {
  const route = firstShard();
  assert.ok(route?.leader);
  const leaderStore = route.leader.storeId;
  const node = nodeOfStore(leaderStore);
  node.kill("SIGTERM");
  const exit = await node.exited;
  assert.deepEqual(exit, { code: 0, signal: null }, node.stderr());
  assert.doesNotMatch(node.stderr(), /leaders not transferred/);
  servings.delete(node);
  await waitFor("the leader on another store", () => {
    const r = firstShard();
    return r?.leader != null && r.leader.storeId !== leaderStore ? true : undefined;
  });
  await checkAllWritten();
});

test("/metrics reports Raft counters, hibernated shards and the engine size", opts, async () => {
  const serving = [...servings.values()][0] as Serving;
  const text = await (await fetch(`http://${serving.status}/metrics`)).text();
  for (const name of [
    "tessera_kv_raft_ticks_total",
    "tessera_kv_raft_heartbeats_sent_total",
    "tessera_kv_raft_messages_sent_total",
    "tessera_kv_hibernated_shards",
    "tessera_kv_raft_proposals_pending",
    "tessera_kv_raft_write_duration_seconds_count",
    "tessera_kv_engine_size_bytes",
  ]) {
    assert.match(text, new RegExp(`^${name}(\\{[^}]*\\})? \\d`, "m"), name);
  }
});
