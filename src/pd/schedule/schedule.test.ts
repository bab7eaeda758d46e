/**
 * Tests of a whole scheduling round and of the scheduler config, plus closed-loop runs: the
 * schedulers plan, the controller admits, a toy cluster carries out each step it is sent
 * and heartbeats back, until nothing is left to do. They check that the schedulers
 * converge (no oscillation), never under-replicate a shard, and are deterministic.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, hasErrorCode, peerId, shardId, storeId } from "../../base/mod.ts";
import { OperatorController } from "./operator_controller.ts";
import { runSchedulers } from "./schedule.ts";
import { NOW, cluster, scheduleInput, shard, store, stores, trace } from "./test_support.ts";
import type { StoreSpec } from "./test_support.ts";
import {
  defaultSchedulerConfig,
  validateSchedulerConfig,
  type ClusterState,
  type OperatorStep,
  type SchedulerConfig,
  type ShardInfo,
} from "./types.ts";

const opts = { timeout: 10_000 };
const longDown = { state: "down" as const, lastHeartbeatMs: NOW - 31 * 60_000 };

test("runSchedulers() plans at most one operator per shard, repair first", opts, () => {
  const state = cluster(
    [...stores(2), store(3, longDown), store(4), store(5)],
    [
      shard(1, { stores: [1, 2, 3], sizeMiB: 200 }),
      shard(2, { stores: [1, 2, 3], sizeMiB: 200, readBytesPerSec: 1e7 }),
      shard(3, { stores: [1, 2, 4], sizeMiB: 100 }),
    ],
  );
  const ops = runSchedulers(scheduleInput(state));
  const shards = ops.map((op) => op.shardId);
  assert.equal(new Set(shards).size, shards.length);
  assert.deepEqual(
    ops.map((op) => `${op.kind} ${op.shardId}`),
    ["replica 1", "replica 2", "split 3"],
  );
});

test("runSchedulers() runs only the enabled schedulers", opts, () => {
  const state = cluster(stores(3), [shard(1, { stores: [1, 2, 3], sizeMiB: 200 })]);
  assert.deepEqual(
    trace(runSchedulers(scheduleInput(state), { enabled: new Set(["merge-checker"]) })),
    [],
  );
  assert.deepEqual(
    trace(runSchedulers(scheduleInput(state), { enabled: new Set(["split-checker"]) })),
    ["split shard 1: splitShard(approximate)"],
  );
});

test("validateSchedulerConfig() accepts the defaults and rejects bad values", opts, () => {
  validateSchedulerConfig(defaultSchedulerConfig);
  const bad: Partial<SchedulerConfig>[] = [
    { maxReplicas: 0 },
    { maxReplicas: 2.5 },
    { lowSpaceRatio: 0 },
    { lowSpaceRatio: 1.5 },
    { leaderToleranceRatio: -1 },
    { splitSizeBytes: Number.NaN },
    { storeDisconnectTimeMs: 2 * defaultSchedulerConfig.maxStoreDownTimeMs },
    { mergeSizeBytes: defaultSchedulerConfig.splitSizeBytes },
    { scheduleLimits: { ...defaultSchedulerConfig.scheduleLimits, merge: -1 } },
    { operatorTimeoutsMs: { ...defaultSchedulerConfig.operatorTimeoutsMs, split: 0 } },
  ];
  for (const change of bad) {
    assert.throws(
      () => validateSchedulerConfig({ ...defaultSchedulerConfig, ...change }),
      (e: unknown) => hasErrorCode(e, ErrorCode.PdScheduleConfigInvalid),
      JSON.stringify(change),
    );
  }
});

/** A toy cluster: carries out operator steps on its shards the way KV nodes would. */
class ToyCluster {
  shards: ShardInfo[];
  readonly storeSpecs: StoreSpec[];
  private nextShard = 1000;

  constructor(storeSpecs: StoreSpec[], shards: ShardInfo[]) {
    this.storeSpecs = storeSpecs;
    this.shards = shards;
  }

  /** The cluster as PD sees it at `nowMs`: live stores have just heartbeated. */
  state(nowMs: number): ClusterState {
    const specs = this.storeSpecs.map((spec) =>
      spec.lastHeartbeatMs === undefined ? { ...spec, lastHeartbeatMs: nowMs } : spec,
    );
    return cluster(specs, this.shards);
  }

  apply(id: number, step: OperatorStep): void {
    const s = this.shards.find((x) => x.id === id);
    if (s === undefined) return;
    const conf = (peers: ShardInfo["peers"]): ShardInfo => ({
      ...s,
      peers,
      epoch: { confVersion: s.epoch.confVersion + 1, version: s.epoch.version },
    });
    let next = s;
    switch (step.kind) {
      case "addLearner":
        if (s.peers.some((p) => p.storeId === step.storeId)) return;
        next = conf([...s.peers, { peerId: step.peerId, storeId: step.storeId, role: "learner" }]);
        break;
      case "promoteLearner":
        if (!s.peers.some((p) => p.storeId === step.storeId && p.role === "learner")) return;
        next = conf(
          s.peers.map((p) => (p.storeId === step.storeId ? { ...p, role: "voter" as const } : p)),
        );
        break;
      case "removePeer": {
        const peer = s.peers.find((p) => p.storeId === step.storeId);
        if (peer === undefined || peer.peerId === s.leaderPeerId) return;
        next = conf(s.peers.filter((p) => p.storeId !== step.storeId));
        break;
      }
      case "transferLeader": {
        const to = s.peers.find((p) => p.storeId === step.toStoreId && p.role === "voter");
        if (to === undefined) return;
        next = { ...s, leaderPeerId: to.peerId };
        break;
      }
      case "splitShard": {
        const key = new Uint8Array([...s.startKey, 0x00, this.nextShard % 256]);
        const half = Math.floor(s.approximateSizeBytes / 2);
        const keys = Math.floor(s.approximateKeys / 2);
        const version = s.epoch.version + 1;
        const right: ShardInfo = {
          ...s,
          id: shardId(this.nextShard++),
          peers: s.peers.map((p) => ({ ...p, peerId: peerId(p.peerId + 100_000) })),
          leaderPeerId: peerId(s.leaderPeerId + 100_000),
          startKey: key,
          epoch: { confVersion: s.epoch.confVersion, version },
          approximateSizeBytes: half,
          approximateKeys: keys,
          lastSplitMs: NOW,
        };
        const left: ShardInfo = {
          ...s,
          endKey: key,
          epoch: { confVersion: s.epoch.confVersion, version },
          approximateSizeBytes: half,
          approximateKeys: keys,
          lastSplitMs: NOW,
        };
        this.shards = [...this.shards.filter((x) => x.id !== id), left, right];
        return;
      }
      case "mergeShard": {
        const t = this.shards.find((x) => x.id === step.targetShardId);
        if (t === undefined) return;
        const merged: ShardInfo = {
          ...t,
          startKey: s.startKey,
          epoch: {
            confVersion: t.epoch.confVersion,
            version: Math.max(s.epoch.version, t.epoch.version) + 1,
          },
          approximateSizeBytes: s.approximateSizeBytes + t.approximateSizeBytes,
          approximateKeys: s.approximateKeys + t.approximateKeys,
        };
        this.shards = this.shards.filter((x) => x.id !== id && x.id !== t.id).concat(merged);
        return;
      }
    }
    this.shards = this.shards.map((x) => (x.id === id ? next : x));
  }
}

interface RunResult {
  readonly rounds: number;
  readonly log: string[];
}

/** Rounds of plan → admit → execute → heartbeat until quiet, checking safety each step. */
function runUntilQuiet(toy: ToyCluster, config: SchedulerConfig, maxRounds: number): RunResult {
  const controller = new OperatorController(config);
  let nextPeer = 10_000;
  const log: string[] = [];
  let nowMs = NOW;
  for (let round = 0; round < maxRounds; round++) {
    const input = {
      state: toy.state(nowMs),
      config,
      nowMs,
      inFlight: controller.operators(),
      allocPeerId: () => peerId(nextPeer++),
    };
    const planned = runSchedulers(input);
    if (planned.length === 0 && controller.operators().length === 0) return { rounds: round, log };
    let pending = controller.admit(planned, nowMs);
    for (let i = 0; i < 100 && pending.length > 0; i++) {
      for (const e of pending) {
        if (e.kind === "admitted") log.push(`${e.operator.kind} ${e.operator.description}`);
        // Store limits reject surplus plans; the next round plans them again.
        if (e.kind === "rejected" && e.reason === "storeLimit") continue;
        if (e.kind === "rejected" || e.kind === "cancelled" || e.kind === "timedOut") {
          assert.fail(`unexpected ${e.kind} of ${e.operator.id}`);
        }
        if (e.kind === "send") toy.apply(e.operator.shardId, e.step);
      }
      pending = toy.shards.flatMap((s) => controller.onShardHeartbeat(s, nowMs));
      for (const s of toy.shards) {
        assert.ok(
          s.peers.filter((p) => p.role === "voter").length >= 3,
          `shard ${s.id} lost a voter`,
        );
      }
    }
    nowMs += 60_000; // A minute per round refills every store's token bucket.
  }
  assert.fail(`not quiet after ${maxRounds} rounds`);
}

test("closed loop: replicas on a dead store are rebuilt elsewhere, then it is quiet", opts, () => {
  const shards = Array.from({ length: 12 }, (_, i) =>
    shard(i + 1, { stores: [1 + (i % 4), 1 + ((i + 1) % 4), 1 + ((i + 2) % 4)], sizeMiB: 30 }),
  );
  const toy = new ToyCluster([...stores(3), store(4, longDown), store(5)], shards);
  const config: SchedulerConfig = {
    ...defaultSchedulerConfig,
    mergeSizeBytes: 0,
    mergeKeys: 0,
  };
  runUntilQuiet(toy, config, 50);
  for (const s of toy.shards) {
    assert.equal(s.peers.length, 3);
    assert.ok(s.peers.every((p) => p.storeId !== storeId(4)), `shard ${s.id} still on store 4`);
  }
});

test("closed loop: a new empty store fills up and leaders even out", opts, () => {
  const shards = Array.from({ length: 30 }, (_, i) =>
    shard(i + 1, { stores: [1, 2, 3], leader: 1, sizeMiB: 40 }),
  );
  const config: SchedulerConfig = { ...defaultSchedulerConfig, mergeSizeBytes: 0, mergeKeys: 0 };
  const first = new ToyCluster(stores(4), shards);
  const result = runUntilQuiet(first, config, 100);
  const state = first.state(NOW);
  const sizes = state.stores.map((s) => s.shardSizeBytes);
  const leaders = state.stores.map((s) => s.leaderCount);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= config.shardToleranceBytesMin);
  assert.ok(Math.max(...leaders) - Math.min(...leaders) <= 1, `leaders ${leaders.join()}`);
  assert.ok(result.log.some((l) => l.startsWith("balanceShard")));
  assert.ok(result.log.some((l) => l.startsWith("balanceLeader")));
  // Same input, same story.
  const again = runUntilQuiet(new ToyCluster(stores(4), shards), config, 100);
  assert.deepEqual(again, result);
});

test("closed loop: a big shard splits and small cold neighbours merge", opts, () => {
  const shards = [
    shard(1, { stores: [1, 2, 3], sizeMiB: 150 }),
    shard(2, { stores: [1, 2, 3], sizeMiB: 2 }),
    shard(3, { stores: [1, 2, 3], sizeMiB: 2 }),
    shard(4, { stores: [1, 2, 3], sizeMiB: 2, last: true }),
  ];
  const toy = new ToyCluster(stores(3), shards);
  const { log } = runUntilQuiet(toy, defaultSchedulerConfig, 20);
  assert.deepEqual(
    log.filter((l) => l.startsWith("split") || l.startsWith("merge")).map((l) => l.split(":")[0]),
    [
      "split split",
      "merge merge shard 2 (2097152 B) into shard 3 (2097152 B)",
      "merge merge shard 3 (4194304 B) into shard 4 (2097152 B)",
    ],
  );
  assert.equal(toy.shards.length, 3);
  const { splitSizeBytes } = defaultSchedulerConfig;
  assert.ok(toy.shards.every((s) => s.approximateSizeBytes < splitSizeBytes));
});
