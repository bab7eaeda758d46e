/**
 * A whole Tessera cluster on the simulated `Env`: one PD (embedded metadata store on its
 * simulated disk), three KV nodes with multi-Raft shards, and a transactional client, each
 * a process (host) of one simulation: `pd`, `kv1`…`kv3`, `client`. The PD, KV, Raft, RPC and
 * client code is the real code, unchanged; what is assembled here is the glue that
 * `tessera kv` (`src/cmd/kv.ts`) does on a real machine — open the engine, learn the
 * cluster id, allocate and record the store id, the serving core (`openKvNode`: Raft
 * transport with addresses from PD, deadlock detector forwarding, scheduler, KV service),
 * bootstrap of the first shard, PD heartbeats and the peer-store liveness check
 * (`startStoreWork`) — minus metrics, status server and signals, with the engine
 * persisting through the simulated disk (`SimDiskEngine`).
 *
 * A KV node can crash (`crash`): its host vanishes from the network (listeners gone,
 * connections reset), its disk loses what was not synced (torn writes included), and every
 * component of that incarnation is stopped without any graceful step; `start` opens a new
 * incarnation from what the disk kept (retrying while start-up fails, as a supervisor
 * would). Fatal errors of a live incarnation are collected in `fatals` (a crashed one's are
 * expected and ignored). PD crashes and restarts the same way (`crashPd`, `restartPd`), on
 * its metadata store's simulated disk.
 *
 * The client's PD client checks the TSO as it goes (`tsoViolations`): a timestamp handed
 * out after another one was received must be larger (TSO linearizability, across PD
 * restarts and clock jumps).
 */
import { ErrorCode, describeError, hasErrorCode } from "../../../src/base/mod.ts";
import { PdClient, TxnClient } from "../../../src/client/mod.ts";
import type { Timestamp } from "../../../src/base/mod.ts";
import { type SimEnv, createSimEnv } from "../../../src/env/mod.ts";
import { type MultiRaftStore, openKvNode, startStoreWork, wholeKeySpaceShard }
  from "../../../src/kv/mod.ts";
import { EmbeddedMetaStore, PdServer } from "../../../src/pd/mod.ts";
import type { ShardMeta, ShardRoute, StoreMeta } from "../../../src/proto/mod.ts";
import type { RaftOptions } from "../../../src/raft/mod.ts";
import { SimDiskEngine } from "./sim_disk_engine.ts";

/** Counts what the processes logged; nothing is printed. */
export class SimLog {
  warnings = 0;
  errors = 0;
  readonly logger = {
    debug: (): void => undefined,
    info: (): void => undefined,
    warn: (): void => {
      this.warnings++;
    },
    error: (): void => {
      this.errors++;
    },
  };
}

export const pdHost = "pd";
export const pdPort = 2379;
export const kvPort = 20160;

/** Raft in simulation: 100 ms ticks, elections after 1–2 s, leases with 50 ms drift. */
export const simRaftOptions: Partial<RaftOptions> = {
  tickIntervalMs: 100,
  electionTicks: 10,
  heartbeatTicks: 2,
  maxClockDriftMs: 50,
};

const heartbeatIntervalMs = 500;

interface StoreIdent {
  readonly clusterId: string;
  readonly storeId: number;
  readonly bootstrapShard?: { readonly id: number; readonly peerId: number };
}

/** The parts of one running incarnation of a KV node. */
interface Incarnation {
  readonly store: MultiRaftStore;
  readonly stop: () => Promise<void>;
  dead: boolean;
}

/** One KV node: a host of the simulation with its disk, started, crashed, restarted. */
export class SimKvNode {
  readonly env: SimEnv;
  readonly name: string;
  storeId = 0;
  private current: Incarnation | undefined;
  private readonly log: SimLog;
  private readonly fatals: unknown[];
  crashes = 0;

  constructor(env: SimEnv, log: SimLog, fatals: unknown[]) {
    this.env = env;
    this.name = env.host;
    this.log = log;
    this.fatals = fatals;
  }

  get running(): boolean {
    return this.current !== undefined;
  }

  /** True while an incarnation is starting (it may wait for PD through a partition). */
  get starting(): boolean {
    return this.startingRun !== undefined;
  }

  /** Start failures retried so far (PD unreachable, …). */
  startRetries = 0;
  private startingRun: Promise<void> | undefined;
  private generation = 0;

  get store(): MultiRaftStore | undefined {
    return this.current?.store;
  }

  /**
   * Starts an incarnation from what the disk holds, retrying (after a crash of the
   * half-started one) while start-up fails, as a supervisor would; one start at a time.
   */
  start(): Promise<void> {
    if (this.current !== undefined) return Promise.resolve();
    this.startingRun ??= this.startLoop().finally(() => {
      this.startingRun = undefined;
    });
    return this.startingRun;
  }

  private async startLoop(): Promise<void> {
    const generation = this.generation;
    for (;;) {
      try {
        const incarnation = await startKvNode(this, this.log, (error, which) => {
          if (!which.dead) this.fatals.push(error);
        });
        if (generation !== this.generation) {
          incarnation.dead = true;
          await incarnation.stop();
          return;
        }
        this.current = incarnation;
        return;
      } catch {
        if (generation !== this.generation) return;
        this.startRetries++;
        this.env.network.crashHost(this.name);
        this.env.disk.crash({ tornWrites: true });
        await this.env.timers.sleep(1_000);
      }
    }
  }

  /** Stops any start in progress (the cluster is closing). */
  abandonStart(): void {
    this.generation++;
  }

  /** Crashes the node: see the file comment. */
  async crash(): Promise<void> {
    const incarnation = this.current;
    if (incarnation === undefined) return;
    this.current = undefined;
    incarnation.dead = true;
    this.crashes++;
    this.env.network.crashHost(this.name);
    this.env.disk.crash({ tornWrites: true });
    await incarnation.stop();
  }
}

async function readIdent(env: SimEnv): Promise<StoreIdent | undefined> {
  try {
    return JSON.parse(new TextDecoder().decode(await env.fs.readFile("/kv/store.json"))) as
      StoreIdent;
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return undefined;
    throw error;
  }
}

function writeIdent(env: SimEnv, ident: StoreIdent): Promise<void> {
  return env.fs.writeFileAtomic("/kv/store.json", new TextEncoder().encode(JSON.stringify(ident)));
}

/** `tessera kv`'s start-up on the simulated Env; see the file comment. */
async function startKvNode(
  node: SimKvNode,
  log: SimLog,
  onFatal: (error: unknown, incarnation: Incarnation) => void,
): Promise<Incarnation> {
  const { env } = node;
  const logger = log.logger;
  const stops: (() => Promise<void> | void)[] = [];
  // A crash: every component is told to stop at once, and nothing is awaited — the
  // crashed host's own connections never close (its side of the network went silent), so
  // a graceful close could wait forever. Failures of the dead components are expected.
  const stopAll = (): Promise<void> => {
    for (const stop of stops.reverse()) {
      Promise.resolve().then(stop).catch(() => undefined);
    }
    return Promise.resolve();
  };
  try {
    await env.fs.mkdir("/kv");
    const engine = await SimDiskEngine.open({ fs: env.fs, crypto: env.crypto, dir: "/kv/engine" });
    stops.push(() => engine.close());
    const pd = new PdClient(env, { endpoints: [`${pdHost}:${pdPort}`], logger });
    stops.push(() => pd.close());
    let clusterId: bigint;
    for (;;) {
      try {
        clusterId = await pd.clusterId();
        break;
      } catch (error) {
        if (!hasErrorCode(error, ErrorCode.PdUnavailable)) throw error;
        await env.timers.sleep(1_000);
      }
    }
    let ident = await readIdent(env);
    if (ident !== undefined && BigInt(ident.clusterId) !== clusterId) {
      throw new Error(`${node.name}: store.json of another cluster`);
    }
    if (ident === undefined) {
      ident = { clusterId: String(clusterId), storeId: await pd.allocIds(1) };
      await writeIdent(env, ident);
    }
    const storeId = ident.storeId;
    node.storeId = storeId;

    const incarnationRef: { current: Incarnation | undefined } = { current: undefined };
    // The serving core, assembled as `tessera kv` assembles it (src/kv/server/kv_node.ts).
    const kv = await openKvNode({
      env,
      engine,
      pd,
      clusterId,
      storeId,
      logger,
      raft: simRaftOptions,
      logGcCountMax: 200,
      onFatal: (error) => {
        if (incarnationRef.current !== undefined) onFatal(error, incarnationRef.current);
        else throw error;
      },
      onStop: (_name, stop) => {
        stops.push(stop);
      },
    });
    const { store, rpc } = kv;
    await rpc.listen({ host: node.name, port: kvPort });
    stops.push(() => rpc.close());
    const storeMeta: StoreMeta = {
      id: storeId,
      address: `${node.name}:${kvPort}`,
      statusAddress: "",
      version: "0.1.0",
      labels: {},
    };
    if (store.shards().length === 0) {
      await bootstrapCluster(env, { pd, store, storeMeta, ident });
    }
    await pd.putStore(storeMeta);
    startStoreWork(kv, {
      env,
      pd,
      logger,
      storeHeartbeatIntervalMs: heartbeatIntervalMs,
      shardHeartbeatIntervalMs: heartbeatIntervalMs,
      storeStats: () => ({
        capacityBytes: 1 << 30,
        availableBytes: 1 << 29,
        usedBytes: engine.approximateSize(Uint8Array.of(0), Uint8Array.of(0xff)),
        readBytesPerSec: 0,
        writeBytesPerSec: 0,
      }),
      onStop: (_name, stop) => {
        stops.push(stop);
      },
    });
    const incarnation: Incarnation = { store, stop: stopAll, dead: false };
    incarnationRef.current = incarnation;
    return incarnation;
  } catch (error) {
    await stopAll();
    throw new Error(`${node.name} did not start: ${describeError(error)}`, { cause: error });
  }
}

async function bootstrapCluster(
  env: SimEnv,
  parts: { pd: PdClient; store: MultiRaftStore; storeMeta: StoreMeta; ident: StoreIdent },
): Promise<void> {
  const { pd, store, storeMeta } = parts;
  let ident = parts.ident;
  let ids = ident.bootstrapShard;
  if (ids === undefined) {
    if (await pd.isBootstrapped()) return;
    const first = await pd.allocIds(2);
    ids = { id: first, peerId: first + 1 };
    ident = { ...ident, bootstrapShard: ids };
    await writeIdent(env, ident);
  }
  const shard: ShardMeta = wholeKeySpaceShard({
    shardId: ids.id,
    peerId: ids.peerId,
    storeId: storeMeta.id,
  });
  let ours = true;
  try {
    await pd.bootstrap(storeMeta, shard);
  } catch (error) {
    if (!hasErrorCode(error, ErrorCode.PdClusterAlreadyBootstrapped)) throw error;
    const route = await pd.getShardById(shard.id);
    ours = route !== null &&
      route.shard.peers.some((p) => p.storeId === storeMeta.id && p.peerId === ids.peerId);
  }
  if (ours) await store.createShard(shard);
  await writeIdent(env, { clusterId: ident.clusterId, storeId: ident.storeId });
}

/** A PD client whose timestamps are checked for TSO linearizability. */
class CheckedPdClient extends PdClient {
  private received = 0n;
  readonly violations: string[] = [];

  override async getTimestamp(): Promise<Timestamp> {
    const floor = this.received;
    const ts = await super.getTimestamp();
    if (ts <= floor) this.violations.push(`TSO went back: ${ts} after ${floor} was received`);
    if (ts > this.received) this.received = ts;
    return ts;
  }
}

/** The simulated cluster: PD, KV nodes and a client; see the file comment. */
export class SimCluster {
  readonly pdEnv: SimEnv;
  readonly clientEnv: SimEnv;
  readonly nodes: SimKvNode[];
  readonly log = new SimLog();
  readonly fatals: unknown[] = [];
  pd!: PdServer;
  private meta!: EmbeddedMetaStore;
  private readonly closers: (() => Promise<void>)[] = [];
  private readonly pdClients: CheckedPdClient[] = [];
  /** False between `crashPd` and the end of `restartPd`. */
  pdRunning = false;
  pdCrashes = 0;

  constructor(options: { readonly seed: number; readonly kvNodes?: number }) {
    this.pdEnv = createSimEnv({ seed: options.seed, host: pdHost });
    this.nodes = Array.from({ length: options.kvNodes ?? 3 }, (_, i) =>
      new SimKvNode(this.pdEnv.spawn(`kv${i + 1}`), this.log, this.fatals));
    this.clientEnv = this.pdEnv.spawn("client");
  }

  get scheduler(): SimEnv["scheduler"] {
    return this.pdEnv.scheduler;
  }

  get network(): SimEnv["network"] {
    return this.pdEnv.network;
  }

  /** Starts PD (not the nodes). */
  async startPd(): Promise<void> {
    this.meta = await EmbeddedMetaStore.open(this.pdEnv, { dir: "/pd/meta" });
    this.pd = await PdServer.start(this.pdEnv, {
      name: "pd-1",
      host: pdHost,
      port: pdPort,
      store: this.meta,
      logger: this.log.logger,
      leaseTtlMs: 3_000,
      scheduleIntervalMs: 200,
      schedulerConfig: { storeDisconnectTimeMs: 3_000, maxStoreDownTimeMs: 600_000 },
    });
    this.pdRunning = true;
  }

  /** PD's process dies: host gone from the network, unsynced metadata lost. */
  crashPd(): void {
    if (!this.pdRunning) return;
    this.pdRunning = false;
    this.pdCrashes++;
    this.network.crashHost(pdHost);
    this.pdEnv.disk.crash({ tornWrites: true });
    // Not awaited: the crashed host's connections never close (see SimKvNode.crash).
    this.pd.stop().catch(() => undefined);
    this.meta.close().catch(() => undefined);
  }

  /** Starts PD again from its disk. */
  restartPd(): Promise<void> {
    return this.startPd();
  }

  /** TSO linearizability violations the clients saw. */
  tsoViolations(): string[] {
    return this.pdClients.flatMap((c) => c.violations);
  }

  /** Every shard PD's leader knows, in key order. */
  shards(): ShardRoute[] {
    return this.pd.leaderCluster().scanShards(new Uint8Array(0), new Uint8Array(0), 100);
  }

  /** A new transactional client on the client host. */
  client(): TxnClient {
    const pd = new CheckedPdClient(this.clientEnv, {
      endpoints: [`${pdHost}:${pdPort}`],
      logger: this.log.logger,
    });
    this.pdClients.push(pd);
    const client = new TxnClient(this.clientEnv, { pd, logger: this.log.logger });
    this.closers.push(async () => {
      await client.close();
      await pd.close();
    });
    return client;
  }

  /** Stops everything (gracefully enough that no timer keeps running). */
  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await close().catch(() => undefined);
    for (const node of this.nodes) {
      node.abandonStart();
      await node.crash();
    }
    await this.pd.stop().catch(() => undefined);
    await this.meta.close().catch(() => undefined);
  }
}
