/**
 * An in-process cluster for the transactional client's tests and bench: one PD (embedded
 * metadata store) and two KV stores on 127.0.0.1 port 0, each a `KvService` over
 * `LocalStoreShards` on a memory engine. Store 1 holds shard 1 `["", "m")`, store 2 holds
 * shard 2 `["m", "")`, both reported to PD by shard heartbeats, so a transaction writing
 * keys on both sides of "m" spans two shards on two stores.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PdClient, TxnClient, type TxnClientOptions } from "../../src/client/mod.ts";
import { type Env, createNodeEnv } from "../../src/env/mod.ts";
import {
  CoprocessorRegistry,
  KvService,
  LocalShardOperations,
  LocalStoreShards,
  MemoryEngine,
  TxnScheduler,
} from "../../src/kv/mod.ts";
import { registerCoprocessorHandlers } from "../../src/kv/copr/dag_handler.ts";
import { EmbeddedMetaStore, PdServer, silentPdLogger } from "../../src/pd/mod.ts";
import type { ShardMeta } from "../../src/proto/mod.ts";
import { RpcServer } from "../../src/rpc/mod.ts";

export const quietLogger = { warn: () => undefined, error: () => undefined };

/** UTF-8 bytes of `s`. */
export const b = (s: string): Uint8Array => new TextEncoder().encode(s);
/** `bytes` as a string, or null. */
export const str = (bytes: Uint8Array | null): string | null =>
  bytes === null ? null : new TextDecoder().decode(bytes);

const noShardLoad = {
  approximateSizeBytes: 0,
  approximateKeys: 0,
  readBytesPerSec: 0,
  readKeysPerSec: 0,
  writeBytesPerSec: 0,
  writeKeysPerSec: 0,
  queriesPerSec: 0,
};

/** A running cluster. */
export interface TestCluster {
  readonly env: Env;
  readonly pd: PdServer;
  readonly pdClient: PdClient;
  readonly schedulers: readonly TxnScheduler[];
  /** The coprocessor handlers of both stores (`dag`; tests may register their own). */
  readonly coprocessor: CoprocessorRegistry;
  /** A new transactional client (closed with the cluster). */
  client(options?: Partial<Omit<TxnClientOptions, "pd" | "logger">>): TxnClient;
  /** A new PD client of the cluster (closed with the cluster). */
  newPdClient(): PdClient;
  close(): Promise<void>;
}

async function waitFor(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 3_000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Starts PD and two stores; see the file comment. */
export async function startTestCluster(): Promise<TestCluster> {
  const env = createNodeEnv();
  const root = mkdtempSync(join(tmpdir(), "tessera-client-"));
  const cleanups: (() => Promise<void>)[] = [];
  const meta = await EmbeddedMetaStore.open(env, { dir: join(root, "meta") });
  cleanups.push(() => meta.close());
  const pd = await PdServer.start(env, {
    name: "pd-1",
    host: "127.0.0.1",
    port: 0,
    store: meta,
    logger: silentPdLogger,
    leaseTtlMs: 1_000,
  });
  cleanups.push(() => pd.stop());
  await waitFor("PD leadership", () => pd.isLeader);
  const pdAddress = `127.0.0.1:${pd.address.port}`;
  const newPdClient = (): PdClient => {
    const c = new PdClient(env, { endpoints: [pdAddress], logger: quietLogger });
    cleanups.push(() => c.close());
    return c;
  };
  const pdClient = newPdClient();
  const epoch = { confVersion: 1, version: 2 };
  const shards: ShardMeta[] = [
    {
      id: 1,
      startKey: new Uint8Array(0),
      endKey: b("m"),
      epoch,
      peers: [{ peerId: 11, storeId: 1, role: "voter" }],
    },
    {
      id: 2,
      startKey: b("m"),
      endKey: new Uint8Array(0),
      epoch,
      peers: [{ peerId: 21, storeId: 2, role: "voter" }],
    },
  ];
  const schedulers: TxnScheduler[] = [];
  const coprocessor = new CoprocessorRegistry();
  // The SQL layer's pushed-down reads (`dag`), as a KV node registers them.
  registerCoprocessorHandlers(coprocessor);
  // Ids of shards and peers split off (one counter: both stores' ids must differ).
  let nextId = 1_000;
  const addresses: string[] = [];
  for (const shard of shards) {
    const engine = new MemoryEngine();
    const store = new LocalStoreShards(engine, [shard]);
    const scheduler = new TxnScheduler({ store, clock: env.clock, timers: env.timers,
      coprocessor });
    schedulers.push(scheduler);
    const operations = new LocalShardOperations({
      store,
      allocIds: (count) => {
        const first = nextId;
        nextId += count;
        return Promise.resolve(first);
      },
    });
    const service = new KvService({ clusterId: () => pd.clusterId, scheduler, operations });
    const server = new RpcServer(env, { logger: quietLogger });
    service.register(server);
    const address = await server.listen({ host: "127.0.0.1", port: 0 });
    addresses.push(`127.0.0.1:${address.port}`);
    cleanups.push(async () => {
      scheduler.close();
      await server.close();
      await engine.close();
    });
  }
  const storeMeta = (id: number) => ({
    id,
    address: addresses[id - 1] as string,
    statusAddress: "",
    version: "0.1.0",
    labels: {},
  });
  await pdClient.bootstrap(storeMeta(1), {
    ...(shards[0] as ShardMeta),
    endKey: new Uint8Array(0),
    epoch: { confVersion: 1, version: 1 },
  });
  await pdClient.putStore(storeMeta(2));
  for (const shard of shards) {
    await pdClient.shardHeartbeat({
      shard,
      leaderPeerId: (shard.peers[0] as { peerId: number }).peerId,
      pendingPeerIds: [],
      stats: noShardLoad,
    });
  }
  const clients: TxnClient[] = [];
  return {
    env,
    pd,
    pdClient,
    schedulers,
    coprocessor,
    newPdClient,
    client: (options = {}) => {
      const c = new TxnClient(env, {
        pd: newPdClient(),
        logger: quietLogger,
        safePointCacheMs: 0,
        ...options,
      });
      clients.push(c);
      return c;
    },
    close: async () => {
      for (const c of clients) await c.close();
      for (const cleanup of cleanups.reverse()) await cleanup();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
