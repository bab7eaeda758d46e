/**
 * `npm run bench:sysbench` (and `npm run bench`): sysbench OLTP workloads against a Tessera
 * playground and a MariaDB server started by this script, in the same run on the same
 * machine, and a table of QPS, TPS, p95 latency and the Tessera/MariaDB ratio.
 *
 * For each server: start it (Tessera: `tessera playground` with PD, `--kv` KV nodes and one
 * SQL node as child processes on free loopback ports, in a temporary data directory;
 * MariaDB: Debian's `mariadbd` with its default configuration — durable commits — in a
 * temporary data directory), `sysbench oltp_common prepare` (`--tables` × `--table-size`
 * rows), then every workload for `--time` seconds with `--threads` threads, in the order
 * given (oltp_insert last by default: it grows the tables). While a server runs, the
 * resident memory of each of its processes is sampled every 500 ms and the peak per
 * component is reported. `--cpu-prof` starts the Tessera processes with Node's
 * `--cpu-prof`; profiles land in the results directory when the playground stops.
 *
 * The table is printed and saved as JSON under `bench/results/` with the machine, the
 * versions and the command line. A workload that fails (sysbench exits non-zero or reports
 * errors other than the deadlocks and lock timeouts it ignores and counts by default) is
 * reported as such with its last output lines; the run goes on.
 *
 * Options: `--time 20 --threads 8 --tables 4 --table-size 10000 --kv 3
 * --workloads oltp_point_select,… --only tessera|mariadb --cpu-prof`.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { cpus, hostname, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import mysql from "mysql2/promise";
import { startMariadb } from "../test/slt/mariadb.ts";
import { parseSysbench } from "./sysbench_output.ts";

const execFileAsync = promisify(execFile);
const repoRoot = join(import.meta.dirname, "..");

const defaultWorkloads = [
  "oltp_point_select",
  "oltp_read_only",
  "oltp_write_only",
  "oltp_read_write",
  "oltp_update_index",
  "oltp_insert",
];

function stringArg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : (process.argv[i + 1] ?? fallback);
}
function numberArg(name: string, fallback: number): number {
  const value = Number(stringArg(name, String(fallback)));
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

const options = {
  time: numberArg("time", 20),
  threads: numberArg("threads", 8),
  tables: numberArg("tables", 4),
  tableSize: numberArg("table-size", 10_000),
  kv: numberArg("kv", 3),
  workloads: stringArg("workloads", defaultWorkloads.join(",")).split(",").filter((w) => w !== ""),
  only: stringArg("only", "both"),
  cpuProf: process.argv.includes("--cpu-prof"),
};

/** What one workload measured on one server. */
interface WorkloadResult {
  readonly workload: string;
  readonly ok: boolean;
  readonly qps: number;
  readonly tps: number;
  readonly p95Ms: number;
  readonly errors: number;
  /** Server CPU time (all its processes, user + system) per query, in microseconds. */
  readonly cpuUsPerQuery: number;
  /** The last lines of sysbench's output when it failed. */
  readonly failure?: string;
}

interface ServerRun {
  readonly server: "tessera" | "mariadb";
  readonly prepare: { readonly ok: boolean; readonly seconds: number; readonly failure?: string };
  readonly workloads: WorkloadResult[];
  /** Peak resident memory per component, MiB. */
  readonly peakRssMib: Record<string, number>;
}

interface Target {
  readonly port: number;
  /** Process ids by component name (`pd`, `kv-1`, `sql`, `mariadbd`) for memory sampling. */
  pids(): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

function sysbenchArgs(workload: string, port: number): string[] {
  return [
    workload,
    "--db-driver=mysql",
    "--mysql-host=127.0.0.1",
    `--mysql-port=${port}`,
    "--mysql-user=root",
    "--mysql-db=sbtest",
    `--tables=${options.tables}`,
    `--table-size=${options.tableSize}`,
    `--threads=${options.threads}`,
    `--time=${options.time}`,
    "--report-interval=0",
    "--percentile=95",
    "--db-ps-mode=auto",
  ];
}

/** Runs sysbench; resolves with its output and exit status (never rejects on exit codes). */
async function runSysbench(args: string[], timeoutMs: number):
  Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync("sysbench", args,
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return { ok: true, output: stdout + stderr };
  } catch (error: unknown) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}\n${e.message}` };
  }
}

function lastLines(text: string, n: number): string {
  return text.trim().split("\n").slice(-n).join("\n");
}

async function rssMib(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m === null ? null : Number(m[1]) / 1024;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux), or 0. */
async function cpuSecondsOf(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by all of a target's processes. */
async function targetCpuSeconds(target: Target): Promise<number> {
  let total = 0;
  for (const pid of (await target.pids()).values()) total += await cpuSecondsOf(pid);
  return total;
}

/** Samples the memory of a target's processes until stopped; returns peaks. */
function sampleMemory(target: Target): { stop(): Promise<Record<string, number>> } {
  const peaks: Record<string, number> = {};
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const [name, pid] of await target.pids()) {
        const rss = await rssMib(pid);
        if (rss !== null) peaks[name] = Math.max(peaks[name] ?? 0, Math.round(rss));
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return peaks;
    },
  };
}

/** Children of `pid` by reading /proc (Linux). */
async function childPids(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === pid) out.push(Number(entry));
    } catch {
      // The process exited while we looked.
    }
  }
  return out;
}

async function cmdlineOf(pid: number): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").join(" ");
  } catch {
    return "";
  }
}

/** Waits until a SELECT 1 answers on `port`. */
async function waitForMysql(port: number, timeoutMs: number, alive: () => boolean):
  Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown = null;
  while (performance.now() < deadline) {
    if (!alive()) throw new Error("the server exited while starting");
    try {
      const c = await mysql.createConnection({ host: "127.0.0.1", port, user: "root",
        connectTimeout: 2_000 });
      await c.query("SELECT 1");
      await c.end();
      return;
    } catch (error: unknown) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no answer on port ${port} within ${timeoutMs} ms: ${String(last)}`);
}

/** A base port with `count` consecutive free ports. */
async function freeRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 30_000 + Math.floor(Math.random() * 20_000);
    let free = true;
    for (let i = 0; i < count && free; i++) {
      free = await new Promise<boolean>((resolve) => {
        import("node:net").then(({ createServer }) => {
          const s = createServer();
          s.once("error", () => resolve(false));
          s.listen(base + i, "127.0.0.1", () => s.close(() => resolve(true)));
        }, () => resolve(false));
      });
    }
    if (free) return base;
  }
  throw new Error("no free port range found");
}

async function startTessera(profileDir: string): Promise<Target> {
  const dataDir = await mkdtemp(join(tmpdir(), "tessera-bench-"));
  const base = await freeRange(8 + 2 * options.kv);
  const sqlPort = base;
  const args = [
    join(repoRoot, "bin", "tessera.js"), "playground",
    "--data-dir", dataDir, "--kv", String(options.kv), "--sql", "1",
    "--sql-port", String(sqlPort), "--status-port", String(base + 1),
    "--pd-port", String(base + 2), "--pd-status-port", String(base + 3),
    "--kv-port", String(base + 4), "--kv-status-port", String(base + 4 + options.kv),
  ];
  const env = { ...process.env };
  if (options.cpuProf) env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${profileDir}`;
  const child: ChildProcess = spawn(process.execPath, args,
    { detached: true, stdio: ["ignore", "ignore", "pipe"], env });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8_000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const stop = async (): Promise<void> => {
    if (alive() && child.pid !== undefined) {
      // SIGTERM: the playground stops SQL, KV, PD in order; profiles are written on exit.
      process.kill(child.pid, "SIGTERM");
      const killer = setTimeout(() => {
        try { process.kill(-(child.pid as number), "SIGKILL"); } catch { /* gone */ }
      }, 30_000);
      await exited;
      clearTimeout(killer);
    }
    try { process.kill(-(child.pid as number), "SIGKILL"); } catch { /* gone */ }
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitForMysql(sqlPort, 180_000, alive);
  } catch (error: unknown) {
    await stop();
    throw new Error(`${String(error)}\n--- playground stderr ---\n${stderr}`, { cause: error });
  }
  const rootPid = child.pid as number;
  return {
    port: sqlPort,
    stop,
    pids: async () => {
      const pids = new Map<string, number>([["sql (playground)", rootPid]]);
      let kv = 0;
      for (const pid of await childPids(rootPid)) {
        const cmd = await cmdlineOf(pid);
        if (/ pd( |$)/.test(cmd)) pids.set("pd", pid);
        else if (/ kv( |$)/.test(cmd)) pids.set(`kv-${++kv}`, pid);
        else if (cmd !== "") pids.set(`child ${pid}`, pid);
      }
      return pids;
    },
  };
}

async function startMariadbTarget(): Promise<Target> {
  const handle = await startMariadb({ defaults: true });
  return {
    port: handle.address.port,
    stop: () => handle.stop(),
    pids: () => Promise.resolve(new Map([["mariadbd", handle.pid]])),
  };
}

/** Why the prepared tables are not complete (each needs `--table-size` rows), or null. */
async function missingRows(port: number): Promise<string | null> {
  const c = await mysql.createConnection({ host: "127.0.0.1", port, user: "root",
    database: "sbtest" });
  try {
    for (let i = 1; i <= options.tables; i++) {
      const [rows] = await c.query(`SELECT COUNT(*) AS n FROM sbtest${i}`);
      const n = Number((rows as { n: number }[])[0]?.n ?? 0);
      if (n !== options.tableSize) return `sbtest${i} has ${n} rows after prepare`;
    }
    return null;
  } catch (error: unknown) {
    return `checking the prepared tables: ${String(error)}`;
  } finally {
    await c.end();
  }
}

async function benchServer(server: "tessera" | "mariadb", profileDir: string):
  Promise<ServerRun> {
  console.log(`\n== ${server}: starting`);
  const target = server === "tessera" ? await startTessera(profileDir)
    : await startMariadbTarget();
  const memory = sampleMemory(target);
  const workloads: WorkloadResult[] = [];
  let prepare: ServerRun["prepare"] | undefined;
  let peakRssMib: Record<string, number>;
  try {
    const c = await mysql.createConnection({ host: "127.0.0.1", port: target.port, user: "root" });
    await c.query("CREATE DATABASE IF NOT EXISTS sbtest");
    await c.end();
    const t0 = performance.now();
    const prepared = await runSysbench([...sysbenchArgs("oltp_read_write", target.port),
      "prepare"], 30 * 60_000);
    const seconds = (performance.now() - t0) / 1000;
    // sysbench's parallel prepare can exit 0 after a thread failed: count the rows.
    const fatal = /^FATAL: .*$/m.exec(prepared.output)?.[0] ?? null;
    const missing = !prepared.ok ? null : fatal ?? await missingRows(target.port);
    prepare = prepared.ok && missing === null ? { ok: true, seconds }
      : { ok: false, seconds, failure: missing ?? lastLines(prepared.output, 8) };
    console.log(`${server}: prepare ${prepare.ok ? "ok" : "FAILED"} in ${seconds.toFixed(1)} s`);
    if (!prepare.ok) console.log(lastLines(prepared.output, 8));
    for (const workload of options.workloads) {
      if (!prepare.ok) break;
      const cpuBefore = await targetCpuSeconds(target);
      const run = await runSysbench([...sysbenchArgs(workload, target.port), "run"],
        (options.time + 120) * 1000);
      const cpuSeconds = await targetCpuSeconds(target) - cpuBefore;
      const parsed = parseSysbench(run.output);
      // sysbench's default ignores (and counts) deadlocks and lock wait timeouts, 1213/1205,
      // which MariaDB reports too under write contention; any other error ends the run.
      const ok = run.ok && parsed !== null && !/^FATAL: /m.test(run.output);
      const result: WorkloadResult = {
        workload, ok, qps: parsed?.qps ?? 0, tps: parsed?.tps ?? 0, p95Ms: parsed?.p95Ms ?? 0,
        errors: parsed?.errors ?? 0,
        cpuUsPerQuery: parsed !== null && parsed.qps > 0
          ? Math.round(cpuSeconds * 1e6 / (parsed.qps * options.time)) : 0,
        ...(ok ? {} : { failure: lastLines(run.output, 8) }),
      };
      workloads.push(result);
      console.log(`${server}: ${workload} ${ok ? "" : "FAILED "}qps ${result.qps.toFixed(0)} ` +
        `tps ${result.tps.toFixed(0)} p95 ${result.p95Ms} ms, ${result.errors} ignored errors, ` +
        `server CPU ${result.cpuUsPerQuery} µs/query`);
      if (!ok) console.log(result.failure);
    }
  } finally {
    peakRssMib = await memory.stop();
    await target.stop();
  }
  return { server, prepare: prepare ?? { ok: false, seconds: 0 }, workloads, peakRssMib };
}

async function versionOf(command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args);
    return stdout.trim().split("\n")[0] ?? "";
  } catch {
    return "unknown";
  }
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

function table(runs: ServerRun[]): string {
  const tessera = runs.find((r) => r.server === "tessera");
  const mariadb = runs.find((r) => r.server === "mariadb");
  const lines = [
    `${pad("workload", 22)}${pad("Tessera qps", 13)}${pad("tps", 9)}${pad("p95 ms", 9)}` +
    `${pad("MariaDB qps", 13)}${pad("tps", 9)}${pad("p95 ms", 9)}ratio (qps)`,
  ];
  for (const workload of options.workloads) {
    const t = tessera?.workloads.find((w) => w.workload === workload);
    const m = mariadb?.workloads.find((w) => w.workload === workload);
    const cell = (w: WorkloadResult | undefined): string => w === undefined ? pad("—", 31)
      : !w.ok ? pad("error", 31)
        : pad(w.qps.toFixed(0), 13) + pad(w.tps.toFixed(0), 9) + pad(w.p95Ms.toFixed(2), 9);
    const ratio = t?.ok === true && m?.ok === true && m.qps > 0 ? (t.qps / m.qps).toFixed(2)
      : "—";
    lines.push(`${pad(workload, 22)}${cell(t)}${cell(m)}${ratio}`);
  }
  for (const run of runs) {
    lines.push(`peak RSS ${run.server}: ` + Object.entries(run.peakRssMib)
      .map(([name, mib]) => `${name} ${mib} MiB`).join(", "));
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const started = new Date();
  const resultsDir = join(repoRoot, "bench", "results");
  await mkdir(resultsDir, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, "-");
  const profileDir = join(resultsDir, `profiles-${stamp}`);
  if (options.cpuProf) await mkdir(profileDir, { recursive: true });
  const runs: ServerRun[] = [];
  for (const server of ["tessera", "mariadb"] as const) {
    if (options.only !== "both" && options.only !== server) continue;
    try {
      runs.push(await benchServer(server, profileDir));
    } catch (error: unknown) {
      console.log(`${server}: could not run: ${String(error)}`);
      runs.push({ server, prepare: { ok: false, seconds: 0, failure: String(error) },
        workloads: [], peakRssMib: {} });
    }
  }
  const text = table(runs);
  console.log(`\n${text}`);
  const cpu = cpus()[0];
  const report = {
    started: started.toISOString(),
    command: `npm run bench:sysbench -- ${process.argv.slice(2).join(" ")}`.trim(),
    machine: { hostname: hostname(), cpus: cpus().length, cpuModel: cpu?.model ?? "unknown",
      memoryGiB: Math.round(totalmem() / 2 ** 30) },
    versions: {
      node: process.version,
      sysbench: await versionOf("sysbench", ["--version"]),
      mariadb: await versionOf("/usr/sbin/mariadbd", ["--version"]),
      tessera: await versionOf("git", ["-C", repoRoot, "rev-parse", "--short", "HEAD"]),
    },
    options,
    runs,
    ...(options.cpuProf ? { profiles: profileDir } : {}),
  };
  const file = join(resultsDir, `sysbench-${stamp}.json`);
  await writeFile(file, JSON.stringify(report, null, 2) + "\n");
  console.log(`\nsaved ${file}`);
}

await main();
