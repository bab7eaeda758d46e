/**
 * Table tests of the hot-shard scheduler: read/write flow → leader transfers and peer moves.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { scheduleHotReads, scheduleHotWrites } from "./hot_scheduler.ts";
import {
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
import { defaultSchedulerConfig, type ClusterState } from "./types.ts";

const opts = { timeout: 5_000 };

interface Case {
  readonly name: string;
  readonly state: ClusterState;
  readonly options?: InputOptions;
  readonly want: readonly string[];
}

const readHot = { readBytesPerSec: 4 * MiB };
const writeHot = { writeBytesPerSec: 4 * MiB };

const readCases: Case[] = [
  {
    name: "no operator when no shard is read-hot, however leaders are placed",
    state: cluster(stores(3), [
      shard(1, { stores: [1, 2, 3], readBytesPerSec: MiB / 2 }),
      shard(2, { stores: [1, 2, 3], readBytesPerSec: MiB / 2 }),
    ]),
    want: [],
  },
  {
    name: "spreads the leaders of hot shards over the voters' stores",
    state: cluster(stores(3), [
      shard(1, { stores: [1, 2, 3], ...readHot }),
      shard(2, { stores: [1, 2, 3], ...readHot }),
      shard(3, { stores: [1, 2, 3], ...readHot }),
    ]),
    want: [
      "hotLeader shard 1: transferLeader(store 1 -> 2)",
      "hotLeader shard 2: transferLeader(store 1 -> 3)",
    ],
  },
  {
    name: "moves the hottest shard first",
    state: cluster(stores(3), [
      shard(1, { stores: [1, 2, 3], ...readHot }),
      shard(2, { stores: [1, 2, 3], readBytesPerSec: 9 * MiB }),
    ]),
    want: ["hotLeader shard 2: transferLeader(store 1 -> 2)"],
  },
  {
    name: "leaves a single hot shard where it is (no ping-pong)",
    state: cluster(stores(3), [shard(1, { stores: [1, 2, 3], ...readHot })]),
    want: [],
  },
  {
    name: "counts a shard hot by keys per second",
    state: cluster(stores(3), [
      shard(1, { stores: [1, 2, 3], readKeysPerSec: 5000, readBytesPerSec: 100 }),
      shard(2, { stores: [1, 2, 3], readKeysPerSec: 5000, readBytesPerSec: 100 }),
    ]),
    want: ["hotLeader shard 1: transferLeader(store 1 -> 2)"],
  },
  {
    name: "never moves a hot leader to a disconnected store",
    state: cluster(
      [store(1), store(2, { state: "disconnected", lastHeartbeatMs: NOW - 30_000 }), store(3)],
      [shard(1, { stores: [1, 2, 3], ...readHot }), shard(2, { stores: [1, 2, 3], ...readHot })],
    ),
    want: [],
  },
  {
    name: "respects the hot schedule limit",
    state: cluster(stores(3), [
      shard(1, { stores: [1, 2, 3], ...readHot }),
      shard(2, { stores: [1, 2, 3], ...readHot }),
      shard(3, { stores: [1, 2, 3], ...readHot }),
    ]),
    options: {
      config: { scheduleLimits: { ...defaultSchedulerConfig.scheduleLimits, hotLeader: 1 } },
    },
    want: ["hotLeader shard 1: transferLeader(store 1 -> 2)"],
  },
];

for (const c of readCases) {
  test(`scheduleHotReads() ${c.name}`, opts, () => {
    assert.deepEqual(trace(scheduleHotReads(scheduleInput(c.state, c.options))), c.want);
  });
}

const writeCases: Case[] = [
  {
    name: "no operator when no shard is write-hot",
    state: cluster(stores(4), [
      shard(1, { stores: [1, 2, 3], writeBytesPerSec: MiB / 4 }),
      shard(2, { stores: [1, 2, 3], writeBytesPerSec: MiB / 4 }),
    ]),
    want: [],
  },
  {
    name: "moves a hot peer to a store without write load",
    state: cluster(stores(4), [
      shard(1, { stores: [1, 2, 3], leader: 2, ...writeHot }),
      shard(2, { stores: [1, 2, 3], leader: 2, ...writeHot }),
    ]),
    want: [
      "hotPeer shard 1: addLearner(store 4, peer 1000), promoteLearner(store 4, peer 1000), " +
        "removePeer(store 1, peer 101)",
    ],
  },
  {
    name: "hands leadership over when the hot peer to move leads",
    state: cluster(stores(4), [
      shard(1, { stores: [1, 2, 3], leader: 1, ...writeHot }),
      shard(2, { stores: [1, 2, 3], leader: 2, ...writeHot }),
    ]),
    want: [
      "hotPeer shard 1: addLearner(store 4, peer 1000), promoteLearner(store 4, peer 1000), " +
        "transferLeader(store 1 -> 4), removePeer(store 1, peer 101)",
    ],
  },
  {
    name: "never moves a hot peer to a down store",
    state: cluster(
      [...stores(3), store(4, { state: "down", lastHeartbeatMs: NOW - 3_600_000 })],
      [shard(1, { stores: [1, 2, 3], ...writeHot }), shard(2, { stores: [1, 2, 3], ...writeHot })],
    ),
    want: [],
  },
  {
    name: "no operator when every store carries the same write load",
    state: cluster(stores(3), [
      shard(1, { stores: [1, 2, 3], ...writeHot }),
      shard(2, { stores: [1, 2, 3], ...writeHot }),
    ]),
    want: [],
  },
];

for (const c of writeCases) {
  test(`scheduleHotWrites() ${c.name}`, opts, () => {
    assert.deepEqual(trace(scheduleHotWrites(scheduleInput(c.state, c.options))), c.want);
  });
}

test("scheduleHotReads() counts hot leader transfers in flight as done", opts, () => {
  const state = cluster(stores(3), [
    shard(1, { stores: [1, 2, 3], ...readHot }),
    shard(2, { stores: [1, 2, 3], ...readHot }),
    shard(3, { stores: [1, 2, 3], ...readHot }),
  ]);
  const [first] = scheduleHotReads(scheduleInput(state));
  assert.ok(first);
  assert.deepEqual(trace(scheduleHotReads(scheduleInput(state, { inFlight: [first] }))), [
    "hotLeader shard 2: transferLeader(store 1 -> 3)",
  ]);
});
