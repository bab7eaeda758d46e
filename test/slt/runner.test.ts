/**
 * Tests of the runner against a scripted fake server: pass/fail/skip/unreached counting,
 * result comparison (values, hashes, sort modes, column counts, labels), statement errors
 * with and without a regex, halt, `maxRecords`, and recovery from a stuck statement and a
 * lost connection. No real server is involved (see mariadb_slice.test.ts for that).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseScript } from "./parser.ts";
import type { Cell } from "./result_format.ts";
import { defaultRunOptions, runScript, totalsOf, type RunOptions } from "./runner.ts";
import type { Outcome, SqlServer, SqlSession } from "./session.ts";

const opts = { timeout: 10_000 };

/** How the fake answers one SQL text; `hang` never answers (until destroyed). */
type Answer = Outcome | "hang";

/** A fake server: `answer` maps SQL to an outcome; it records sessions and KILLs. */
class FakeServer implements SqlServer {
  readonly description = "fake";
  readonly log: string[] = [];
  readonly killed: number[] = [];
  private nextId = 1;
  private readonly answer: (sql: string) => Answer;
  refuseConnections = false;

  constructor(answer: (sql: string) => Answer) {
    this.answer = answer;
  }

  connect(): Promise<SqlSession> {
    if (this.refuseConnections) return Promise.reject(new Error("connection refused"));
    const id = this.nextId++;
    let release: ((o: Outcome) => void) | null = null;
    return Promise.resolve({
      connectionId: id,
      run: (sql: string): Promise<Outcome> => {
        this.log.push(`${id}: ${sql}`);
        const a = /^(DROP|CREATE) DATABASE|^USE /.test(sql) ? ok() : this.answer(sql);
        if (a !== "hang") return Promise.resolve(a);
        return new Promise<Outcome>((resolve) => {
          release = resolve;
        });
      },
      destroy(): void {
        release?.({ kind: "error", errno: 0, message: "destroyed", fatal: true });
      },
      close: () => Promise.resolve(),
    });
  }

  cancel(connectionId: number): Promise<void> {
    this.killed.push(connectionId);
    return Promise.resolve();
  }
}

function ok(): Outcome {
  return { kind: "ok", affectedRows: 0 };
}

function rows(...r: Cell[][]): Outcome {
  return { kind: "rows", columnCount: r[0]?.length ?? 1, rows: r };
}

function error(message: string): Outcome {
  return { kind: "error", errno: 1064, message, fatal: false };
}

const fast: RunOptions = { ...defaultRunOptions, recordTimeoutMs: 200 };

async function run(text: string, server: FakeServer, options: RunOptions = fast) {
  return runScript(server, { file: "t.test", records: parseScript(text) }, options);
}

test("runScript() counts passed, failed and skipped statements", opts, async () => {
  const server = new FakeServer((sql) => (sql.startsWith("BAD") ? error("syntax") : ok()));
  const r = await run(
    [
      "statement ok\nGOOD\n",
      "statement ok\nBAD\n",
      "statement error\nBAD\n",
      "statement error\nGOOD\n",
      "skipif mysql\nstatement ok\nBAD\n",
      "onlyif sqlite\nstatement ok\nBAD\n",
    ].join("\n"),
    server,
  );
  assert.deepEqual(
    { records: r.records, run: r.run, passed: r.passed, failed: r.failed, skipped: r.skipped },
    { records: 6, run: 4, passed: 2, failed: 2, skipped: 2 },
  );
  assert.deepEqual(
    r.failures.map((f) => [f.line, f.reason]),
    [
      [4, "statement failed"],
      [10, "statement succeeded, error expected"],
    ],
  );
  assert.equal(r.error, null);
});

test("runScript() checks `statement error <regex>` against the error message", opts, async () => {
  const server = new FakeServer(() => error("Table 'x' doesn't exist"));
  const r = await run(
    "statement error doesn't exist\nSELECT 1\n\nstatement error Duplicate entry\nSELECT 1\n",
    server,
  );
  assert.equal(r.passed, 1);
  assert.equal(r.failures[0]?.reason, "wrong error");
  assert.deepEqual(r.failures[0]?.actual, ["error: Table 'x' doesn't exist"]);
});

test("runScript() compares query values after formatting and sorting", opts, async () => {
  const server = new FakeServer(() => rows(["2", "b"], ["1", null], ["3", ""]));
  const r = await run(
    [
      "query IT rowsort\nQ\n----\n1\nNULL\n2\nb\n3\n(empty)\n",
      "query IT nosort\nQ\n----\n1\nNULL\n2\nb\n3\n(empty)\n",
      "query RT nosort\nQ\n----\n2.000\nb\n1.000\nNULL\n3.000\n(empty)\n",
      "query I nosort\nQ\n----\n2\n",
    ].join("\n"),
    server,
  );
  assert.equal(r.passed, 2);
  assert.deepEqual(
    r.failures.map((f) => f.reason),
    ["result differs", "expected 1 columns, got 2"],
  );
  assert.deepEqual(r.failures[0]?.actual, ["2", "b", "1", "NULL", "3", "(empty)"]);
});

test("runScript() compares hashed results by count and MD5", opts, async () => {
  const server = new FakeServer(() => rows(["1"], ["2"], [null]));
  const r = await run(
    [
      "query I nosort\nQ\n----\n3 values hashing to 947ac7611a144a747fd1ba4cb9205642\n",
      "query I nosort\nQ\n----\n3 values hashing to 00000000000000000000000000000000\n",
    ].join("\n"),
    server,
  );
  assert.equal(r.passed, 1);
  assert.equal(r.failures[0]?.reason, "result hash differs");
  assert.equal(r.failures[0]?.actual[0], "3 values hashing to 947ac7611a144a747fd1ba4cb9205642");
});

test("runScript() fails a labelled query whose result differs from the label's", opts, async () => {
  let n = 0;
  const server = new FakeServer(() => rows([String(n++)]));
  const r = await run(
    "query I nosort label-1\nQ\n\nquery I nosort label-1\nQ\n\nquery I nosort label-2\nQ\n",
    server,
  );
  assert.equal(r.passed, 2);
  assert.equal(r.failures[0]?.reason, "result differs from label label-1");
});

test("runScript() fails a query that errors or returns no result set", opts, async () => {
  const server = new FakeServer((sql) => (sql === "E" ? error("boom") : ok()));
  const r = await run("query I nosort\nE\n----\n1\n\nquery I nosort\nX\n----\n1\n", server);
  assert.deepEqual(
    r.failures.map((f) => f.reason),
    ["query failed", "query returned no rows"],
  );
});

test("runScript() stops at halt and counts the rest as unreached", opts, async () => {
  const server = new FakeServer(() => ok());
  const r = await run(
    "statement ok\nA\n\nonlyif sqlite\nhalt\n\nstatement ok\nB\n\nhalt\n\nstatement ok\nC\n",
    server,
  );
  assert.deepEqual(
    { run: r.run, passed: r.passed, unreached: r.unreached, halted: r.halted },
    { run: 2, passed: 2, unreached: 1, halted: true },
  );
});

test("runScript() with maxRecords runs only the first records", opts, async () => {
  const server = new FakeServer(() => ok());
  const r = await run(
    "statement ok\nA\n\nhash-threshold 8\n\nstatement ok\nB\n\nstatement ok\nC\n",
    server,
    {
      ...fast,
      maxRecords: 2,
    },
  );
  assert.deepEqual({ run: r.run, unreached: r.unreached }, { run: 2, unreached: 1 });
  assert.deepEqual(totalsOf([r, r]).run, 4);
});

test("runScript() fails a stuck record, kills it, reconnects and goes on", opts, async () => {
  const server = new FakeServer((sql) => (sql === "STUCK" ? "hang" : rows(["1"])));
  const r = await run(
    "statement ok\nCREATE\n\nstatement ok\nSTUCK\n\nquery I nosort\nSELECT\n----\n1\n",
    server,
  );
  assert.deepEqual({ passed: r.passed, failed: r.failed }, { passed: 2, failed: 1 });
  assert.match(r.failures[0]?.actual[0] ?? "", /timed out after 200 ms/);
  assert.deepEqual(server.killed, [1]);
  // The new session re-selects the file's database before the next record.
  const second = server.log.filter((l) => l.startsWith("2: "));
  assert.match(second[0] ?? "", /^2: USE slt_\d+_\d+$/);
  assert.equal(second[1], "2: SELECT");
});

test("runScript() reconnects after a fatal error and stops when it cannot", opts, async () => {
  const server = new FakeServer((sql) =>
    sql === "CRASH" ? { kind: "error", errno: 0, message: "connection lost", fatal: true } : ok(),
  );
  const r = await run("statement ok\nCRASH\n\nstatement ok\nA\n", server);
  assert.deepEqual({ passed: r.passed, failed: r.failed }, { passed: 1, failed: 1 });

  const dying = new FakeServer((sql) => {
    if (sql === "CRASH") {
      dying.refuseConnections = true;
      return { kind: "error", errno: 0, message: "connection lost", fatal: true };
    }
    return ok();
  });
  const d = await run("statement ok\nA\n\nstatement ok\nCRASH\n\nstatement ok\nB\n", dying);
  assert.deepEqual(
    { passed: d.passed, failed: d.failed, unreached: d.unreached },
    { passed: 1, failed: 1, unreached: 1 },
  );
  assert.match(d.error ?? "", /could not reconnect/);
});

test("runScript() stops a file that exceeds its time budget", opts, async () => {
  const server = new FakeServer((sql) => (sql === "STUCK" ? "hang" : ok()));
  const r = await run("statement ok\nSTUCK\n\nstatement ok\nA\n", server, {
    ...fast,
    fileBudgetMs: 100,
  });
  assert.equal(r.budgetExceeded, true);
  assert.deepEqual({ run: r.run, unreached: r.unreached }, { run: 1, unreached: 1 });
});

test("runScript() reports a file whose database cannot be set up", opts, async () => {
  const server = new FakeServer(() => ok());
  server.refuseConnections = true;
  const r = await run("statement ok\nA\n", server);
  assert.match(r.error ?? "", /cannot connect/);
  assert.equal(r.unreached, 1);
});
