/**
 * `tessera kv`: runs one KV storage node.
 *
 * `tessera kv --pd 127.0.0.1:2379 --addr 127.0.0.1:20160 --status-addr 127.0.0.1:20180
 * --data-dir DIR` (or the same keys in a TOML file) opens the LMDB engine in `DIR/engine`
 * (its lock file refuses a second node on the same directory), learns the cluster id from
 * PD, and checks it against `DIR/store.json`, which records the cluster id, this node's
 * store id and its RPC address: a PD of another cluster (a PD restarted with `--clean`
 * included) is refused with a clear error rather than adopting old data. On first start
 * the store id comes from PD's id allocator and is recorded before the store registers.
 *
 * Shards are Raft groups (`MultiRaftStore`) whose logs and data live in the one engine;
 * on restart every peer is recovered from it. On a fresh cluster the first store to ask
 * bootstraps it (`pd.Bootstrap`, as TiKV does) with shard 1 — the whole key space — and
 * a single voter on itself; the intent is recorded in `store.json` first, so a crash
 * between PD's bootstrap and the local founding resumes instead of leaving PD pointing at
 * a shard nobody holds. Every later store starts empty: PD's replica checker answers the
 * leader's shard heartbeats with steps (add a learner, promote it) that the `PdWorker`
 * carries out through `RaftShardOperations`; the new peers fill from the leader's
 * snapshot. Raft messages travel over `RpcRaftTransport` (store addresses from PD) and
 * arrive through `serveRaft` on the same RPC server as the KV service.
 *
 * Liveness: hibernating followers cannot notice a dead leader, so every store-heartbeat
 * interval the node asks PD about the stores its shards have peers on and wakes the groups
 * with a peer on a store PD no longer reports `up` (TiKV's awakened regions); a Raft
 * message that cannot be delivered does the same at once (at most once a second per
 * store) and refreshes that store's address. The transport, store, detector, scheduler,
 * KV service and this liveness round are assembled by `openKvNode` / `startStoreWork`
 * (src/kv/server/kv_node.ts), which the simulator runs too.
 *
 * Address stability: PD refuses a store that comes back at another address, so the bound
 * RPC address is recorded in `store.json`; when `--addr` asks for port 0 on a restart, the
 * recorded port is bound again (an explicit port wins, and is recorded).
 *
 * The KV RPC service listens on `--addr`; `/metrics` (Raft ticks, heartbeats, messages,
 * hibernated shards, pending proposals, write and read-wait durations, engine size) and
 * `/status` on `--status-addr`. Once serving it prints one JSON line —
 * `{"storeId","rpc","status","clusterId"}` — for launchers and tests. On SIGINT/SIGTERM
 * it first hands the leadership of the shards it leads to other voters (bounded by
 * `--leader-transfer-timeout`), so a rolling restart costs no election timeout, then stops.
 */
import { mkdir, open, readFile, rename, statfs } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import {
  ErrorCode,
  type PeerId,
  TesseraError,
  describeError,
  hasErrorCode,
  limits,
} from "../base/mod.ts";
import { PdClient } from "../client/mod.ts";
import { type Env, createNodeEnv } from "../env/mod.ts";
import {
  type KvService,
  LmdbEngine,
  type MultiRaftStore,
  type PdWorker,
  type RpcRaftTransport,
  type ShardContext,
  type ShardWriteOptions,
  type StoreShards,
  type TxnScheduler,
  type WriteOp,
  openKvNode,
  startStoreWork,
  wholeKeySpaceShard,
} from "../kv/mod.ts";
import type { ShardMeta, StoreMeta } from "../proto/mod.ts";
import { type RaftOptions, defaultRaftOptions } from "../raft/mod.ts";
import type { RpcServer } from "../rpc/mod.ts";
import type { CommandContext, RegisterCommand } from "./command.ts";
import {
  type ConfigOf,
  addConfigOptions,
  defineConfig,
  loadConfig,
  splitAddress,
} from "./config.ts";
import { clockConfig, warnIfClockSkewed } from "./clock_config.ts";
import { Lifecycle } from "./lifecycle.ts";
import { type Logger, createLogger, logConfig } from "./logger.ts";
import { createMetricsRegistry, startStatusServer } from "./status_server.ts";

/** Options of `tessera kv`. */
export const kvConfig = defineConfig({
  ...logConfig,
  ...clockConfig,
  pd: {
    type: "string",
    default: "127.0.0.1:2379",
    description: "comma-separated PD member addresses (host:port)",
  },
  addr: {
    type: "address",
    default: "127.0.0.1:20160",
    description:
      "KV RPC listen address (port 0 on a restart binds the port recorded in DIR/store.json)",
  },
  advertiseAddr: {
    type: "string",
    default: "",
    description: "KV RPC address other processes use to reach this node (default: --addr)",
  },
  statusAddr: {
    type: "address",
    default: "127.0.0.1:20180",
    description: "HTTP address for /metrics and /status",
  },
  dataDir: { type: "string", default: "./data/kv", description: "directory of the node's data" },
  storeHeartbeatInterval: {
    type: "duration-ms",
    default: 10_000,
    min: 10,
    max: 600_000,
    description: "time between store heartbeats to PD",
  },
  shardHeartbeatInterval: {
    type: "duration-ms",
    default: 10_000,
    min: 10,
    max: 600_000,
    description: "time between heartbeats of the shards this node leads",
  },
  leaderTransferTimeout: {
    type: "duration-ms",
    default: 5_000,
    min: 0,
    max: 60_000,
    description: "on SIGINT/SIGTERM, longest wait for led shards to move their leaders away",
  },
  tickInterval: {
    type: "duration-ms",
    section: "raft",
    default: defaultRaftOptions.tickIntervalMs,
    min: 10,
    max: 60_000,
    description: "time between Raft ticks of awake shards",
  },
  electionTicks: {
    type: "int",
    section: "raft",
    default: defaultRaftOptions.electionTicks,
    min: 3,
    max: 10_000,
    description: "ticks without a leader before a follower campaigns",
  },
  heartbeatTicks: {
    type: "int",
    section: "raft",
    default: defaultRaftOptions.heartbeatTicks,
    min: 1,
    max: 10_000,
    description: "ticks between a leader's heartbeats (below --raft-election-ticks)",
  },
  hibernate: {
    type: "bool",
    section: "raft",
    default: defaultRaftOptions.hibernate,
    description: "let idle shards stop ticking and heartbeating",
  },
  logGcCountMax: {
    type: "int",
    section: "raft",
    default: limits.kvRaftLogGcCountMax,
    min: 1,
    max: 1_000_000,
    description: "applied entries a shard peer keeps in its Raft log before compacting it " +
      "(small values make lagging followers catch up by snapshot, as tests want)",
  },
});

/** Registers `tessera kv`. */
export const registerKvCommand: RegisterCommand = (program, context) => {
  const command = program
    .command("kv")
    .description("run a KV storage node (transactional key-value shards)");
  addConfigOptions(command, kvConfig);
  command.action(async () => {
    const config = await loadConfig(kvConfig, command);
    await runKv(config, context);
  });
};

/** What `DIR/store.json` records. */
interface StoreIdent {
  readonly clusterId: bigint;
  readonly storeId: number;
  /** The RPC address bound on the last start (`host:port`), reused when asked for port 0. */
  readonly address?: string;
  /** The first shard this store is founding, recorded before `pd.Bootstrap` is asked. */
  readonly bootstrapShard?: ShardMeta | undefined;
}

interface RawShard extends Omit<ShardMeta, "startKey" | "endKey"> {
  readonly startKey: string;
  readonly endKey: string;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const unhex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "hex"));

async function readIdent(path: string): Promise<StoreIdent | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const raw = JSON.parse(text) as {
    clusterId: string;
    storeId: number;
    address?: string;
    bootstrapShard?: RawShard;
  };
  const shard = raw.bootstrapShard;
  return {
    clusterId: BigInt(raw.clusterId),
    storeId: raw.storeId,
    ...(raw.address === undefined ? {} : { address: raw.address }),
    ...(shard === undefined
      ? {}
      : { bootstrapShard: { ...shard, startKey: unhex(shard.startKey),
        endKey: unhex(shard.endKey) } }),
  };
}

/** Writes `ident` durably: a temporary file, fsync, rename over the old one. */
async function writeIdent(path: string, ident: StoreIdent): Promise<void> {
  const shard = ident.bootstrapShard;
  const text = JSON.stringify({
    clusterId: String(ident.clusterId),
    storeId: ident.storeId,
    address: ident.address,
    bootstrapShard: shard === undefined
      ? undefined
      : { ...shard, startKey: hex(shard.startKey), endKey: hex(shard.endKey) },
  });
  const tmp = `${path}.tmp`;
  const file = await open(tmp, "w");
  try {
    await file.writeFile(`${text}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  // The rename is durable only once the directory is synced (a crash could lose it).
  const dir = await open(dirname(path), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

function address(text: string, flag: string): { host: string; port: number } {
  const parsed = splitAddress(text);
  if (typeof parsed === "string") {
    throw new TesseraError(ErrorCode.ConfigBadValue, `--${flag}: ${parsed}`);
  }
  return parsed;
}

/** The cluster id, retrying while PD does not answer (start order tolerates a late PD). */
async function waitForPd(env: Env, pd: PdClient, logger: Logger): Promise<bigint> {
  for (;;) {
    try {
      return await pd.clusterId();
    } catch (error) {
      if (!hasErrorCode(error, ErrorCode.PdUnavailable)) throw error;
      logger.warn({ err: describeError(error) }, "PD unavailable, retrying");
      await env.timers.sleep(1_000);
    }
  }
}

async function runKv(config: ConfigOf<typeof kvConfig>, context: CommandContext): Promise<void> {
  const rpcAddress = address(config.addr, "addr");
  const statusAddress = address(config.statusAddr, "status-addr");
  const logger = createLogger({ component: "kv", level: config.logLevel });
  const lifecycle = new Lifecycle({ logger });
  lifecycle.install();
  try {
    await startKv(config, context, { rpcAddress, statusAddress, logger, lifecycle });
  } catch (error) {
    await lifecycle.stop("start-up failed");
    lifecycle.uninstall();
    throw error;
  }
}

async function startKv(
  config: ConfigOf<typeof kvConfig>,
  context: CommandContext,
  parts: {
    readonly rpcAddress: { host: string; port: number };
    readonly statusAddress: { host: string; port: number };
    readonly logger: Logger;
    readonly lifecycle: Lifecycle;
  },
): Promise<void> {
  const { logger, lifecycle } = parts;
  const env = createNodeEnv({ clockOffsetMs: config.clockOffsetMs });
  warnIfClockSkewed(logger, config.clockOffsetMs);
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  const engine = await LmdbEngine.open(join(dataDir, "engine"), {
    onNote: (message, details) => logger.warn(details, message),
  });
  lifecycle.onStop("engine", () => engine.close());
  const endpoints = config.pd
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  const pd = new PdClient(env, { endpoints, logger });
  lifecycle.onStop("pd-client", () => pd.close());
  const clusterId = await waitForPd(env, pd, logger);
  const identPath = join(dataDir, "store.json");
  let ident = await readIdent(identPath);
  if (ident !== undefined && ident.clusterId !== clusterId) {
    throw new TesseraError(
      ErrorCode.KvClusterIdMismatch,
      `data dir ${dataDir} belongs to cluster ${ident.clusterId}, but PD ${config.pd} serves ` +
        `cluster ${clusterId}; refusing to start (a PD restarted with --clean does not adopt ` +
        "old KV data: point --pd at the right cluster or use a fresh --data-dir)",
      { details: { recorded: String(ident.clusterId), pd: String(clusterId) } },
    );
  }
  if (ident === undefined) {
    ident = { clusterId, storeId: await pd.allocIds(1) };
    await writeIdent(identPath, ident);
    logger.info({ storeId: ident.storeId, clusterId: String(clusterId) }, "new store id");
  }
  const storeId = ident.storeId;

  // The serving core, as the simulator assembles it too (src/kv/server/kv_node.ts).
  const timedRef: { current?: TimedStoreShards } = {};
  const node = await openKvNode({
    env,
    engine,
    pd,
    clusterId,
    storeId,
    logger,
    raft: raftOptionsOf(config),
    logGcCountMax: config.logGcCountMax,
    onFatal: (error) => {
      logger.error({ err: describeError(error) }, "store stopped: a committed entry could " +
        "not be applied or Raft state not persisted (fail-stop)");
      env.timers.setTimeout(0, () => {
        throw error;
      });
    },
    onStop: (name, stop) => lifecycle.onStop(name, stop),
    schedulerShards: (shards) => (timedRef.current = new TimedStoreShards(shards)),
  });
  const { store, transport, scheduler, service, rpc } = node;
  const timed = timedRef.current ?? new TimedStoreShards(store);
  const bound = await listenRpc(rpc, parts.rpcAddress, ident, identPath);
  lifecycle.onStop("rpc", () => rpc.close());
  const boundText = `${bound.host}:${bound.port}`;
  if (ident.address !== boundText) {
    ident = { ...ident, address: boundText };
    await writeIdent(identPath, ident);
  }
  const rpcText = config.advertiseAddr === "" ? boundText : config.advertiseAddr;

  const workerRef: { current: PdWorker | undefined } = { current: undefined };
  const registry = createMetricsRegistry({ component: "kv" });
  registerKvMetrics(registry, { service, scheduler, worker: () => workerRef.current });
  registerRaftMetrics(registry, { store, transport, timed, engine });
  const status = await startStatusServer({
    host: parts.statusAddress.host,
    port: parts.statusAddress.port,
    component: "kv",
    version: context.version,
    registry,
    status: () => storeStatus(store, { storeId, clusterId, rpc: rpcText, pd: config.pd }),
    logger,
  });
  lifecycle.onStop("status-server", () => status.close());

  const storeMeta: StoreMeta = {
    id: storeId,
    address: rpcText,
    statusAddress: status.address,
    version: context.version,
    labels: {},
  };
  if (store.shards().length === 0) {
    await bootstrapCluster({ pd, store, storeMeta, ident, identPath, logger });
  }
  await pd.putStore(storeMeta);

  // PD heartbeats and operator steps, and the liveness round of our shards' peer stores.
  workerRef.current = startStoreWork(node, {
    env,
    pd,
    logger,
    storeHeartbeatIntervalMs: config.storeHeartbeatInterval,
    shardHeartbeatIntervalMs: config.shardHeartbeatInterval,
    storeStats: () => storeStats(dataDir, engine),
    onStop: (name, stop) => lifecycle.onStop(name, stop),
  });
  lifecycle.onStop("transfer-leaders", () =>
    transferLeadersAway(env, store, { timeoutMs: config.leaderTransferTimeout, logger }),
  );

  logger.info({ storeId, rpc: rpcText, status: status.address }, "KV node serving");
  context.print(
    `${JSON.stringify({
      storeId,
      rpc: rpcText,
      status: status.address,
      clusterId: String(clusterId),
    })}\n`,
  );
}

/** Raft tunables from the `[raft]` options; clock drift scales with the tick. */
function raftOptionsOf(config: ConfigOf<typeof kvConfig>): Partial<RaftOptions> {
  return {
    tickIntervalMs: config.tickInterval,
    electionTicks: config.electionTicks,
    heartbeatTicks: config.heartbeatTicks,
    hibernate: config.hibernate,
    // Half a tick of drift per lease (500 ms at the default 1 s tick).
    maxClockDriftMs: Math.min(
      defaultRaftOptions.maxClockDriftMs,
      Math.floor(config.tickInterval / 2),
    ),
  };
}

/**
 * Listens for RPC. With port 0 asked and an address recorded by an earlier start, the
 * recorded port is bound again: PD knows the store at that address and refuses another.
 */
async function listenRpc(
  rpc: RpcServer,
  asked: { host: string; port: number },
  ident: StoreIdent,
  identPath: string,
): Promise<{ host: string; port: number }> {
  const recorded = ident.address === undefined ? undefined : splitAddress(ident.address);
  if (asked.port !== 0 || recorded === undefined || typeof recorded === "string") {
    return rpc.listen(asked);
  }
  try {
    return await rpc.listen({ host: asked.host, port: recorded.port });
  } catch (error) {
    throw new TesseraError(
      ErrorCode.ConfigBadValue,
      `--addr ${asked.host}:0: this store was registered with PD at ${ident.address} ` +
        `(recorded in ${identPath}) and must come back on port ${recorded.port}, which ` +
        `cannot be bound: ${describeError(error)}`,
      { cause: error },
    );
  }
}

/**
 * Founds the cluster's first shard on this store if PD is not bootstrapped yet, or
 * finishes a founding a crash interrupted.
 */
async function bootstrapCluster(parts: {
  readonly pd: PdClient;
  readonly store: MultiRaftStore;
  readonly storeMeta: StoreMeta;
  readonly ident: StoreIdent;
  readonly identPath: string;
  readonly logger: Logger;
}): Promise<void> {
  const { pd, store, storeMeta, identPath, logger } = parts;
  let ident = parts.ident;
  let shard = ident.bootstrapShard;
  if (shard === undefined) {
    if (await pd.isBootstrapped()) return;
    const first = await pd.allocIds(2);
    shard = wholeKeySpaceShard({ shardId: first, peerId: first + 1, storeId: storeMeta.id });
    ident = { ...ident, bootstrapShard: shard };
    await writeIdent(identPath, ident);
  }
  let ours = true;
  try {
    await pd.bootstrap(storeMeta, shard);
  } catch (error) {
    if (!hasErrorCode(error, ErrorCode.PdClusterAlreadyBootstrapped)) throw error;
    // Ours if PD knows the shard we recorded (our earlier attempt got through).
    const route = await pd.getShardById(shard.id);
    const mine = shard.peers[0];
    ours = route !== null && mine !== undefined &&
      route.shard.peers.some((p) => p.storeId === mine.storeId && p.peerId === mine.peerId);
  }
  if (ours) {
    await store.createShard(shard);
    logger.info({ shardId: shard.id }, "bootstrapped the cluster with the first shard");
  } else {
    logger.info({}, "another store bootstrapped the cluster first");
  }
  await writeIdent(identPath, { ...ident, bootstrapShard: undefined });
}

/**
 * Hands the leadership of every shard led here to the most up-to-date other voter and
 * waits (at most `timeoutMs`) until this store leads none that could move. Asked again
 * every few ticks: Raft abandons a transfer that did not finish in an election timeout.
 */
async function transferLeadersAway(
  env: Env,
  store: MultiRaftStore,
  options: { readonly timeoutMs: number; readonly logger: Logger },
): Promise<void> {
  const startedMs = env.clock.monotonicMs();
  let asked = 0;
  for (let round = 0; ; round++) {
    const led = store.shards().filter(
      (s) =>
        s.isLeader &&
        s.shard.peers.some((p) => p.role === "voter" && p.storeId !== store.storeId),
    );
    if (led.length === 0) break;
    if (env.clock.monotonicMs() - startedMs >= options.timeoutMs) {
      options.logger.warn({ remaining: led.length }, "leaders not transferred before shutdown");
      return;
    }
    if (round % 10 === 0) {
      for (const { shard } of led) {
        const target = transferTarget(store, shard);
        if (target === undefined) continue;
        store.transferLeader(shard.id, target);
        asked++;
      }
    }
    await env.timers.sleep(20);
  }
  if (asked > 0) options.logger.info({ asked }, "leaders transferred away before shutdown");
}

/** The other voter with the highest match index, as the leader sees it. */
function transferTarget(store: MultiRaftStore, shard: ShardMeta): number | undefined {
  const progress = store.status(shard.id)?.progress;
  let best: { peerId: number; matchIndex: number } | undefined;
  for (const p of shard.peers) {
    if (p.role !== "voter" || p.storeId === store.storeId) continue;
    const matchIndex = progress?.get(p.peerId as PeerId)?.matchIndex ?? 0;
    if (best === undefined || matchIndex > best.matchIndex) {
      best = { peerId: p.peerId, matchIndex };
    }
  }
  return best?.peerId;
}

/** What `/status` reports about the store: counts and the first shards' Raft positions. */
function storeStatus(
  store: MultiRaftStore,
  fields: { storeId: number; clusterId: bigint; rpc: string; pd: string },
): Record<string, unknown> {
  const shards = store.shards();
  return {
    storeId: fields.storeId,
    clusterId: String(fields.clusterId),
    rpc: fields.rpc,
    pd: fields.pd,
    mode: "raft",
    shardCount: shards.length,
    leaderCount: shards.filter((s) => s.isLeader).length,
    hibernatedCount: store.hibernatedCount(),
    shards: shards.slice(0, statusShardsMax).map(({ shard, isLeader }) => {
      const raft = store.status(shard.id);
      return {
        id: shard.id,
        isLeader,
        startKey: hex(shard.startKey),
        endKey: hex(shard.endKey),
        epoch: shard.epoch,
        peers: shard.peers,
        term: raft?.term ?? 0,
        commitIndex: raft?.commitIndex ?? 0,
        appliedIndex: raft?.appliedIndex ?? 0,
      };
    }),
  };
}

/** Shards listed one by one in `/status` (the counts cover all). */
const statusShardsMax = 100;

/**
 * The store as the scheduler sees it, timing each read (lease or ReadIndex wait) and
 * write (propose, replicate, apply on this leader) for `/metrics`.
 */
class TimedStoreShards implements StoreShards {
  private readonly store: StoreShards;
  onRead: (seconds: number) => void = () => undefined;
  onWrite: (seconds: number) => void = () => undefined;

  constructor(store: StoreShards) {
    this.store = store;
  }

  async read(
    ctx: ShardContext,
    options: { readonly keys: readonly Uint8Array[] },
  ): ReturnType<StoreShards["read"]> {
    const started = performance.now();
    const result = await this.store.read(ctx, options);
    this.onRead((performance.now() - started) / 1000);
    return result;
  }

  async write(ctx: ShardContext, ops: readonly WriteOp[], options?: ShardWriteOptions):
    ReturnType<StoreShards["write"]> {
    const started = performance.now();
    const result = await this.store.write(ctx, ops, options);
    this.onWrite((performance.now() - started) / 1000);
    return result;
  }

  shards(): ReturnType<StoreShards["shards"]> {
    return this.store.shards();
  }
}

/** Capacity from the file system, used bytes from the engine; flow is not measured yet. */
let capacityCache: { capacityBytes: number; availableBytes: number } = {
  capacityBytes: 0,
  availableBytes: 0,
};

function storeStats(
  dataDir: string,
  engine: LmdbEngine,
): {
  capacityBytes: number;
  availableBytes: number;
  usedBytes: number;
  readBytesPerSec: number;
  writeBytesPerSec: number;
} {
  // statfs is async; the heartbeat reports the last answer and refreshes it.
  statfs(dataDir).then(
    (s) => {
      capacityCache = { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
    },
    () => undefined,
  );
  const usedBytes = engine.approximateSize(Uint8Array.of(0), Uint8Array.of(0xff));
  return { ...capacityCache, usedBytes, readBytesPerSec: 0, writeBytesPerSec: 0 };
}

/** Exposes the service's counters as Prometheus metrics, read at scrape time. */
function registerKvMetrics(
  registry: Registry,
  sources: {
    readonly service: KvService;
    readonly scheduler: TxnScheduler;
    readonly worker: () => PdWorker | undefined;
  },
): void {
  const reported = new Map<string, number>();
  const delta = (key: string, value: number): number => {
    const d = value - (reported.get(key) ?? 0);
    reported.set(key, Math.max(reported.get(key) ?? 0, value));
    return d;
  };
  new Counter({
    name: "tessera_kv_requests_total",
    help: "KV requests by method and result (ok, routeError, keyError, error)",
    labelNames: ["method", "result"],
    registers: [registry],
    collect() {
      for (const [method, counts] of Object.entries(sources.service.requestCounts())) {
        for (const [result, value] of Object.entries(counts)) {
          const d = delta(`req/${method}/${result}`, value);
          if (d > 0) this.inc({ method, result }, d);
        }
      }
    },
  });
  const counter = (name: string, help: string, pick: () => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const d = delta(name, pick());
        if (d > 0) this.inc(d);
      },
    });
  };
  const gauge = (name: string, help: string, pick: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick());
      },
    });
  };
  const s = (): ReturnType<TxnScheduler["stats"]> => sources.scheduler.stats();
  counter("tessera_kv_latch_waits_total", "commands that waited for a latch", () => s().latchWaits);
  counter(
    "tessera_kv_latch_wait_seconds_total",
    "time commands spent waiting for latches",
    () => s().latchWaitMsTotal / 1000,
  );
  gauge(
    "tessera_kv_scheduler_pending_commands",
    "commands admitted by the scheduler and not finished",
    () => s().pendingCommands,
  );
  gauge("tessera_kv_lock_waiters", "pessimistic lock requests waiting", () => s().lockWaiters);
  gauge("tessera_kv_memory_locks", "async-commit/1PC locks in memory", () => s().memoryLocks);
  counter("tessera_kv_lock_waits_total", "pessimistic lock waits", () => s().lockWaitsTotal);
  counter("tessera_kv_deadlocks_total", "deadlocks detected", () => s().deadlocks);
  const w = (pick: (stats: ReturnType<PdWorker["stats"]>) => number) => (): number => {
    const worker = sources.worker();
    return worker === undefined ? 0 : pick(worker.stats());
  };
  counter("tessera_kv_store_heartbeats_total", "store heartbeats sent to PD", w((x) =>
    x.storeHeartbeats));
  counter("tessera_kv_shard_heartbeats_total", "shard heartbeats sent to PD", w((x) =>
    x.shardHeartbeats));
  counter("tessera_kv_heartbeat_errors_total", "heartbeats PD did not answer", w((x) =>
    x.heartbeatErrors));
  counter("tessera_kv_operator_steps_total", "PD operator steps executed", w((x) =>
    x.stepsExecuted));
  counter(
    "tessera_kv_operator_steps_refused_total",
    "PD operator steps not executed (unsupported, stale)",
    w((x) => x.stepsRefused),
  );
}

/** Raft and engine metrics of the store, read at scrape time. */
function registerRaftMetrics(
  registry: Registry,
  sources: {
    readonly store: MultiRaftStore;
    readonly transport: RpcRaftTransport;
    readonly timed: TimedStoreShards;
    readonly engine: LmdbEngine;
  },
): void {
  const { store, transport, timed, engine } = sources;
  const reported = new Map<string, number>();
  const counter = (name: string, help: string, pick: () => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const value = pick();
        const d = value - (reported.get(name) ?? 0);
        reported.set(name, Math.max(reported.get(name) ?? 0, value));
        if (d > 0) this.inc(d);
      },
    });
  };
  const gauge = (name: string, help: string, pick: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick());
      },
    });
  };
  counter("tessera_kv_raft_ticks_total", "Raft ticks of awake shards (hibernating ones are " +
    "not ticked)", () => store.ticks);
  counter("tessera_kv_raft_heartbeats_sent_total", "Raft heartbeats sent by leaders here",
    () => store.heartbeatsSent);
  counter("tessera_kv_raft_messages_sent_total", "Raft messages handed to the transport",
    () => store.messagesSent);
  counter("tessera_kv_raft_snapshots_installed_total", "snapshots installed by peers here",
    () => store.snapshotsInstalled);
  counter("tessera_kv_raft_send_failures_total", "Raft calls to other stores that failed",
    () => transport.failures);
  gauge("tessera_kv_shards", "shards this store holds a peer of", () => store.shards().length);
  gauge("tessera_kv_shard_leaders", "shards this store leads",
    () => store.shards().filter((s) => s.isLeader).length);
  gauge("tessera_kv_hibernated_shards", "peers here that hibernate (no ticks, no heartbeats)",
    () => store.hibernatedCount());
  gauge("tessera_kv_raft_proposals_pending", "proposals waiting for their entry to apply",
    () => store.proposalsPendingCount());
  gauge("tessera_kv_engine_size_bytes", "approximate size of the engine's data",
    () => engine.approximateSize(Uint8Array.of(0), Uint8Array.of(0xff)));
  const buckets = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];
  const writes = new Histogram({
    name: "tessera_kv_raft_write_duration_seconds",
    help: "from proposing a write to its apply on this leader (propose wait, replication, " +
      "apply wait)",
    buckets,
    registers: [registry],
  });
  const reads = new Histogram({
    name: "tessera_kv_raft_read_wait_duration_seconds",
    help: "time a read waited for its snapshot (leader lease, else a ReadIndex round)",
    buckets,
    registers: [registry],
  });
  timed.onWrite = (seconds) => writes.observe(seconds);
  timed.onRead = (seconds) => reads.observe(seconds);
}
