/**
 * Table tests of the balance-shard scheduler: cluster state → replica moves.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { balanceShards } from "./balance_shard.ts";
import {
  GiB,
  MiB,
  NOW,
  cluster,
  scheduleInput,
  shard,
  store,
  stores,
  trace,
  type InputOptions,
} from "./test_support.ts";
import { defaultSchedulerConfig, type ClusterState, type ShardInfo } from "./types.ts";

const opts = { timeout: 5_000 };

interface Case {
  readonly name: string;
  readonly state: ClusterState;
  readonly options?: InputOptions;
  readonly want: readonly string[];
}

/** Four 100 MiB shards on stores 1-3, leaders rotating over them. */
function fourOnThree(extra: { readonly pending?: number[] } = {}): ShardInfo[] {
  return [1, 2, 3, 4].map((id) =>
    shard(id, { stores: [1, 2, 3], leader: ((id - 1) % 3) + 1, sizeMiB: 100, ...extra }),
  );
}

const moveShard2 =
  "balanceShard shard 2: addLearner(store 4, peer 1000), promoteLearner(store 4, peer 1000), " +
  "removePeer(store 1, peer 201)";
const moveShard1 =
  "balanceShard shard 1: addLearner(store 4, peer 1001), promoteLearner(store 4, peer 1001), " +
  "removePeer(store 2, peer 102)";

const cases: Case[] = [
  {
    name: "no operator when stores hold equal sizes",
    state: cluster(stores(3), fourOnThree()),
    want: [],
  },
  {
    name: "no operator when the gap is within tolerance",
    state: cluster([...stores(3), store(4, { shardSizeBytes: 250 * MiB })], fourOnThree()),
    want: [],
  },
  {
    name: "moves followers from the fullest stores to the emptiest, without overshooting",
    state: cluster(stores(4), fourOnThree()),
    want: [moveShard2, moveShard1],
  },
  {
    name: "moves a leader replica with a leader transfer to the new peer",
    state: cluster(
      [store(1, { shardSizeBytes: GiB }), ...stores(4).slice(1)],
      [shard(1, { stores: [1, 2, 3], leader: 1, sizeMiB: 10 })],
    ),
    want: [
      "balanceShard shard 1: addLearner(store 4, peer 1000), promoteLearner(store 4, peer 1000), " +
        "transferLeader(store 1 -> 4), removePeer(store 1, peer 101)",
    ],
  },
  {
    name: "never targets a down store",
    state: cluster(
      [...stores(3), store(4, { state: "down", lastHeartbeatMs: NOW - 3_600_000 })],
      fourOnThree(),
    ),
    want: [],
  },
  {
    name: "never targets a store low on space",
    state: cluster(
      [...stores(3), store(4, { capacityBytes: GiB, availableBytes: 150 * MiB })],
      fourOnThree(),
    ),
    want: [],
  },
  {
    name: "leaves shards with pending peers alone",
    state: cluster(stores(4), fourOnThree({ pending: [2] })),
    want: [],
  },
  {
    name: "respects the shard schedule limit",
    state: cluster(stores(4), fourOnThree()),
    options: {
      config: { scheduleLimits: { ...defaultSchedulerConfig.scheduleLimits, balanceShard: 1 } },
    },
    want: [moveShard2],
  },
];

for (const c of cases) {
  test(`balanceShards() ${c.name}`, opts, () => {
    assert.deepEqual(trace(balanceShards(scheduleInput(c.state, c.options))), c.want);
  });
}

test("balanceShards() counts moves in flight against both stores", opts, () => {
  const state = cluster(stores(4), fourOnThree());
  const [first] = balanceShards(scheduleInput(state));
  assert.ok(first);
  // With shard 2's move in flight, the next round plans exactly the second move.
  assert.deepEqual(
    trace(balanceShards(scheduleInput(state, { inFlight: [first] }))).map((t) =>
      t.replace(/peer 100\d/g, "peer N"),
    ),
    [moveShard1.replace(/peer 100\d/g, "peer N")],
  );
});
