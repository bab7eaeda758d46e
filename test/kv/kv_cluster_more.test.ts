/**
 * More multi-process tests of the replicated KV node, on the loopback harness (in-process
 * PD, three `tessera kv` children with fast Raft ticks and a Raft log compacted past 20
 * applied entries). The story runs in order, one test per step: a follower stopped with
 * SIGSTOP falls behind the leader's compacted log and catches up by snapshot once resumed;
 * a follower's peer removed through a PD operator and added back (a new peer id from PD,
 * learner then voter) catches up; with the key space split at "m" and the two shards led
 * by different stores, two pessimistic transactions that wait for each other's keys across
 * stores meet the cluster's one deadlock detector, and exactly one gets `KV:Txn:Deadlock`.
 *
 * Every read-back after a catch-up goes straight to the caught-up store once PD reports it
 * as the shard's leader, so a stale copy cannot hide behind another store. `after()`
 * resumes any stopped process before the harness kills every process group.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  ErrorCode,
  type PeerId,
  type StoreId,
  type Timestamp,
  hasErrorCode,
} from "../../src/base/mod.ts";
import { type Transaction, TxnClient } from "../../src/client/mod.ts";
import type { OperatorStep } from "../../src/pd/mod.ts";
import { type GetReply, KvMethod, type ShardRoute } from "../../src/proto/mod.ts";
import { RpcClient } from "../../src/rpc/mod.ts";
import {
  type KvNode,
  KvRouter,
  LoopbackCluster,
  type Serving,
  env,
  waitFor,
} from "./cluster_harness.ts";

const opts = { timeout: 60_000 };
const te = new TextEncoder();
const td = new TextDecoder();
const b = (s: string): Uint8Array => te.encode(s);
const quiet = { warn: () => undefined, error: () => undefined };
/** Applied entries a peer keeps before compacting (`--raft-log-gc-count-max`). */
const logGcCountMax = 20;
const snapshotsMetric = "tessera_kv_raft_snapshots_installed_total";

let cluster: LoopbackCluster;
let router: KvRouter;
let txnClient: TxnClient | undefined;
/** Transactions not finished yet: rolled back in `after()` so no heartbeat outlives it. */
const openTxns = new Set<Transaction>();
const servings = new Map<KvNode, Serving>();
const direct = new Map<string, RpcClient>();
/** Nodes stopped with SIGSTOP and not resumed yet. */
const stopped = new Set<KvNode>();
/** Every acknowledged write: key → value. */
const written = new Map<string, string>();
const tso = (): Promise<Timestamp> => cluster.pdClient.getTimestamp();

before(async () => {
  cluster = await LoopbackCluster.start({
    scheduleIntervalMs: 100,
    // A stopped store is disconnected after 1 s, but not down (replaced) within the test.
    schedulerConfig: { storeDisconnectTimeMs: 1_000, maxStoreDownTimeMs: 60_000 },
    kvFlags: [
      "--store-heartbeat-interval", "100ms", "--shard-heartbeat-interval", "100ms",
      "--raft-tick-interval", "50ms", "--raft-election-ticks", "10",
      "--leader-transfer-timeout", "3s", "--raft-log-gc-count-max", String(logGcCountMax),
    ],
  });
  router = new KvRouter(cluster);
  const nodes = [cluster.startNode(), cluster.startNode(), cluster.startNode()];
  for (const node of nodes) servings.set(node, await node.serving);
  await waitFor("shard 1 with three voters and a leader", () => {
    const r = firstShard();
    return r?.leader != null && r.shard.peers.every((p) => p.role === "voter") &&
      r.shard.peers.length === 3 ? true : undefined;
  });
});

after(async () => {
  for (const node of stopped) node.kill("SIGCONT");
  // A failed test leaves its transactions open; their lock heartbeats would keep running.
  await Promise.allSettled([...openTxns].map((t) => t.rollback()));
  await txnClient?.close();
  await Promise.all([...direct.values()].map((c) => c.close()));
  await router?.close();
  await cluster?.close();
});

function firstShard(): ShardRoute | undefined {
  return cluster.route(new Uint8Array(0)) ?? undefined;
}

function nodeOfStore(storeId: number): KvNode {
  for (const [node, serving] of servings) if (serving.storeId === storeId) return node;
  throw new Error(`no node runs store ${storeId}`);
}

function servingOf(storeId: number): Serving {
  return servings.get(nodeOfStore(storeId)) as Serving;
}

interface ShardStatus {
  readonly id: number;
  readonly isLeader: boolean;
  readonly appliedIndex: number;
}

async function shardStatus(storeId: number, shardId: number): Promise<ShardStatus | undefined> {
  const reply = await fetch(`http://${servingOf(storeId).status}/status`);
  const body = (await reply.json()) as { shards: ShardStatus[] };
  return body.shards.find((s) => s.id === shardId);
}

/** The value of a counter or gauge (labels ignored) on `storeId`'s `/metrics`. */
async function metric(storeId: number, name: string): Promise<number> {
  const text = await (await fetch(`http://${servingOf(storeId).status}/metrics`)).text();
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
  assert.ok(match !== null, `${name} missing from /metrics`);
  return Number(match[1]);
}

/** Writes `count` keys `prefix-NNNN`, eight at a time. */
async function putMany(prefix: string, count: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let i = next++; i < count; i = next++) {
      const key = `${prefix}-${String(i).padStart(4, "0")}`;
      await router.put(b(key), b(`${prefix}:${i}`), tso);
      written.set(key, `${prefix}:${i}`);
    }
  }));
}

/** Waits until `storeId`'s peer of `shardId` has applied as far as the leader's. */
async function waitCaughtUp(storeId: number, shardId: number): Promise<void> {
  await waitFor(`store ${storeId} caught up on shard ${shardId}`, async () => {
    const leader = cluster.route(firstKeyOf(shardId))?.leader;
    if (leader == null) return undefined;
    if (leader.storeId === storeId) return true;
    const [mine, theirs] = await Promise.all([
      shardStatus(storeId, shardId),
      shardStatus(leader.storeId, shardId),
    ]);
    return mine !== undefined && theirs?.isLeader === true &&
      mine.appliedIndex >= theirs.appliedIndex ? true : undefined;
  });
}

function firstKeyOf(shardId: number): Uint8Array {
  const all = cluster.pd.leaderCluster().scanShards(new Uint8Array(0), new Uint8Array(0), 10);
  const route = all.find((r) => r.shard.id === shardId);
  assert.ok(route !== undefined, `shard ${shardId} unknown to PD`);
  return route.shard.startKey;
}

/** Orders leader transfers through PD until PD reports `storeId` as `shardId`'s leader. */
async function transferLeaderTo(shardId: number, storeId: number): Promise<void> {
  await waitFor(`store ${storeId} leading shard ${shardId}`, () => {
    if (cluster.route(firstKeyOf(shardId))?.leader?.storeId === storeId) return true;
    if (!cluster.pd.operators().running.some((r) => r.operator.shardId === shardId)) {
      try {
        cluster.pd.addOperator({ kind: "transferLeader", shardId, toStoreId: storeId });
      } catch (error) {
        // Refused while PD has not heard the store again since it was stopped.
        assert.equal((error as { code?: string }).code, "PD:Operator:Rejected");
      }
    }
    return undefined;
  });
}

/** Admits a hand-made replica operator on `shardId`, retrying while PD refuses it. */
async function addReplicaOperator(
  shardId: number,
  steps: readonly OperatorStep[],
): Promise<void> {
  await waitFor(`operator ${steps.map((s) => s.kind).join("+")} on shard ${shardId}`, () => {
    const scheduling = cluster.pd.leaderScheduling();
    const shard = cluster.pd.leaderCluster().schedulingShard(shardId);
    if (shard === undefined) return undefined;
    const nowMs = scheduling.nowMs();
    try {
      scheduling.addOperator({
        id: `replica/${shardId}/${nowMs}`,
        shardId: shard.id,
        epoch: shard.epoch,
        kind: "replica",
        description: `test: ${steps.map((s) => s.kind).join(", ")}`,
        steps,
        createdAtMs: nowMs,
        timeoutMs: 30_000,
        priority: "high",
      });
      return true;
    } catch (error) {
      assert.equal((error as { code?: string }).code, "PD:Operator:Rejected");
      return undefined;
    }
  });
}

/**
 * Reads every acknowledged write straight from `storeId` (no routing): it must lead the
 * shards of those keys and hold every committed value.
 */
async function checkAllWrittenVia(storeId: number): Promise<void> {
  const address = servingOf(storeId).rpc;
  let client = direct.get(address);
  if (client === undefined) {
    const [host, port] = address.split(":") as [string, string];
    client = new RpcClient(env, { host, port: Number(port), logger: quiet });
    direct.set(address, client);
  }
  const version = await tso();
  for (const [key, value] of written) {
    const route = cluster.route(b(key));
    assert.ok(route !== null);
    const reply = (await client.call(KvMethod.get, {
      header: { clusterId: cluster.pd.clusterId },
      context: { shardId: route.shard.id, epoch: route.shard.epoch },
      key: b(key),
      version,
    }, { deadlineMs: 5_000 })) as GetReply;
    assert.equal(reply.routeError, undefined, `key ${key} via store ${storeId}`);
    assert.equal(reply.keyError, undefined, `key ${key} via store ${storeId}`);
    assert.equal(reply.value === null ? null : td.decode(reply.value), value, `key ${key}`);
  }
}

test("a follower stopped past the leader's log compaction catches up by snapshot",
  opts, async () => {
    await putMany("base", 20);
    const route = firstShard();
    assert.ok(route?.leader);
    const shardId = route.shard.id;
    const lagging = route.shard.peers.find((p) => p.storeId !== route.leader?.storeId);
    assert.ok(lagging !== undefined);
    const node = nodeOfStore(lagging.storeId);
    const snapshotsBefore = await metric(lagging.storeId, snapshotsMetric);
    node.kill("SIGSTOP");
    stopped.add(node);
    // Two entries a write (prewrite, commit): far past what the leader keeps for a
    // follower stuck in replication (four times the GC count), so it must compact.
    await putMany("lag", 10 * logGcCountMax);
    node.kill("SIGCONT");
    stopped.delete(node);
    await waitCaughtUp(lagging.storeId, shardId);
    const snapshotsAfter = await metric(lagging.storeId, snapshotsMetric);
    assert.ok(snapshotsAfter > snapshotsBefore,
      `snapshots installed on store ${lagging.storeId}: ${snapshotsBefore} → ${snapshotsAfter}`);
    await transferLeaderTo(shardId, lagging.storeId);
    await checkAllWrittenVia(lagging.storeId);
  });

test("a follower's peer removed and added back through PD operators catches up",
  opts, async () => {
    // The replica checker would put the peer back itself; the test orders each step.
    await cluster.pd.setSchedulerEnabled("replica-checker", false);
    try {
      const route = firstShard();
      assert.ok(route?.leader);
      const shardId = route.shard.id;
      const removed = route.shard.peers.find((p) => p.storeId !== route.leader?.storeId);
      assert.ok(removed !== undefined);
      const storeId = removed.storeId as StoreId;
      await addReplicaOperator(shardId, [
        { kind: "removePeer", storeId, peerId: removed.peerId as PeerId },
      ]);
      await waitFor("PD sees shard 1 with two peers", () => {
        const r = firstShard();
        return r?.shard.peers.length === 2 && r.shard.peers.every((p) => p.storeId !== storeId)
          ? true : undefined;
      });
      await waitFor(`store ${storeId} drops its removed peer`, async () =>
        (await shardStatus(storeId, shardId)) === undefined ? true : undefined);
      await putMany("removed", 3 * logGcCountMax);

      const peerId = (await cluster.pdClient.allocIds(1)) as PeerId;
      await addReplicaOperator(shardId, [
        { kind: "addLearner", storeId, peerId },
        { kind: "promoteLearner", storeId, peerId },
      ]);
      await waitFor(`peer ${peerId} a voter on store ${storeId}`, () => {
        const peer = firstShard()?.shard.peers.find((p) => p.peerId === peerId);
        return peer?.role === "voter" && peer.storeId === storeId ? true : undefined;
      });
      await waitCaughtUp(storeId, shardId);
      await transferLeaderTo(shardId, storeId);
      await checkAllWrittenVia(storeId);
    } finally {
      await cluster.pd.setSchedulerEnabled("replica-checker", true);
    }
  });

test("a deadlock across two stores fails exactly one transaction with KV:Txn:Deadlock",
  opts, async () => {
    const first = firstShard();
    assert.ok(first !== undefined);
    cluster.pd.addOperator({ kind: "split", shardId: first.shard.id, policy: "byKeys",
      keys: [b("m")] });
    const [low, high] = await waitFor("two shards with three voters and leaders", () => {
      const all = cluster.pd.leaderCluster().scanShards(new Uint8Array(0), new Uint8Array(0), 10);
      return all.length === 2 && all.every((r) => r.leader !== null && r.shard.peers.length === 3 &&
        r.shard.peers.every((p) => p.role === "voter")) ? all : undefined;
    });
    assert.ok(low !== undefined && high !== undefined);
    // The detector runs on the leader of the first shard; the other shard leads elsewhere.
    const detectorStore = low.leader?.storeId as number;
    const other = high.shard.peers.find((p) => p.storeId !== detectorStore);
    assert.ok(other !== undefined);
    await transferLeaderTo(high.shard.id, other.storeId);
    await transferLeaderTo(low.shard.id, detectorStore);

    txnClient = new TxnClient(env, { pd: cluster.pdClient, logger: quiet });
    const client = txnClient;
    const waitTimeoutMs = 20_000;
    // t1 holds a key of the first shard (led by the detector's store), t2 one of the
    // second. The cycle closes once on each store: on the detector's own store, then on
    // the other one, whose wait-for edge is forwarded to the detector.
    for (const closesOn of ["detector", "other"] as const) {
      const lowKey = b(`a-deadlock-${closesOn}`);
      const highKey = b(`z-deadlock-${closesOn}`);
      const t1 = await client.begin({ pessimistic: true });
      const t2 = await client.begin({ pessimistic: true });
      openTxns.add(t1).add(t2);
      await t1.lockKeys([lowKey]);
      await t2.lockKeys([highKey]);
      type Roles = readonly [Transaction, Uint8Array, number, Transaction, Uint8Array];
      const [waiter, waiterKey, waiterStore, closer, closerKey]: Roles = closesOn === "detector"
        ? [t1, highKey, other.storeId, t2, lowKey]
        : [t2, lowKey, detectorStore, t1, highKey];
      const started = performance.now();
      const waiting: Promise<unknown> = waiter.lockKeys([waiterKey], { waitTimeoutMs }).then(
        () => "ok",
        (e: unknown) => e,
      );
      await waitFor(`a lock waiter on store ${waiterStore}`, async () =>
        (await metric(waiterStore, "tessera_kv_lock_waiters")) > 0 ? true : undefined);
      const closed = await closer.lockKeys([closerKey], { waitTimeoutMs }).then(
        () => "ok",
        (e: unknown) => e,
      );
      assert.ok(hasErrorCode(closed, ErrorCode.KvTxnDeadlock),
        `cycle closed on the ${closesOn} store: got ${String(closed)}`);
      await closer.rollback();
      openTxns.delete(closer);
      assert.equal(await waiting, "ok", "the other transaction proceeds");
      const elapsedMs = performance.now() - started;
      assert.ok(elapsedMs < waitTimeoutMs / 2, `took ${Math.round(elapsedMs)} ms`);
      waiter.set(lowKey, b("winner"));
      waiter.set(highKey, b("winner"));
      await waiter.commit();
      openTxns.delete(waiter);
      written.set(td.decode(lowKey), "winner");
      written.set(td.decode(highKey), "winner");
    }
    // Every acknowledged write, routed to the leader of its shard, is still there.
    const version = await tso();
    for (const [key, value] of written) {
      const got = await router.get(b(key), version);
      assert.equal(got === null ? null : td.decode(got), value, `key ${key}`);
    }
  });
