/**
 * The topology file of `tessera cluster`: which processes a cluster runs and where.
 *
 * ```toml
 * [global]
 * data_dir = "data/cluster"     # relative to this file; holds logs and the state file
 * [[pd]]
 * port = 2379
 * status_port = 2380
 * [[kv]]
 * port = 20160
 * status_port = 20180
 * extra_flags = ["--raft-tick-interval", "200ms"]
 * [[sql]]
 * port = 4000
 * status_port = 10080
 * ```
 *
 * Every `[[pd]]`, `[[kv]]` and `[[sql]]` entry takes `name` (default `pd-1`, `kv-2`, …),
 * `host` (only `127.0.0.1` and `localhost` for now: the format leaves room for remote
 * hosts, the launcher does not reach them yet), `port` and `status_port` (defaults
 * counting up from the component's usual ports), `data_dir` (default `<global
 * data_dir>/<name>`; relative paths are under the global one) and `extra_flags` (passed to
 * `tessera <component>` as they are). `parseTopology` is pure: it checks everything and
 * throws `Cmd:Cluster:TopologyInvalid` naming the key (`kv[1].host`), so a typo fails
 * before anything starts.
 */
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { TomlError, parse as parseToml } from "smol-toml";
import { ErrorCode, TesseraError, limits } from "../base/mod.ts";

/** The components a topology lists, in start order. */
export const clusterComponents = ["pd", "kv", "sql"] as const;

/** A component of a cluster. */
export type ClusterComponent = (typeof clusterComponents)[number];

/** One process of a cluster. */
export interface ProcessSpec {
  readonly component: ClusterComponent;
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly statusPort: number;
  /** Absolute. */
  readonly dataDir: string;
  readonly extraFlags: readonly string[];
}

/** A checked topology. */
export interface Topology {
  /** Absolute directory of logs and the state file. */
  readonly dataDir: string;
  /** Where `cluster start` records pids and ports (`<dataDir>/cluster-state.json`). */
  readonly statePath: string;
  /** Every process in start order: PD, then KV, then SQL. */
  readonly processes: readonly ProcessSpec[];
}

const defaultPorts: Record<ClusterComponent, { port: number; statusPort: number; step: number }> =
  {
    pd: { port: 2379, statusPort: 2380, step: 2 },
    kv: { port: 20160, statusPort: 20180, step: 1 },
    sql: { port: 4000, statusPort: 10080, step: 1 },
  };

const entryKeys = new Set(["name", "host", "port", "status_port", "data_dir", "extra_flags"]);
const localHosts = new Set(["127.0.0.1", "localhost"]);

function invalid(message: string): TesseraError {
  return new TesseraError(ErrorCode.ClusterTopologyInvalid, message);
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

/** Checks and resolves a topology; `file` is its path (relative paths are under its dir). */
export function parseTopology(text: string, file: string): Topology {
  let document: Record<string, unknown>;
  try {
    document = parseToml(text);
  } catch (error) {
    const reason = error instanceof TomlError ? error.message.split("\n")[0] : String(error);
    throw invalid(`${file}: not valid TOML: ${reason}`);
  }
  for (const key of Object.keys(document)) {
    if (key !== "global" && !(clusterComponents as readonly string[]).includes(key)) {
      throw invalid(`${file}: unknown key ${key} (expected [global], [[pd]], [[kv]], [[sql]])`);
    }
  }
  const global = document["global"] ?? {};
  if (!isTable(global)) throw invalid(`${file}: global must be a table`);
  for (const key of Object.keys(global)) {
    if (key !== "data_dir") throw invalid(`${file}: unknown key global.${key}`);
  }
  const globalDir = global["data_dir"] ?? "data/cluster";
  if (typeof globalDir !== "string" || globalDir === "") {
    throw invalid(`${file}: global.data_dir must be a non-empty string`);
  }
  const dataDir = resolve(dirname(resolve(file)), globalDir);
  const processes: ProcessSpec[] = [];
  for (const component of clusterComponents) {
    const entries = document[component] ?? [];
    if (!Array.isArray(entries) || !entries.every(isTable)) {
      throw invalid(`${file}: ${component} must be an array of tables ([[${component}]])`);
    }
    entries.forEach((entry, i) => {
      processes.push(parseEntry(entry as Record<string, unknown>,
        { file, component, i, dataDir }));
    });
  }
  checkTopology(processes, file);
  return { dataDir, statePath: join(dataDir, "cluster-state.json"), processes };
}

function parseEntry(
  entry: Record<string, unknown>,
  where: { file: string; component: ClusterComponent; i: number; dataDir: string },
): ProcessSpec {
  const { file, component, i } = where;
  const at = (key: string): string => `${file}: ${component}[${i}].${key}`;
  for (const key of Object.keys(entry)) {
    if (!entryKeys.has(key)) {
      throw invalid(`${at(key)}: unknown key (expected ${[...entryKeys].join(", ")})`);
    }
  }
  const text = (key: string, fallback: string): string => {
    const value = entry[key] ?? fallback;
    if (typeof value !== "string" || value === "") {
      throw invalid(`${at(key)}: must be a non-empty string`);
    }
    return value;
  };
  const portOf = (key: string, fallback: number): number => {
    const value = entry[key] ?? fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
      throw invalid(`${at(key)}: must be a port number from 1 to 65535, got ${String(value)}`);
    }
    return value;
  };
  const name = text("name", `${component}-${i + 1}`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw invalid(`${at("name")}: must be letters, digits, '.', '_' or '-', got ${name}`);
  }
  const host = text("host", "127.0.0.1");
  if (!localHosts.has(host)) {
    throw invalid(`${at("host")}: only 127.0.0.1 and localhost are supported for now, ` +
      `got ${host} (remote hosts come later)`);
  }
  const defaults = defaultPorts[component];
  const port = portOf("port", defaults.port + i * defaults.step);
  const statusPort = portOf("status_port", defaults.statusPort + i * defaults.step);
  const dir = text("data_dir", name);
  const extraFlags = entry["extra_flags"] ?? [];
  if (!Array.isArray(extraFlags) || !extraFlags.every((f) => typeof f === "string")) {
    throw invalid(`${at("extra_flags")}: must be an array of strings`);
  }
  return {
    component,
    name,
    host,
    port,
    statusPort,
    dataDir: isAbsolute(dir) ? dir : join(where.dataDir, dir),
    extraFlags: extraFlags as string[],
  };
}

/** Whole-topology rules: counts, unique names, ports and data directories. */
function checkTopology(processes: readonly ProcessSpec[], file: string): void {
  const count = (c: ClusterComponent): number => processes.filter((p) => p.component === c).length;
  if (count("pd") === 0) throw invalid(`${file}: needs at least one [[pd]]`);
  if (count("kv") === 0) throw invalid(`${file}: needs at least one [[kv]]`);
  if (processes.length > limits.clusterProcessesMax) {
    throw invalid(`${file}: ${processes.length} processes; at most ${limits.clusterProcessesMax}`);
  }
  const pds = processes.filter((p) => p.component === "pd");
  if (pds.length > 1) {
    const alone = pds.find((p) => !p.extraFlags.some((f) => f.startsWith("--etcd")));
    if (alone !== undefined) {
      throw invalid(`${file}: ${alone.name}: several PD members share metadata through etcd; ` +
        `give each one extra_flags = ["--etcd", "http://…"]`);
    }
  }
  const seen = new Map<string, string>();
  const claim = (key: string, owner: string, what: string): void => {
    const other = seen.get(key);
    if (other !== undefined) throw invalid(`${file}: ${owner} and ${other} share ${what}`);
    seen.set(key, owner);
  };
  for (const p of processes) {
    claim(`name ${p.name}`, p.name, `the name ${p.name}`);
    claim(`port ${p.port}`, `${p.name}.port`, `port ${p.port}`);
    claim(`port ${p.statusPort}`, `${p.name}.status_port`, `port ${p.statusPort}`);
    claim(`dir ${p.dataDir}`, `${p.name}.data_dir`, `the data directory ${p.dataDir}`);
  }
}

/** Reads and checks the topology file at `path`. */
export async function readTopology(path: string): Promise<Topology> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw invalid(`cannot read topology ${path}: ${(error as Error).message}`);
  }
  return parseTopology(text, path);
}
