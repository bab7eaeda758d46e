/**
 * The serving core of a KV node, assembled the same way by `tessera kv` (src/cmd/kv.ts,
 * on the real Env) and by the simulator (test/jepsen/sim, on the simulated one):
 *
 * - `openKvNode`: the Raft transport (store addresses from PD, looked up on first use,
 *   refreshed after failed deliveries, at most once a second per store), the
 *   `MultiRaftStore` recovered from the engine, the cluster's deadlock detector (local on
 *   the leader of the first shard, forwarded there otherwise), the transaction scheduler,
 *   shard operations and the KV service registered with Raft on one RPC server (not yet
 *   listening: where it listens is the caller's).
 * - `startStoreWork`: once the store is registered with PD, the `PdWorker` (heartbeats,
 *   operator steps) and the liveness round that asks PD about the stores our shards have
 *   peers on and wakes the groups with a peer on a store not `up` (hibernating followers
 *   cannot notice a dead leader themselves).
 *
 * What differs between the two (engine, store identity file, status server, metrics,
 * bootstrap, shutdown order of the rest) stays with the callers. Each part registers its
 * stop action with `onStop` as it is created, so stopping in reverse order undoes a
 * half-finished start too. No I/O of its own: everything goes through the Env.
 */
import { describeError } from "../../base/mod.ts";
import type { PdClient } from "../../client/mod.ts";
import type { Env, Timer } from "../../env/mod.ts";
import { type DetectReply, KvMethod, type StoreInfoReply } from "../../proto/mod.ts";
import type { RaftOptions } from "../../raft/mod.ts";
import { RpcClient, type RpcLogger, RpcServer } from "../../rpc/mod.ts";
import type { Engine } from "../engine/engine.ts";
import { MultiRaftStore } from "../store/multi_raft_store.ts";
import { RpcRaftTransport, serveRaft } from "../store/rpc_raft_transport.ts";
import type { StoreShards } from "../store/store_shards.ts";
import { CoprocessorRegistry } from "./coprocessor.ts";
import { registerCoprocessorHandlers } from "../copr/dag_handler.ts";
import { ForwardingDeadlockService, LocalDeadlockService } from "./deadlock_service.ts";
import { KvService } from "./kv_service.ts";
import { type KvLogger, PdWorker, type PdWorkerOptions } from "./pd_worker.ts";
import { RaftShardOperations } from "./raft_shard_operations.ts";
import { TxnScheduler } from "./txn_scheduler.ts";

/** Where a KV node logs (pino's shape: fields first). */
export interface KvNodeLogger extends KvLogger, RpcLogger {
  debug(fields: Record<string, unknown>, message: string): void;
}

/** What `openKvNode` builds the node from. */
export interface KvNodeOptions {
  readonly env: Env;
  /** The opened engine (the caller closes it). */
  readonly engine: Engine;
  readonly pd: PdClient;
  readonly clusterId: bigint;
  readonly storeId: number;
  readonly logger: KvNodeLogger;
  readonly raft: Partial<RaftOptions>;
  readonly logGcCountMax: number;
  /** A failed apply or Raft write: the store stopped (fail-stop). */
  readonly onFatal: (error: unknown) => void;
  /** Registers a stop action (the caller runs them in reverse order). */
  readonly onStop: (name: string, stop: () => Promise<void>) => void;
  /** The shards the scheduler works on (a metrics wrapper of `store`); absent: `store`. */
  readonly schedulerShards?: (store: MultiRaftStore) => StoreShards;
}

/** The parts `openKvNode` built. */
export interface KvNode {
  readonly store: MultiRaftStore;
  readonly transport: RpcRaftTransport;
  readonly scheduler: TxnScheduler;
  readonly operations: RaftShardOperations;
  readonly service: KvService;
  /** The KV service and Raft on one server, to be listened on by the caller. */
  readonly rpc: RpcServer;
  /** Records what PD says of a store: its address, and wakes groups if it is not up. */
  readonly learnStore: (info: StoreInfoReply) => void;
}

/** Wakes of groups after failed deliveries to one store, at most one per this interval. */
const unreachableWakeIntervalMs = 1_000;

/** `host:port` (a bracketed IPv6 host too), or undefined. */
function hostPort(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9._-]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  return match === null || port > 65535 ? undefined : { host: match[1] ?? match[2]!, port };
}

/** Builds the serving core of a KV node; see the file comment. */
export async function openKvNode(options: KvNodeOptions): Promise<KvNode> {
  const { env, pd, logger, onStop, clusterId } = options;
  // Raft transport: store addresses come from PD, looked up on first use and refreshed
  // by the liveness round and after failed deliveries.
  const addresses = new Map<number, { host: string; port: number }>();
  const lookups = new Set<number>();
  const storeRef: { current: MultiRaftStore | undefined } = { current: undefined };
  const learnStore = (info: StoreInfoReply): void => {
    const parsed = hostPort(info.address);
    if (parsed !== undefined) addresses.set(info.id, parsed);
    if (info.state !== "up") storeRef.current?.storeUnreachable(info.id);
  };
  const lookUp = (id: number): void => {
    if (lookups.has(id)) return;
    lookups.add(id);
    pd.invalidateStore(id);
    pd.getStore(id)
      .then(learnStore, (error: unknown) => {
        logger.debug({ storeId: id, err: describeError(error) }, "store lookup failed");
      })
      .finally(() => lookups.delete(id));
  };
  const lastUnreachable = new Map<number, number>();
  const transport = new RpcRaftTransport(env, {
    logger,
    addressOf: (id) => {
      const known = addresses.get(id);
      if (known === undefined) lookUp(id);
      return known;
    },
    onUnreachable: (id) => {
      const now = env.clock.monotonicMs();
      if (now - (lastUnreachable.get(id) ?? -Infinity) < unreachableWakeIntervalMs) return;
      lastUnreachable.set(id, now);
      storeRef.current?.storeUnreachable(id);
      lookUp(id);
    },
  });
  onStop("raft-transport", () => transport.close());
  const store = await MultiRaftStore.open({
    env,
    engine: options.engine,
    storeId: options.storeId,
    transport,
    raft: options.raft,
    logGcCountMax: options.logGcCountMax,
    onFatal: options.onFatal,
  });
  storeRef.current = store;
  onStop("store", () => store.close());

  // The cluster's deadlock detector runs on the leader of the first shard.
  const local = new LocalDeadlockService(env.clock);
  const isDetector = (): boolean =>
    store.shards().some((s) => s.isLeader && s.shard.startKey.length === 0);
  const detectorClients = new Map<string, RpcClient>();
  onStop("detector-clients", async () => {
    await Promise.all([...detectorClients.values()].map((c) => c.close()));
  });
  const deadlock = new ForwardingDeadlockService({
    local,
    isDetector,
    forward: async (entry) => {
      const route = await pd.getShardByKey(new Uint8Array(0));
      const leaderStore = route?.leader?.storeId;
      if (leaderStore === undefined) return { result: { kind: "notDetector" } };
      const target = (await pd.getStore(leaderStore)).address;
      let client = detectorClients.get(target);
      if (client === undefined) {
        const where = hostPort(target);
        if (where === undefined) throw new Error(`detector store address ${target}`);
        client = new RpcClient(env, { ...where, logger });
        detectorClients.set(target, client);
      }
      return (await client.call(KvMethod.detect, { header: { clusterId }, entry })) as DetectReply;
    },
    onError: (error) => logger.warn({ err: error }, "deadlock detector call failed"),
  });
  const scheduler = new TxnScheduler({
    store: options.schedulerShards?.(store) ?? store,
    clock: env.clock,
    timers: env.timers,
    deadlock,
    coprocessor: coprocessorHandlers(),
    onBackgroundError: (message) => logger.warn({}, message),
    // Each new shard leadership syncs max read ts from the TSO before async commit / 1PC.
    maxTsSource: () => pd.getTimestamp(),
  });
  onStop("scheduler", () => Promise.resolve(scheduler.close()));
  const operations = new RaftShardOperations({ store, allocIds: (n) => pd.allocIds(n) });
  const service = new KvService({
    clusterId: () => clusterId,
    scheduler,
    operations,
    detector: { local, isDetector },
  });
  const rpc = new RpcServer(env, { logger });
  service.register(rpc);
  serveRaft(rpc, (envelopes) => store.receive(envelopes));
  return { store, transport, scheduler, operations, service, rpc, learnStore };
}

/** What `startStoreWork` needs besides the node. */
export interface StoreWorkOptions {
  readonly env: Env;
  readonly pd: PdClient;
  readonly logger: KvNodeLogger;
  readonly storeHeartbeatIntervalMs: number;
  readonly shardHeartbeatIntervalMs: number;
  readonly storeStats: PdWorkerOptions["storeStats"];
  readonly onStop: (name: string, stop: () => Promise<void>) => void;
}

/**
 * Starts the `PdWorker` and the liveness round (every store-heartbeat interval) of a node
 * registered with PD; returns the worker (for metrics).
 */
export function startStoreWork(node: KvNode, options: StoreWorkOptions): PdWorker {
  const { env, pd, logger, onStop } = options;
  const { store, scheduler } = node;
  const worker = new PdWorker({
    pd,
    timers: env.timers,
    storeId: store.storeId,
    store,
    operations: node.operations,
    logger,
    storeHeartbeatIntervalMs: options.storeHeartbeatIntervalMs,
    shardHeartbeatIntervalMs: options.shardHeartbeatIntervalMs,
    storeStats: options.storeStats,
    shardStats: (shard) => store.shardStats(shard.id, env.clock.monotonicMs()),
    pendingPeerIds: (shard) => store.pendingPeerIds(shard.id),
    onGcSafePoint: (safePoint) => scheduler.observeGcSafePoint(safePoint),
  });
  worker.start();
  onStop("pd-worker", () => worker.stop());
  // Liveness of the stores our shards have peers on, as PD sees it.
  let livenessRound: Promise<void> | undefined;
  const liveness: Timer = env.timers.setInterval(options.storeHeartbeatIntervalMs, () => {
    if (livenessRound !== undefined) return;
    livenessRound = checkPeerStores(store, pd, node.learnStore, logger).finally(() => {
      livenessRound = undefined;
    });
  });
  onStop("liveness", async () => {
    liveness.cancel();
    await livenessRound;
  });
  return worker;
}

/** Asks PD about every store our shards have peers on; wakes groups of stores not up. */
async function checkPeerStores(store: MultiRaftStore, pd: PdClient,
  learn: (info: StoreInfoReply) => void, logger: KvNodeLogger): Promise<void> {
  const ids = new Set<number>();
  for (const { shard } of store.shards()) {
    for (const p of shard.peers) if (p.storeId !== store.storeId) ids.add(p.storeId);
  }
  for (const id of ids) {
    pd.invalidateStore(id);
    try {
      learn(await pd.getStore(id));
    } catch (error) {
      logger.debug({ storeId: id, err: describeError(error) }, "store liveness check failed");
    }
  }
}

/** The store's coprocessor handlers (the SQL layer's DAG pushdown, src/kv/copr). */
function coprocessorHandlers(): CoprocessorRegistry {
  const registry = new CoprocessorRegistry();
  registerCoprocessorHandlers(registry);
  return registry;
}
