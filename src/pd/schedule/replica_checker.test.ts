/**
 * Table tests of the replica checker: cluster state → operators (as step traces).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkReplicas } from "./replica_checker.ts";
import {
  GiB,
  NOW,
  cluster,
  scheduleInput,
  shard,
  store,
  stores,
  trace,
  type InputOptions,
} from "./test_support.ts";
import { defaultSchedulerConfig, type ClusterState } from "./types.ts";

const opts = { timeout: 5_000 };
const minute = 60_000;
const longDown = { state: "down" as const, lastHeartbeatMs: NOW - 31 * minute };

interface Case {
  readonly name: string;
  readonly state: ClusterState;
  readonly options?: InputOptions;
  readonly want: readonly string[];
}

const replace3With4 =
  "replica shard 1: addLearner(store 4, peer 1000), promoteLearner(store 4, peer 1000), " +
  "removePeer(store 3, peer 103)";

const cases: Case[] = [
  {
    name: "no operator when every shard has three healthy voters",
    state: cluster(stores(4), [shard(1, { stores: [1, 2, 3] }), shard(2, { stores: [2, 3, 4] })]),
    want: [],
  },
  {
    name: "replaces a peer on a store down longer than maxStoreDownTimeMs",
    state: cluster([...stores(2), store(3, longDown), store(4)], [shard(1, { stores: [1, 2, 3] })]),
    want: [replace3With4],
  },
  {
    name: "waits while the store has been down for less than maxStoreDownTimeMs",
    state: cluster(
      [...stores(2), store(3, { state: "down", lastHeartbeatMs: NOW - 10 * minute }), store(4)],
      [shard(1, { stores: [1, 2, 3] })],
    ),
    want: [],
  },
  {
    name: "replaces a peer on an offline store",
    state: cluster(
      [...stores(2), store(3, { state: "offline" }), store(4)],
      [shard(1, { stores: [1, 2, 3] })],
    ),
    want: [replace3With4],
  },
  {
    name: "replaces a peer on a tombstone store",
    state: cluster(
      [...stores(2), store(3, { state: "tombstone" }), store(4)],
      [shard(1, { stores: [1, 2, 3] })],
    ),
    want: [replace3With4],
  },
  {
    name: "never targets a down, disconnected or offline store",
    state: cluster(
      [
        ...stores(2),
        store(3, longDown),
        store(4, {
          state: "disconnected",
          lastHeartbeatMs: NOW - 25_000,
          capacityBytes: 900 * GiB,
        }),
        store(5, { state: "down", lastHeartbeatMs: NOW - minute, capacityBytes: 900 * GiB }),
        store(6, { state: "offline", capacityBytes: 900 * GiB }),
        store(7),
      ],
      [shard(1, { stores: [1, 2, 3] })],
    ),
    want: [
      "replica shard 1: addLearner(store 7, peer 1000), promoteLearner(store 7, peer 1000), " +
        "removePeer(store 3, peer 103)",
    ],
  },
  {
    name: "does nothing when no store can take the replacement",
    state: cluster([...stores(2), store(3, longDown)], [shard(1, { stores: [1, 2, 3] })]),
    want: [],
  },
  {
    name: "never targets a store low on space",
    state: cluster(
      [...stores(2), store(3, longDown), store(4, { availableBytes: 10 * GiB }), store(5)],
      [shard(1, { stores: [1, 2, 3] })],
    ),
    want: [
      "replica shard 1: addLearner(store 5, peer 1000), promoteLearner(store 5, peer 1000), " +
        "removePeer(store 3, peer 103)",
    ],
  },
  {
    name: "moves leadership to the new peer before removing a leader on an offline store",
    state: cluster(
      [store(1, { state: "offline" }), ...stores(4).slice(1)],
      [shard(1, { stores: [1, 2, 3], leader: 1 })],
    ),
    want: [
      "replica shard 1: addLearner(store 4, peer 1000), promoteLearner(store 4, peer 1000), " +
        "transferLeader(store 1 -> 4), removePeer(store 1, peer 101)",
    ],
  },
  {
    name: "leaves a shard that lost its quorum alone",
    state: cluster(
      [store(1), store(2, longDown), store(3, longDown), store(4), store(5)],
      [shard(1, { stores: [1, 2, 3] })],
    ),
    want: [],
  },
  {
    name: "adds a missing replica on the store with most free space",
    state: cluster(
      [...stores(3), store(4, { capacityBytes: 200 * GiB })],
      [shard(1, { stores: [1, 2] })],
    ),
    want: ["replica shard 1: addLearner(store 4, peer 1000), promoteLearner(store 4, peer 1000)"],
  },
  {
    name: "breaks ties between equal targets by fewest shards, then lowest id",
    state: cluster(stores(5), [shard(1, { stores: [1, 2] }), shard(2, { stores: [1, 2, 3] })]),
    want: ["replica shard 1: addLearner(store 4, peer 1000), promoteLearner(store 4, peer 1000)"],
  },
  {
    name: "removes the extra replica on the most loaded store",
    state: cluster(
      [...stores(3), store(4, { shardSizeBytes: 50 * GiB })],
      [shard(1, { stores: [1, 2, 3, 4] })],
    ),
    want: ["replica shard 1: removePeer(store 4, peer 104)"],
  },
  {
    name: "promotes a stray learner when the shard lacks a voter",
    state: cluster(stores(3), [shard(1, { stores: [1, 2], learners: [3] })]),
    want: ["replica shard 1: promoteLearner(store 3, peer 103)"],
  },
  {
    name: "removes a stray learner when the shard has its voters",
    state: cluster(stores(4), [shard(1, { stores: [1, 2, 3], learners: [4] })]),
    want: ["replica shard 1: removePeer(store 4, peer 104)"],
  },
  {
    name: "leaves a pending learner to catch up",
    state: cluster(stores(4), [shard(1, { stores: [1, 2, 3], learners: [4], pending: [4] })]),
    want: [],
  },
  {
    name: "spreads replacements of several shards over several stores",
    state: cluster(
      [...stores(2), store(3, longDown), store(4), store(5)],
      [shard(1, { stores: [1, 2, 3] }), shard(2, { stores: [1, 2, 3] })],
    ),
    want: [
      replace3With4,
      "replica shard 2: addLearner(store 5, peer 1001), promoteLearner(store 5, peer 1001), " +
        "removePeer(store 3, peer 203)",
    ],
  },
  {
    name: "respects the replica schedule limit, counting operators in flight",
    state: cluster(
      [...stores(2), store(3, longDown), store(4), store(5)],
      [shard(1, { stores: [1, 2, 3] }), shard(2, { stores: [1, 2, 3] })],
    ),
    options: {
      config: { scheduleLimits: { ...defaultSchedulerConfig.scheduleLimits, replica: 1 } },
    },
    want: [replace3With4],
  },
];

for (const c of cases) {
  test(`checkReplicas() ${c.name}`, opts, () => {
    assert.deepEqual(trace(checkReplicas(scheduleInput(c.state, c.options))), c.want);
  });
}

test("checkReplicas() skips shards with an operator in flight", opts, () => {
  const state = cluster(
    [...stores(2), store(3, longDown), store(4), store(5)],
    [shard(1, { stores: [1, 2, 3] }), shard(2, { stores: [1, 2, 3] })],
  );
  const first = checkReplicas(scheduleInput(state));
  assert.equal(first.length, 2);
  const again = checkReplicas(scheduleInput(state, { inFlight: [first[0]!] }));
  assert.deepEqual(
    again.map((op) => op.shardId),
    [2],
  );
  // The in-flight move to store 4 counts against store 4, so shard 2 now goes to store 5.
  assert.match(trace(again)[0]!, /addLearner\(store 5/);
});

test("checkReplicas() stamps operators with the shard epoch, kind, time and timeout", opts, () => {
  const state = cluster(
    [...stores(2), store(3, longDown), store(4)],
    [shard(1, { stores: [1, 2, 3], epoch: { confVersion: 9, version: 4 } })],
  );
  const [op] = checkReplicas(scheduleInput(state));
  assert.ok(op);
  assert.deepEqual(op.epoch, { confVersion: 9, version: 4 });
  assert.equal(op.kind, "replica");
  assert.equal(op.priority, "urgent");
  assert.equal(op.createdAtMs, NOW);
  assert.equal(op.timeoutMs, 10 * minute);
  assert.equal(op.id, `replica/1/${NOW}`);
});
