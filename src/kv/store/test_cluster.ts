/**
 * Test support: a cluster of `MultiRaftStore`s in one process over a `LocalRaftNetwork`,
 * on the simulated `Env` (virtual time; every step advances one tick and then lets the
 * promise chains of engine writes and deliveries settle), so runs are deterministic and
 * take no wall-clock waiting. Keys are written in the MVCC lock column family.
 */
import { setImmediate as settleImmediate } from "node:timers/promises";
import { createSimEnv, type SimEnv } from "../../env/mod.ts";
import type { ShardMeta } from "../../proto/mod.ts";
import type { RaftOptions } from "../../raft/mod.ts";
import type { Engine, WriteOp } from "../engine/engine.ts";
import { MemoryEngine } from "../engine/memory_engine.ts";
import { lockKey } from "../mvcc/keys.ts";
import { MultiRaftStore, type MultiRaftStoreOptions } from "./multi_raft_store.ts";
import { LocalRaftNetwork } from "./raft_transport.ts";

/** 10 ms ticks, elections after 100–200 ms, heartbeats every 20 ms, hibernation after 60 ms. */
export const testRaftOptions: Partial<RaftOptions> = {
  electionTicks: 10,
  heartbeatTicks: 2,
  tickIntervalMs: 10,
  maxClockDriftMs: 5,
  hibernateIdleTicks: 6,
};

export const tickMs = 10;

const te = new TextEncoder();
const td = new TextDecoder();

export function bytes(s: string): Uint8Array {
  return te.encode(s);
}

export function text(b: Uint8Array | undefined): string | undefined {
  return b === undefined ? undefined : td.decode(b);
}

/** A put of user key `key` (in the lock CF) to `value`. */
export function putOp(key: string, value: string): WriteOp {
  return { kind: "put", key: lockKey(bytes(key)), value: bytes(value) };
}

/** The founding meta of a shard with peers `shardId * 100 + storeId` on `storeIds`. */
export function shardMeta(
  shardId: number,
  storeIds: readonly number[],
  range: { startKey?: string; endKey?: string } = {},
): ShardMeta {
  return {
    id: shardId,
    startKey: bytes(range.startKey ?? ""),
    endKey: bytes(range.endKey ?? ""),
    epoch: { confVersion: 1, version: 1 },
    peers: storeIds.map((s) => ({ peerId: shardId * 100 + s, storeId: s, role: "voter" as const })),
  };
}

/** Stores on one simulated network. */
export class TestCluster {
  readonly env: SimEnv;
  readonly network = new LocalRaftNetwork();
  readonly engines = new Map<number, Engine>();
  readonly stores = new Map<number, MultiRaftStore>();
  readonly fatals: unknown[] = [];
  private readonly extra: Partial<MultiRaftStoreOptions>;

  constructor(options: { seed?: number; store?: Partial<MultiRaftStoreOptions> } = {}) {
    this.env = createSimEnv({ seed: options.seed ?? 1 });
    this.extra = options.store ?? {};
  }

  /** Starts (or restarts, on its old engine) store `storeId`. */
  async start(storeId: number, bootstrap?: ShardMeta): Promise<MultiRaftStore> {
    let engine = this.engines.get(storeId);
    if (engine === undefined) {
      engine = new MemoryEngine();
      this.engines.set(storeId, engine);
    }
    const store = await MultiRaftStore.open({
      env: this.env,
      engine,
      storeId,
      transport: this.network.transport(storeId),
      raft: testRaftOptions,
      onFatal: (error) => this.fatals.push(error),
      ...(bootstrap === undefined ? {} : { bootstrap }),
      ...this.extra,
    });
    this.stores.set(storeId, store);
    this.network.attach(storeId, (envelopes) => store.receive(envelopes));
    return store;
  }

  /** Stops a store (as a crash would: no leader transfer); its engine is kept. */
  async stop(storeId: number): Promise<void> {
    const store = this.store(storeId);
    this.network.detach(storeId);
    this.stores.delete(storeId);
    await store.close();
  }

  store(storeId: number): MultiRaftStore {
    const s = this.stores.get(storeId);
    if (s === undefined) throw new Error(`store ${storeId} is not running`);
    return s;
  }

  /** Advances virtual time by `ms`, one tick at a time, settling promises after each. */
  async run(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += tickMs) {
      this.env.scheduler.advance(tickMs);
      await settle();
    }
  }

  /** Runs until `cond` holds; fails after `maxMs` of virtual time. */
  async runUntil(cond: () => boolean, what: string, maxMs = 10_000): Promise<void> {
    await settle();
    for (let t = 0; !cond(); t += tickMs) {
      if (t > maxMs) throw new Error(`timed out (${maxMs} virtual ms) waiting for ${what}`);
      this.env.scheduler.advance(tickMs);
      await settle();
    }
    if (this.fatals.length > 0) throw this.fatals[0];
  }

  /** Awaits `promise` while virtual time runs. */
  async drive<T>(promise: Promise<T>, what: string, maxMs = 10_000): Promise<T> {
    let done = false;
    let value: T | undefined;
    let failure: unknown;
    let failed = false;
    promise.then(
      (v) => {
        done = true;
        value = v;
      },
      (e: unknown) => {
        done = true;
        failed = true;
        failure = e;
      },
    );
    await this.runUntil(() => done, what, maxMs);
    if (failed) throw failure;
    return value as T;
  }

  /** The store whose peer of `shardId` leads, if any. */
  leaderStore(shardId: number): MultiRaftStore | undefined {
    for (const store of this.stores.values()) {
      if (store.shards().some((s) => s.shard.id === shardId && s.isLeader)) return store;
    }
    return undefined;
  }

  async waitLeader(shardId: number): Promise<MultiRaftStore> {
    await this.runUntil(() => this.leaderStore(shardId) !== undefined, `a leader of ${shardId}`);
    return this.leaderStore(shardId) as MultiRaftStore;
  }

  /** The value of user key `key` in a store's engine (whatever shard holds it). */
  engineValue(storeId: number, key: string): string | undefined {
    return text((this.engines.get(storeId) as Engine).get(lockKey(bytes(key))));
  }

  async close(): Promise<void> {
    for (const id of [...this.stores.keys()]) await this.stop(id);
  }
}

/** Lets every pending promise chain run (one macrotask turn after the microtasks). */
export async function settle(): Promise<void> {
  await settleImmediate();
  await settleImmediate();
}
