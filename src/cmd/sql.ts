/**
 * `tessera sql`: the SQL node — a MySQL protocol server on `--port` (4000) and the HTTP
 * status server on `--status-port` (10080).
 *
 * With `--pd host:port` the node connects to the cluster (PdClient + TxnClient), bootstraps
 * the catalog if the cluster is new, and serves databases and tables ([T8] part 1). With
 * `--pd ""` (the default until the playground starts KV nodes) it has no catalog and no
 * data: it answers queries without tables (`SELECT 1+1, 'x', NULL, 1.5`), variables, SHOW
 * and transactions statements, and reports MySQL's own errors for anything that names a
 * table. On start it prints one line per listener — `mysql: host:port` is
 * what scripts and tests read when `--port 0` lets the system pick the port. TLS is on:
 * with `--ssl-cert`/`--ssl-key`, or a self-signed pair kept in `DATA/tls/`. It stops
 * on SIGINT/SIGTERM through the process `Lifecycle`: the MySQL listener first (open
 * connections are closed), then the status server.
 */
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { Gauge, type Registry } from "prom-client";
import { TesseraError, describeError, limits } from "../base/mod.ts";
import { type TlsOptions, createNodeEnv } from "../env/mod.ts";
import { PdClient, TxnClient } from "../client/mod.ts";
import { type MySqlServer, type SqlStorage, SpillSpace, createMySqlServer,
  createSessionFactory, openSqlStorage, serverVersionDefault }
  from "../sql/mod.ts";
import type { CommandContext, RegisterCommand } from "./command.ts";
import { type ConfigOf, addConfigOptions, defineConfig, loadConfig } from "./config.ts";
import { clockConfig, warnIfClockSkewed } from "./clock_config.ts";
import { Lifecycle } from "./lifecycle.ts";
import { type Logger, createLogger, logConfig } from "./logger.ts";
import { resolveSqlTls } from "./sql_tls.ts";
import { createMetricsRegistry, startStatusServer } from "./status_server.ts";

/** Options of `tessera sql`. */
export const sqlConfig = defineConfig({
  ...logConfig,
  ...clockConfig,
  host: {
    type: "string",
    default: "127.0.0.1",
    description: "address the MySQL and status servers listen on",
  },
  port: {
    type: "int",
    default: 4000,
    min: 0,
    max: 65535,
    description: "MySQL protocol port (0 picks a free port and prints it)",
  },
  statusPort: {
    type: "int",
    default: 10080,
    min: 0,
    max: 65535,
    description: "HTTP status port: /status, /metrics (0 picks a free port)",
  },
  pd: {
    type: "string",
    default: "",
    description: "PD address (host:port); empty: no storage, table-less queries only",
  },
  dataDir: {
    type: "string",
    default: "./data/sql",
    description: "directory for the node's own files (the generated TLS certificate)",
  },
  tmpStoragePath: {
    type: "string",
    default: "",
    description: "directory for the temp files of sorts and aggregations that spill past " +
      "tidb_mem_quota_query (default: a directory under the OS temp dir)",
  },
  sslCert: {
    type: "string",
    default: "",
    description: "PEM certificate for TLS on the MySQL port (default: self-signed, generated)",
  },
  sslKey: {
    type: "string",
    default: "",
    description: "PEM private key matching --ssl-cert",
  },
});

/** A running SQL node: its MySQL server and how to stop it. */
export interface SqlNode {
  readonly mysql: MySqlServer;
  close(): Promise<void>;
}

/**
 * Starts the MySQL protocol server of a SQL node on `host:port` (used by `tessera sql`
 * and, in-process, by `tessera playground`).
 */
export async function startSqlNode(options: {
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
  /** Certificate and key for TLS on the MySQL port (`resolveSqlTls`); plain only if absent. */
  readonly tls?: TlsOptions;
  /** The cluster's storage (`openSqlStorage`); table-less mode without it. */
  readonly storage?: SqlStorage;
  /** Skews the node's wall clock (`--clock-offset-ms`); 0 by default. */
  readonly clockOffsetMs?: number;
}): Promise<SqlNode> {
  const env = createNodeEnv({ clockOffsetMs: options.clockOffsetMs ?? 0 });
  let boundPort = options.port;
  const sessions = createSessionFactory({
    wallMs: () => env.clock.wallMs(),
    version: serverVersionDefault,
    get port() {
      return boundPort;
    },
    maxAllowedPacket: limits.mysqlPacketBytesMax,
    maxConnections: limits.mysqlConnectionsMax,
    waitTimeoutS: Math.floor(limits.mysqlIdleTimeoutMs / 1000),
    hostname: hostname(),
    ...(options.storage === undefined ? {} : { storage: options.storage }),
    sleep: (ms, signal) => env.timers.sleep(ms, signal),
  });
  const mysql = await createMySqlServer({
    env,
    host: options.host,
    port: options.port,
    sessions,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });
  boundPort = mysql.port;
  options.logger.info({ host: mysql.host, port: mysql.port }, "MySQL protocol server listening");
  return { mysql, close: () => mysql.close() };
}

/**
 * Connects a SQL node to the cluster behind `pdEndpoints` (PdClient + TxnClient) and opens
 * its storage, bootstrapping the catalog on a new cluster. A cluster that was just started
 * may have no shard leader yet, so opening is retried with backoff until
 * `limits.childReadyMsMax` has passed; then the last error is thrown. The clients are
 * closed by `lifecycle` at shutdown.
 */
export async function connectSqlStorage(
  pdEndpoints: readonly string[],
  options: { readonly logger: Logger; readonly lifecycle: Lifecycle;
    readonly clockOffsetMs?: number; readonly tmpStorage?: SpillSpace },
): Promise<SqlStorage> {
  const env = createNodeEnv({ clockOffsetMs: options.clockOffsetMs ?? 0 });
  const pd = new PdClient(env, { endpoints: [...pdEndpoints], logger: options.logger });
  const client = new TxnClient(env, { pd, logger: options.logger });
  options.lifecycle.onStop("txn-client", async () => {
    await client.close();
    await pd.close();
  });
  const deadlineMs = env.clock.monotonicMs() + limits.childReadyMsMax;
  for (let backoffMs = 100; ; backoffMs = Math.min(backoffMs * 2, 2_000)) {
    try {
      const storage = await openSqlStorage(client,
        { tmpStorage: options.tmpStorage ?? defaultSpillSpace() });
      // Registered after the client's stop hook, so it runs before it (reverse order).
      options.lifecycle.onStop("ddl", () => storage.ddl.close());
      options.logger.info({ pd: pdEndpoints }, "connected to the cluster; catalog ready");
      return storage;
    } catch (error) {
      // Only expected failures (no leader yet, routing) are retried; a bug propagates.
      if (!(error instanceof TesseraError)) throw error;
      if (env.clock.monotonicMs() + backoffMs > deadlineMs) throw error;
      options.logger.info({ error: describeError(error), backoffMs },
        "cluster not ready for the catalog yet; retrying");
      await env.timers.sleep(backoffMs);
    }
  }
}

/** Registers `tessera sql`. */
export const registerSqlCommand: RegisterCommand = (program, context) => {
  const command = program
    .command("sql")
    .description("start a SQL node: MySQL protocol server (no tables until storage lands)");
  addConfigOptions(command, sqlConfig);
  command.action(async () => {
    const config = await loadConfig(sqlConfig, command);
    await runSql(config, context);
  });
};

let osTempSpillSpace: SpillSpace | undefined;

/**
 * The temp storage of a SQL node started without a `tmp-storage-path` (the playground,
 * in-process test servers): `tessera-spill` under the OS temp dir on the real file system,
 * shared by the machine's processes, each naming its files with a random prefix.
 */
export function defaultSpillSpace(): SpillSpace {
  if (osTempSpillSpace === undefined) {
    const env = createNodeEnv();
    const id = [...env.random.bytes(6)].map((b) => b.toString(16).padStart(2, "0")).join("");
    osTempSpillSpace = new SpillSpace(env.fs, join(tmpdir(), "tessera-spill"),
      { prefix: `spill-${id}` });
  }
  return osTempSpillSpace;
}

async function runSql(config: ConfigOf<typeof sqlConfig>, context: CommandContext):
  Promise<void> {
  const logger = createLogger({ component: "sql", level: config.logLevel });
  const lifecycle = new Lifecycle({ logger });
  lifecycle.install();
  warnIfClockSkewed(logger, config.clockOffsetMs);
  const nodeRef: { current: SqlNode | undefined } = { current: undefined };
  const tmpStorage = config.tmpStoragePath === "" ? defaultSpillSpace()
    : new SpillSpace(createNodeEnv().fs, config.tmpStoragePath);
  if (config.tmpStoragePath !== "") await tmpStorage.removeStale();
  const registry = createMetricsRegistry({ component: "sql" });
  registerSpillMetrics(registry, tmpStorage);
  const status = await startStatusServer({
    host: config.host,
    port: config.statusPort,
    component: "sql",
    version: context.version,
    registry,
    status: () => ({
      pd: config.pd,
      pdContacted: config.pd !== "",
      connections: nodeRef.current?.mysql.connectionCount ?? 0,
    }),
    logger,
  });
  lifecycle.onStop("status-server", () => status.close());
  const { tls, source } = await resolveSqlTls({
    dataDir: config.dataDir,
    ...(config.sslCert === "" ? {} : { sslCert: config.sslCert }),
    ...(config.sslKey === "" ? {} : { sslKey: config.sslKey }),
  });
  logger.info({ source }, "TLS certificate for the MySQL port");
  const storage = config.pd === ""
    ? undefined
    : await connectSqlStorage(config.pd.split(","),
      { logger, lifecycle, clockOffsetMs: config.clockOffsetMs, tmpStorage });
  const node: SqlNode = await startSqlNode({ host: config.host, port: config.port, logger, tls,
    clockOffsetMs: config.clockOffsetMs, ...(storage === undefined ? {} : { storage }) });
  nodeRef.current = node;
  lifecycle.onStop("mysql-server", () => node.close());
  const address = `${node.mysql.host}:${node.mysql.port}`;
  context.print(
    [
      `Tessera SQL node ${context.version}`,
      `  mysql:   ${address}`,
      `  connect: mysql -h ${node.mysql.host} -P ${node.mysql.port} -u root`,
      `  tls:     ${source === "configured" ? "configured certificate" : "self-signed"}`,
      `  status:  http://${status.address}/status`,
      `  pd:      ${config.pd === "" ? "none (table-less mode)" : config.pd}`,
      "  Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );
}

/** The temp storage's files and bytes (spilling sorts and aggregations) as metrics. */
function registerSpillMetrics(registry: Registry, space: SpillSpace): void {
  const gauge = (name: string, help: string, pick: () => number): void => {
    new Gauge({ name, help, registers: [registry], collect() {
      this.set(pick());
    } });
  };
  gauge("tessera_sql_spill_files", "temp files of spilling operators on disk now",
    () => space.stats.filesLive);
  gauge("tessera_sql_spill_bytes", "bytes in temp files of spilling operators now",
    () => space.stats.bytesLive);
  gauge("tessera_sql_spill_files_created", "temp files spilling operators created so far",
    () => space.stats.filesCreated);
  gauge("tessera_sql_spill_written_bytes", "bytes spilling operators wrote so far",
    () => space.stats.bytesWritten);
}
