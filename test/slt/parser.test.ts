/**
 * Tests of the sqllogictest parser on small inline scripts: each record kind, conditions,
 * labels, hash lines, CRLF line ends, comments, and malformed input.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseScript, SltParseError, skipRecord, type SltRecord } from "./parser.ts";

const opts = { timeout: 5_000 };

function only<K extends SltRecord["kind"]>(
  records: SltRecord[],
  kind: K,
): Extract<SltRecord, { kind: K }> {
  assert.equal(records.length, 1);
  const r = records[0] as SltRecord;
  assert.equal(r.kind, kind);
  return r as Extract<SltRecord, { kind: K }>;
}

test("parseScript() reads statement ok and statement error with multi-line SQL", opts, () => {
  const records = parseScript(
    "statement ok\nCREATE TABLE t1(\n  a INTEGER\n)\n\nstatement error\nDROP TABLE nope\n",
  );
  assert.equal(records.length, 2);
  assert.deepEqual(records[0], {
    kind: "statement",
    line: 1,
    conditions: [],
    expectError: false,
    errorPattern: null,
    sql: "CREATE TABLE t1(\n  a INTEGER\n)",
  });
  assert.deepEqual(records[1], {
    kind: "statement",
    line: 6,
    conditions: [],
    expectError: true,
    errorPattern: null,
    sql: "DROP TABLE nope",
  });
});

test("parseScript() keeps the regex of `statement error <regex>`", opts, () => {
  const r = only(
    parseScript("statement error Table '.*' doesn't exist\nSELECT * FROM x\n"),
    "statement",
  );
  assert.equal(r.errorPattern, "Table '.*' doesn't exist");
  assert.throws(() => parseScript("statement error (\nSELECT 1\n"), SltParseError);
});

test("parseScript() reads a query's types, sort mode, label and values", opts, () => {
  const r = only(
    parseScript("query IT rowsort label-7\nSELECT a, b\nFROM t1\n----\n1\nx\n2\n(empty)\n"),
    "query",
  );
  assert.equal(r.types, "IT");
  assert.equal(r.sort, "rowsort");
  assert.equal(r.label, "label-7");
  assert.equal(r.sql, "SELECT a, b\nFROM t1");
  assert.deepEqual(r.expected, { kind: "values", values: ["1", "x", "2", "(empty)"] });
});

test("parseScript() reads `N values hashing to <md5>` as a hash expectation", opts, () => {
  const r = only(
    parseScript(
      "query I nosort\nSELECT 1\n----\n30 values hashing to 3c13dee48d9356ae19af2515e05e6b54\n",
    ),
    "query",
  );
  assert.deepEqual(r.expected, {
    kind: "hash",
    count: 30,
    md5: "3c13dee48d9356ae19af2515e05e6b54",
  });
});

test("parseScript() treats a query with ---- and no values as an empty result", opts, () => {
  const r = only(
    parseScript("query I rowsort\nSELECT 1 WHERE 0\n----\n\nstatement ok\nSELECT 1\n").slice(0, 1),
    "query",
  );
  assert.deepEqual(r.expected, { kind: "values", values: [] });
});

test("parseScript() treats a query without ---- as one that only has to run", opts, () => {
  const r = only(parseScript("query I nosort\nSELECT 1\n"), "query");
  assert.deepEqual(r.expected, { kind: "none" });
  assert.equal(r.sort, "nosort");
});

test("parseScript() attaches stacked conditions, with comments, to the next record", opts, () => {
  const records = parseScript(
    "skipif mysql # not compatible\nonlyif sqlite\nstatement ok\nSELECT 1\n\n" +
      "statement ok\nSELECT 2\n",
  );
  assert.deepEqual(records[0]?.conditions, [
    { kind: "skipif", engine: "mysql" },
    { kind: "onlyif", engine: "sqlite" },
  ]);
  assert.deepEqual(records[1]?.conditions, []);
});

test("skipRecord() skips `skipif <engine>` and `onlyif <other engine>` only", opts, () => {
  const [skipMysql, onlyMysql, onlyMssql, skipPg, plain] = parseScript(
    [
      "skipif mysql\nstatement ok\nSELECT 1\n",
      "onlyif mysql\nstatement ok\nSELECT 1\n",
      "onlyif mssql\nstatement ok\nSELECT 1\n",
      "skipif postgresql\nstatement ok\nSELECT 1\n",
      "statement ok\nSELECT 1\n",
    ].join("\n"),
  ) as [SltRecord, SltRecord, SltRecord, SltRecord, SltRecord];
  assert.equal(skipRecord(skipMysql, "mysql"), true);
  assert.equal(skipRecord(onlyMysql, "mysql"), false);
  assert.equal(skipRecord(onlyMssql, "mysql"), true);
  assert.equal(skipRecord(skipPg, "mysql"), false);
  assert.equal(skipRecord(plain, "mysql"), false);
});

test("parseScript() reads hash-threshold and guarded halt records", opts, () => {
  const records = parseScript("hash-threshold 8\n\nskipif sqlite\nhalt\n\n# comment\n");
  assert.deepEqual(records, [
    { kind: "hashThreshold", line: 1, conditions: [], threshold: 8 },
    { kind: "halt", line: 4, conditions: [{ kind: "skipif", engine: "sqlite" }] },
  ]);
});

test("parseScript() strips CRLF line ends and treats whitespace-only lines as blank", opts, () => {
  const records = parseScript("query I rowsort \r\nSELECT 1\r\n----\r\n1\r\n  \r\nhalt\r\n");
  assert.equal(records.length, 2);
  const q = records[0] as Extract<SltRecord, { kind: "query" }>;
  assert.equal(q.sql, "SELECT 1");
  assert.deepEqual(q.expected, { kind: "values", values: ["1"] });
});

test("parseScript() ignores comment lines between records", opts, () => {
  const records = parseScript("# one\n# two\nstatement ok\nSELECT 1\n\n# three\n");
  assert.equal(records.length, 1);
  assert.equal(records[0]?.line, 3);
});

test("parseScript() refuses unknown directives, types and sort modes with the line", opts, () => {
  assert.throws(() => parseScript("\nfrobnicate\n"), /line 2: unknown record "frobnicate"/);
  assert.throws(() => parseScript("query X nosort\nSELECT 1\n"), /types/);
  assert.throws(() => parseScript("query I shuffled\nSELECT 1\n"), /unknown sort mode/);
  assert.throws(() => parseScript("statement maybe\nSELECT 1\n"), /"ok" or "error"/);
  assert.throws(() => parseScript("statement ok\n\n"), /without SQL/);
});

test("parseScript() of an empty script is no records", opts, () => {
  assert.deepEqual(parseScript(""), []);
});
