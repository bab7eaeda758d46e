/**
 * Event-trace tests of the operator controller: admission (duplicates, priorities, kind
 * and store limits), step progress from heartbeats, stale epochs, timeouts, merges.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { peerId, storeId } from "../../base/mod.ts";
import { OperatorController, describeEvent, type OperatorEvent } from "./operator_controller.ts";
import { makeOperator, movePeerSteps } from "./operator.ts";
import { NOW, shard, type ShardSpec } from "./test_support.ts";
import {
  defaultSchedulerConfig,
  type Operator,
  type OperatorKind,
  type OperatorPriority,
  type OperatorStep,
  type SchedulerConfig,
  type ShardInfo,
} from "./types.ts";

const opts = { timeout: 5_000 };

function events(list: readonly OperatorEvent[]): string[] {
  return list.map(describeEvent);
}

function op(
  s: ShardInfo,
  steps: OperatorStep[],
  options: { kind?: OperatorKind; priority?: OperatorPriority; nowMs?: number } = {},
): Operator {
  return makeOperator(s, options.kind ?? "replica", {
    steps,
    description: "test",
    nowMs: options.nowMs ?? NOW,
    config: defaultSchedulerConfig,
    priority: options.priority ?? "normal",
  });
}

/** Shard 1 on stores 1-3 (epoch 5/5); moving its peer from store 3 to store 4. */
const base: ShardSpec = { stores: [1, 2, 3] };
const s1 = shard(1, base);
const move = (): Operator =>
  op(s1, movePeerSteps(s1, { from: storeId(3), to: storeId(4), newPeerId: peerId(104) }));
const at = (confVersion: number, spec: Partial<ShardSpec>, version = 5): ShardInfo =>
  shard(1, { ...base, ...spec, epoch: { confVersion, version } });

function controller(config: Partial<SchedulerConfig> = {}): OperatorController {
  return new OperatorController({ ...defaultSchedulerConfig, ...config });
}

const id = `replica/1/${NOW}`;

test("OperatorController moves a peer step by step as heartbeats show progress", opts, () => {
  const c = controller();
  const trace = [
    ...events(c.admit([move()], NOW)),
    ...events(c.onShardHeartbeat(at(5, {}), NOW + 1)),
    ...events(c.onShardHeartbeat(at(6, { learners: [4], pending: [4] }), NOW + 2)),
    ...events(c.onShardHeartbeat(at(6, { learners: [4] }), NOW + 3)),
    ...events(c.onShardHeartbeat(at(5, {}), NOW + 4)),
    ...events(c.onShardHeartbeat(at(7, { stores: [1, 2, 3, 4] }), NOW + 5)),
    ...events(c.onShardHeartbeat(at(8, { stores: [1, 2, 4] }), NOW + 6)),
  ];
  assert.deepEqual(trace, [
    `admitted ${id}`,
    `send ${id} #0 addLearner(store 4, peer 104)`,
    `send ${id} #0 addLearner(store 4, peer 104)`,
    `send ${id} #0 addLearner(store 4, peer 104)`,
    `send ${id} #1 promoteLearner(store 4, peer 104)`,
    // The delayed heartbeat at conf version 5 is ignored.
    `send ${id} #2 removePeer(store 3, peer 103)`,
    `finished ${id}`,
  ]);
  assert.deepEqual(c.operators(), []);
});

test("OperatorController skips steps a single heartbeat shows all done", opts, () => {
  const c = controller();
  c.admit([move()], NOW);
  assert.deepEqual(events(c.onShardHeartbeat(at(8, { stores: [1, 2, 4] }), NOW + 1)), [
    `finished ${id}`,
  ]);
});

test("OperatorController cancels an operator when a foreign conf change shows", opts, () => {
  const c = controller();
  c.admit([move()], NOW);
  // Someone removed the peer on store 2: conf version 6 without our learner.
  assert.deepEqual(events(c.onShardHeartbeat(at(6, { stores: [1, 3] }), NOW + 1)), [
    `cancelled ${id} at #0: staleEpoch`,
  ]);
  assert.equal(c.operatorOf(s1.id), undefined);
});

test("OperatorController cancels an operator when the shard split under it", opts, () => {
  const c = controller();
  c.admit([move()], NOW);
  c.onShardHeartbeat(at(6, { learners: [4] }), NOW + 1);
  assert.deepEqual(events(c.onShardHeartbeat(at(6, { learners: [4] }, 6), NOW + 2)), [
    `cancelled ${id} at #1: staleEpoch`,
  ]);
});

test("OperatorController times operators out on tick and on heartbeat", opts, () => {
  const c = controller();
  c.admit([move()], NOW);
  const timeout = defaultSchedulerConfig.operatorTimeoutsMs.replica;
  assert.deepEqual(events(c.tick(NOW + timeout - 1)), []);
  assert.deepEqual(events(c.tick(NOW + timeout)), [`timedOut ${id} at #0`]);
  assert.deepEqual(events(c.tick(NOW + timeout + 1)), []);

  c.admit([move()], NOW);
  c.onShardHeartbeat(at(6, { learners: [4] }), NOW + 1);
  assert.deepEqual(events(c.onShardHeartbeat(at(6, { learners: [4] }), NOW + timeout)), [
    `timedOut ${id} at #1`,
  ]);
});

test("OperatorController rejects an operator that expired before admission", opts, () => {
  const c = controller();
  const late = NOW + defaultSchedulerConfig.operatorTimeoutsMs.replica;
  assert.deepEqual(events(c.admit([move()], late)), [`rejected ${id}: expired`]);
});

test("OperatorController rejects a second operator for the same shard", opts, () => {
  const c = controller();
  const leader = op(
    s1,
    [{ kind: "transferLeader", fromStoreId: storeId(1), toStoreId: storeId(2) }],
    { kind: "balanceLeader", nowMs: NOW + 1 },
  );
  assert.deepEqual(events(c.admit([move(), leader, move()], NOW + 1)), [
    `admitted ${id}`,
    `send ${id} #0 addLearner(store 4, peer 104)`,
    `rejected balanceLeader/1/${NOW + 1}: duplicate`,
    `rejected ${id}: duplicate`,
  ]);
});

test("OperatorController lets a higher-priority operator replace a running one", opts, () => {
  const c = controller();
  const balance = op(
    s1,
    movePeerSteps(s1, { from: storeId(1), to: storeId(5), newPeerId: peerId(105) }),
    { kind: "balanceShard", priority: "normal" },
  );
  const repair = op(
    s1,
    movePeerSteps(s1, { from: storeId(3), to: storeId(4), newPeerId: peerId(104) }),
    { priority: "urgent", nowMs: NOW + 1 },
  );
  c.admit([balance], NOW);
  assert.deepEqual(events(c.admit([repair], NOW + 1)), [
    `cancelled balanceShard/1/${NOW} at #0: replaced`,
    `admitted replica/1/${NOW + 1}`,
    `send replica/1/${NOW + 1} #0 addLearner(store 4, peer 104)`,
  ]);
  assert.equal(c.operatorOf(s1.id)?.kind, "replica");
});

test("OperatorController enforces the in-flight limit per kind", opts, () => {
  const c = controller({
    scheduleLimits: { ...defaultSchedulerConfig.scheduleLimits, balanceLeader: 1 },
  });
  const transfer = (n: number): Operator =>
    op(
      shard(n, { stores: [1, 2, 3] }),
      [{ kind: "transferLeader", fromStoreId: storeId(1), toStoreId: storeId(2) }],
      { kind: "balanceLeader" },
    );
  assert.deepEqual(events(c.admit([transfer(1), transfer(2)], NOW)), [
    `admitted balanceLeader/1/${NOW}`,
    `send balanceLeader/1/${NOW} #0 transferLeader(store 1 -> 2)`,
    `rejected balanceLeader/2/${NOW}: kindLimit`,
  ]);
  assert.deepEqual(
    events(c.onShardHeartbeat(shard(1, { stores: [1, 2, 3], leader: 2 }), NOW + 1)),
    [`finished balanceLeader/1/${NOW}`],
  );
  assert.deepEqual(events(c.admit([transfer(2)], NOW + 1)), [
    `admitted balanceLeader/2/${NOW}`,
    `send balanceLeader/2/${NOW} #0 transferLeader(store 1 -> 2)`,
  ]);
});

test("OperatorController limits peers added to one store per minute", opts, () => {
  const c = controller({ storeAddPeersPerMinute: 2 });
  const addTo4 = (n: number, nowMs: number): Operator => {
    const s = shard(n, { stores: [1, 2, 3] });
    const newPeerId = peerId(n * 100 + 4);
    return op(s, movePeerSteps(s, { from: storeId(3), to: storeId(4), newPeerId }), { nowMs });
  };
  assert.deepEqual(
    events(c.admit([addTo4(1, NOW), addTo4(2, NOW), addTo4(3, NOW)], NOW)).filter(
      (e) => !e.startsWith("send"),
    ),
    [
      `admitted replica/1/${NOW}`,
      `admitted replica/2/${NOW}`,
      `rejected replica/3/${NOW}: storeLimit`,
    ],
  );
  // Half a minute later one token has come back.
  assert.deepEqual(events(c.admit([addTo4(3, NOW + 29_999)], NOW + 29_999)), [
    `rejected replica/3/${NOW + 29_999}: storeLimit`,
  ]);
  assert.deepEqual(events(c.admit([addTo4(3, NOW + 30_000)], NOW + 30_000)).length, 2);
});

test("OperatorController finishes a split when the version grows", opts, () => {
  const c = controller();
  const split = op(s1, [{ kind: "splitShard", policy: "approximate" }], { kind: "split" });
  c.admit([split], NOW);
  assert.deepEqual(events(c.onShardHeartbeat(at(5, {}), NOW + 1)), [
    `send split/1/${NOW} #0 splitShard(approximate)`,
  ]);
  assert.deepEqual(events(c.onShardHeartbeat(at(5, {}, 6), NOW + 2)), [`finished split/1/${NOW}`]);

  c.admit([split], NOW + 2);
  assert.deepEqual(events(c.onShardHeartbeat(at(6, { stores: [1, 2] }), NOW + 3)), [
    `cancelled split/1/${NOW} at #0: staleEpoch`,
  ]);
});

test("OperatorController runs a merge on the source and finishes it from the target", opts, () => {
  const c = controller();
  const source = shard(2, { stores: [1, 2, 3], sizeMiB: 5 });
  const target = shard(3, { stores: [1, 2, 3], sizeMiB: 5, last: true });
  const merge = op(
    source,
    [
      {
        kind: "mergeShard",
        sourceShardId: source.id,
        targetShardId: target.id,
        targetEpoch: target.epoch,
        sourceStartKey: source.startKey,
        sourceEndKey: source.endKey,
      },
    ],
    { kind: "merge" },
  );
  const mid = `merge/2/${NOW}`;
  const onTarget = op(target, [{ kind: "splitShard", policy: "approximate" }], { kind: "split" });
  assert.deepEqual(events(c.admit([merge, onTarget], NOW)), [
    `admitted ${mid}`,
    `send ${mid} #0 mergeShard(shard 2 into 3)`,
    `rejected split/3/${NOW}: duplicate`,
  ]);
  assert.equal(c.operatorOf(target.id)?.id, mid);
  assert.deepEqual(events(c.onShardHeartbeat(source, NOW + 1)), [
    `send ${mid} #0 mergeShard(shard 2 into 3)`,
  ]);
  // PrepareMerge raised the source's epoch: wait for the target.
  const prepared = { ...source, epoch: { confVersion: 6, version: 6 } };
  assert.deepEqual(events(c.onShardHeartbeat(prepared, NOW + 2)), []);
  assert.deepEqual(events(c.onShardHeartbeat(target, NOW + 3)), []);
  const merged = { ...target, startKey: source.startKey, epoch: { confVersion: 5, version: 7 } };
  assert.deepEqual(events(c.onShardHeartbeat(merged, NOW + 4)), [`finished ${mid}`]);
  assert.equal(c.operatorOf(target.id), undefined);
});

test("OperatorController cancels a merge when the target changes under it", opts, () => {
  const c = controller();
  const source = shard(2, { stores: [1, 2, 3] });
  const target = shard(3, { stores: [1, 2, 3] });
  const merge = op(
    source,
    [
      {
        kind: "mergeShard",
        sourceShardId: source.id,
        targetShardId: target.id,
        targetEpoch: target.epoch,
        sourceStartKey: source.startKey,
        sourceEndKey: source.endKey,
      },
    ],
    { kind: "merge" },
  );
  c.admit([merge], NOW);
  const split = {
    ...target,
    endKey: new Uint8Array([0x73, 0x30]),
    epoch: { confVersion: 5, version: 6 },
  };
  assert.deepEqual(events(c.onShardHeartbeat(split, NOW + 1)), [
    `cancelled merge/2/${NOW} at #0: staleEpoch`,
  ]);
  c.admit([merge], NOW + 1);
  assert.deepEqual(
    events(c.onShardHeartbeat({ ...source, epoch: { confVersion: 7, version: 5 } }, NOW + 2)),
    [`cancelled merge/2/${NOW} at #0: staleEpoch`],
  );
});

test("OperatorController cancels on request and reports progress", opts, () => {
  const c = controller();
  c.admit([move()], NOW);
  c.onShardHeartbeat(at(6, { learners: [4] }), NOW + 1);
  assert.deepEqual(
    c.snapshot().map((r) => [r.operator.id, r.stepIndex, r.expectedEpoch.confVersion]),
    [[id, 1, 6]],
  );
  assert.deepEqual(events(c.cancel(s1.id)), [`cancelled ${id} at #1: manual`]);
  assert.deepEqual(events(c.cancel(s1.id)), []);
  assert.deepEqual(c.operators(), []);
});
