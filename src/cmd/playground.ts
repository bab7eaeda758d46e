/**
 * `tessera playground` (= `npm start`): one command that starts a local cluster on
 * 127.0.0.1 with its data under `./data/playground`.
 *
 * It starts, in DESIGN.md's order and each waited for before the next: its own HTTP status
 * server (`/status`, `/metrics`), PD and `--kv` KV nodes (3) as child processes (ready
 * when they print their JSON line), then `--sql` SQL nodes (1): the first in this process,
 * the others as child processes `tessera sql --pd …` on the next ports. A SQL node is
 * ready when a real `SELECT 1` through its MySQL port answers; only then is the connect
 * line printed. A second start on the same `--data-dir` reuses the cluster; `--clean`
 * removes the directory first and says so. While starting, a progress display shows what
 * each component waits for (redrawn in place on a terminal, plain lines otherwise). If a
 * port is taken or a child dies during start, the error names the component and its
 * reason, and everything started before it is stopped. Ctrl-C (SIGINT/SIGTERM) stops the
 * SQL nodes, then the KV nodes, then PD, through the process `Lifecycle`.
 */
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { join, parse, resolve } from "node:path";
import { ErrorCode, TesseraError, limits } from "../base/mod.ts";
import type { CommandContext, RegisterCommand } from "./command.ts";
import { type ConfigOf, addConfigOptions, defineConfig, loadConfig } from "./config.ts";
import { mysqlSelectOne, waitUntilHealthy } from "./health_check.ts";
import { Lifecycle } from "./lifecycle.ts";
import { createLogger, logConfig } from "./logger.ts";
import { Progress } from "./progress.ts";
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
  kv: {
    type: "int",
    default: 3,
    min: 1,
    max: 9,
    description: "KV nodes to run (3: every shard gets three replicas)",
  },
  sql: {
    type: "int",
    default: 1,
    min: 1,
    max: 9,
    description: "SQL nodes to run: the first in-process, the others as child processes",
  },
  clean: {
    type: "bool",
    default: false,
    description: "remove the data directory first, starting a new cluster",
  },
});

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
  await prepareDataDir(dataDir, { clean: config.clean, print: context.print });
  const tty = process.stdout.isTTY === true;
  const progress = new Progress({ write: context.print, tty });
  const kvNames = Array.from({ length: config.kv }, (_, i) => `kv-${i + 1}`);
  const sqlNames = Array.from({ length: config.sql }, (_, i) => `sql-${i + 1}`);
  progress.plan(["status", "pd", ...kvNames, ...sqlNames]);
  let starting = true;
  // On a terminal, children's log lines go above the progress block while it is drawn.
  const onStderr = (_name: string, line: string): void => {
    if (tty && starting) progress.interject(`${line}\n`);
    else process.stderr.write(`${line}\n`);
  };
  // Each step runs one component's start; a failure says which and why, stops what was
  // started before it (in reverse order, through the lifecycle), and ends the command.
  const step = async <T>(name: string, waiting: string, run: () => Promise<T>): Promise<T> => {
    progress.update(name, "waiting", waiting);
    try {
      return await run();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const why = message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message;
      progress.update(name, "failed", why);
      await lifecycle.stop(`${name} failed to start`);
      throw new TesseraError(
        ErrorCode.ChildStartFailed,
        `playground: ${name} failed to start: ${why} (stopped every component started before it)`,
        { cause: error },
      );
    }
  };
  const status = await step("status", `listening on ${config.host}:${config.statusPort}`, () =>
    startStatusServer({
      host: config.host,
      port: config.statusPort,
      component: "playground",
      version: context.version,
      registry: createMetricsRegistry({ component: "playground" }),
      status: () => ({ dataDir, components: ["pd", ...kvNames, ...sqlNames] }),
      logger,
    }));
  lifecycle.onStop("status-server", () => status.close());
  progress.update("status", "ready", `http://${status.address}/status`);
  // Start order (DESIGN.md): PD, then KV, then SQL. Children stop in reverse order.
  const supervisor = new Supervisor({ logger, onStderr });
  lifecycle.onStop("children", () => supervisor.stopAll());
  const pd = await step("pd", `starting on ${config.host}:${config.pdPort}`, async () => {
    const child = await supervisor.start("pd", [
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
    return JSON.parse(child.readyLine) as { readonly rpc: string; readonly http: string };
  });
  progress.update("pd", "ready", `${pd.rpc} (HTTP ${pd.http})`);
  const port = (base: number, i: number): number => (base === 0 ? 0 : base + i);
  const kvNodes: { readonly storeId: number; readonly rpc: string; readonly status: string }[] =
    [];
  for (const [i, name] of kvNames.entries()) {
    const kv = await step(name, "starting; registering its store with PD", async () => {
      const child = await supervisor.start(name, [
        "kv",
        "--pd",
        pd.rpc,
        "--addr",
        `${config.host}:${port(config.kvPort, i)}`,
        "--status-addr",
        `${config.host}:${port(config.kvStatusPort, i)}`,
        "--data-dir",
        join(dataDir, name),
        "--raft-tick-interval",
        playgroundRaftTickInterval,
        "--log-level",
        config.logLevel,
      ], { ready: /^\{"storeId":/ });
      return JSON.parse(child.readyLine) as (typeof kvNodes)[number];
    });
    kvNodes.push(kv);
    progress.update(name, "ready", `store ${kv.storeId} at ${kv.rpc}`);
  }
  const sqlAddresses: string[] = [];
  const first = await step("sql-1", "opening the catalog (waits for shard leaders)", async () => {
    const { tls } = await resolveSqlTls({ dataDir: join(dataDir, "sql") });
    const storage = await connectSqlStorage([pd.rpc], { logger, lifecycle });
    const node = await startSqlNode({
      host: config.host,
      port: config.sqlPort,
      logger,
      tls,
      storage,
    });
    lifecycle.onStop("sql-node", () => node.close());
    progress.update("sql-1", "waiting", `SELECT 1 on ${node.mysql.host}:${node.mysql.port}`);
    await waitUntilHealthy(() => mysqlSelectOne(node.mysql.host, node.mysql.port),
      { deadlineMs: limits.childReadyMsMax });
    return node;
  });
  const { host, port: sqlPort } = first.mysql;
  sqlAddresses.push(`${host}:${sqlPort}`);
  progress.update("sql-1", "ready", `${host}:${sqlPort} (in the playground process)`);
  for (const [i, name] of sqlNames.entries()) {
    if (i === 0) continue;
    const address = await step(name, "starting; opening the catalog", async () => {
      const child = await supervisor.start(name, [
        "sql",
        "--pd",
        pd.rpc,
        "--host",
        config.host,
        "--port",
        String(port(config.sqlPort, i)),
        "--status-port",
        "0",
        "--data-dir",
        join(dataDir, name),
        "--log-level",
        config.logLevel,
      ], { ready: /^\s+status:\s+http/ });
      const mysqlLine = child.lines.map((l) => /mysql:\s+(\S+):(\d+)\s*$/.exec(l)).find(Boolean);
      const [, childHost = config.host, childPort = "0"] = mysqlLine ?? [];
      progress.update(name, "waiting", `SELECT 1 on ${childHost}:${childPort}`);
      await waitUntilHealthy(() => mysqlSelectOne(childHost, Number(childPort)),
        { deadlineMs: limits.childReadyMsMax });
      return `${childHost}:${childPort}`;
    });
    sqlAddresses.push(address);
    progress.update(name, "ready", address);
  }
  starting = false;
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
      ...sqlAddresses.map((address) => `  mysql:   ${address}`),
      `  connect: mysql -h ${host} -P ${sqlPort} -u root`,
      `  ctl:     tessera ctl --pd-http ${pd.http} stores`,
      "  Try: CREATE DATABASE d; USE d; CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20));",
      "  Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );
}

/**
 * Creates the data directory, first removing it with `clean` (saying so), and says when
 * an earlier playground's data is reused. Refuses to remove the filesystem root, the home
 * directory or the working directory: `--clean --data-dir .` is a typo, not a wish.
 */
async function prepareDataDir(
  dataDir: string,
  options: { readonly clean: boolean; readonly print: (text: string) => void },
): Promise<void> {
  if (options.clean) {
    if (dataDir === parse(dataDir).root || dataDir === homedir() || dataDir === process.cwd()) {
      throw new TesseraError(ErrorCode.ConfigBadValue,
        `--clean refuses to remove ${dataDir}; pass a --data-dir of its own`);
    }
    options.print(`Removing ${dataDir} (--clean): starting a new cluster\n`);
    await rm(dataDir, { recursive: true, force: true });
  } else if (existsSync(join(dataDir, "pd"))) {
    options.print(`Reusing the data in ${dataDir} (--clean starts a new cluster)\n`);
  }
  await mkdir(dataDir, { recursive: true });
}
