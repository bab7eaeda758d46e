/**
 * Tests of the shared cluster views: key order, store health, operator influence on store
 * loads, and the step builders' edge cases.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { peerId, storeId } from "../../base/mod.ts";
import { compareKeys, storeIsHealthy, storeIsLost, storeLoads } from "./cluster.ts";
import { makeOperator, movePeerSteps, rangeCovers, removePeerSteps } from "./operator.ts";
import {
  MiB,
  NOW,
  cluster,
  scheduleInput,
  shard,
  shardKey,
  store,
  stores,
} from "./test_support.ts";
import { defaultSchedulerConfig } from "./types.ts";

const opts = { timeout: 5_000 };

test("compareKeys() orders bytewise with a prefix first", opts, () => {
  const k = (...b: number[]): Uint8Array => new Uint8Array(b);
  assert.ok(compareKeys(k(1), k(2)) < 0);
  assert.ok(compareKeys(k(1), k(1, 0)) < 0);
  assert.ok(compareKeys(k(0xff), k(1, 0)) > 0);
  assert.equal(compareKeys(k(), k()), 0);
});

test("stores are lost past maxStoreDownTimeMs or offline, unhealthy when silent", opts, () => {
  const input = scheduleInput(cluster(stores(1), []));
  const at = (lastHeartbeatMs: number, state = "up" as const) =>
    cluster([store(1, { lastHeartbeatMs, state })], []).stores[0]!;
  assert.ok(storeIsHealthy(at(NOW - 20_000), input));
  assert.ok(!storeIsHealthy(at(NOW - 20_001), input));
  assert.ok(!storeIsLost(at(NOW - 30 * 60_000), input));
  assert.ok(storeIsLost(at(NOW - 30 * 60_000 - 1), input));
  assert.ok(storeIsLost(undefined, input));
  const offline = cluster([store(1, { state: "offline" })], []).stores[0]!;
  assert.ok(storeIsLost(offline, input) && !storeIsHealthy(offline, input));
});

test("storeLoads() counts only the steps of in-flight operators not yet visible", opts, () => {
  const before = shard(1, { stores: [1, 2, 3], sizeMiB: 10 });
  const op = makeOperator(before, "balanceShard", {
    steps: movePeerSteps(before, { from: storeId(1), to: storeId(4), newPeerId: peerId(104) }),
    description: "test",
    nowMs: NOW,
    config: defaultSchedulerConfig,
    priority: "normal",
  });
  const loadsWith = (s: ReturnType<typeof shard>) => {
    const loads = storeLoads(scheduleInput(cluster(stores(4), [s]), { inFlight: [op] }));
    return [1, 2, 3, 4].map((id) => {
      const l = loads.get(storeId(id))!;
      return [l.shardCount, l.shardSizeBytes / MiB, l.leaderCount];
    });
  };
  // Nothing done yet: store 4 gains the shard and its leader, store 1 loses both.
  assert.deepEqual(loadsWith(before), [
    [0, 0, 0],
    [1, 10, 0],
    [1, 10, 0],
    [1, 10, 1],
  ]);
  // Learner added and promoted: the heartbeat already counts store 4's peer.
  const promoted = shard(1, { stores: [1, 2, 3, 4], sizeMiB: 10 });
  assert.deepEqual(loadsWith(promoted), [
    [0, 0, 0],
    [1, 10, 0],
    [1, 10, 0],
    [1, 10, 1],
  ]);
});

test("removePeerSteps() gives up when a leader has no allowed store to go to", opts, () => {
  const s = shard(1, { stores: [1, 2, 3], leader: 1 });
  assert.equal(removePeerSteps(s, storeId(1), { leaderAllowed: () => false }), undefined);
  assert.deepEqual(removePeerSteps(s, storeId(1), { leaderAllowed: (id) => id === 3 }), [
    { kind: "transferLeader", fromStoreId: 1, toStoreId: 3 },
    { kind: "removePeer", storeId: 1, peerId: 101 },
  ]);
});

test("rangeCovers() treats an empty end key as the end of the key space", opts, () => {
  const range = (a: number, b: number | undefined) => ({
    startKey: shardKey(a),
    endKey: b === undefined ? new Uint8Array() : shardKey(b),
  });
  assert.ok(rangeCovers(range(1, undefined), range(2, 3)));
  assert.ok(rangeCovers(range(1, 3), range(1, 3)));
  assert.ok(!rangeCovers(range(2, 3), range(1, 3)));
  assert.ok(!rangeCovers(range(1, 3), range(2, undefined)));
});
