/**
 * Tests of the scheduler's pipelined pessimistic lock (TiKV's `pessimistic-txn.pipelined`):
 * an acquired lock is answered once its write is proposed, before it is applied; the
 * keys' latches stay held until the write is applied, so a competing lock request sees
 * the lock; a lock whose write is lost after the answer makes the transaction's prewrite
 * fail with PessimisticLockNotFound; switched off, the answer waits for the apply.
 *
 * The store is `LocalStoreShards` behind a gate that holds every write after reporting
 * it proposed, so "proposed but not applied" is a state the test controls.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Timestamp, composeTimestamp } from "../../base/mod.ts";
import { createNodeEnv } from "../../env/mod.ts";
import type { PessimisticLockReply, RouteError, ShardContext } from "../../proto/mod.ts";
import type { WriteOp } from "../engine/engine.ts";
import { MemoryEngine } from "../engine/memory_engine.ts";
import { LocalStoreShards, wholeKeySpaceShard } from "../store/local_store_shards.ts";
import type { ShardWriteOptions, StoreShards } from "../store/store_shards.ts";
import { testClusterId } from "./test_kv.ts";
import { TxnScheduler } from "./txn_scheduler.ts";

const timeout = { timeout: 30_000 };
const env = createNodeEnv();
const header = { clusterId: testClusterId };

/** A store that reports each write proposed, then holds it until `open()`. */
class GatedStore implements StoreShards {
  readonly inner = new LocalStoreShards(new MemoryEngine(),
    [wholeKeySpaceShard({ shardId: 1, peerId: 2, storeId: 1 })]);
  applied = 0;
  /** When set, held writes are dropped with this error instead of applied. */
  lostWith: RouteError | undefined;
  private readonly held: (() => void)[] = [];
  private isOpen = false;

  read: StoreShards["read"] = (ctx, options) => this.inner.read(ctx, options);
  shards: StoreShards["shards"] = () => this.inner.shards();

  async write(ctx: ShardContext, ops: readonly WriteOp[], options?: ShardWriteOptions):
    ReturnType<StoreShards["write"]> {
    options?.onProposed?.();
    if (!this.isOpen) await new Promise<void>((resolve) => this.held.push(resolve));
    if (this.lostWith !== undefined) return this.lostWith;
    const result = await this.inner.write(ctx, ops);
    this.applied++;
    return result;
  }

  open(): void {
    this.isOpen = true;
    for (const release of this.held.splice(0)) release();
  }

  context(): ShardContext {
    const shard = this.inner.shards()[0]!.shard;
    return { shardId: shard.id, epoch: shard.epoch };
  }
}

let lastTs = 0n;
function ts(): Timestamp {
  const next = composeTimestamp(Date.now(), 0);
  lastTs = next > lastTs ? next : lastTs + 1n;
  return lastTs as Timestamp;
}

function lockRequest(store: GatedStore, key: string, startTs: Timestamp) {
  const k = new TextEncoder().encode(key);
  return { header, context: store.context(), keys: [{ key: k }], primary: k, startTs,
    forUpdateTs: startTs, lockTtlMs: 3000, waitMode: "noWait" as const };
}

/** Lets every pending callback run (several macrotask turns); asserts nothing by itself. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

function track<T>(promise: Promise<T>): { settled: boolean; promise: Promise<T> } {
  const tracked = { settled: false, promise };
  void promise.then(() => { tracked.settled = true; }, () => { tracked.settled = true; });
  return tracked;
}

test("a pipelined lock is answered before its write applies; a competitor waits for the apply",
  timeout, async () => {
    const store = new GatedStore();
    const scheduler = new TxnScheduler({ store, clock: env.clock, timers: env.timers });
    const first = await scheduler.pessimisticLock(lockRequest(store, "k", ts()));
    assert.deepEqual(first, { values: [] });
    assert.equal(store.applied, 0, "answered before the lock was applied");
    const second = track(scheduler.pessimisticLock(lockRequest(store, "k", ts())));
    await settle();
    assert.equal(second.settled, false, "the competitor ran before the first lock applied");
    store.open();
    const reply: PessimisticLockReply = await second.promise;
    assert.equal(reply.keyError?.kind, "keyIsLocked");
    assert.equal(store.applied, 1);
    scheduler.close();
  });

test("a pipelined lock lost after its answer fails the prewrite with PessimisticLockNotFound",
  timeout, async () => {
    const store = new GatedStore();
    const scheduler = new TxnScheduler({ store, clock: env.clock, timers: env.timers });
    const startTs = ts();
    const request = lockRequest(store, "lost", startTs);
    assert.deepEqual(await scheduler.pessimisticLock(request), { values: [] });
    store.lostWith = { kind: "notLeader", shardId: 1 };
    store.open();
    await settle();
    store.lostWith = undefined;
    const prewrite = await scheduler.prewrite({
      header, context: store.context(), primary: request.primary, startTs, lockTtlMs: 3000,
      mutations: [{ kind: "put", key: request.primary, value: new Uint8Array([1]) }],
      pessimistic: { forUpdateTs: startTs, locked: [true] },
    });
    assert.equal(prewrite.keyError?.kind, "pessimisticLockNotFound");
    scheduler.close();
  });

test("with pipelining off, a lock is answered only once applied", timeout, async () => {
  const store = new GatedStore();
  const scheduler = new TxnScheduler({ store, clock: env.clock, timers: env.timers,
    pipelinedPessimisticLock: false });
  const first = track(scheduler.pessimisticLock(lockRequest(store, "k", ts())));
  await settle();
  assert.equal(first.settled, false, "answered before the lock was applied");
  store.open();
  assert.deepEqual(await first.promise, { values: [] });
  assert.equal(store.applied, 1);
  scheduler.close();
});
