/**
 * Parses every SQL record of the sqllogictest corpus (../shared/sqllogictest, run as engine
 * `mysql`; on a clone without it, the slice vendored in test/slt/corpus), and round-trips
 * every tenth statement through formatStatement. The only
 * records allowed to fail are in SQLite's dialect, not MySQL's: triggers (`CREATE TRIGGER
 * t1r1 UPDATE ON t1 BEGIN … END`) and `DROP INDEX i` without `ON table`, which MySQL
 * rejects too. `statement error` records may parse or not.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { formatStatement } from "./format.ts";
import { parse } from "./parse.ts";
import { sltRecords } from "./testdata/slt_records.ts";

const opts = { timeout: 120_000 };
const sqliteOnly = /^\s*((CREATE|DROP)\s+TRIGGER\b|DROP\s+INDEX\s+\w+\s*;?\s*$)/i;
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const sharedCorpus = join(repoRoot, "..", "shared", "sqllogictest");
const corpus = existsSync(sharedCorpus) ? sharedCorpus : join(repoRoot, "test", "slt", "corpus");

function scripts(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...scripts(path));
    else if (name.endsWith(".test")) out.push(path);
  }
  return out;
}

test("every MySQL-dialect record of the sqllogictest corpus parses", opts, (t) => {
  t.diagnostic(`corpus: ${corpus}`);
  let parsed = 0;
  let roundTripped = 0;
  let errorRecordsParsed = 0;
  let errorRecordsRejected = 0;
  const failures: string[] = [];
  const nonMysql: string[] = [];
  for (const file of scripts(corpus)) {
    for (const record of sltRecords(relative(corpus, file), readFileSync(file, "utf8"))) {
      const result = parse(record.sql);
      if (record.expectError) {
        if (result.kind === "ok") errorRecordsParsed++;
        else errorRecordsRejected++;
        continue;
      }
      if (result.kind === "error") {
        const where = `${record.file}:${record.line}: ${result.error.message}`;
        if (sqliteOnly.test(record.sql)) nonMysql.push(where);
        else failures.push(where);
        continue;
      }
      parsed++;
      if (parsed % 10 !== 0) continue;
      for (const s of result.statements) {
        const again = parse(formatStatement(s.statement));
        assert.equal(again.kind, "ok", record.sql);
        if (again.kind === "ok") assert.deepEqual(again.statements[0]?.statement, s.statement);
        roundTripped++;
      }
    }
  }
  t.diagnostic(
    `parsed ${parsed} records (${roundTripped} round-tripped); SQLite-only ` +
      `records rejected: ${nonMysql.length}; statement-error records parsed ` +
      `${errorRecordsParsed}, rejected ${errorRecordsRejected}`,
  );
  assert.deepEqual(failures.slice(0, 20), []);
  // The whole corpus has about 521,000 MySQL-dialect records; the vendored slice about 7,200.
  const parsedMin = corpus === sharedCorpus ? 500_000 : 7_000;
  assert.ok(parsed > parsedMin, `only ${parsed} records parsed`);
});
