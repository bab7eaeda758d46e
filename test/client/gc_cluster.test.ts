/**
 * GC across SQL nodes and the safe-point cache race, on the in-process cluster
 * (`test_cluster.ts`): two `TxnClient`s stand for two SQL nodes sharing one PD and the KV
 * stores. Each client publishes its oldest running start ts to PD as a service safe
 * point; the GC worker on the other node must not pass it, and moves on once the
 * transaction ends. The GC worker waits out the clients' safe-point cache before telling
 * stores to collect, and a store refuses reads below the safe point it collected at, so a
 * reader with a stale cached safe point fails with `CLIENT:Txn:SnapshotTooOld` instead of
 * reading collected data.
 */
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { ErrorCode, type Timestamp, hasErrorCode, limits } from "../../src/base/mod.ts";
import {
  GcWorker,
  RpcStoreTransport,
  type StoreTransport,
  type TxnClient,
} from "../../src/client/mod.ts";
import type { Timers } from "../../src/env/mod.ts";
import { KvMethod } from "../../src/proto/mod.ts";
import { type TestCluster, b, quietLogger, startTestCluster, str } from "./test_cluster.ts";

const opts = { timeout: 30_000 };
let cluster: TestCluster | undefined;

afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

/** Polls `condition` every 5 ms, failing after 10 s. */
async function waitUntil(what: string, condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A GC worker on the node of `client`, collecting everything older than now. */
function gcWorker(c: TestCluster, client: TxnClient): GcWorker {
  return new GcWorker(c.env, {
    pd: c.newPdClient(),
    kv: client.kv,
    resolver: client.resolver,
    logger: quietLogger,
    candidate: "gc-node-b",
    gcLifeTimeMs: 0,
    collectDelayMs: 5,
    sources: [() => Promise.resolve(client.registry.minStartTs())],
  });
}

test("GC on one SQL node does not pass a long transaction on another until it commits", opts,
  async () => {
    const c = (cluster = await startTestCluster());
    const nodeA = c.client({ serviceSafePointIntervalMs: 20 });
    const nodeB = c.client({ serviceSafePointIntervalMs: 20 });
    const seed = await nodeB.begin();
    seed.set(b("long-1"), b("v1"));
    await seed.commit();
    const long = await nodeA.begin();
    await waitUntil("node A's start ts in PD", async () =>
      (await c.pdClient.getMinServiceSafePoint()) === long.startTs);
    // Node B overwrites the key, so GC past the long transaction would collect v1.
    const overwrite = await nodeB.begin();
    overwrite.set(b("long-1"), b("v2"));
    await overwrite.commit();
    const worker = gcWorker(c, nodeB);
    const held = await worker.runOnce();
    assert.equal(held.kind, "collected");
    assert.equal((held as { safePoint: Timestamp }).safePoint, long.startTs);
    assert.equal(await c.pdClient.getGcSafePoint(), long.startTs);
    assert.equal(str(await long.get(b("long-1"))), "v1");
    long.set(b("long-2"), b("done"));
    await long.commit();
    await waitUntil("node A's service safe point removed", async () =>
      (await c.pdClient.getMinServiceSafePoint()) === null);
    const moved = await worker.runOnce();
    assert.equal(moved.kind, "collected");
    assert.ok((await c.pdClient.getGcSafePoint()) > long.startTs);
  });

test("GC never moves the safe point back for a service safe point at or below it", opts,
  async () => {
    const c = (cluster = await startTestCluster());
    const node = c.client();
    const worker = gcWorker(c, node);
    assert.equal((await worker.runOnce()).kind, "collected");
    const first = await c.pdClient.getGcSafePoint();
    // A dump registers at the safe point in force (below it PD refuses, typed).
    await assert.rejects(
      c.pdClient.updateServiceSafePoint("dump-1", (first - 1n) as Timestamp, 60_000),
      (e: unknown) => hasErrorCode(e, ErrorCode.PdGcSafePointTooOld),
    );
    await c.pdClient.updateServiceSafePoint("dump-1", first, 60_000);
    assert.deepEqual(await worker.runOnce(), { kind: "unchanged", safePoint: first });
    assert.equal(await c.pdClient.getGcSafePoint(), first);
    await c.pdClient.updateServiceSafePoint("dump-1", first, 0);
    assert.equal((await worker.runOnce()).kind, "collected");
    assert.ok((await c.pdClient.getGcSafePoint()) > first);
  });

test("a closed TxnClient removes its service safe point from PD", opts, async () => {
  const c = (cluster = await startTestCluster());
  const node = c.client({ serviceSafePointIntervalMs: 20 });
  const txn = await node.begin();
  await waitUntil("the start ts in PD", async () =>
    (await c.pdClient.getMinServiceSafePoint()) === txn.startTs);
  await node.close();
  assert.equal(await c.pdClient.getMinServiceSafePoint(), null);
});

/** Passes every call through, recording the methods sent. */
function recording(inner: StoreTransport, methods: string[]): StoreTransport {
  return {
    call: (address, method, body, options) => {
      methods.push(method);
      return inner.call(address, method, body, options);
    },
    close: () => inner.close(),
  };
}

test("the GC worker waits longer than the client safe-point cache before kv.Gc", opts,
  async () => {
    const c = (cluster = await startTestCluster());
    const methods: string[] = [];
    const transport = recording(new RpcStoreTransport(c.env, { logger: quietLogger }), methods);
    const node = c.client({ kv: { transport } });
    const sleeps: number[] = [];
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const timers: Timers = {
      setTimeout: (ms, cb) => c.env.timers.setTimeout(ms, cb),
      setInterval: (ms, cb) => c.env.timers.setInterval(ms, cb),
      sleep: (ms) => {
        sleeps.push(ms);
        return released;
      },
    };
    // The default delay, not the other tests' short one.
    const worker = new GcWorker({ timers }, {
      pd: c.newPdClient(),
      kv: node.kv,
      resolver: node.resolver,
      logger: quietLogger,
      candidate: "gc-node-b",
      gcLifeTimeMs: 0,
    });
    const round = worker.runOnce();
    await waitUntil("the GC worker to wait", () => Promise.resolve(sleeps.length > 0));
    assert.ok((sleeps[0] as number) > limits.clientSafePointCacheMs, `slept ${sleeps[0]}`);
    assert.ok((await c.pdClient.getGcSafePoint()) > 0n, "PD has the safe point first");
    assert.equal(methods.filter((m) => m === KvMethod.gc).length, 0, "no kv.Gc yet");
    release();
    const result = await round;
    assert.equal(result.kind, "collected");
    assert.equal(methods.filter((m) => m === KvMethod.gc).length, 2, "one per shard");
  });

test("a store refuses reads below its GC safe point to a client with a stale cache", opts,
  async () => {
    const c = (cluster = await startTestCluster());
    const writer = c.client();
    const seed = await writer.begin();
    seed.set(b("stale-a"), b("v1"));
    seed.set(b("zstale"), b("v1"));
    await seed.commit();
    // This node trusts its cached safe point for a minute and has not published its
    // transaction to PD (the default interval), like a reader racing the GC worker.
    const reader = c.client({ safePointCacheMs: 60_000 });
    const old = await reader.begin();
    const overwrite = await writer.begin();
    overwrite.set(b("stale-a"), b("v2"));
    overwrite.set(b("zstale"), b("v2"));
    await overwrite.commit();
    const worker = gcWorker(c, writer);
    assert.equal((await worker.runOnce()).kind, "collected");
    const safePoint = await c.pdClient.getGcSafePoint();
    assert.ok(safePoint > old.startTs);
    assert.deepEqual(
      c.schedulers.map((s) => s.gcSafePointTs),
      [safePoint, safePoint],
      "each store recorded the safe point kv.Gc carried",
    );
    const tooOld = (e: unknown) => hasErrorCode(e, ErrorCode.ClientTxnSnapshotTooOld);
    await assert.rejects(old.get(b("stale-a")), tooOld);
    await assert.rejects(old.batchGet([b("stale-a"), b("zstale")]), tooOld);
    await assert.rejects(old.scan(b("stale-"), b("stale.")), tooOld);
    await assert.rejects(old.scan(b("zstale"), b("zstalf")), tooOld);
    await old.rollback();
    // At or above the safe point reads go on.
    const fresh = await reader.beginAt(safePoint);
    assert.equal(str(await fresh.get(b("stale-a"))), "v2");
    assert.deepEqual((await fresh.batchGet([b("stale-a"), b("zstale")])).map(str), ["v2", "v2"]);
    await fresh.commit();
  });
