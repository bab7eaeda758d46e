/**
 * Helpers for the KV server tests (not part of the `kv` surface): a store of
 * `LocalStoreShards` over a `MemoryEngine` served by a real `RpcServer` on 127.0.0.1 port
 * 0, a client that fills in the header and shard context, and a timestamp source whose
 * physical part is the wall clock (lock TTLs are measured against it).
 */
import { type Timestamp, composeTimestamp } from "../../base/mod.ts";
import { type Env, createNodeEnv } from "../../env/mod.ts";
import { type ShardMeta } from "../../proto/mod.ts";
import { RpcClient, type RpcLogger, RpcServer } from "../../rpc/mod.ts";
import { MemoryEngine } from "../engine/memory_engine.ts";
import { LocalStoreShards, wholeKeySpaceShard } from "../store/local_store_shards.ts";
import { CoprocessorRegistry } from "./coprocessor.ts";
import { KvService } from "./kv_service.ts";
import { LocalShardOperations } from "./shard_operations.ts";
import { TxnScheduler } from "./txn_scheduler.ts";

export const testClusterId = 7n;

/** A logger that keeps nothing but fails loudly on errors in tests. */
export const quietLogger: RpcLogger = {
  warn: () => undefined,
  error: () => undefined,
};

/** One served store and a client of it. */
export interface TestKv {
  readonly env: Env;
  readonly store: LocalStoreShards;
  readonly scheduler: TxnScheduler;
  readonly service: KvService;
  readonly coprocessor: CoprocessorRegistry;
  readonly server: RpcServer;
  readonly client: RpcClient;
  /** The first shard (whole key space until split). */
  shard(): ShardMeta;
  /** Calls `method` with `body` plus header and the context of `shard` (default: first). */
  call(method: string, body: Record<string, unknown>, shard?: ShardMeta): Promise<unknown>;
  /** A fresh timestamp above every earlier one, physical part = wall clock. */
  ts(): Timestamp;
  close(): Promise<void>;
}

/** Starts a store with one shard over a memory engine. */
export async function startTestKv(): Promise<TestKv> {
  const env = createNodeEnv();
  const engine = new MemoryEngine();
  const store = new LocalStoreShards(engine, [
    wholeKeySpaceShard({ shardId: 1, peerId: 2, storeId: 1 }),
  ]);
  const coprocessor = new CoprocessorRegistry();
  const scheduler = new TxnScheduler({ store, clock: env.clock, timers: env.timers, coprocessor });
  let nextId = 100;
  const operations = new LocalShardOperations({
    store,
    allocIds: (count) => {
      const first = nextId;
      nextId += count;
      return Promise.resolve(first);
    },
  });
  const service = new KvService({ clusterId: () => testClusterId, scheduler, operations });
  const server = new RpcServer(env, { logger: quietLogger });
  service.register(server);
  const address = await server.listen({ host: "127.0.0.1", port: 0 });
  const client = new RpcClient(env, {
    host: address.host,
    port: address.port,
    logger: quietLogger,
  });
  let lastTs = 0n;
  const first = (): ShardMeta => {
    const found = store.shards()[0];
    if (found === undefined) throw new Error("no shard");
    return found.shard;
  };
  return {
    env,
    store,
    scheduler,
    service,
    coprocessor,
    server,
    client,
    shard: first,
    call: (method, body, shard = first()) =>
      client.call(method, {
        header: { clusterId: testClusterId },
        context: { shardId: shard.id, epoch: shard.epoch },
        ...body,
      }),
    ts: () => {
      let t: bigint = composeTimestamp(Math.floor(env.clock.wallMs()), 0);
      if (t <= lastTs) t = lastTs + 1n;
      lastTs = t;
      return t as Timestamp;
    },
    close: async () => {
      scheduler.close();
      await client.close();
      await server.close();
      await engine.close();
    },
  };
}

/** UTF-8 bytes of `s`. */
export function b(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** `bytes` as a string, or null. */
export function str(bytes: unknown): string | null {
  return bytes instanceof Uint8Array ? new TextDecoder().decode(bytes) : null;
}
