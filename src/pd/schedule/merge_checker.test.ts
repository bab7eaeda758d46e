/**
 * Table tests of the merge checker: small cold neighbours on the same stores → merges.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkMerges } from "./merge_checker.ts";
import {
  MiB,
  NOW,
  cluster,
  scheduleInput,
  shard,
  shardKey,
  stores,
  trace,
  type InputOptions,
  type ShardSpec,
} from "./test_support.ts";
import { defaultSchedulerConfig, type ClusterState, type ShardInfo } from "./types.ts";

const opts = { timeout: 5_000 };
const on = [1, 2, 3];
const hour = 3_600_000;

interface Case {
  readonly name: string;
  readonly state: ClusterState;
  readonly options?: InputOptions;
  readonly want: readonly string[];
}

/** Shards 1-3 (adjacent, 3 is last) with sizes in MiB and per-shard overrides. */
function three(sizes: [number, number, number], extra: Partial<ShardSpec>[] = []): ShardInfo[] {
  return sizes.map((sizeMiB, i) =>
    shard(i + 1, { stores: on, sizeMiB, last: i === 2, ...extra[i] }),
  );
}

const cases: Case[] = [
  {
    name: "no operator when no shard is small",
    state: cluster(stores(4), three([50, 30, 40])),
    want: [],
  },
  {
    name: "merges a small shard into its smaller neighbour",
    state: cluster(stores(4), three([50, 5, 10])),
    want: ["merge shard 2: mergeShard(shard 2 into 3)"],
  },
  {
    name: "breaks a size tie between neighbours towards the left one",
    state: cluster(stores(4), three([10, 5, 10])),
    want: ["merge shard 1: mergeShard(shard 1 into 2)"],
  },
  {
    name: "never merges shards whose peers are on different stores",
    state: cluster(
      stores(4),
      three([50, 5, 10], [{ stores: [1, 2, 4] }, {}, { stores: [1, 2, 4] }]),
    ),
    want: [],
  },
  {
    name: "never merges a hot source",
    state: cluster(stores(4), three([50, 5, 10], [{}, { writeBytesPerSec: 2 * MiB }])),
    want: [],
  },
  {
    name: "never merges into a hot target, trying the other neighbour",
    state: cluster(stores(4), three([25, 5, 10], [{}, {}, { readKeysPerSec: 5000 }])),
    want: ["merge shard 2: mergeShard(shard 2 into 1)"],
  },
  {
    name: "never merges a busy source even when cold by bytes",
    state: cluster(stores(4), three([50, 5, 50], [{}, { queriesPerSec: 4000 }])),
    want: [],
  },
  {
    name: "never merges a recently split shard",
    state: cluster(stores(4), three([50, 5, 50], [{}, { lastSplitMs: NOW - hour / 2 }])),
    want: [],
  },
  {
    name: "merges a shard that split longer ago than the interval",
    state: cluster(stores(4), three([50, 5, 50], [{}, { lastSplitMs: NOW - 2 * hour }])),
    want: ["merge shard 2: mergeShard(shard 2 into 1)"],
  },
  {
    name: "never merges into a neighbour that would exceed the split size",
    state: cluster(stores(4), three([90, 10, 90])),
    want: [],
  },
  {
    name: "never merges shards that are not adjacent",
    state: cluster(stores(4), [
      shard(2, { stores: on, sizeMiB: 5 }),
      shard(4, { stores: on, sizeMiB: 5, last: true }),
    ]),
    want: [],
  },
  {
    name: "never merges a shard missing a replica",
    state: cluster(stores(4), three([50, 5, 10], [{}, { stores: [1, 2] }, { stores: [1, 2] }])),
    want: [],
  },
  {
    name: "respects the merge schedule limit",
    state: cluster(stores(4), [
      ...three([5, 5, 50]).slice(0, 2),
      shard(3, { stores: on, sizeMiB: 50 }),
      shard(4, { stores: on, sizeMiB: 5 }),
      shard(5, { stores: on, sizeMiB: 5, last: true }),
    ]),
    options: { config: { scheduleLimits: { ...defaultSchedulerConfig.scheduleLimits, merge: 1 } } },
    want: ["merge shard 1: mergeShard(shard 1 into 2)"],
  },
];

for (const c of cases) {
  test(`checkMerges() ${c.name}`, opts, () => {
    assert.deepEqual(trace(checkMerges(scheduleInput(c.state, c.options))), c.want);
  });
}

test("checkMerges() plans disjoint merges and holds both shards of each", opts, () => {
  const state = cluster(stores(3), [
    shard(1, { stores: on, sizeMiB: 5 }),
    shard(2, { stores: on, sizeMiB: 5 }),
    shard(3, { stores: on, sizeMiB: 5 }),
    shard(4, { stores: on, sizeMiB: 5, last: true }),
  ]);
  const ops = checkMerges(scheduleInput(state));
  assert.deepEqual(trace(ops), [
    "merge shard 1: mergeShard(shard 1 into 2)",
    "merge shard 3: mergeShard(shard 3 into 4)",
  ]);
  // With the first merge in flight, shard 2 (its target) is busy too.
  assert.deepEqual(trace(checkMerges(scheduleInput(state, { inFlight: [ops[0]!] }))), [
    "merge shard 3: mergeShard(shard 3 into 4)",
  ]);
  const step = ops[0]?.steps[0];
  assert.ok(step?.kind === "mergeShard");
  assert.deepEqual(step.targetEpoch, { confVersion: 5, version: 5 });
  assert.deepEqual(step.sourceStartKey, new Uint8Array());
  assert.deepEqual(step.sourceEndKey, shardKey(2));
});
