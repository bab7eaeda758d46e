/**
 * Tests of the PD worker's shard heartbeats: after it carries out an operator step (a
 * split's new halves, a new peer) it reports the shards again at once rather than a whole
 * heartbeat interval later, as TiKV reports a split, and it does that once per tick, so a
 * step PD keeps answering while it is in progress is not re-sent in a loop.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { zeroTimestamp } from "../../base/mod.ts";
import { createNodeEnv } from "../../env/mod.ts";
import type { ShardOperatorStep } from "../../proto/mod.ts";
import { MemoryEngine } from "../engine/memory_engine.ts";
import { LocalStoreShards, wholeKeySpaceShard } from "../store/local_store_shards.ts";
import { PdWorker } from "./pd_worker.ts";

const timeout = { timeout: 30_000 };
const hour = 3_600_000;
const noLoad = { approximateSizeBytes: 0, approximateKeys: 0, readBytesPerSec: 0,
  readKeysPerSec: 0, writeBytesPerSec: 0, writeKeysPerSec: 0, queriesPerSec: 0 };

/** A worker over one shard whose PD answers heartbeats with `steps(n)` (n counts from 1). */
function workerWith(steps: (heartbeat: number) => ShardOperatorStep | null) {
  const env = createNodeEnv();
  let heartbeats = 0;
  let executed = 0;
  const worker = new PdWorker({
    pd: {
      storeHeartbeat: () => Promise.resolve(zeroTimestamp),
      shardHeartbeat: () => Promise.resolve(steps(++heartbeats)),
    },
    timers: env.timers,
    storeId: 1,
    store: new LocalStoreShards(new MemoryEngine(),
      [wholeKeySpaceShard({ shardId: 1, peerId: 2, storeId: 1 })]),
    operations: {
      executeStep: () => {
        executed++;
        return Promise.resolve({ kind: "ok", value: null });
      },
    } as unknown as ConstructorParameters<typeof PdWorker>[0]["operations"],
    logger: { info: () => undefined, warn: () => undefined },
    storeHeartbeatIntervalMs: hour,
    shardHeartbeatIntervalMs: hour,
    storeStats: () => ({ capacityBytes: 0, availableBytes: 0, usedBytes: 0,
      readBytesPerSec: 0, writeBytesPerSec: 0 }) as never,
    shardStats: () => noLoad as never,
  });
  return { worker, heartbeats: () => heartbeats, executed: () => executed };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Lets pending callbacks run (several macrotask turns); asserts nothing by itself. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

const split: ShardOperatorStep = { kind: "splitShard", policy: "loadBased" };

test("an executed step is followed by a shard heartbeat at once, not an interval later",
  timeout, async () => {
    const t = workerWith((n) => (n === 1 ? split : null));
    t.worker.start();
    try {
      await until(() => t.heartbeats() === 2, "the follow-up heartbeat");
      assert.equal(t.executed(), 1);
      await settle();
      assert.equal(t.heartbeats(), 2, "no heartbeat after a round without a step");
    } finally {
      await t.worker.stop();
    }
  });

test("a step PD keeps answering gets one follow-up round per tick, not a loop", timeout,
  async () => {
    const t = workerWith(() => split);
    t.worker.start();
    try {
      await until(() => t.heartbeats() === 2, "the follow-up heartbeat");
      await settle();
      assert.equal(t.heartbeats(), 2);
      assert.equal(t.executed(), 2);
    } finally {
      await t.worker.stop();
    }
  });
