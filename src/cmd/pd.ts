/**
 * `tessera pd`: runs one PD member.
 *
 * `tessera pd --addr 127.0.0.1:2379 --data-dir DIR` runs a lone PD on the embedded metadata
 * store in DIR (the playground default); `tessera pd --etcd http://h1:12379,http://h2:12379
 * --name pd-1 --addr …` runs one of several members backed by an etcd cluster, where they
 * elect a leader among themselves. The RPC service listens on `--addr`; one HTTP server on
 * `--status-addr` serves `/metrics`, `/status` and the PD HTTP API (`/pd/api/v1/…`, routed
 * by `handlePdHttp`). Once serving, the process prints one line of JSON on stdout —
 * `{"name","rpc","http","clusterId"}` — for launchers and tests, and it stops gracefully
 * on SIGINT/SIGTERM (a leader resigns so another member takes over at once).
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { Counter, Gauge, type Registry } from "prom-client";
import { ErrorCode, TesseraError, describeError, limits } from "../base/mod.ts";
import { createNodeEnv } from "../env/mod.ts";
import {
  EmbeddedMetaStore,
  EtcdMetaStore,
  type MetaStore,
  PdServer,
  type PdStats,
  handlePdHttp,
  tsoBatchBuckets,
} from "../pd/mod.ts";
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
import { createMetricsRegistry } from "./status_server.ts";

/** Options of `tessera pd`. */
export const pdConfig = defineConfig({
  ...logConfig,
  ...clockConfig,
  name: {
    type: "string",
    default: "",
    description: "member name, unique among PD members (default: pd-<port of --addr>)",
  },
  addr: { type: "address", default: "127.0.0.1:2379", description: "RPC listen address" },
  advertiseAddr: {
    type: "string",
    default: "",
    description: "RPC address other processes use to reach this member (default: --addr)",
  },
  statusAddr: {
    type: "address",
    default: "127.0.0.1:2380",
    description: "HTTP address for /metrics, /status and the PD HTTP API",
  },
  dataDir: {
    type: "string",
    default: "./data/pd",
    description: "directory of the embedded metadata store (unused with --etcd)",
  },
  etcd: {
    type: "string",
    default: "",
    description: "comma-separated etcd client URLs; empty runs on the embedded store",
  },
  etcdNamespace: {
    type: "string",
    default: "/tessera",
    description: "prefix of every key PD keeps in etcd",
  },
  leaseTtl: {
    type: "duration-ms",
    default: limits.pdLeaderLeaseTtlMs,
    min: 1000,
    max: 60_000,
    description: "PD leader lease; a leader that cannot renew it this long stops serving",
  },
  scheduleInterval: {
    type: "duration-ms",
    default: 1_000,
    min: 10,
    max: 600_000,
    description: "time between scheduling rounds on the PD leader",
  },
});

/** Registers `tessera pd`. */
export const registerPdCommand: RegisterCommand = (program, context) => {
  const command = program
    .command("pd")
    .description("run a placement driver member (TSO, metadata, routing)");
  addConfigOptions(command, pdConfig);
  command.action(async () => {
    const config = await loadConfig(pdConfig, command);
    await runPd(config, context);
  });
};

function address(text: string, flag: string): { host: string; port: number } {
  const parsed = splitAddress(text);
  if (typeof parsed === "string") {
    throw new TesseraError(ErrorCode.ConfigBadValue, `--${flag}: ${parsed}`);
  }
  return parsed;
}

async function runPd(config: ConfigOf<typeof pdConfig>, context: CommandContext): Promise<void> {
  const rpcAddress = address(config.addr, "addr");
  const statusAddress = address(config.statusAddr, "status-addr");
  const name = config.name === "" ? `pd-${rpcAddress.port}` : config.name;
  const logger = createLogger({ component: "pd", level: config.logLevel }).child({ name });
  const lifecycle = new Lifecycle({ logger });
  lifecycle.install();
  const env = createNodeEnv({ clockOffsetMs: config.clockOffsetMs });
  warnIfClockSkewed(logger, config.clockOffsetMs);
  let store: MetaStore;
  if (config.etcd === "") {
    const dir = resolve(config.dataDir);
    store = await EmbeddedMetaStore.open(env, { dir, lockPid: process.pid });
    logger.info({ dir }, "embedded metadata store open");
  } else {
    const endpoints = config.etcd
      .split(",")
      .map((e) => e.trim())
      .filter((e) => e !== "");
    // The etcd client's gRPC deadlines are absolute times that grpc-js compares with the
    // system clock, so they are computed on an unskewed clock whatever --clock-offset-ms says
    // (on a skewed one, a clock over 5 s behind made every call expire before it was sent).
    store = new EtcdMetaStore(createNodeEnv(), { endpoints, namespace: config.etcdNamespace });
    logger.info({ endpoints }, "using etcd for metadata");
  }
  lifecycle.onStop("meta-store", () => store.close());
  const pd = await PdServer.start(env, {
    name,
    host: rpcAddress.host,
    port: rpcAddress.port,
    ...(config.advertiseAddr === "" ? {} : { advertiseAddress: config.advertiseAddr }),
    store,
    logger,
    leaseTtlMs: config.leaseTtl,
    scheduleIntervalMs: config.scheduleInterval,
  });
  lifecycle.onStop("pd", () => pd.stop());
  const registry = createMetricsRegistry({ component: "pd" });
  registerPdMetrics(registry, () => pd.stats());
  const http = await startHttp(pd, registry, statusAddress, logger, context.version);
  lifecycle.onStop("http", http.close);
  const rpc = `${pd.address.host}:${pd.address.port}`;
  logger.info({ rpc, http: http.address, clusterId: String(pd.clusterId) }, "PD serving");
  context.print(
    `${JSON.stringify({ name, rpc, http: http.address, clusterId: String(pd.clusterId) })}\n`,
  );
}

/** Exposes `PdServer` counters as Prometheus metrics, read at scrape time. */
function registerPdMetrics(registry: Registry, stats: () => PdStats): void {
  let last: PdStats | undefined;
  const read = (): PdStats => (last = stats());
  const counter = (name: string, help: string, pick: (s: PdStats) => number): void => {
    let reported = 0;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const value = pick(last ?? read());
        if (value > reported) this.inc(value - reported);
        reported = Math.max(reported, value);
      },
    });
  };
  new Gauge({
    name: "tessera_pd_is_leader",
    help: "1 while this member is the PD leader and serving",
    registers: [registry],
    collect() {
      last = read();
      this.set(last.isLeader ? 1 : 0);
    },
  });
  new Gauge({
    name: "tessera_pd_stores",
    help: "stores known to the leader",
    registers: [registry],
    collect() {
      this.set((last ?? read()).stores);
    },
  });
  new Gauge({
    name: "tessera_pd_shards",
    help: "shards known to the leader",
    registers: [registry],
    collect() {
      this.set((last ?? read()).shards);
    },
  });
  counter("tessera_pd_leader_changes_total", "terms this member won", (s) => s.leaderChanges);
  counter("tessera_pd_tso_requests_total", "TSO requests served", (s) => s.tsoRequests);
  counter("tessera_pd_tso_timestamps_total", "timestamps handed out", (s) => s.tsoTimestamps);
  counter("tessera_pd_tso_window_writes_total", "TSO windows persisted", (s) => s.tsoWindowWrites);
  counter("tessera_pd_tso_refusals_total", "TSO requests refused", (s) => s.tsoRefusals);
  counter("tessera_pd_store_heartbeats_total", "store heartbeats", (s) => s.storeHeartbeats);
  counter("tessera_pd_shard_heartbeats_total", "shard heartbeats", (s) => s.shardHeartbeats);
  counter("tessera_pd_request_errors_total", "RPC requests that failed", (s) => s.requestErrors);
  new Gauge({
    name: "tessera_pd_operators_in_flight",
    help: "scheduling operators running on the leader",
    registers: [registry],
    collect() {
      this.set((last ?? read()).operatorsInFlight);
    },
  });
  const outcomes = ["created", "finished", "timedOut", "cancelled", "rejected"] as const;
  const outcomeNames: Record<(typeof outcomes)[number], string> = {
    created: "created",
    finished: "finished",
    timedOut: "timed_out",
    cancelled: "cancelled",
    rejected: "rejected",
  };
  const reportedOps = new Map<string, number>();
  new Counter({
    name: "tessera_pd_operators_total",
    help: "scheduling operators by kind and outcome (created, finished, timed_out, ...)",
    labelNames: ["kind", "outcome"],
    registers: [registry],
    collect() {
      const ops = (last ?? read()).operators;
      for (const [kind, counts] of Object.entries(ops)) {
        for (const outcome of outcomes) {
          const key = `${kind}/${outcome}`;
          const value = counts[outcome];
          const delta = value - (reportedOps.get(key) ?? 0);
          if (delta > 0) this.inc({ kind, outcome: outcomeNames[outcome] }, delta);
          reportedOps.set(key, Math.max(reportedOps.get(key) ?? 0, value));
        }
      }
    },
  });
  const reported = tsoBatchBuckets.map(() => 0);
  new Counter({
    name: "tessera_pd_tso_batches_total",
    help: "TSO requests by batch size (timestamps per request, bucket upper bound)",
    labelNames: ["size_le"],
    registers: [registry],
    collect() {
      const counts = (last ?? read()).tsoBatchCounts;
      tsoBatchBuckets.forEach((upper, i) => {
        const value = counts[i] ?? 0;
        const delta = value - (reported[i] ?? 0);
        if (delta > 0) this.inc({ size_le: String(upper) }, delta);
        reported[i] = Math.max(reported[i] ?? 0, value);
      });
      last = undefined;
    },
  });
}

interface HttpServer {
  readonly address: string;
  readonly close: () => Promise<void>;
}

async function startHttp(
  pd: PdServer,
  registry: Registry,
  where: { host: string; port: number },
  logger: Logger,
  version: string,
): Promise<HttpServer> {
  const startedAt = new Date().toISOString();
  const server = createServer((request, response) => {
    serveHttp(pd, registry, request, response, { startedAt, version }).catch((error: unknown) => {
      logger.warn({ err: describeError(error), url: request.url }, "PD HTTP request failed");
      response.destroy();
    });
  });
  server.maxConnections = limits.statusServerConnectionsMax;
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", (error) =>
      reject(
        new TesseraError(ErrorCode.StatusListenFailed, `PD HTTP cannot listen: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    server.listen(where.port, where.host, () => resolveListen());
  });
  const bound = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    address: `${bound.address}:${bound.port}`,
    close: () => {
      closing ??= new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request) {
    length += (chunk as Buffer).length;
    if (length > limits.pdHttpBodyBytesMax) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function serveHttp(
  pd: PdServer,
  registry: Registry,
  request: IncomingMessage,
  response: ServerResponse,
  info: { readonly startedAt: string; readonly version: string },
): Promise<void> {
  const url = new URL(request.url ?? "/", "http://pd");
  const send = (status: number, contentType: string, body: string): void => {
    response.writeHead(status, {
      "content-type": contentType,
      "content-length": Buffer.byteLength(body),
      "cache-control": "no-store",
    });
    response.end(body);
  };
  if (url.pathname === "/metrics") {
    send(200, registry.contentType, await registry.metrics());
    return;
  }
  if (url.pathname === "/status") {
    const body = {
      component: "pd",
      version: info.version,
      startedAt: info.startedAt,
      status: "ok",
      name: pd.name,
      isLeader: pd.isLeader,
      leader: pd.leader?.address ?? null,
      clusterId: String(pd.clusterId),
      metaStore: pd.metaStoreKind,
    };
    send(200, "application/json", `${JSON.stringify(body)}\n`);
    return;
  }
  const body = await readBody(request);
  if (body === undefined) {
    send(413, "application/json", `${JSON.stringify({ error: "body too large" })}\n`);
    return;
  }
  const reply = await handlePdHttp(pd, {
    method: request.method ?? "GET",
    path: url.pathname,
    query: new Map(url.searchParams),
    body,
  });
  send(reply.status, "application/json", `${JSON.stringify(reply.json)}\n`);
}
