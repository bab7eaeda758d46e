/**
 * Command line of the sqllogictest runner.
 *
 *   node test/slt/cli.ts [--host H --port P --user U --password W] [--mariadb | --tessera]
 *        [--json out.json] [--max-records N] [--jobs N] [--record-timeout-ms MS]
 *        [--file-budget-ms MS] [--failures N] [--baseline FILE [--require-all]]
 *        [--write-baseline FILE] [--strict] [--quiet] [--cluster-per-file] FILES_OR_DIRS…
 *
 * Runs every `.test`/`.slt` file under the given paths as engine `mysql` against the
 * server (default 127.0.0.1:4000, user root) or, with `--mariadb`, against a temporary
 * MariaDB started for the run and stopped after it, or, with `--tessera`, against an
 * in-process Tessera cluster (PD, two KV stores, one SQL node on free ports;
 * `test/sql/sql_cluster.ts`) started for the run and stopped after it — or, adding
 * `--cluster-per-file`, a fresh one for each file (its memory engine keeps every MVCC
 * version, with no GC, so one cluster for a whole-corpus run grows to millions of
 * versions and every write slows down with it). Prints one line
 * per file, totals per directory and overall, and the first failures. Exit status: 1 when
 * `--baseline` finds a drop (or a missing file with `--require-all`), or with `--strict`
 * when any record failed or a file could not run; 2 on bad usage; 0 otherwise.
 */
import { writeFile, readFile } from "node:fs/promises";
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type MariadbHandle, startMariadb } from "./mariadb.ts";
import {
  checkRatchet,
  formatBaseline,
  parseBaseline,
  raiseBaseline,
  type Baseline,
} from "./ratchet.ts";
import { countsLine, failureBlocks, fileLine, totalsByGroup } from "./report.ts";
import {
  type FileResult,
  type RunFilesOptions,
  defaultRunOptions,
  listScripts,
  runFiles,
  totalsOf,
} from "./runner.ts";
import { mysqlServer, type MysqlAddress } from "./session.ts";
import type { TesseraServer } from "../sql/sql_cluster.ts";

/** Report names are relative to the repository root, whatever the working directory. */
const repoRoot = resolve(import.meta.dirname, "../..");

const usage = `usage: node test/slt/cli.ts [--host H] [--port P] [--user U] [--password W]
  [--mariadb | --tessera] [--json out.json] [--max-records N] [--jobs N]
  [--record-timeout-ms MS] [--file-budget-ms MS] [--failures N] [--baseline FILE [--require-all]]
  [--write-baseline FILE] [--strict] [--quiet] [--cluster-per-file] FILES_OR_DIRS...`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: "4000" },
        user: { type: "string", default: "root" },
        password: { type: "string", default: "" },
        mariadb: { type: "boolean", default: false },
        tessera: { type: "boolean", default: false },
        json: { type: "string" },
        "max-records": { type: "string" },
        jobs: { type: "string", default: "1" },
        "record-timeout-ms": { type: "string", default: String(defaultRunOptions.recordTimeoutMs) },
        "file-budget-ms": { type: "string", default: String(defaultRunOptions.fileBudgetMs) },
        failures: { type: "string", default: "10" },
        baseline: { type: "string" },
        "require-all": { type: "boolean", default: false },
        "write-baseline": { type: "string" },
        strict: { type: "boolean", default: false },
        quiet: { type: "boolean", default: false },
        "cluster-per-file": { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    });
  } catch (error: unknown) {
    process.stderr.write(`${String(error)}\n${usage}\n`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.help === true) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const int = (name: string, text: string | undefined): number | null => {
    if (text === undefined) return null;
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${name} must be an integer`);
    return n;
  };
  let paths: string[];
  let options;
  let failuresShown: number;
  let address: MysqlAddress;
  try {
    if (positionals.length === 0) throw new UsageError("no files or directories given");
    if (v.mariadb === true && v.tessera === true) {
      throw new UsageError("--mariadb and --tessera exclude each other");
    }
    if (v["cluster-per-file"] === true && v.tessera !== true) {
      throw new UsageError("--cluster-per-file needs --tessera");
    }
    paths = listScripts(positionals);
    options = {
      ...defaultRunOptions,
      maxRecords: int("max-records", v["max-records"]),
      jobs: int("jobs", v.jobs) ?? 1,
      recordTimeoutMs: int("record-timeout-ms", v["record-timeout-ms"]) ?? 10_000,
      fileBudgetMs: int("file-budget-ms", v["file-budget-ms"]) ?? 600_000,
    };
    failuresShown = int("failures", v.failures) ?? 10;
    address = {
      host: v.host ?? "127.0.0.1",
      port: int("port", v.port) ?? 4000,
      user: v.user ?? "root",
      password: v.password ?? "",
    };
  } catch (error: unknown) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${usage}\n`);
    return 2;
  }
  const baseline =
    v.baseline === undefined ? null : parseBaseline(await readFile(v.baseline, "utf8"));

  let mariadb: MariadbHandle | null = null;
  let tessera: TesseraServer | null = null;
  /** Clusters started for single files (`--cluster-per-file`) and not stopped yet. */
  const perFile = new Set<TesseraServer>();
  const stopServers = async (): Promise<void> => {
    const [m, t] = [mariadb, tessera];
    mariadb = null;
    tessera = null;
    if (m !== null) await m.stop();
    if (t !== null) await t.stop();
    const started = [...perFile];
    perFile.clear();
    for (const s of started) await s.stop();
  };
  const stopOnSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`slt: ${signal}, stopping\n`);
    stopServers().then(
      () => process.exit(130),
      (error: unknown) => {
        process.stderr.write(`slt: stopping the server failed: ${String(error)}\n`);
        process.exit(130);
      },
    );
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  try {
    if (v.mariadb === true) {
      mariadb = await startMariadb();
      address = mariadb.address;
      process.stderr.write(`slt: started MariaDB pid ${mariadb.pid} on port ${address.port}\n`);
    }
    // Loaded only here: the cluster pulls in the whole of src/ and runs in this process.
    const { startTesseraServer } = v.tessera === true ? await import("../sql/sql_cluster.ts")
      : { startTesseraServer: null };
    if (startTesseraServer !== null && v["cluster-per-file"] !== true) {
      tessera = await startTesseraServer();
      address = { host: tessera.host, port: tessera.port, user: "root", password: "" };
      process.stderr.write(`slt: started an in-process Tessera on port ${address.port}\n`);
      // DDL fails only transactions that wrote the changed table (src/sql/ddl/syncer.ts),
      // so files running at once in their own databases do not disturb each other.
    }
    const server = mysqlServer(address);
    const files = paths.map((path) => ({ path, file: relative(repoRoot, resolve(path)) }));
    const started = performance.now();
    const runOptions = {
      ...options,
      onFile: (r: FileResult) => {
        if (v.quiet !== true) process.stdout.write(`${fileLine(r)}\n`);
      },
    };
    const results = startTesseraServer === null || v["cluster-per-file"] !== true
      ? await runFiles(server, files, runOptions)
      : await runEachOnItsOwnCluster(files, runOptions, async () => {
        const s = await startTesseraServer();
        perFile.add(s);
        return s;
      }, async (s) => {
        if (perFile.delete(s)) await s.stop();
      });
    const seconds = (performance.now() - started) / 1000;

    const blocks = failureBlocks(results, failuresShown);
    if (blocks.length > 0) process.stdout.write(`\nfirst failures:\n${blocks.join("\n\n")}\n`);
    process.stdout.write(`\nby directory:\n`);
    for (const [group, t] of totalsByGroup(results)) {
      process.stdout.write(`  ${countsLine(group, t)}\n`);
    }
    const totals = totalsOf(results);
    process.stdout.write(`\n${countsLine(`TOTAL ${totals.files} files`, totals)}`);
    const against = startTesseraServer !== null && v["cluster-per-file"] === true
      ? "a fresh in-process Tessera per file" : server.description;
    process.stdout.write(` in ${seconds.toFixed(1)} s against ${against}\n`);

    if (v.json !== undefined) {
      const report = { server: against, seconds, totals, files: results };
      await writeFile(v.json, `${JSON.stringify(report, null, 1)}\n`);
    }
    let status = 0;
    if (baseline !== null) {
      const verdict = checkRatchet(baseline, results, { requireAll: v["require-all"] === true });
      for (const m of verdict.messages) process.stdout.write(`ratchet: ${m}\n`);
      process.stdout.write(`ratchet: ${verdict.ok ? "ok" : "FAILED"}\n`);
      if (!verdict.ok) status = 1;
    }
    if (v["write-baseline"] !== undefined) {
      const previous = await readBaselineOrEmpty(v["write-baseline"]);
      const next = raiseBaseline(previous, results);
      await writeFile(v["write-baseline"], formatBaseline(next));
      process.stdout.write(`wrote ${v["write-baseline"]}\n`);
    }
    if (v.strict === true && results.some((r) => r.failed > 0 || r.error !== null)) status = 1;
    return status;
  } finally {
    await stopServers();
  }
}

class UsageError extends Error {}

/**
 * Runs each file on a cluster `start` gives for it alone and `stop` stops after it,
 * `options.jobs` files at a time. Results come back in the order of `files`.
 */
async function runEachOnItsOwnCluster(
  files: readonly { readonly file: string; readonly path: string }[],
  options: RunFilesOptions,
  start: () => Promise<TesseraServer>,
  stop: (server: TesseraServer) => Promise<void>,
): Promise<FileResult[]> {
  const results: FileResult[] = new Array<FileResult>(files.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const index = next++;
      const cluster = await start();
      try {
        const server = mysqlServer({ host: cluster.host, port: cluster.port, user: "root",
          password: "" });
        const [result] = await runFiles(server, [files[index] as (typeof files)[number]],
          { ...options, jobs: 1 });
        results[index] = result as FileResult;
      } finally {
        await stop(cluster);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.jobs) }, worker));
  return results;
}

async function readBaselineOrEmpty(path: string): Promise<Baseline> {
  try {
    return parseBaseline(await readFile(path, "utf8"));
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    return { description: `per-file pass counts (written by test/slt/cli.ts)`, files: {} };
  }
}

process.exitCode = await main();
