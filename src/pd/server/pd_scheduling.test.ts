/**
 * Scheduling on a real `PdServer` (127.0.0.1, embedded metadata store, rounds every
 * 20 ms): shard heartbeat replies carry operator steps, the HTTP API lists and toggles
 * schedulers, changes the scheduler config, lists and adds operators, and a new term
 * starts with no operators but keeps the stored settings.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode } from "../../base/mod.ts";
import { createNodeEnv } from "../../env/mod.ts";
import { PdMethod, type ShardMeta, type ShardOperatorStep } from "../../proto/mod.ts";
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
  root = mkdtempSync(join(tmpdir(), "tessera-pd-sched-"));
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  if (root !== "") rmSync(root, { recursive: true, force: true });
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + 15_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const GiB = 1024 ** 3;
const storeMeta = (id: number) => ({
  id,
  address: `127.0.0.1:${20160 + id}`,
  statusAddress: "",
  version: "0.1.0",
  labels: {},
});
const all = [1, 2, 3].map((s) => ({ storeId: s, role: "voter" as const }));
const shardMeta = (id: number, start: string, end: string, version: number): ShardMeta => ({
  id,
  startKey: b(start),
  endKey: b(end),
  epoch: { confVersion: 1, version },
  peers: all.map((p) => ({ ...p, peerId: id * 100 + p.storeId })),
});

async function startPd(dir: string) {
  const meta = await EmbeddedMetaStore.open(env, { dir });
  const pd = await PdServer.start(env, {
    name: "pd-1",
    host: "127.0.0.1",
    port: 0,
    store: meta,
    logger: silentPdLogger,
    leaseTtlMs: 1_000,
    scheduleIntervalMs: 20,
  });
  const client = new RpcClient(env, { host: "127.0.0.1", port: pd.address.port, logger });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await client.close();
    await pd.stop();
    await meta.close();
  };
  cleanups.push(stop);
  await waitFor("leadership", async () => (pd.isLeader ? true : undefined));
  const header = { clusterId: pd.clusterId };
  const call = (method: string, body: Record<string, unknown>) =>
    client.call(method, { header, ...body });
  const heartbeat = async (shard: ShardMeta, leaderStore: number) => {
    const reply = (await call(PdMethod.shardHeartbeat, {
      shard,
      leaderPeerId: shard.id * 100 + leaderStore,
      stats: { approximateSizeBytes: 1024 },
    })) as { step: ShardOperatorStep | null };
    return reply.step;
  };
  const storeHeartbeats = async () => {
    for (const storeId of [1, 2, 3]) {
      await call(PdMethod.storeHeartbeat, {
        storeId,
        stats: { capacityBytes: 100 * GiB, availableBytes: 90 * GiB },
      });
    }
  };
  const http = (method: string, path: string, body = "") =>
    handlePdHttp(pd, { method, path: `/pd/api/v1${path}`, body, query: new Map() });
  return { pd, call, heartbeat, storeHeartbeats, http, stop };
}

/** Stores 1..3 and shards 1..4 (all led by store 1). */
async function skewedCluster(dir: string) {
  const h = await startPd(dir);
  await h.call(PdMethod.bootstrap, { store: storeMeta(1), shard: shardMeta(1, "", "", 1) });
  for (const id of [2, 3]) await h.call(PdMethod.putStore, { store: storeMeta(id) });
  await h.storeHeartbeats();
  const shards = [
    shardMeta(2, "b", "c", 2),
    shardMeta(1, "", "b", 2),
    shardMeta(3, "c", "d", 2),
    shardMeta(4, "d", "", 2),
  ];
  return { ...h, shards };
}

test("the PD leader's rounds answer shard heartbeats with leader transfers", opts, async () => {
  const h = await skewedCluster(join(root, `pd-${++counter}`));
  const step = await waitFor("a step in a heartbeat reply", async () => {
    for (const shard of h.shards) {
      const s = await h.heartbeat(shard, 1);
      if (s !== null) return s;
    }
    return undefined;
  });
  assert.equal(step.kind, "transferLeader");
  assert.equal(step.kind === "transferLeader" ? step.fromStoreId : 0, 1);
  assert.ok(h.pd.stats().operators.balanceLeader.created >= 1);
  assert.ok(h.pd.stats().operatorsInFlight >= 1);
});

test(
  "HTTP API: schedulers, config and operators; a new term starts with no operators",
  opts,
  async () => {
    const dir = join(root, `pd-${++counter}`);
    const h = await skewedCluster(dir);
    const names = ((await h.http("GET", "/schedulers")).json as {
      schedulers: { name: string; enabled: boolean }[];
    }).schedulers;
    assert.equal(names.length, 7);
    assert.ok(names.every((s) => s.enabled));
    // Switch every scheduler off so only hand-made operators run.
    for (const { name } of names) {
      assert.equal((await h.http("DELETE", `/schedulers/${name}`)).status, 200);
    }
    const unknown = await h.http("POST", "/schedulers/no-such");
    assert.deepEqual([unknown.status, (unknown.json as { code: string }).code], [
      404,
      ErrorCode.PdSchedulerUnknown,
    ]);
    assert.equal((await h.http("PUT", "/schedulers")).status, 405);

    const put = await h.http("PUT", "/config", '{"maxStoreDownTimeMs": 120000}');
    assert.equal(put.status, 200);
    assert.equal((put.json as { maxStoreDownTimeMs: number }).maxStoreDownTimeMs, 120_000);
    for (const [body, code] of [
      ['{"noSuchKey": 1}', ErrorCode.PdRequestMalformed],
      ['{"maxReplicas": 0}', ErrorCode.PdScheduleConfigInvalid],
      ["{not json", ErrorCode.PdRequestMalformed],
    ] as const) {
      const reply = await h.http("PUT", "/config", body);
      assert.equal(reply.status, 400, body);
      const json = reply.json as { code: string; error: string };
      assert.equal(json.code, code);
      assert.ok(json.error.length > 0, "a message says why");
    }
    const config = await h.http("GET", "/config");
    assert.equal((config.json as { maxStoreDownTimeMs: number }).maxStoreDownTimeMs, 120_000);

    for (const shard of h.shards) assert.equal(await h.heartbeat(shard, 1), null);
    const add = (body: string) => h.http("POST", "/operators", body);
    for (const [body, status] of [
      ["{oops", 400],
      ['{"kind":"teleport","shardId":2}', 400],
      ['{"kind":"transferLeader","shardId":2}', 400],
      ['{"kind":"transferLeader","shardId":99,"toStoreId":2}', 404],
      ['{"kind":"transferLeader","shardId":2,"toStoreId":1}', 400],
      ['{"kind":"transferLeader","shardId":2,"toStoreId":7}', 400],
      ['{"kind":"split","shardId":2,"keys":["7a"]}', 400],
      ['{"kind":"split","shardId":2,"keys":["xyz"]}', 400],
    ] as const) {
      const reply = await add(body);
      assert.equal(reply.status, status, `${body}: ${JSON.stringify(reply.json)}`);
      assert.equal(typeof (reply.json as { error: unknown }).error, "string");
    }
    const transfer = await add('{"kind":"transferLeader","shardId":2,"toStoreId":3}');
    assert.equal(transfer.status, 200, JSON.stringify(transfer.json));
    const split = await add('{"kind":"split","shardId":3,"keys":["6335"]}');
    assert.equal(split.status, 200, JSON.stringify(split.json));
    const duplicate = await add('{"kind":"split","shardId":2}');
    assert.deepEqual([duplicate.status, (duplicate.json as { code: string }).code], [
      409,
      ErrorCode.PdOperatorRejected,
    ]);
    const listed = (await h.http("GET", "/operators")).json as {
      operators: { shardId: number; kind: string; steps: string[]; stepIndex: number }[];
    };
    assert.deepEqual(
      listed.operators.map((o) => [o.shardId, o.kind, o.steps, o.stepIndex]),
      [
        [2, "balanceLeader", ["transferLeader(store 1 -> 3)"], 0],
        [3, "split", ["splitShard(byKeys, 1 keys)"], 0],
      ],
    );
    const step = await h.heartbeat(h.shards[0]!, 1);
    assert.deepEqual(step, { kind: "transferLeader", fromStoreId: 1, toStoreId: 3 });
    const splitStep = await h.heartbeat(h.shards[2]!, 1);
    assert.equal(splitStep?.kind, "splitShard");
    assert.equal(await h.heartbeat(h.shards[0]!, 3), null, "the transfer finished");
    const stats = h.pd.stats().operators;
    assert.equal(stats.balanceLeader.finished, 1);
    assert.equal(stats.split.created, 1);

    // A new term: the controller starts empty; the stored settings come back.
    await h.stop();
    const again = await startPd(dir);
    assert.deepEqual((await again.http("GET", "/operators")).json, { operators: [] });
    const after = ((await again.http("GET", "/schedulers")).json as {
      schedulers: { enabled: boolean }[];
    }).schedulers;
    assert.ok(after.every((s) => !s.enabled), "disabled schedulers stay disabled");
    const kept = await again.http("GET", "/config");
    assert.equal((kept.json as { maxStoreDownTimeMs: number }).maxStoreDownTimeMs, 120_000);
  },
);
