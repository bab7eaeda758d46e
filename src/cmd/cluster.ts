/**
 * `tessera cluster start|stop|status|restart TOPOLOGY.toml`: runs the processes a topology
 * file lists (`topology.ts`) as detached background processes on this host.
 *
 * `start` launches them in DESIGN.md's order — PD, then KV, then SQL — and waits for each
 * one's health check before the next: PD's `/pd/api/v1/health`, a KV node's `/status`, a
 * SQL node's `/status` and then a real `SELECT 1` on its MySQL port. Each process writes
 * its output to `<data_dir>/<name>.log`. After every process that becomes healthy, the
 * state file (`<data_dir>/cluster-state.json`, next to the processes' data directories)
 * records its pid, ports and start time; `status` and `stop` read it. If one fails, the
 * error names it, says why (from its log) and the ones started before it are stopped.
 *
 * `status` shows each process with its state (`running`, `unresponsive` — alive but its
 * status port does not answer — or `stopped`), ports, version and uptime. `stop` sends
 * SIGTERM in reverse order and waits for each exit (SIGKILL after a grace period). A pid
 * is only signalled while `/proc/<pid>/cmdline` still names the process's data directory,
 * so a recycled pid is never killed. `restart` is `stop` then `start`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCode, TesseraError, describeError, limits } from "../base/mod.ts";
import type { RegisterCommand } from "./command.ts";
import { formatTable } from "./ctl.ts";
import { fetchJson, mysqlSelectOne, waitUntilHealthy } from "./health_check.ts";
import { explainFailure, launcherScript } from "./supervisor.ts";
import { type ProcessSpec, type Topology, readTopology } from "./topology.ts";

/** What the state file records about one started process. */
export interface ProcessState {
  readonly name: string;
  readonly component: string;
  readonly host: string;
  readonly port: number;
  readonly statusPort: number;
  readonly dataDir: string;
  readonly pid: number;
  readonly startedAtMs: number;
  readonly logFile: string;
}

/** The state file: the processes `cluster start` launched, in start order. */
export interface ClusterState {
  readonly topology: string;
  readonly processes: readonly ProcessState[];
}

/** Longest wait for one process to exit after SIGTERM before SIGKILL. */
const stopWaitMs = limits.shutdownGraceMs + 5_000;

/** Registers `tessera cluster` and its subcommands. */
export const registerClusterCommand: RegisterCommand = (program, context) => {
  const cluster = program
    .command("cluster")
    .description("start, stop and inspect the processes of a topology file on this host");
  cluster
    .command("start")
    .description("start PD, KV and SQL processes in order, each after the last is healthy")
    .argument("<topology>", "topology TOML file")
    .action(async (file: string) => {
      await startCluster(await readTopology(file), { topologyFile: file, print: context.print });
    });
  cluster
    .command("stop")
    .description("stop every process of the cluster, in reverse start order")
    .argument("<topology>", "topology TOML file")
    .action(async (file: string) => {
      await stopCluster(await readTopology(file), { print: context.print });
    });
  cluster
    .command("status")
    .description("show every process with its state, ports, version and uptime")
    .argument("<topology>", "topology TOML file")
    .option("--json", "print one JSON line instead of a table")
    .action(async (file: string, options: { json?: boolean }) => {
      const rows = await clusterStatus(await readTopology(file));
      context.print(options.json === true ? `${JSON.stringify(rows)}\n` : formatTable(rows));
    });
  cluster
    .command("restart")
    .description("stop, then start the cluster")
    .argument("<topology>", "topology TOML file")
    .action(async (file: string) => {
      const topology = await readTopology(file);
      await stopCluster(topology, { print: context.print });
      await startCluster(topology, { topologyFile: file, print: context.print });
    });
};

/** Reads the state file; an absent file is a cluster never started. */
export async function readClusterState(topology: Topology): Promise<ClusterState | undefined> {
  let text: string;
  try {
    text = await readFile(topology.statePath, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new TesseraError(ErrorCode.ClusterStateUnreadable,
      `cannot read ${topology.statePath}: ${describeError(error)}`);
  }
  try {
    return JSON.parse(text) as ClusterState;
  } catch (error) {
    throw new TesseraError(ErrorCode.ClusterStateUnreadable,
      `${topology.statePath} is not JSON: ${describeError(error)}`);
  }
}

async function writeClusterState(topology: Topology, state: ClusterState): Promise<void> {
  // Write then rename, so a crash never leaves half a state file.
  const temporary = `${topology.statePath}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temporary, topology.statePath);
}

/**
 * True while `pid` is alive and is still the process started for `dataDir` (on Linux,
 * its command line names the directory; elsewhere the pid being alive is taken as is).
 */
export function isClusterProcess(pid: number, dataDir: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false; // ESRCH (gone) or EPERM (someone else's): not ours to report or signal.
  }
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync("/proc/self/cmdline")) return true;
  try {
    return readFileSync(cmdline, "utf8").split("\0").includes(dataDir);
  } catch {
    return false; // It exited between the two checks.
  }
}

function pdAddresses(topology: Topology): string {
  return topology.processes
    .filter((p) => p.component === "pd")
    .map((p) => `${p.host}:${p.port}`)
    .join(",");
}

function argsOf(spec: ProcessSpec, topology: Topology): string[] {
  const listen = `${spec.host}:${spec.port}`;
  const status = `${spec.host}:${spec.statusPort}`;
  switch (spec.component) {
    case "pd":
      return ["pd", "--name", spec.name, "--addr", listen, "--status-addr", status,
        "--data-dir", spec.dataDir, ...spec.extraFlags];
    case "kv":
      return ["kv", "--pd", pdAddresses(topology), "--addr", listen, "--status-addr", status,
        "--data-dir", spec.dataDir, ...spec.extraFlags];
    case "sql":
      return ["sql", "--pd", pdAddresses(topology), "--host", spec.host, "--port",
        String(spec.port), "--status-port", String(spec.statusPort), "--data-dir", spec.dataDir,
        ...spec.extraFlags];
  }
}

/** The health check of one process: resolves once it serves. */
async function checkHealth(spec: ProcessSpec): Promise<void> {
  const base = `http://${spec.host}:${spec.statusPort}`;
  switch (spec.component) {
    case "pd": {
      const health = (await fetchJson(`${base}/pd/api/v1/health`)) as { status?: unknown };
      if (health.status !== "ok") throw new Error(`PD health is ${String(health.status)}`);
      return;
    }
    case "kv":
      await fetchJson(`${base}/status`);
      return;
    case "sql":
      await fetchJson(`${base}/status`);
      await mysqlSelectOne(spec.host, spec.port);
      return;
  }
}

function logTail(logFile: string): string[] {
  try {
    return readFileSync(logFile, "utf8").split("\n").filter((l) => l !== "").slice(-40);
  } catch {
    return [];
  }
}

/** Starts every process in order, each after the one before is healthy. */
export async function startCluster(
  topology: Topology,
  options: { readonly topologyFile: string; readonly print: (text: string) => void },
): Promise<void> {
  const previous = await readClusterState(topology);
  const running = previous?.processes.filter((p) => isClusterProcess(p.pid, p.dataDir)) ?? [];
  if (running.length > 0) {
    const list = running.map((p) => `${p.name} (pid ${p.pid})`).join(", ");
    throw new TesseraError(ErrorCode.ClusterStartFailed,
      `the cluster is already running: ${list}; run cluster stop first`);
  }
  await mkdir(topology.dataDir, { recursive: true });
  const started: ProcessState[] = [];
  const save = (): Promise<void> =>
    writeClusterState(topology, { topology: options.topologyFile, processes: started });
  for (const spec of topology.processes) {
    await mkdir(spec.dataDir, { recursive: true });
    const logFile = `${topology.dataDir}/${spec.name}.log`;
    const log = openSync(logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [launcherScript, ...argsOf(spec, topology)], {
        detached: true,
        stdio: ["ignore", log, log],
      });
    } finally {
      closeSync(log);
    }
    child.unref();
    const startedAtMs = Date.now();
    options.print(`starting ${spec.name} (pid ${child.pid}), log ${logFile}\n`);
    try {
      await waitUntilHealthy(() => checkHealth(spec), {
        deadlineMs: limits.childReadyMsMax,
        alive: () => {
          if (child.exitCode === null && child.signalCode === null) return undefined;
          const why = explainFailure(logTail(logFile));
          const how = `exited (code ${child.exitCode}, signal ${child.signalCode})`;
          return why === undefined ? how : `${how}: ${why}`;
        },
      });
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      if (child.exitCode === null) child.kill("SIGKILL");
      await save();
      await stopProcesses(started, options);
      throw new TesseraError(ErrorCode.ClusterStartFailed,
        `cluster: ${spec.name} did not start: ${why} (see ${logFile}); ` +
        `stopped the processes started before it`, { cause: error });
    }
    started.push({
      name: spec.name,
      component: spec.component,
      host: spec.host,
      port: spec.port,
      statusPort: spec.statusPort,
      dataDir: spec.dataDir,
      pid: child.pid ?? 0,
      startedAtMs,
      logFile,
    });
    await save();
    options.print(`ready    ${spec.name} on ${spec.host}:${spec.port} ` +
      `(status ${spec.host}:${spec.statusPort})\n`);
  }
  const sql = topology.processes.find((p) => p.component === "sql");
  options.print(sql === undefined
    ? "cluster started\n"
    : `cluster started; connect: mysql -h ${sql.host} -P ${sql.port} -u root\n`);
}

/** SIGTERMs each live process, newest first, and waits for it; SIGKILL after a grace. */
async function stopProcesses(
  processes: readonly ProcessState[],
  options: { readonly print: (text: string) => void },
): Promise<void> {
  for (const p of [...processes].reverse()) {
    if (!isClusterProcess(p.pid, p.dataDir)) continue;
    process.kill(p.pid, "SIGTERM");
    const deadline = performance.now() + stopWaitMs;
    for (let backoffMs = 20; isClusterProcess(p.pid, p.dataDir);
      backoffMs = Math.min(backoffMs * 2, 500)) {
      if (performance.now() > deadline) {
        options.print(`${p.name} (pid ${p.pid}) did not stop in ${stopWaitMs} ms; killing it\n`);
        process.kill(p.pid, "SIGKILL");
        break;
      }
      await sleep(backoffMs);
    }
    options.print(`stopped  ${p.name} (pid ${p.pid})\n`);
  }
}

/** Stops every process the state file lists, in reverse start order. */
export async function stopCluster(
  topology: Topology,
  options: { readonly print: (text: string) => void },
): Promise<void> {
  const state = await readClusterState(topology);
  if (state === undefined) {
    options.print(`no cluster state at ${topology.statePath}: nothing to stop\n`);
    return;
  }
  await stopProcesses(state.processes, options);
}

/** One row of `cluster status`. */
export interface ProcessStatus {
  readonly name: string;
  readonly component: string;
  readonly state: "running" | "unresponsive" | "stopped";
  readonly pid: number | null;
  readonly port: number;
  readonly statusPort: number;
  readonly version: string | null;
  readonly uptime: string | null;
}

function formatUptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${m}m${s % 60}s` : m > 0 ? `${m}m${s % 60}s` : `${s}s`;
}

/** The state of every process of the topology, in start order. */
export async function clusterStatus(topology: Topology): Promise<ProcessStatus[]> {
  const state = await readClusterState(topology);
  return Promise.all(topology.processes.map(async (spec) => {
    const recorded = state?.processes.find((p) => p.name === spec.name);
    const base = { name: spec.name, component: spec.component, port: spec.port,
      statusPort: spec.statusPort };
    if (recorded === undefined || !isClusterProcess(recorded.pid, recorded.dataDir)) {
      return { ...base, state: "stopped", pid: null, version: null, uptime: null } as const;
    }
    let version: string | null = null;
    try {
      const body = await fetchJson(`http://${spec.host}:${spec.statusPort}/status`,
        { timeoutMs: 2_000 });
      version = String((body as { version?: unknown }).version ?? "?");
    } catch {
      // Alive but not answering: reported as unresponsive below.
    }
    return {
      ...base,
      state: version === null ? "unresponsive" : "running",
      pid: recorded.pid,
      version,
      uptime: formatUptime(Date.now() - recorded.startedAtMs),
    } as const;
  }));
}
