/**
 * `PdServer` over real RPC on 127.0.0.1 with the embedded metadata store: cluster id
 * checks, the TSO stream, ID allocation, bootstrap, stores, shard heartbeats with epoch
 * checks and routing, the GC safe point, owner elections, malformed requests, restarts,
 * and the HTTP API router.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, type Timestamp, hasErrorCode } from "../../base/mod.ts";
import { createNodeEnv } from "../../env/mod.ts";
import { PdMethod, type ShardMeta, type TsoReply } from "../../proto/mod.ts";
import { RpcClient } from "../../rpc/mod.ts";
import { EmbeddedMetaStore } from "../meta/embedded_store.ts";
import { handlePdHttp } from "./http_api.ts";
import { silentPdLogger } from "./logger.ts";
import { PdServer } from "./pd_server.ts";

const opts = { timeout: 30_000 };
const env = createNodeEnv();
const logger = { warn: () => undefined, error: () => undefined };
let root = "";
let counter = 0;
const cleanups: (() => Promise<void>)[] = [];

before(() => {
  root = mkdtempSync(join(tmpdir(), "tessera-pd-"));
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

interface Harness {
  readonly pd: PdServer;
  readonly client: RpcClient;
  readonly header: { clusterId: bigint };
  readonly dir: string;
  stop(): Promise<void>;
}

async function startPd(dir = join(root, `pd-${++counter}`)): Promise<Harness> {
  const store = await EmbeddedMetaStore.open(env, { dir });
  const pd = await PdServer.start(env, {
    name: "pd-1",
    host: "127.0.0.1",
    port: 0,
    store,
    logger: silentPdLogger,
    leaseTtlMs: 1_000,
  });
  const client = new RpcClient(env, { host: "127.0.0.1", port: pd.address.port, logger });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await client.close();
    await pd.stop();
    await store.close();
  };
  cleanups.push(stop);
  await waitFor("leadership", () => pd.isLeader);
  return { pd, client, header: { clusterId: pd.clusterId }, dir, stop };
}

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const store = (id: number, port = 20160 + id) => ({
  id,
  address: `127.0.0.1:${port}`,
  statusAddress: "",
  version: "0.1.0",
  labels: {},
});
const shard = (
  id: number,
  startKey: string,
  endKey: string,
  version: number,
  confVersion = 1,
): ShardMeta => ({
  id,
  startKey: b(startKey),
  endKey: b(endKey),
  epoch: { confVersion, version },
  peers: [{ peerId: id * 10, storeId: 1, role: "voter" }],
});

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { code?: string }).code, code, String(error));
    return true;
  });
}

async function bootstrapped(): Promise<Harness> {
  const h = await startPd();
  await h.client.call(PdMethod.bootstrap, {
    header: h.header,
    store: store(1),
    shard: shard(1, "", "", 1),
  });
  return h;
}

test(
  "getMembers answers any cluster id 0 with the id; other requests must match",
  opts,
  async () => {
    const h = await startPd();
    const members = (await h.client.call(PdMethod.getMembers, { header: { clusterId: 0n } })) as {
      clusterId: bigint;
      leader: { address: string };
    };
    assert.equal(members.clusterId, h.pd.clusterId);
    assert.equal(members.leader.address, `127.0.0.1:${h.pd.address.port}`);
    await rejectsWith(
      h.client.call(PdMethod.allocIds, { header: { clusterId: h.pd.clusterId + 1n }, count: 1 }),
      ErrorCode.PdClusterIdMismatch,
    );
    await rejectsWith(
      h.client.call(PdMethod.allocIds, { header: { clusterId: 0n }, count: 1 }),
      ErrorCode.PdClusterIdMismatch,
    );
    await rejectsWith(
      h.client.call(PdMethod.allocIds, { header: h.header, count: "many" }),
      ErrorCode.PdRequestMalformed,
    );
    await rejectsWith(h.client.call(PdMethod.allocIds, null), ErrorCode.PdRequestMalformed);
  },
);

test("the TSO stream answers batches with strictly increasing timestamps", opts, async () => {
  const h = await startPd();
  const stream = h.client.openBidiStream(PdMethod.tso, { header: h.header });
  let last = 0n;
  const counts = [1, 5, 100, 10_000, 3, 10_000, 10_000, 1];
  for (const count of counts) await stream.send({ count });
  let i = 0;
  for await (const message of stream) {
    const reply = message as TsoReply;
    assert.equal(reply.count, counts[i]);
    assert.ok(reply.firstTs > last, "strictly above the previous batch");
    last = reply.firstTs + BigInt(reply.count - 1);
    if (++i === counts.length) break;
  }
  const bad = h.client.openBidiStream(PdMethod.tso, { header: h.header });
  await bad.send({ count: 0 });
  await assert.rejects(
    (async () => {
      for await (const reply of bad) assert.fail(`no reply to a bad request: ${String(reply)}`);
    })(),
    (e: unknown) => hasErrorCode(e, ErrorCode.PdRequestMalformed),
  );
});

test("timestamps and ids keep increasing across a PD restart on the same data", opts, async () => {
  const h = await startPd();
  const before = (await h.client.call(PdMethod.getTimestamp, {
    header: h.header,
    count: 1,
  })) as TsoReply;
  const ids = (await h.client.call(PdMethod.allocIds, { header: h.header, count: 10 })) as {
    firstId: number;
  };
  await h.stop();
  const again = await startPd(h.dir);
  assert.equal(again.pd.clusterId, h.pd.clusterId, "the cluster id survives");
  const afterTs = (await again.client.call(PdMethod.getTimestamp, {
    header: again.header,
    count: 1,
  })) as TsoReply;
  assert.ok(afterTs.firstTs > before.firstTs);
  const moreIds = (await again.client.call(PdMethod.allocIds, {
    header: again.header,
    count: 5,
  })) as { firstId: number };
  assert.ok(moreIds.firstId >= ids.firstId + 10, "no id is handed out twice");
});

test("bootstrap happens once; stores register, conflict and heartbeat", opts, async () => {
  const h = await startPd();
  const call = (method: string, body: Record<string, unknown>) =>
    h.client.call(method, { header: h.header, ...body });
  assert.deepEqual(await call(PdMethod.isBootstrapped, {}), { bootstrapped: false });
  await rejectsWith(
    call(PdMethod.putStore, { store: store(2) }),
    ErrorCode.PdClusterNotBootstrapped,
  );
  await call(PdMethod.bootstrap, { store: store(1), shard: shard(1, "", "", 1) });
  assert.deepEqual(await call(PdMethod.isBootstrapped, {}), { bootstrapped: true });
  await rejectsWith(
    call(PdMethod.bootstrap, { store: store(1), shard: shard(1, "", "", 1) }),
    ErrorCode.PdClusterAlreadyBootstrapped,
  );
  await call(PdMethod.putStore, { store: store(2) });
  await rejectsWith(
    call(PdMethod.putStore, { store: store(2, 9999) }),
    ErrorCode.PdStoreAddressConflict,
  );
  await rejectsWith(
    call(PdMethod.putStore, { store: { ...store(3), address: store(2).address } }),
    ErrorCode.PdStoreAddressConflict,
  );
  await rejectsWith(
    call(PdMethod.storeHeartbeat, { storeId: 7, stats: {} }),
    ErrorCode.PdStoreUnknown,
  );
  const hb = (await call(PdMethod.storeHeartbeat, {
    storeId: 2,
    stats: { capacityBytes: 100, availableBytes: 50 },
  })) as { gcSafePoint: bigint };
  assert.equal(hb.gcSafePoint, 0n);
  const got = (await call(PdMethod.getStore, { storeId: 2 })) as {
    store: { state: string; stats: { capacityBytes: number } };
  };
  assert.equal(got.store.state, "up");
  assert.equal(got.store.stats.capacityBytes, 100);
  const all = (await call(PdMethod.getAllStores, {})) as { stores: { id: number }[] };
  assert.deepEqual(
    all.stores.map((s) => s.id),
    [1, 2],
  );
});

test("shard heartbeats split the routing table and refuse stale epochs", opts, async () => {
  const h = await bootstrapped();
  const call = (method: string, body: Record<string, unknown>) =>
    h.client.call(method, { header: h.header, ...body });
  const heartbeat = (meta: ShardMeta) =>
    call(PdMethod.shardHeartbeat, { shard: meta, leaderPeerId: meta.peers[0]!.peerId, stats: {} });
  const routeOf = async (key: string) =>
    (
      (await call(PdMethod.getShardByKey, { key: b(key) })) as {
        route: { shard: ShardMeta } | null;
      }
    ).route?.shard.id;
  assert.equal(await routeOf("anything"), 1);
  // Shard 1 splits at "m": 1 keeps [ "", "m"), 2 takes ["m", ""), both at version 2.
  await heartbeat(shard(2, "m", "", 2));
  await heartbeat(shard(1, "", "m", 2));
  assert.equal(await routeOf("a"), 1);
  assert.equal(await routeOf("m"), 2);
  assert.equal(await routeOf("z"), 2);
  // A late heartbeat from before the split must change nothing.
  await rejectsWith(heartbeat(shard(1, "", "", 1)), ErrorCode.PdShardStaleEpoch);
  await rejectsWith(heartbeat(shard(3, "k", "p", 1)), ErrorCode.PdShardStaleEpoch);
  assert.equal(await routeOf("z"), 2);
  await rejectsWith(
    heartbeat({ ...shard(2, "m", "", 2), peers: [{ peerId: 20, storeId: 9, role: "voter" }] }),
    ErrorCode.PdStoreUnknown,
  );
  const scanned = (await call(PdMethod.scanShards, {
    startKey: b(""),
    endKey: b(""),
    limit: 10,
  })) as { routes: { shard: ShardMeta; leader: { peerId: number } | null }[] };
  assert.deepEqual(
    scanned.routes.map((r) => [r.shard.id, r.leader?.peerId]),
    [
      [1, 10],
      [2, 20],
    ],
  );
  const byId = (await call(PdMethod.getShardById, { shardId: 2 })) as {
    route: { shard: ShardMeta };
  };
  assert.equal(new TextDecoder().decode(byId.route.shard.startKey), "m");
  assert.deepEqual(await call(PdMethod.getShardById, { shardId: 99 }), { route: null });
  // Routing survives a failover: the new term reloads the durable shard descriptions.
  await h.stop();
  const again = await startPd(h.dir);
  const route = (await again.client.call(PdMethod.getShardByKey, {
    header: again.header,
    key: b("q"),
  })) as { route: { shard: ShardMeta; leader: unknown } };
  assert.equal(route.route.shard.id, 2);
  assert.equal(route.route.leader, null, "leaders come back with the next heartbeat");
});

test("the GC safe point only moves forward", opts, async () => {
  const h = await bootstrapped();
  const update = (safePoint: bigint) =>
    h.client.call(PdMethod.updateGcSafePoint, { header: h.header, safePoint }) as Promise<{
      safePoint: Timestamp;
    }>;
  assert.equal((await update(100n)).safePoint, 100n);
  assert.equal((await update(50n)).safePoint, 100n);
  assert.equal((await update(200n)).safePoint, 200n);
  const got = (await h.client.call(PdMethod.getGcSafePoint, { header: h.header })) as {
    safePoint: bigint;
  };
  assert.equal(got.safePoint, 200n);
});

test("owner elections: one owner at a time, renew, resign, next candidate", opts, async () => {
  const h = await bootstrapped();
  const call = (method: string, body: Record<string, unknown>) =>
    h.client.call(method, { header: h.header, election: "ddl-owner", ...body });
  const a = (await call(PdMethod.campaign, { candidate: "sql-a", ttlMs: 5_000 })) as {
    elected: boolean;
  };
  assert.equal(a.elected, true);
  const b2 = (await call(PdMethod.campaign, { candidate: "sql-b", ttlMs: 5_000 })) as {
    elected: boolean;
    owner: string;
  };
  assert.deepEqual([b2.elected, b2.owner], [false, "sql-a"]);
  assert.equal(
    ((await call(PdMethod.renewOwner, { candidate: "sql-a" })) as { elected: boolean }).elected,
    true,
  );
  await rejectsWith(
    call(PdMethod.renewOwner, { candidate: "sql-b" }),
    ErrorCode.PdElectionNotOwner,
  );
  await call(PdMethod.resignOwner, { candidate: "sql-a" });
  assert.deepEqual(await call(PdMethod.getOwner, {}), { owner: null });
  const b3 = (await call(PdMethod.campaign, { candidate: "sql-b", ttlMs: 5_000 })) as {
    elected: boolean;
  };
  assert.equal(b3.elected, true);
});

test(
  "HTTP API: stores, shards by key, TSO decode, bad input and unknown routes",
  opts,
  async () => {
    const h = await bootstrapped();
    const http = (method: string, path: string, body = "", query: Record<string, string> = {}) =>
      handlePdHttp(h.pd, { method, path, body, query: new Map(Object.entries(query)) });
    const health = await http("GET", "/pd/api/v1/health");
    assert.equal(health.status, 200);
    assert.equal((health.json as { isLeader: boolean }).isLeader, true);
    const stores = await http("GET", "/pd/api/v1/stores");
    assert.equal((stores.json as { stores: unknown[] }).stores.length, 1);
    assert.equal((await http("GET", "/pd/api/v1/stores/9")).status, 404);
    assert.equal((await http("GET", "/pd/api/v1/stores/x")).status, 400);
    const byKey = await http("GET", "/pd/api/v1/shards/key/6162");
    assert.equal(byKey.status, 200);
    assert.equal((byKey.json as { id: number }).id, 1);
    assert.equal((await http("GET", "/pd/api/v1/shards/key/zz")).status, 400);
    const shards = await http("GET", "/pd/api/v1/shards", "", { limit: "5" });
    assert.equal((shards.json as { shards: unknown[] }).shards.length, 1);
    const tso = await http("GET", "/pd/api/v1/tso");
    const ts = (tso.json as { ts: string }).ts;
    const decoded = await http("GET", `/pd/api/v1/tso/decode/${ts}`);
    assert.equal(decoded.status, 200);
    assert.equal((decoded.json as { ts: string }).ts, ts);
    assert.equal((await http("GET", "/pd/api/v1/tso/decode/-1")).status, 400);
    assert.equal((await http("GET", `/pd/api/v1/tso/decode/${2n ** 64n}`)).status, 400);
    const badJson = await http("POST", "/pd/api/v1/stores/1/state", "{not json");
    assert.equal(badJson.status, 400);
    const badState = await http("POST", "/pd/api/v1/stores/1/state", '{"state":"gone"}');
    assert.equal(badState.status, 400);
    assert.equal((await http("GET", "/pd/api/v1/stores/1")).status, 200);
    const offline = await http("POST", "/pd/api/v1/stores/1/state", '{"state":"offline"}');
    assert.equal((offline.json as { state: string }).state, "offline");
    assert.equal((await http("DELETE", "/pd/api/v1/stores")).status, 405);
    assert.equal((await http("GET", "/pd/api/v1/nothing")).status, 404);
    assert.equal((await http("GET", "/elsewhere")).status, 404);
    const config = await http("GET", "/pd/api/v1/config");
    assert.equal((config.json as { maxReplicas: number }).maxReplicas, 3);
  },
);
