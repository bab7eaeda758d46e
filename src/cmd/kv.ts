/**
 * `tessera kv`: runs one KV storage node.
 *
 * `tessera kv --pd 127.0.0.1:2379 --addr 127.0.0.1:20160 --status-addr 127.0.0.1:20180
 * --data-dir DIR` (or the same keys in a TOML file) opens the LMDB engine in `DIR/engine`
 * (its lock file refuses a second node on the same directory), learns the cluster id from
 * PD, and checks it against `DIR/store.json`, which records the cluster id, this node's
 * store id and the shards it holds: a PD of another cluster (a PD restarted with `--clean`
 * included) is refused with a clear error rather than adopting old data. On first start
 * the store id comes from PD's id allocator and is recorded before the store registers.
 * A fresh cluster is bootstrapped with the first shard on this store.
 *
 * For now the node runs its shards unreplicated (`LocalStoreShards`); operator steps PD
 * sends that need replication are logged and answered `unsupported`. The KV RPC service
 * listens on `--addr`; `/metrics` and `/status` on `--status-addr`. Once serving it prints
 * one JSON line — `{"storeId","rpc","status","clusterId"}` — for launchers and tests, and
 * it stops gracefully on SIGINT/SIGTERM.
 */
import { mkdir, open, readFile, rename, statfs } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Counter, Gauge, type Registry } from "prom-client";
import { ErrorCode, TesseraError, describeError, hasErrorCode } from "../base/mod.ts";
import { PdClient } from "../client/mod.ts";
import { type Env, createNodeEnv } from "../env/mod.ts";
import {
  Cf,
  CoprocessorRegistry,
  ForwardingDeadlockService,
  KvService,
  LmdbEngine,
  LocalDeadlockService,
  LocalShardOperations,
  LocalStoreShards,
  PdWorker,
  TxnScheduler,
  cfRange,
  wholeKeySpaceShard,
} from "../kv/mod.ts";
import { type DetectReply, KvMethod, type ShardMeta, type StoreMeta } from "../proto/mod.ts";
import { RpcClient, RpcServer } from "../rpc/mod.ts";
import type { CommandContext, RegisterCommand } from "./command.ts";
import {
  type ConfigOf,
  addConfigOptions,
  defineConfig,
  loadConfig,
  splitAddress,
} from "./config.ts";
import { Lifecycle } from "./lifecycle.ts";
import { type Logger, createLogger, logConfig } from "./logger.ts";
import { createMetricsRegistry, startStatusServer } from "./status_server.ts";

/** Options of `tessera kv`. */
export const kvConfig = defineConfig({
  ...logConfig,
  pd: {
    type: "string",
    default: "127.0.0.1:2379",
    description: "comma-separated PD member addresses (host:port)",
  },
  addr: { type: "address", default: "127.0.0.1:20160", description: "KV RPC listen address" },
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
  readonly shards: readonly ShardMeta[];
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
    shards: (Omit<ShardMeta, "startKey" | "endKey"> & { startKey: string; endKey: string })[];
  };
  return {
    clusterId: BigInt(raw.clusterId),
    storeId: raw.storeId,
    shards: raw.shards.map((s) => ({ ...s, startKey: unhex(s.startKey), endKey: unhex(s.endKey) })),
  };
}

/** Writes `ident` durably: a temporary file, fsync, rename over the old one. */
async function writeIdent(path: string, ident: StoreIdent): Promise<void> {
  const text = JSON.stringify({
    clusterId: String(ident.clusterId),
    storeId: ident.storeId,
    shards: ident.shards.map((s) => ({ ...s, startKey: hex(s.startKey), endKey: hex(s.endKey) })),
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
  const env = createNodeEnv();
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
    ident = { clusterId, storeId: await pd.allocIds(1), shards: [] };
    await writeIdent(identPath, ident);
    logger.info({ storeId: ident.storeId, clusterId: String(clusterId) }, "new store id");
  }
  const storeId = ident.storeId;
  const persistShards = (shards: readonly ShardMeta[]): void => {
    const next: StoreIdent = { clusterId, storeId, shards };
    writeIdent(identPath, next).catch((error: unknown) => {
      logger.error({ err: describeError(error) }, "cannot record the shard set");
    });
  };
  const store = new LocalStoreShards(engine, ident.shards, { onChange: persistShards });

  // The cluster's deadlock detector runs on the leader of the first shard.
  const local = new LocalDeadlockService(env.clock);
  const isDetector = (): boolean =>
    store.shards().some((s) => s.isLeader && s.shard.startKey.length === 0);
  const detectorClients = new Map<string, RpcClient>();
  lifecycle.onStop("detector-clients", async () => {
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
        const where = address(target, "detector");
        client = new RpcClient(env, { ...where, logger });
        detectorClients.set(target, client);
      }
      return (await client.call(KvMethod.detect, { header: { clusterId }, entry })) as DetectReply;
    },
    onError: (error) => logger.warn({ err: error }, "deadlock detector call failed"),
  });
  const scheduler = new TxnScheduler({
    store,
    clock: env.clock,
    timers: env.timers,
    deadlock,
    coprocessor: new CoprocessorRegistry(),
    onBackgroundError: (message) => logger.warn({}, message),
  });
  lifecycle.onStop("scheduler", () => Promise.resolve(scheduler.close()));
  const operations = new LocalShardOperations({ store, allocIds: (n) => pd.allocIds(n) });
  const service = new KvService({
    clusterId: () => clusterId,
    scheduler,
    operations,
    detector: { local, isDetector },
  });
  const rpc = new RpcServer(env, { logger });
  service.register(rpc);
  const bound = await rpc.listen(parts.rpcAddress);
  lifecycle.onStop("rpc", () => rpc.close());
  const rpcText =
    config.advertiseAddr === "" ? `${bound.host}:${bound.port}` : config.advertiseAddr;

  const workerRef: { current: PdWorker | undefined } = { current: undefined };
  const registry = createMetricsRegistry({ component: "kv" });
  registerKvMetrics(registry, { service, scheduler, worker: () => workerRef.current });
  const status = await startStatusServer({
    host: parts.statusAddress.host,
    port: parts.statusAddress.port,
    component: "kv",
    version: context.version,
    registry,
    status: () => ({
      storeId,
      clusterId: String(clusterId),
      rpc: rpcText,
      pd: config.pd,
      shards: store.shards().length,
      mode: "unreplicated",
    }),
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
  if (store.shards().length === 0 && !(await pd.isBootstrapped())) {
    const first = await pd.allocIds(2);
    const shard = wholeKeySpaceShard({ shardId: first, peerId: first + 1, storeId });
    try {
      await pd.bootstrap(storeMeta, shard);
      store.addShard(shard);
      logger.info({ shardId: shard.id }, "bootstrapped the cluster with the first shard");
    } catch (error) {
      if (!hasErrorCode(error, ErrorCode.PdClusterAlreadyBootstrapped)) throw error;
      logger.info({}, "another store bootstrapped the cluster first");
    }
  }
  await pd.putStore(storeMeta);

  const worker = new PdWorker({
    pd,
    timers: env.timers,
    storeId,
    store,
    operations,
    logger,
    storeHeartbeatIntervalMs: config.storeHeartbeatInterval,
    shardHeartbeatIntervalMs: config.shardHeartbeatInterval,
    storeStats: () => storeStats(dataDir, engine),
    shardStats: (shard) => ({
      approximateSizeBytes: shardSize(engine, shard),
      approximateKeys: 0,
      readBytesPerSec: 0,
      readKeysPerSec: 0,
      writeBytesPerSec: 0,
      writeKeysPerSec: 0,
      queriesPerSec: 0,
    }),
  });
  workerRef.current = worker;
  worker.start();
  lifecycle.onStop("pd-worker", () => worker.stop());
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

function shardSize(engine: LmdbEngine, shard: ShardMeta): number {
  const end = shard.endKey.length === 0 ? undefined : shard.endKey;
  let total = 0;
  for (const cf of [Cf.default, Cf.lock, Cf.write]) {
    const range = cfRange(cf, shard.startKey.length === 0 ? undefined : shard.startKey, end);
    total += engine.approximateSize(range.start, range.end);
  }
  return total;
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
