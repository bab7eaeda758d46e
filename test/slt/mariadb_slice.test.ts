/**
 * Integration test of the runner on a real server: starts a temporary MariaDB and runs the
 * vendored slice of the corpus (`corpus_slice.ts`: the first 300 records of select1.test,
 * a bounded prefix of one file from every folder, files with known MariaDB failures) and
 * Tessera's own files, asserting each file's counts equal the committed expectation in
 * baseline/mariadb_slice.json. Set SLT_UPDATE_EXPECTATION=1 to rewrite that file.
 *
 * Without mariadbd installed the test is skipped with the reason printed — except in CI
 * (CI=true), where that is a failure. The server is stopped by process group in after().
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { corpusSlice, sliceCorpusDir } from "./corpus_slice.ts";
import { mariadbUnavailableReason, startMariadb, type MariadbHandle } from "./mariadb.ts";
import { defaultRunOptions, runFiles, totalsOf, type FileResult } from "./runner.ts";
import { mysqlServer } from "./session.ts";

const repoRoot = resolve(import.meta.dirname, "../..");
const expectationPath = join(import.meta.dirname, "baseline", "mariadb_slice.json");

/** Tessera's own files that MariaDB passes, and those that record MariaDB bugs. */
const mustPass = ["ddl.slt", "errors.slt", "transactions.slt", "query_engine.slt",
  "partitions.slt"];
const knownMariadbBugs = [
  "mariadb_bug_distinct_negated_count.slt",
  "mariadb_bug_groupby_loose_scan.slt",
];

const skipReason = mariadbUnavailableReason();
if (skipReason !== null && process.env["CI"] !== "true") {
  process.stdout.write(`# skipping MariaDB slice: ${skipReason}\n`);
}

let mariadb: MariadbHandle | null = null;

before(
  async () => {
    if (skipReason === null) mariadb = await startMariadb();
  },
  { timeout: 90_000 },
);

after(
  async () => {
    if (mariadb !== null) await mariadb.stop();
  },
  { timeout: 30_000 },
);

type Counts = Pick<FileResult, "records" | "run" | "passed" | "failed" | "skipped" | "unreached">;

test(
  "the runner's counts on a MariaDB slice of the corpus match the committed expectation",
  {
    timeout: 120_000,
    skip: skipReason !== null && process.env["CI"] !== "true" ? skipReason : false,
  },
  async () => {
    assert.equal(skipReason, null, `CI requires MariaDB: ${skipReason}`);
    assert.ok(mariadb !== null);
    const server = mysqlServer(mariadb.address);
    const results: FileResult[] = [];
    // One file at a time: two would not be faster on CI's two cores with MariaDB on the
    // same machine.
    for (const [file] of corpusSlice) {
      const path = join(sliceCorpusDir, file);
      const [r] = await runFiles(server, [{ file: relative(repoRoot, path), path }], {
        ...defaultRunOptions,
        jobs: 1,
      });
      results.push(r as FileResult);
    }
    const own = await runFiles(
      server,
      [...mustPass, ...knownMariadbBugs].map((f) => {
        const path = join(import.meta.dirname, "tessera", f);
        return { file: relative(repoRoot, path), path };
      }),
      { ...defaultRunOptions, jobs: 1 },
    );
    results.push(...own);
    for (const r of results) assert.equal(r.error, null, `${r.file}: ${r.error}`);

    const actual: Record<string, Counts> = {};
    for (const r of results) {
      const { records, run, passed, failed, skipped, unreached } = r;
      actual[r.file] = { records, run, passed, failed, skipped, unreached };
    }
    if (process.env["SLT_UPDATE_EXPECTATION"] === "1") {
      writeFileSync(expectationPath, `${JSON.stringify(actual, null, 2)}\n`);
    }
    const expected = JSON.parse(readFileSync(expectationPath, "utf8")) as Record<string, Counts>;
    const failures = results.flatMap((r) =>
      r.failures.map((f) => `${f.file}:${f.line} ${f.reason}`),
    );
    assert.deepEqual(actual, expected, `failures now:\n${failures.join("\n")}`);
    // Tessera's own files are written to pass on the reference, except those recording
    // MariaDB bugs.
    for (const r of own.slice(0, mustPass.length)) {
      assert.equal(r.failed, 0, `${r.file} fails on MariaDB`);
    }
    const slowest = [...results].sort((a, b) => b.elapsedMs - a.elapsedMs).slice(0, 3);
    process.stdout.write(
      `# slowest: ${slowest.map((r) => `${r.file} ${r.elapsedMs} ms`).join(", ")}\n`,
    );
    const totals = totalsOf(results);
    process.stdout.write(`# MariaDB slice: ${totals.run} run, ${totals.passed} passed\n`);
  },
);
