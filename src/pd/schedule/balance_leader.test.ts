/**
 * Table tests of the balance-leader scheduler: cluster state → leader transfers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { balanceLeaders } from "./balance_leader.ts";
import { makeOperator } from "./operator.ts";
import {
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
import { storeId } from "../../base/mod.ts";

const opts = { timeout: 5_000 };

interface Case {
  readonly name: string;
  readonly state: ClusterState;
  readonly options?: InputOptions;
  readonly want: readonly string[];
}

/** `n` shards on stores 1-3, all led by store 1. */
function ledByOne(n: number): ShardInfo[] {
  return Array.from({ length: n }, (_, i) => shard(i + 1, { stores: [1, 2, 3], leader: 1 }));
}

const cases: Case[] = [
  {
    name: "no operator when every store leads as many shards",
    state: cluster(stores(3), [
      shard(1, { stores: [1, 2, 3], leader: 1 }),
      shard(2, { stores: [1, 2, 3], leader: 2 }),
      shard(3, { stores: [1, 2, 3], leader: 3 }),
    ]),
    want: [],
  },
  {
    name: "no operator when the gap is within tolerance (one leader)",
    state: cluster(stores(3), [
      shard(1, { stores: [1, 2, 3], leader: 1 }),
      shard(2, { stores: [1, 2, 3], leader: 1 }),
      shard(3, { stores: [1, 2, 3], leader: 2 }),
      shard(4, { stores: [1, 2, 3], leader: 3 }),
    ]),
    want: [],
  },
  {
    name: "no operator when the gap is within the tolerance ratio of the average",
    state: cluster(
      [
        store(1, { leaderCount: 104 }),
        store(2, { leaderCount: 100 }),
        store(3, { leaderCount: 100 }),
      ],
      ledByOne(3),
    ),
    want: [],
  },
  {
    name: "moves leaders from the busiest store to the idlest until within tolerance",
    state: cluster(stores(3), ledByOne(4)),
    want: [
      "balanceLeader shard 1: transferLeader(store 1 -> 2)",
      "balanceLeader shard 2: transferLeader(store 1 -> 3)",
    ],
  },
  {
    name: "only transfers to a store holding a voter of the shard",
    state: cluster(stores(4), ledByOne(4)),
    want: [
      "balanceLeader shard 1: transferLeader(store 1 -> 2)",
      "balanceLeader shard 2: transferLeader(store 1 -> 3)",
    ],
  },
  {
    name: "never transfers to a learner",
    state: cluster(stores(4), [
      shard(1, { stores: [1, 2, 3], leader: 1, learners: [4] }),
      shard(2, { stores: [1, 2, 3], leader: 2 }),
      shard(3, { stores: [1, 2, 3], leader: 3 }),
      shard(4, { stores: [1, 2, 3], leader: 1 }),
    ]),
    want: [],
  },
  {
    name: "never transfers to a down or disconnected store",
    state: cluster(
      [
        store(1),
        store(2, { state: "disconnected", lastHeartbeatMs: NOW - 30_000 }),
        store(3, { state: "down", lastHeartbeatMs: NOW - 3_600_000 }),
      ],
      ledByOne(4),
    ),
    want: [],
  },
  {
    name: "respects the leader schedule limit",
    state: cluster(stores(3), ledByOne(4)),
    options: {
      config: { scheduleLimits: { ...defaultSchedulerConfig.scheduleLimits, balanceLeader: 1 } },
    },
    want: ["balanceLeader shard 1: transferLeader(store 1 -> 2)"],
  },
];

for (const c of cases) {
  test(`balanceLeaders() ${c.name}`, opts, () => {
    assert.deepEqual(trace(balanceLeaders(scheduleInput(c.state, c.options))), c.want);
  });
}

test("balanceLeaders() counts transfers in flight and skips their shards", opts, () => {
  const state = cluster(stores(3), ledByOne(4));
  const first = shard(1, { stores: [1, 2, 3], leader: 1 });
  const inFlight = makeOperator(first, "balanceLeader", {
    steps: [{ kind: "transferLeader", fromStoreId: storeId(1), toStoreId: storeId(2) }],
    description: "test",
    nowMs: NOW,
    config: defaultSchedulerConfig,
    priority: "normal",
  });
  assert.deepEqual(trace(balanceLeaders(scheduleInput(state, { inFlight: [inFlight] }))), [
    "balanceLeader shard 2: transferLeader(store 1 -> 3)",
  ]);
});
