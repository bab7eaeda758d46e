/**
 * The leader's scheduling shell on a hand-driven clock: a `Cluster` on the embedded
 * metadata store is fed store and shard heartbeats, rounds are run by hand, and the tests
 * read the steps the heartbeat replies carry — replica repair after a store stayed down
 * past `maxStoreDownTimeMs`, leader balance, and the store lifecycle (up, disconnected,
 * down, offline, tombstone). No timers run: `Scheduling.start` is never called.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, hasErrorCode } from "../../base/mod.ts";
import { createNodeEnv } from "../../env/mod.ts";
import type {
  ShardMeta,
  ShardOperatorStep,
  StoreMeta,
  StoreStats,
} from "../../proto/mod.ts";
import { EmbeddedMetaStore } from "../meta/embedded_store.ts";
import { type SchedulerConfig, defaultSchedulerConfig } from "../schedule/types.ts";
import { Cluster } from "./cluster.ts";
import { silentPdLogger } from "./logger.ts";
import {
  Scheduling,
  clusterConfigOf,
  mergeSchedulerConfig,
  newOperatorCounters,
  schedulerNames,
} from "./scheduling.ts";

const opts = { timeout: 20_000 };
const nodeEnv = createNodeEnv();
let root = "";
let counter = 0;
const stores: EmbeddedMetaStore[] = [];

before(() => {
  root = mkdtempSync(join(tmpdir(), "tessera-scheduling-"));
});

after(async () => {
  for (const store of stores) await store.close();
  if (root !== "") rmSync(root, { recursive: true, force: true });
});

const GiB = 1024 ** 3;
const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const storeMeta = (id: number): StoreMeta => ({
  id,
  address: `127.0.0.1:${20160 + id}`,
  statusAddress: "",
  version: "0.1.0",
  labels: {},
});
const storeStats: StoreStats = {
  capacityBytes: 100 * GiB,
  availableBytes: 90 * GiB,
  usedBytes: 10 * GiB,
  shardCount: 0,
  leaderCount: 0,
  readBytesPerSec: 0,
  writeBytesPerSec: 0,
};

interface PeerSpec {
  readonly store: number;
  readonly learner?: boolean;
}

function shardMeta(
  id: number,
  range: readonly [string, string],
  epoch: { confVersion: number; version: number },
  peers: readonly PeerSpec[],
): ShardMeta {
  return {
    id,
    startKey: b(range[0]),
    endKey: b(range[1]),
    epoch,
    peers: peers.map((p) => ({
      peerId: id * 100 + p.store,
      storeId: p.store,
      role: p.learner === true ? ("learner" as const) : ("voter" as const),
    })),
  };
}

/** A cluster of stores 1..`storeCount`, bootstrapped with shard 1 on stores 1, 2, 3. */
async function harness(storeCount: number, config: Partial<SchedulerConfig> = {}) {
  let nowMs = 1_000;
  const clock = { monotonicMs: () => nowMs, wallMs: () => nowMs };
  const env = { clock, timers: nodeEnv.timers };
  const meta = await EmbeddedMetaStore.open(nodeEnv, { dir: join(root, `c-${++counter}`) });
  stores.push(meta);
  const schedulerConfig = mergeSchedulerConfig(defaultSchedulerConfig, config);
  const cluster = await Cluster.load(env, meta, {
    config: clusterConfigOf(schedulerConfig),
    guard: () => [],
  });
  const first = shardMeta(1, ["", ""], { confVersion: 1, version: 1 }, [
    { store: 1 },
    { store: 2 },
    { store: 3 },
  ]);
  await cluster.bootstrap(storeMeta(1), first);
  for (let id = 2; id <= storeCount; id++) await cluster.putStore(storeMeta(id));
  const scheduling = new Scheduling(env, cluster, {
    config: schedulerConfig,
    enabled: new Set(schedulerNames),
    intervalMs: 1_000,
    logger: silentPdLogger,
    counters: newOperatorCounters(),
  });
  const heartbeatStores = (ids: readonly number[]): void => {
    for (const id of ids) cluster.storeHeartbeat(id, storeStats);
  };
  /** Reports the shard with its leader on `leaderStore`; returns the reply's step. */
  const heartbeatShard = async (
    shard: ShardMeta,
    leaderStore: number,
    pendingPeerIds: readonly number[] = [],
  ): Promise<ShardOperatorStep | null> => {
    await cluster.shardHeartbeat({
      header: { clusterId: 1n },
      shard,
      leaderPeerId: shard.peers.find((p) => p.storeId === leaderStore)!.peerId,
      pendingPeerIds,
      stats: {
        approximateSizeBytes: 1024 * 1024,
        approximateKeys: 1000,
        readBytesPerSec: 0,
        readKeysPerSec: 0,
        writeBytesPerSec: 0,
        writeKeysPerSec: 0,
        queriesPerSec: 0,
      },
    });
    return scheduling.onShardHeartbeat(shard.id);
  };
  return {
    cluster,
    scheduling,
    first,
    heartbeatStores,
    heartbeatShard,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

/** A step as a short string, for traces. */
function show(step: ShardOperatorStep | null): string {
  if (step === null) return "none";
  switch (step.kind) {
    case "addLearner":
    case "promoteLearner":
    case "removePeer":
      return `${step.kind} store ${step.storeId}`;
    case "transferLeader":
      return `transferLeader ${step.fromStoreId} -> ${step.toStoreId}`;
    case "splitShard":
      return `splitShard ${step.policy}`;
    case "mergeShard":
      return `mergeShard ${step.sourceShardId} -> ${step.targetShardId}`;
  }
}

test(
  "Scheduling replaces the peer of a store down past maxStoreDownTimeMs via heartbeats",
  opts,
  async () => {
    const h = await harness(4, { maxStoreDownTimeMs: 60_000 });
    h.heartbeatStores([1, 2, 3, 4]);
    const trace: string[] = [];
    trace.push(show(await h.heartbeatShard(h.first, 1)));
    assert.deepEqual(await h.scheduling.runRound(), [], "nothing to do while all are up");
    // Store 3 falls silent; the others keep heartbeating.
    h.advance(30_000);
    h.heartbeatStores([1, 2, 4]);
    assert.deepEqual(await h.scheduling.runRound(), [], "disconnected is not down yet");
    h.advance(31_000);
    h.heartbeatStores([1, 2, 4]);
    const admitted = await h.scheduling.runRound();
    assert.deepEqual(
      admitted.map((op) => [op.kind, op.description]),
      [["replica", "replace peer on lost store 3 with store 4"]],
    );
    const replace = admitted[0]!;
    const added = replace.steps[0];
    assert.ok(added?.kind === "addLearner");
    const learnerPeer = { peerId: added.peerId, storeId: 4, role: "learner" as const };
    const peers12 = h.first.peers.filter((p) => p.storeId !== 3);
    // The leader reports each stage; PD answers with the step still to take.
    trace.push(show(await h.heartbeatShard(h.first, 1)));
    const withLearner = {
      ...h.first,
      epoch: { confVersion: 2, version: 1 },
      peers: [...h.first.peers, learnerPeer],
    };
    trace.push(show(await h.heartbeatShard(withLearner, 1, [learnerPeer.peerId])));
    trace.push(show(await h.heartbeatShard(withLearner, 1)));
    const promoted = {
      ...withLearner,
      epoch: { confVersion: 3, version: 1 },
      peers: [...h.first.peers, { ...learnerPeer, role: "voter" as const }],
    };
    trace.push(show(await h.heartbeatShard(promoted, 1)));
    const removed = {
      ...promoted,
      epoch: { confVersion: 4, version: 1 },
      peers: [...peers12, { ...learnerPeer, role: "voter" as const }],
    };
    trace.push(show(await h.heartbeatShard(removed, 1)));
    assert.deepEqual(trace, [
      "none",
      "addLearner store 4",
      "addLearner store 4",
      "promoteLearner store 4",
      "removePeer store 3",
      "none",
    ]);
    assert.deepEqual(h.scheduling.operators(), [], "the operator finished");
  },
);

test("Scheduling moves leaders off a store that leads every shard", opts, async () => {
  const h = await harness(3);
  h.heartbeatStores([1, 2, 3]);
  const all = [{ store: 1 }, { store: 2 }, { store: 3 }];
  const v2 = { confVersion: 1, version: 2 };
  const shards = [
    shardMeta(2, ["b", "c"], v2, all),
    shardMeta(1, ["", "b"], v2, all),
    shardMeta(3, ["c", "d"], v2, all),
    shardMeta(4, ["d", ""], v2, all),
  ];
  for (const s of shards) assert.equal(await h.heartbeatShard(s, 1), null);
  const admitted = await h.scheduling.runRound();
  assert.ok(admitted.length > 0, "leader balance planned something");
  assert.ok(admitted.every((op) => op.kind === "balanceLeader"));
  const trace: string[] = [];
  for (const op of admitted) {
    const shard = shards.find((s) => s.id === op.shardId)!;
    const step = await h.heartbeatShard(shard, 1);
    trace.push(`shard ${shard.id}: ${show(step)}`);
    assert.ok(step?.kind === "transferLeader");
    assert.equal(step.fromStoreId, 1);
    // The leader moved: the operator is done and the reply carries nothing more.
    assert.equal(await h.heartbeatShard(shard, step.toStoreId), null);
  }
  assert.equal(trace.length, admitted.length);
  assert.deepEqual(h.scheduling.operators(), []);
});

test("Cluster store state: up, disconnected after 20 s, down past the limit", opts, async () => {
  const h = await harness(2, { maxStoreDownTimeMs: 60_000 });
  h.heartbeatStores([1, 2]);
  const states = (): string[] => [1, 2].map((id) => h.cluster.getStore(id).state);
  assert.deepEqual(states(), ["up", "up"]);
  h.advance(20_001);
  h.heartbeatStores([1]);
  assert.deepEqual(states(), ["up", "disconnected"]);
  h.advance(40_000);
  h.heartbeatStores([1]);
  assert.deepEqual(states(), ["up", "down"]);
  h.heartbeatStores([2]);
  assert.deepEqual(states(), ["up", "up"], "a heartbeat brings it back");
  const snapshot = h.cluster.schedulingState(61_000 + 1_000);
  assert.deepEqual(
    snapshot.stores.map((s) => [s.id, s.state, s.shardCount, s.leaderCount]),
    [
      [1, "up", 1, 0],
      [2, "up", 1, 0],
    ],
  );
});

test(
  "Cluster store state: a drained offline store becomes a tombstone and stays one",
  opts,
  async () => {
    const h = await harness(4);
    h.heartbeatStores([1, 2, 3, 4]);
    await h.heartbeatShard(h.first, 1);
    await h.cluster.setStoreState(4, "offline");
    await h.cluster.setStoreState(3, "offline");
    await assert.rejects(h.cluster.setStoreState(2, "tombstone"), (e: unknown) =>
      hasErrorCode(e, ErrorCode.PdStoreNotEmpty),
    );
    const admitted = await h.scheduling.runRound();
    assert.equal(h.cluster.getStore(4).state, "tombstone", "store 4 held no peers");
    assert.equal(h.cluster.getStore(3).state, "offline", "store 3 still holds a peer");
    // The replica checker plans to move the peer off store 3, but only store 4 was free
    // and it is gone: nothing can be planned.
    assert.deepEqual(admitted, []);
    // Another way out: the peer on store 3 is removed and the shard reports without it.
    const without3 = {
      ...h.first,
      epoch: { confVersion: 2, version: 1 },
      peers: h.first.peers.filter((p) => p.storeId !== 3),
    };
    await h.heartbeatShard(without3, 1);
    await h.scheduling.runRound();
    assert.equal(h.cluster.getStore(3).state, "tombstone");
    await assert.rejects(h.cluster.setStoreState(3, "up"), (e: unknown) =>
      hasErrorCode(e, ErrorCode.PdStoreTombstone),
    );
    assert.throws(
      () => h.cluster.storeHeartbeat(3, storeStats),
      (e: unknown) => hasErrorCode(e, ErrorCode.PdStoreTombstone),
    );
  },
);

test("mergeSchedulerConfig refuses unknown keys and values out of range", opts, () => {
  const base = defaultSchedulerConfig;
  assert.equal(mergeSchedulerConfig(base, { maxReplicas: 5 }).maxReplicas, 5);
  const merged = mergeSchedulerConfig(base, { scheduleLimits: { merge: 0 } });
  assert.equal(merged.scheduleLimits.merge, 0);
  assert.equal(base.scheduleLimits.merge, 8, "the base is not changed");
  const code = (patch: unknown): string | undefined => {
    try {
      mergeSchedulerConfig(base, patch);
      return undefined;
    } catch (error) {
      return (error as { code?: string }).code;
    }
  };
  assert.equal(code({ nope: 1 }), ErrorCode.PdRequestMalformed);
  assert.equal(code({ scheduleLimits: { nope: 1 } }), ErrorCode.PdRequestMalformed);
  assert.equal(code({ maxReplicas: "3" }), ErrorCode.PdRequestMalformed);
  assert.equal(code([]), ErrorCode.PdRequestMalformed);
  assert.equal(code({ maxReplicas: 0 }), ErrorCode.PdScheduleConfigInvalid);
  assert.equal(code({ lowSpaceRatio: 2 }), ErrorCode.PdScheduleConfigInvalid);
});
