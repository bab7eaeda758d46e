/**
 * Table tests of the split checker (size, keys, load) and of manual splits at keys.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, hasErrorCode } from "../../base/mod.ts";
import { checkSplits, splitAtKeys } from "./split_checker.ts";
import {
  NOW,
  cluster,
  scheduleInput,
  shard,
  shardKey,
  stores,
  trace,
  type InputOptions,
} from "./test_support.ts";
import { defaultSchedulerConfig, type ClusterState } from "./types.ts";

const opts = { timeout: 5_000 };
const on = [1, 2, 3];

interface Case {
  readonly name: string;
  readonly state: ClusterState;
  readonly options?: InputOptions;
  readonly want: readonly string[];
}

const cases: Case[] = [
  {
    name: "no operator for shards below every threshold",
    state: cluster(stores(3), [
      shard(1, { stores: on, sizeMiB: 95, keys: 959_999, queriesPerSec: 2999 }),
    ]),
    want: [],
  },
  {
    name: "splits a shard at the size threshold",
    state: cluster(stores(3), [shard(1, { stores: on, sizeMiB: 96 })]),
    want: ["split shard 1: splitShard(approximate)"],
  },
  {
    name: "splits a shard at the key-count threshold",
    state: cluster(stores(3), [shard(1, { stores: on, keys: 960_000 })]),
    want: ["split shard 1: splitShard(approximate)"],
  },
  {
    name: "splits a shard by load above the QPS threshold",
    state: cluster(stores(3), [shard(1, { stores: on, queriesPerSec: 3000 })]),
    want: ["split shard 1: splitShard(loadBased)"],
  },
  {
    name: "prefers a size split when a shard is both big and busy",
    state: cluster(stores(3), [shard(1, { stores: on, sizeMiB: 200, queriesPerSec: 9000 })]),
    want: ["split shard 1: splitShard(approximate)"],
  },
  {
    name: "respects the split schedule limit, lowest shard id first",
    state: cluster(stores(3), [
      shard(3, { stores: on, sizeMiB: 200 }),
      shard(1, { stores: on, sizeMiB: 200 }),
      shard(2, { stores: on, sizeMiB: 200 }),
    ]),
    options: { config: { scheduleLimits: { ...defaultSchedulerConfig.scheduleLimits, split: 2 } } },
    want: ["split shard 1: splitShard(approximate)", "split shard 2: splitShard(approximate)"],
  },
];

for (const c of cases) {
  test(`checkSplits() ${c.name}`, opts, () => {
    assert.deepEqual(trace(checkSplits(scheduleInput(c.state, c.options))), c.want);
  });
}

test("checkSplits() skips shards with an operator in flight", opts, () => {
  const state = cluster(stores(3), [shard(1, { stores: on, sizeMiB: 200 })]);
  const first = checkSplits(scheduleInput(state));
  assert.equal(first.length, 1);
  assert.deepEqual(checkSplits(scheduleInput(state, { inFlight: first })), []);
});

test("splitAtKeys() plans a byKeys split carrying copies of the keys", opts, () => {
  const s = shard(5, { stores: on });
  const key = new Uint8Array([...shardKey(5), 0x01]);
  const op = splitAtKeys(s, [key], { nowMs: NOW, config: defaultSchedulerConfig });
  assert.deepEqual(trace([op]), ["split shard 5: splitShard(byKeys, 1 keys)"]);
  const step = op.steps[0];
  assert.ok(step?.kind === "splitShard" && step.keys !== undefined);
  assert.deepEqual(step.keys[0], key);
  key[0] = 0;
  assert.notDeepEqual(step.keys[0], key);
});

test("splitAtKeys() rejects keys outside the shard, unsorted or missing", opts, () => {
  const s = shard(5, { stores: on });
  const inside = (b: number): Uint8Array => new Uint8Array([...shardKey(5), b]);
  const bad: Uint8Array[][] = [
    [],
    [shardKey(5)],
    [shardKey(6)],
    [shardKey(4)],
    [inside(2), inside(1)],
    [inside(1), inside(1)],
  ];
  for (const keys of bad) {
    assert.throws(
      () => splitAtKeys(s, keys, { nowMs: NOW, config: defaultSchedulerConfig }),
      (e: unknown) => hasErrorCode(e, ErrorCode.PdScheduleBadSplitKey),
    );
  }
});

test("splitAtKeys() accepts any key after the start of the last shard", opts, () => {
  const s = shard(5, { stores: on, last: true });
  const op = splitAtKeys(s, [shardKey(900)], { nowMs: NOW, config: defaultSchedulerConfig });
  assert.equal(op.kind, "split");
});
