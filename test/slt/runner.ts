/**
 * Runs parsed sqllogictest scripts against a `SqlServer` and counts what passed.
 *
 * Each file gets one session and a fresh database (`CREATE DATABASE slt_<pid>_<n>; USE`),
 * dropped afterwards. Records run in order; a record guarded off for the engine is
 * *skipped*; records after `halt`, after the per-file time budget or past `maxRecords`
 * are *unreached*. Every statement/query record is counted exactly once:
 * `records = passed + failed + skipped + unreached` and `run = passed + failed`.
 *
 * A record that runs longer than `recordTimeoutMs` fails: the runner asks the server to
 * KILL the connection's statement, drops the connection, reconnects and re-selects the
 * file's database, then moves on. A fatal connection error is handled the same way.
 * Session state (variables, open transactions) does not survive a reconnect.
 */
import { readdirSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseScript, skipRecord, SltParseError, type SltRecord } from "./parser.ts";
import { formatRows, hashValues, resultLines, sortValues } from "./result_format.ts";
import type { Outcome, SqlServer, SqlSession } from "./session.ts";

/** How a run behaves. */
export interface RunOptions {
  /** Engine name for `skipif`/`onlyif` (the corpus is run as `mysql`). */
  readonly engine: string;
  /** A record running longer than this fails and its connection is replaced. */
  readonly recordTimeoutMs: number;
  /** A file stops (remaining records unreached) once it has run this long. */
  readonly fileBudgetMs: number;
  /** Run at most this many statement/query records per file (null: all). */
  readonly maxRecords: number | null;
  /** Failures kept per file for the report. */
  readonly failuresKeptPerFile: number;
}

/** Defaults suited to the shared corpus on a local server. */
export const defaultRunOptions: RunOptions = {
  engine: "mysql",
  recordTimeoutMs: 10_000,
  fileBudgetMs: 600_000,
  maxRecords: null,
  failuresKeptPerFile: 20,
};

/** One record that did not pass. */
export interface Failure {
  readonly file: string;
  readonly line: number;
  readonly sql: string;
  /** Expected lines as in the script (values, a hash line, or "ok"/"error"). */
  readonly expected: readonly string[];
  /** Actual lines in the same form as `expected`. */
  readonly actual: readonly string[];
  /** Why it failed, in one line. */
  readonly reason: string;
}

/** Counts of one file. */
export interface FileResult {
  readonly file: string;
  /** Statement and query records in the file. */
  readonly records: number;
  readonly run: number;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly unreached: number;
  readonly halted: boolean;
  readonly budgetExceeded: boolean;
  readonly elapsedMs: number;
  /** The first failures (at most `failuresKeptPerFile`). */
  readonly failures: readonly Failure[];
  /** A problem that stopped the file as a whole (setup failure), or null. */
  readonly error: string | null;
}

/** Totals over files. */
export interface Totals {
  readonly files: number;
  readonly records: number;
  readonly run: number;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly unreached: number;
}

let databaseCounter = 0;

/** Sums the counts of several files. */
export function totalsOf(results: readonly FileResult[]): Totals {
  const t = { files: 0, records: 0, run: 0, passed: 0, failed: 0, skipped: 0, unreached: 0 };
  for (const r of results) {
    t.files++;
    t.records += r.records;
    t.run += r.run;
    t.passed += r.passed;
    t.failed += r.failed;
    t.skipped += r.skipped;
    t.unreached += r.unreached;
  }
  return t;
}

/** Runs one parsed script on a fresh database of `server`. */
export async function runScript(
  server: SqlServer,
  script: { readonly file: string; readonly records: readonly SltRecord[] },
  options: RunOptions,
): Promise<FileResult> {
  const started = performance.now();
  const counted = script.records.filter((r) => r.kind === "statement" || r.kind === "query");
  const state = {
    run: 0,
    passed: 0,
    failed: 0,
    skipped: 0,
    halted: false,
    budgetExceeded: false,
    failures: [] as Failure[],
  };
  const result = (error: string | null): FileResult => ({
    file: script.file,
    records: counted.length,
    run: state.run,
    passed: state.passed,
    failed: state.failed,
    skipped: state.skipped,
    unreached: counted.length - state.run - state.skipped,
    halted: state.halted,
    budgetExceeded: state.budgetExceeded,
    elapsedMs: Math.round(performance.now() - started),
    failures: state.failures,
    error,
  });

  const database = `slt_${process.pid}_${++databaseCounter}`;
  let session: SqlSession;
  try {
    session = await server.connect();
  } catch (error: unknown) {
    return result(`cannot connect: ${String(error)}`);
  }
  const connection = new Connection(server, session, options.recordTimeoutMs);
  try {
    const setup = await connection.setUp(database);
    if (setup !== null) return result(setup);

    const labels = new Map<string, string>();
    let hashThreshold = 8;
    let seen = 0;
    for (const record of script.records) {
      if (performance.now() - started > options.fileBudgetMs) {
        state.budgetExceeded = true;
        break;
      }
      const counts = record.kind === "statement" || record.kind === "query";
      if (counts && options.maxRecords !== null && seen >= options.maxRecords) break;
      if (counts) seen++;
      if (skipRecord(record, options.engine)) {
        if (counts) state.skipped++;
        continue;
      }
      if (record.kind === "halt") {
        state.halted = true;
        break;
      }
      if (record.kind === "hashThreshold") {
        hashThreshold = record.threshold;
        continue;
      }
      state.run++;
      const failure = await runRecord(connection, record, { labels, hashThreshold });
      if (connection.lost) {
        // The record never reached a server: it stays unreached, and so does the rest.
        state.run--;
        return result("lost the connection to the server and could not reconnect");
      }
      if (failure === null) {
        state.passed++;
      } else {
        state.failed++;
        if (state.failures.length < options.failuresKeptPerFile) {
          state.failures.push({
            file: script.file,
            line: record.line,
            sql: record.sql,
            ...failure,
          });
        }
      }
    }
    return result(null);
  } finally {
    await connection.tearDown(database);
  }
}

interface RecordContext {
  readonly labels: Map<string, string>;
  readonly hashThreshold: number;
}

type RecordFailure = Pick<Failure, "expected" | "actual" | "reason">;

async function runRecord(
  connection: Connection,
  record: Extract<SltRecord, { kind: "statement" | "query" }>,
  context: RecordContext,
): Promise<RecordFailure | null> {
  const outcome = await connection.run(record.sql);
  if (record.kind === "statement") {
    const expected = record.expectError
      ? [record.errorPattern === null ? "error" : `error matching /${record.errorPattern}/`]
      : ["ok"];
    if (outcome.kind === "error") {
      if (!record.expectError) {
        return { expected, actual: [`error: ${outcome.message}`], reason: "statement failed" };
      }
      if (record.errorPattern !== null && !new RegExp(record.errorPattern).test(outcome.message)) {
        return { expected, actual: [`error: ${outcome.message}`], reason: "wrong error" };
      }
      return null;
    }
    if (record.expectError) {
      return { expected, actual: ["ok"], reason: "statement succeeded, error expected" };
    }
    return null;
  }

  const expectedLines =
    record.expected.kind === "values"
      ? record.expected.values
      : record.expected.kind === "hash"
        ? [`${record.expected.count} values hashing to ${record.expected.md5}`]
        : [];
  if (outcome.kind === "error") {
    return {
      expected: expectedLines,
      actual: [`error: ${outcome.message}`],
      reason: "query failed",
    };
  }
  if (outcome.kind === "ok") {
    return {
      expected: expectedLines,
      actual: ["(no result set)"],
      reason: "query returned no rows",
    };
  }
  if (outcome.columnCount !== record.types.length) {
    return {
      expected: expectedLines,
      actual: [`${outcome.columnCount} columns`],
      reason: `expected ${record.types.length} columns, got ${outcome.columnCount}`,
    };
  }
  const values = sortValues(formatRows(outcome.rows, record.types), record.sort);
  const hash = hashValues(values);
  let failure: RecordFailure | null = null;
  switch (record.expected.kind) {
    case "none":
      break;
    case "hash":
      if (values.length !== record.expected.count || hash !== record.expected.md5) {
        failure = {
          expected: expectedLines,
          actual: [`${values.length} values hashing to ${hash}`, ...values.slice(0, 40)],
          reason: "result hash differs",
        };
      }
      break;
    case "values":
      if (!sameValues(values, record.expected.values)) {
        failure = {
          expected: expectedLines,
          actual: values.length > 200 ? resultLines(values, context.hashThreshold) : values,
          reason: "result differs",
        };
      }
      break;
  }
  if (failure === null && record.label !== null) {
    const previous = context.labels.get(record.label);
    if (previous === undefined) {
      context.labels.set(record.label, hash);
    } else if (previous !== hash) {
      return {
        expected: [`same result as earlier ${record.label}`],
        actual: [`${values.length} values hashing to ${hash}`],
        reason: `result differs from label ${record.label}`,
      };
    }
  }
  return failure;
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * A session that survives stuck statements and lost connections: `run` enforces the
 * record timeout and replaces the session when it cannot be used any more.
 */
class Connection {
  private readonly server: SqlServer;
  private session: SqlSession | null;
  private readonly timeoutMs: number;
  private database: string | null = null;
  /** Set once a reconnect failed: the server is gone, the file cannot go on. */
  lost = false;

  constructor(server: SqlServer, session: SqlSession, timeoutMs: number) {
    this.server = server;
    this.session = session;
    this.timeoutMs = timeoutMs;
  }

  /** Creates and selects the file's database; returns an error text or null. */
  async setUp(database: string): Promise<string | null> {
    for (const sql of [`DROP DATABASE IF EXISTS ${database}`, `CREATE DATABASE ${database}`]) {
      const outcome = await this.run(sql);
      if (outcome.kind === "error") return `setup "${sql}" failed: ${outcome.message}`;
    }
    this.database = database;
    const outcome = await this.run(`USE ${database}`);
    return outcome.kind === "error" ? `USE ${database} failed: ${outcome.message}` : null;
  }

  /** Drops the file's database and closes the session. */
  async tearDown(database: string): Promise<void> {
    if (this.database !== null && !this.lost) {
      const outcome = await this.run(`DROP DATABASE IF EXISTS ${database}`);
      if (outcome.kind === "error") {
        // The next run drops leftovers of its own names only; say so instead of hiding it.
        process.stderr.write(`slt: could not drop ${database}: ${outcome.message}\n`);
      }
    }
    const session = this.session;
    this.session = null;
    if (session !== null) await session.close();
  }

  /** Runs one SQL text; a timeout or a fatal error yields an error outcome. */
  async run(sql: string): Promise<Outcome> {
    const session = await this.ensureSession();
    if (session === null) {
      this.lost = true;
      return { kind: "error", errno: 0, message: "no connection to the server", fatal: true };
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.timeoutMs);
    });
    const outcome = await Promise.race([session.run(sql), timeout]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      await this.replace(session);
      return {
        kind: "error",
        errno: 0,
        message: `timed out after ${this.timeoutMs} ms; connection replaced`,
        fatal: true,
      };
    }
    if (outcome.kind === "error" && outcome.fatal) await this.replace(session);
    return outcome;
  }

  private async replace(session: SqlSession): Promise<void> {
    const id = session.connectionId;
    this.session = null;
    session.destroy();
    if (id !== null) {
      try {
        await this.server.cancel(id);
      } catch (error: unknown) {
        // The connection is gone already when its server closed it; report anything else.
        const text = String(error);
        if (!/Unknown thread id/i.test(text)) process.stderr.write(`slt: KILL ${id}: ${text}\n`);
      }
    }
  }

  private async ensureSession(): Promise<SqlSession | null> {
    if (this.session !== null) return this.session;
    try {
      const session = await this.server.connect();
      if (this.database !== null) {
        const outcome = await session.run(`USE ${this.database}`);
        if (outcome.kind === "error") {
          session.destroy();
          return null;
        }
      }
      this.session = session;
      return session;
    } catch (error: unknown) {
      process.stderr.write(`slt: reconnect failed: ${String(error)}\n`);
      return null;
    }
  }
}

/** Script files under the given paths: files as given, directories searched for `.test`/`.slt`. */
export function listScripts(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (path: string): void => {
    if (!statSync(path).isDirectory()) {
      out.push(path);
      return;
    }
    const entries = readdirSync(path, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of entries) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(test|slt)$/.test(entry.name)) out.push(full);
    }
  };
  for (const path of paths) walk(path);
  return out;
}

/** Options of `runFiles`: run options plus concurrency and progress. */
export interface RunFilesOptions extends RunOptions {
  /** Files run at once, each on its own session. */
  readonly jobs: number;
  /** Called as each file finishes. */
  readonly onFile?: (result: FileResult) => void;
}

/**
 * Reads, parses and runs script files (`path` on disk, reported as `file`), `jobs` at a
 * time. Results come back in the order of `files`.
 */
export async function runFiles(
  server: SqlServer,
  files: readonly { readonly file: string; readonly path: string }[],
  options: RunFilesOptions,
): Promise<FileResult[]> {
  const results: FileResult[] = new Array<FileResult>(files.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const index = next++;
      const { file, path } = files[index] as { file: string; path: string };
      const result = await runPath(server, file, path, options);
      results[index] = result;
      options.onFile?.(result);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.jobs) }, worker));
  return results;
}

async function runPath(
  server: SqlServer,
  file: string,
  path: string,
  options: RunOptions,
): Promise<FileResult> {
  let records: SltRecord[];
  try {
    records = parseScript(await readFile(path, "utf8"));
  } catch (error: unknown) {
    if (!(error instanceof SltParseError)) throw error;
    return {
      file,
      records: 0,
      run: 0,
      passed: 0,
      failed: 0,
      skipped: 0,
      unreached: 0,
      halted: false,
      budgetExceeded: false,
      elapsedMs: 0,
      failures: [],
      error: `parse error: ${error.message}`,
    };
  }
  return runScript(server, { file, records }, options);
}
