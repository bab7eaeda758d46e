/**
 * End-to-end test of `tessera kv`: an in-process PD on the embedded metadata store and the
 * real launcher in a child process. The node registers its store, bootstraps the cluster,
 * heartbeats reach PD, a prewrite + commit through RPC works, SIGTERM stops it cleanly, a
 * restart keeps the store id and the data, a second node on the same data dir is refused,
 * and a PD of another cluster is refused.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Timestamp } from "../base/mod.ts";
import { PdClient } from "../client/mod.ts";
import { createNodeEnv } from "../env/mod.ts";
import { EmbeddedMetaStore, PdServer, silentPdLogger } from "../pd/mod.ts";
import { type CommitReply, type GetReply, KvMethod, type PrewriteReply } from "../proto/mod.ts";
import { RpcClient } from "../rpc/mod.ts";
import { Children, withDeadline } from "./test_child.ts";

const opts = { timeout: 60_000 };
const launcher = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "tessera.js");
const env = createNodeEnv();
const logger = { warn: () => undefined, error: () => undefined };
const children = new Children();
const root = mkdtempSync(join(tmpdir(), "tessera-kv-"));
const cleanups: (() => Promise<void>)[] = [];

interface Pd {
  readonly server: PdServer;
  readonly address: string;
}

async function startPd(dir: string): Promise<Pd> {
  const store = await EmbeddedMetaStore.open(env, { dir });
  const server = await PdServer.start(env, {
    name: "pd-1",
    host: "127.0.0.1",
    port: 0,
    store,
    logger: silentPdLogger,
    leaseTtlMs: 1_000,
  });
  cleanups.push(async () => {
    await server.stop();
    await store.close();
  });
  await until(() => server.isLeader, "PD leadership");
  return { server, address: `${server.address.host}:${server.address.port}` };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function startKv(pd: string, dataDir: string, addr = "127.0.0.1:0"): ReturnType<Children["spawn"]> {
  return children.spawn([
    launcher, "kv", "--pd", pd, "--addr", addr, "--status-addr", "127.0.0.1:0",
    "--data-dir", dataDir, "--store-heartbeat-interval", "100ms",
    "--shard-heartbeat-interval", "100ms", "--raft-tick-interval", "50ms",
    "--raft-election-ticks", "10", "--log-level", "warn",
  ]);
}

interface Serving {
  readonly storeId: number;
  readonly rpc: string;
  readonly status: string;
  readonly clusterId: string;
}

let pd: Pd;
let pdClient: PdClient;
before(async () => {
  pd = await startPd(join(root, "pd"));
  pdClient = new PdClient(env, { endpoints: [pd.address], logger });
});

after(async () => {
  children.killAll();
  await pdClient.close();
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(root, { recursive: true, force: true });
});

test("tessera kv registers, heartbeats, serves 2PC, stops on SIGTERM, keeps its store id",
  opts, async () => {
    const dataDir = join(root, "kv-1");
    const node = startKv(pd.address, dataDir);
    const serving = JSON.parse(await node.waitForLine(/"storeId"/)) as Serving;
    assert.equal(serving.clusterId, String(pd.server.clusterId));
    const store = await pdClient.getStore(serving.storeId);
    assert.equal(store.address, serving.rpc);
    await until(
      () => pd.server.stats().storeHeartbeats >= 2 && pd.server.stats().shardHeartbeats >= 1,
      "heartbeats",
    );
    const route = await pdClient.getShardByKey(new TextEncoder().encode("k"));
    assert.ok(route !== null);
    assert.equal(route.leader?.storeId, serving.storeId);

    const [host, port] = serving.rpc.split(":") as [string, string];
    const client = new RpcClient(env, { host, port: Number(port), logger });
    const base = {
      header: { clusterId: pd.server.clusterId },
      context: { shardId: route.shard.id, epoch: route.shard.epoch },
    };
    const key = new TextEncoder().encode("kv-cmd-key");
    const startTs: Timestamp = await pdClient.getTimestamp();
    const pre = (await client.call(KvMethod.prewrite, {
      ...base,
      mutations: [{ kind: "put", key, value: new TextEncoder().encode("v1") }],
      primary: key,
      startTs,
      lockTtlMs: 3000,
    })) as PrewriteReply;
    assert.equal(pre.keyError, undefined);
    const commitTs = await pdClient.getTimestamp();
    const done = (await client.call(KvMethod.commit, {
      ...base,
      keys: [key],
      startTs,
      commitTs,
    })) as CommitReply;
    assert.equal(done.commitTs, commitTs);
    await client.close();

    // A second node on the same data dir is refused while the first runs.
    const second = await withDeadline(
      children.run([launcher, "kv", "--pd", pd.address, "--addr", "127.0.0.1:0",
        "--status-addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "warn"]),
      () => "second node did not exit",
    );
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, /is in use by process/);

    node.process.kill("SIGTERM");
    const exit = await withDeadline(node.exited, () => "kv node did not stop");
    assert.deepEqual(exit, { code: 0, signal: null }, node.stderr());

    // PD keeps a store's address: the restarted node comes back on the port it had.
    const again = startKv(pd.address, dataDir, serving.rpc);
    const restarted = JSON.parse(await again.waitForLine(/"storeId"/)) as Serving;
    assert.equal(restarted.storeId, serving.storeId);
    const [host2, port2] = restarted.rpc.split(":") as [string, string];
    const client2 = new RpcClient(env, { host: host2, port: Number(port2), logger });
    // The recovered single-voter shard elects itself after an election timeout.
    let read: GetReply;
    for (const deadline = performance.now() + 30_000; ; ) {
      read = (await client2.call(KvMethod.get, {
        ...base,
        key,
        version: await pdClient.getTimestamp(),
      })) as GetReply;
      if (read.routeError === undefined) break;
      if (performance.now() > deadline) throw new Error("restarted node never led the shard");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(new TextDecoder().decode(read.value ?? new Uint8Array(0)), "v1");
    await client2.close();
    again.process.kill("SIGTERM");
    assert.equal((await withDeadline(again.exited, () => "restart did not stop")).code, 0);

    // A PD of another cluster (a fresh PD, as after --clean) is refused.
    const otherPd = await startPd(join(root, "pd-other"));
    const refused = await withDeadline(
      children.run([launcher, "kv", "--pd", otherPd.address, "--addr", "127.0.0.1:0",
        "--status-addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "warn"]),
      () => "node of another cluster did not exit",
    );
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /belongs to cluster .* refusing to start/);
  });
