/**
 * `PdClient` against in-process PD servers on 127.0.0.1 (embedded metadata store): the
 * cluster id, TSO, ids, stores, GC safe point and elections; the shard cache's hits,
 * misses and invalidation; following a follower's leader hint; finding the new
 * leader after the leader stops (two members on one metadata store); and the bound on
 * retries when no PD answers.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, TesseraError, hasErrorCode } from "../../src/base/mod.ts";
import type { Timestamp } from "../../src/base/mod.ts";
import { PdClient } from "../../src/client/mod.ts";
import { createNodeEnv } from "../../src/env/mod.ts";
import { EmbeddedMetaStore, PdServer, silentPdLogger } from "../../src/pd/mod.ts";
import { PdMethod, type ShardMeta } from "../../src/proto/mod.ts";
import { RpcServer } from "../../src/rpc/mod.ts";

const opts = { timeout: 30_000 };
const env = createNodeEnv();
const logger = { warn: () => undefined, error: () => undefined };
let root = "";
let counter = 0;
const cleanups: (() => Promise<void>)[] = [];

before(() => {
  root = mkdtempSync(join(tmpdir(), "tessera-pd-client-"));
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  if (root !== "") rmSync(root, { recursive: true, force: true });
});

async function waitFor(what: string, condition: () => boolean): Promise<void> {
  const deadline = performance.now() + 15_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const storeMeta = (id: number) => ({
  id,
  address: `127.0.0.1:${20160 + id}`,
  statusAddress: "",
  version: "0.1.0",
  labels: {},
});
const shardMeta = (id: number, start: string, end: string, version: number): ShardMeta => ({
  id,
  startKey: b(start),
  endKey: b(end),
  epoch: { confVersion: 1, version },
  peers: [{ peerId: id * 10, storeId: 1, role: "voter" }],
});

async function openStore(): Promise<EmbeddedMetaStore> {
  const store = await EmbeddedMetaStore.open(env, { dir: join(root, `meta-${++counter}`) });
  cleanups.push(() => store.close());
  return store;
}

async function startMember(store: EmbeddedMetaStore, name = "pd-1"): Promise<PdServer> {
  const pd = await PdServer.start(env, {
    name,
    host: "127.0.0.1",
    port: 0,
    store,
    logger: silentPdLogger,
    leaseTtlMs: 1_000,
  });
  cleanups.push(() => pd.stop());
  return pd;
}

const addressOf = (pd: PdServer): string => `127.0.0.1:${pd.address.port}`;

function client(endpoints: readonly string[], extra: Partial<{ attemptsMax: number }> = {}) {
  const c = new PdClient(env, { endpoints, logger, backoffMsMin: 5, backoffMsMax: 50, ...extra });
  cleanups.push(() => c.close());
  return c;
}

async function bootstrappedPd(): Promise<{ pd: PdServer; pdClient: PdClient }> {
  const pd = await startMember(await openStore());
  await waitFor("leadership", () => pd.isLeader);
  const pdClient = client([addressOf(pd)]);
  await pdClient.bootstrap(storeMeta(1), shardMeta(1, "", "", 1));
  return { pd, pdClient };
}

test(
  "PdClient learns the cluster id and serves timestamps, ids, stores, GC and elections",
  opts,
  async () => {
    const { pd, pdClient } = await bootstrappedPd();
    assert.equal(await pdClient.clusterId(), pd.clusterId);
    assert.equal(await pdClient.isBootstrapped(), true);
    const t1 = await pdClient.getTimestamp();
    const t2 = await pdClient.getTimestamp();
    assert.ok(t2 > t1, "timestamps increase");
    const first = await pdClient.allocIds(10);
    assert.ok((await pdClient.allocIds(1)) >= first + 10, "ids are never reused");
    await pdClient.putStore(storeMeta(2));
    const stats = { capacityBytes: 100, availableBytes: 60 };
    await pdClient.storeHeartbeat(2, { ...stats, usedBytes: 40, ...zeroLoad });
    assert.equal((await pdClient.getStore(2)).address, storeMeta(2).address);
    assert.equal((await pdClient.getStore(2)).address, storeMeta(2).address);
    assert.deepEqual(
      [pdClient.stats.storeCacheMisses, pdClient.stats.storeCacheHits],
      [1, 1],
      "the second lookup is served from the cache",
    );
    await assert.rejects(pdClient.getStore(9), (e: unknown) =>
      hasErrorCode(e, ErrorCode.PdStoreUnknown),
    );
    assert.equal(await pdClient.updateGcSafePoint(100n as Timestamp), 100n);
    assert.equal(await pdClient.updateGcSafePoint(50n as Timestamp), 100n);
    assert.equal(await pdClient.getGcSafePoint(), 100n);
    assert.equal((await pdClient.campaign("gc-worker", "sql-a", 5_000)).elected, true);
    assert.equal((await pdClient.campaign("gc-worker", "sql-b", 5_000)).elected, false);
    assert.equal((await pdClient.renewOwner("gc-worker", "sql-a")).elected, true);
    assert.equal(await pdClient.getOwner("gc-worker"), "sql-a");
    await pdClient.resignOwner("gc-worker", "sql-a");
    assert.equal(await pdClient.getOwner("gc-worker"), null);
  },
);

const zeroLoad = { shardCount: 0, leaderCount: 0, readBytesPerSec: 0, writeBytesPerSec: 0 };
const noShardLoad = {
  approximateSizeBytes: 0,
  approximateKeys: 0,
  readBytesPerSec: 0,
  readKeysPerSec: 0,
  writeBytesPerSec: 0,
  writeKeysPerSec: 0,
  queriesPerSec: 0,
};

test(
  "PdClient shard cache: a miss asks PD, a hit does not, an invalidated shard is asked again",
  opts,
  async () => {
    const { pdClient } = await bootstrappedPd();
    const heartbeat = (shard: ShardMeta) =>
      pdClient.shardHeartbeat({
        shard,
        leaderPeerId: shard.peers[0]!.peerId,
        pendingPeerIds: [],
        stats: noShardLoad,
      });
    assert.equal(await heartbeat(shardMeta(1, "", "", 1)), null);
    const idOf = async (key: string) => (await pdClient.getShardByKey(b(key)))?.shard.id;
    assert.equal(await idOf("a"), 1);
    assert.equal(await idOf("z"), 1);
    assert.deepEqual([pdClient.stats.shardCacheMisses, pdClient.stats.shardCacheHits], [1, 1]);
    // Shard 1 splits at "m" in PD; the cache still holds the old route until told.
    await heartbeat(shardMeta(2, "m", "", 2));
    await heartbeat(shardMeta(1, "", "m", 2));
    assert.equal(await idOf("z"), 1, "a stale route is served until invalidated");
    pdClient.invalidateShard(1);
    assert.equal(await idOf("z"), 2);
    assert.equal(await idOf("a"), 1);
    assert.equal(await idOf("b"), 1);
    assert.deepEqual([pdClient.stats.shardCacheMisses, pdClient.stats.shardCacheHits], [3, 3]);
    const byId = await pdClient.getShardById(2);
    assert.equal(pdClient.stats.shardCacheHits, 4, "by id from the cache too");
    assert.equal(new TextDecoder().decode(byId?.shard.startKey), "m");
    assert.equal(await pdClient.getShardById(99), null);
    const scanned = await pdClient.scanShards(b(""), b(""));
    assert.deepEqual(
      scanned.map((r) => r.shard.id),
      [1, 2],
    );
    pdClient.updateShardLeader(2, { peerId: 20, storeId: 1, role: "voter" });
    assert.equal((await pdClient.getShardById(2))?.leader?.peerId, 20);
  },
);

/** A member that believes it leads but answers every call with a hint to `leader`. */
async function fakeFollower(clusterId: bigint, leader: () => string | null): Promise<string> {
  const server = new RpcServer(env, { logger });
  let self = "";
  server.handleUnary(PdMethod.getMembers, async () => ({
    clusterId,
    self: { name: "fake", address: self },
    leader: { name: "fake", address: self },
  }));
  for (const method of [PdMethod.allocIds, PdMethod.getShardByKey]) {
    server.handleUnary(method, async () => {
      throw new TesseraError(ErrorCode.PdNotLeader, "not the PD leader", {
        details: { leaderAddress: leader() },
      });
    });
  }
  const bound = await server.listen({ host: "127.0.0.1", port: 0 });
  cleanups.push(() => server.close());
  self = `127.0.0.1:${bound.port}`;
  return self;
}

test("PdClient follows a follower's leader hint", opts, async () => {
  const pd = await startMember(await openStore());
  await waitFor("leadership", () => pd.isLeader);
  let hint: string | null = null;
  // The fake claims to lead (at its own address), then refuses every call.
  const fake = await fakeFollower(pd.clusterId, () => hint);
  const c = new PdClient(env, { endpoints: [fake], logger, backoffMsMin: 5, attemptsMax: 4 });
  cleanups.push(() => c.close());
  await assert.rejects(c.allocIds(1), (e: unknown) => {
    assert.ok(hasErrorCode(e, ErrorCode.PdUnavailable), String(e));
    assert.ok(hasErrorCode((e as Error).cause, ErrorCode.PdNotLeader));
    return true;
  });
  assert.equal(c.stats.calls, 4, "a refusal without a hint is retried, within the bound");
  // Now the refusal names the real leader, and the client follows it.
  hint = addressOf(pd);
  assert.ok((await c.allocIds(1)) >= 1);
  assert.equal(c.leader, addressOf(pd), "the client followed the hint");
  assert.ok((await c.allocIds(1)) >= 1, "and stays there");
});

test("PdClient finds the new leader after the PD leader stops", opts, async () => {
  const store = await openStore();
  const a = await startMember(store, "pd-a");
  await waitFor("a leader", () => a.isLeader);
  const b2 = await startMember(store, "pd-b");
  const pdClient = client([addressOf(a), addressOf(b2)]);
  await pdClient.bootstrap(storeMeta(1), shardMeta(1, "", "", 1));
  const before = await pdClient.allocIds(5);
  assert.equal(pdClient.leader, addressOf(a));
  await a.stop();
  await waitFor("b to lead", () => b2.isLeader);
  const afterId = await pdClient.allocIds(5);
  assert.ok(afterId >= before + 5, "ids keep increasing across the failover");
  assert.equal(pdClient.leader, addressOf(b2));
  assert.ok(pdClient.stats.retries >= 1);
  assert.ok((await pdClient.getTimestamp()) > 0n);
});

test("PdClient gives up with PD:Client:Unavailable after bounded attempts", opts, async () => {
  // A port that refuses connections: bound once, then closed.
  const server = new RpcServer(env, { logger });
  const bound = await server.listen({ host: "127.0.0.1", port: 0 });
  await server.close();
  const pdClient = client([`127.0.0.1:${bound.port}`], { attemptsMax: 3 });
  await assert.rejects(pdClient.allocIds(1), (e: unknown) => {
    assert.ok(hasErrorCode(e, ErrorCode.PdUnavailable), String(e));
    assert.match((e as Error).message, /after 3 attempts/);
    return true;
  });
  assert.equal(pdClient.stats.retries, 2);
  await pdClient.close();
  await assert.rejects(pdClient.allocIds(1), (e: unknown) =>
    hasErrorCode(e, ErrorCode.RpcClientClosed),
  );
});
