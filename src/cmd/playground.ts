/**
 * `tessera playground` (= `npm start`): one command that starts a local cluster on
 * 127.0.0.1 with its data under `./data/playground`.
 *
 * The playground grows with the components: PD and three KV nodes join it as their issues
 * land ([T4], [T5]; the launcher itself is [T10]). Today it starts the playground's HTTP
 * status server (`/status`, `/metrics`) and the SQL node in-process on `--sql-port`
 * (MySQL protocol; constant queries and variables work, tables need the storage layer),
 * and prints how to connect and what does not run yet, so `npm install && npm start`
 * works on a fresh machine and tells the truth. It stops on SIGINT/SIGTERM through the
 * process `Lifecycle`.
 */
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { CommandContext, RegisterCommand } from "./command.ts";
import { type ConfigOf, addConfigOptions, defineConfig, loadConfig } from "./config.ts";
import { Lifecycle } from "./lifecycle.ts";
import { createLogger, logConfig } from "./logger.ts";
import { connectSqlStorage, startSqlNode } from "./sql.ts";
import { Supervisor } from "./supervisor.ts";
import { resolveSqlTls } from "./sql_tls.ts";
import { createMetricsRegistry, startStatusServer } from "./status_server.ts";

/** Options of `tessera playground`. */
export const playgroundConfig = defineConfig({
  ...logConfig,
  host: {
    type: "string",
    default: "127.0.0.1",
    description: "address every playground process listens on",
  },
  statusPort: {
    type: "int",
    default: 10080,
    min: 0,
    max: 65535,
    description: "port of the playground's HTTP status server (0 picks a free port)",
  },
  pdPort: {
    type: "int",
    default: 2379,
    min: 0,
    max: 65535,
    description: "RPC port of the playground's PD (0 picks a free port)",
  },
  pdStatusPort: {
    type: "int",
    default: 2380,
    min: 0,
    max: 65535,
    description: "HTTP port of the playground's PD: /pd/api/v1, /metrics (0 picks a free port)",
  },
  kvPort: {
    type: "int",
    default: 20160,
    min: 0,
    max: 65535,
    description: "RPC port of the first KV node; the others take the next ones (0: free ports)",
  },
  kvStatusPort: {
    type: "int",
    default: 20180,
    min: 0,
    max: 65535,
    description: "status port of the first KV node; the others take the next ones (0: free)",
  },
  sqlPort: {
    type: "int",
    default: 4000,
    min: 0,
    max: 65535,
    description: "MySQL protocol port of the playground's SQL node (0 picks a free port)",
  },
  dataDir: {
    type: "string",
    default: "./data/playground",
    description: "directory holding every playground process's data",
  },
});

/** Components a full playground runs, and the issue that brings each one. */
/** KV nodes the playground runs: three, so every shard has three replicas. */
const kvNodeCount = 3;

/**
 * Raft timing of the playground's KV nodes: a 200 ms tick (election after 4–8 s) instead
 * of the production 1 s, so a fresh playground elects its first leader quickly. A stalled
 * process may cause a spurious election here; on one laptop that costs nothing.
 */
const playgroundRaftTickInterval = "200ms";

/** Registers `tessera playground`. */
export const registerPlaygroundCommand: RegisterCommand = (program, context) => {
  const command = program
    .command("playground")
    .description("start a local cluster on 127.0.0.1 (what `npm start` runs)");
  addConfigOptions(command, playgroundConfig);
  command.action(async () => {
    const config = await loadConfig(playgroundConfig, command);
    await runPlayground(config, context);
  });
};

async function runPlayground(
  config: ConfigOf<typeof playgroundConfig>,
  context: CommandContext,
): Promise<void> {
  const logger = createLogger({ component: "playground", level: config.logLevel });
  const lifecycle = new Lifecycle({ logger });
  lifecycle.install();
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  const status = await startStatusServer({
    host: config.host,
    port: config.statusPort,
    component: "playground",
    version: context.version,
    registry: createMetricsRegistry({ component: "playground" }),
    status: () => ({ dataDir, components: ["pd", "kv", "sql"] }),
    logger,
  });
  lifecycle.onStop("status-server", () => status.close());
  // Start order (DESIGN.md): PD, then KV, then SQL. Children stop in reverse order.
  const supervisor = new Supervisor({ logger });
  lifecycle.onStop("children", () => supervisor.stopAll());
  const pdChild = await supervisor.start("pd", [
    "pd",
    "--addr",
    `${config.host}:${config.pdPort}`,
    "--status-addr",
    `${config.host}:${config.pdStatusPort}`,
    "--data-dir",
    join(dataDir, "pd"),
    "--log-level",
    config.logLevel,
  ], { ready: /^\{"name":/ });
  const pd = JSON.parse(pdChild.readyLine) as { readonly rpc: string; readonly http: string };
  const kvNodes: { readonly storeId: number; readonly rpc: string; readonly status: string }[] =
    [];
  for (let i = 0; i < kvNodeCount; i++) {
    const port = (base: number): number => (base === 0 ? 0 : base + i);
    const kv = await supervisor.start(`kv-${i + 1}`, [
      "kv",
      "--pd",
      pd.rpc,
      "--addr",
      `${config.host}:${port(config.kvPort)}`,
      "--status-addr",
      `${config.host}:${port(config.kvStatusPort)}`,
      "--data-dir",
      join(dataDir, `kv-${i + 1}`),
      "--raft-tick-interval",
      playgroundRaftTickInterval,
      "--log-level",
      config.logLevel,
    ], { ready: /^\{"storeId":/ });
    kvNodes.push(JSON.parse(kv.readyLine) as (typeof kvNodes)[number]);
  }
  const { tls } = await resolveSqlTls({ dataDir: join(dataDir, "sql") });
  const storage = await connectSqlStorage([pd.rpc], { logger, lifecycle });
  const sql = await startSqlNode({
    host: config.host,
    port: config.sqlPort,
    logger,
    tls,
    storage,
  });
  lifecycle.onStop("sql-node", () => sql.close());
  const { host, port } = sql.mysql;
  context.print(
    [
      `Tessera playground ${context.version}`,
      `  data:    ${dataDir}`,
      `  status:  http://${status.address}/status`,
      `  metrics: http://${status.address}/metrics`,
      `  pd:      ${pd.rpc} (HTTP API http://${pd.http}/pd/api/v1/health)`,
      ...kvNodes.map(
        (kv) => `  kv:      ${kv.rpc} (store ${kv.storeId}, status http://${kv.status}/status)`,
      ),
      `  mysql:   ${host}:${port}`,
      `  connect: mysql -h ${host} -P ${port} -u root`,
      "  Try: CREATE DATABASE d; USE d; CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20));",
      "  (SQL so far: single-table DML, optimistic transactions; joins and more with [T8]/[T9])",
      "  Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );
}
