/**
 * Tests of the SQL fuzzer: deterministic generation, the oracles' query shapes and value
 * normalization, expression simplification, and — on a temporary MariaDB — a bounded run
 * of every oracle with fixed seeds (MariaDB must pass), the two-server mode against
 * itself, and the whole find → minimize → save pipeline on a server with a planted bug.
 *
 * Without mariadbd the MariaDB tests are skipped with the reason printed, except in CI
 * (CI=true), where that fails. The server is stopped by process group in after().
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Prng } from "../../../src/base/mod.ts";
import { mariadbUnavailableReason, startMariadb, type MariadbHandle } from "../mariadb.ts";
import { parseScript } from "../parser.ts";
import { defaultRunOptions, runScript } from "../runner.ts";
import { mysqlServer, type Outcome, type SqlServer, type SqlSession } from "../session.ts";
import { fuzz, setupStatements } from "./fuzzer.ts";
import { generateDatabase, generateQuery } from "./generator.ts";
import { canonicalRows, normalizeCell, sidesOf, singleServerOracles } from "./oracles.ts";
import { renderExpr, simplifications, type Expr } from "./sql_ast.ts";

const unit = { timeout: 5_000 };

function caseSql(seed: number): string[] {
  const prng = new Prng(seed);
  const db = generateDatabase(prng);
  const shape = generateQuery(prng, db);
  return [...setupStatements(db), sidesOf("tlp-where", shape).rightOne];
}

test("generateDatabase() and generateQuery() are deterministic per seed", unit, () => {
  assert.deepEqual(caseSql(42), caseSql(42));
  assert.notDeepEqual(caseSql(42), caseSql(43));
});

test("sidesOf(tlp-where) partitions the query on p, NOT p and p IS NULL", unit, () => {
  const prng = new Prng(7);
  const db = generateDatabase(prng);
  const shape = generateQuery(prng, db);
  const sides = sidesOf("tlp-where", shape);
  const p = renderExpr(shape.predicate);
  assert.equal(sides.left.length, 1);
  assert.equal(sides.right.length, 3);
  assert.ok(sides.right[0]?.includes(p));
  assert.ok(sides.right[1]?.includes(`(NOT ${p})`));
  assert.ok(sides.right[2]?.includes(`(${p} IS NULL)`));
  assert.equal(sides.combine, "bag");
  assert.equal(sides.rightOne, sides.right.join(" UNION ALL "));
});

test("sidesOf(norec) counts with WHERE on one side and with CASE on the other", unit, () => {
  const prng = new Prng(8);
  const db = generateDatabase(prng);
  const shape = generateQuery(prng, db);
  const sides = sidesOf("norec", shape);
  assert.match(sides.leftOne, /^SELECT COUNT\(\*\) FROM .* WHERE /);
  assert.match(
    sides.rightOne,
    /^SELECT COALESCE\(SUM\(CASE WHEN .* THEN 1 ELSE 0 END\), 0\) FROM /,
  );
});

test("normalizeCell() makes equal numbers and collation-equal text compare equal", unit, () => {
  assert.equal(normalizeCell("1.50"), normalizeCell("1.5"));
  assert.equal(normalizeCell("-0.00"), "0");
  assert.equal(normalizeCell("007"), "7");
  assert.equal(normalizeCell(".5"), "0.5");
  assert.equal(normalizeCell("aB "), normalizeCell("ab"));
  assert.notEqual(normalizeCell("NULL"), normalizeCell(null));
  assert.equal(normalizeCell(""), "''");
});

test("canonicalRows() keeps duplicates for bags and drops them for sets", unit, () => {
  const rows = [
    ["1", "a"],
    ["1", "A"],
    [null, "b"],
  ];
  assert.equal(canonicalRows(rows, "bag").length, 3);
  assert.equal(canonicalRows(rows, "set").length, 2);
});

test("simplifications() replaces one node by a child or a literal", unit, () => {
  const col: Expr = { k: "col", table: "t0", column: "c0", type: "int" };
  const e: Expr = {
    k: "binary",
    op: "AND",
    left: { k: "is", arg: col, what: "NULL", type: "bool" },
    right: {
      k: "binary",
      op: "<",
      left: col,
      right: { k: "lit", sql: "3", type: "int" },
      type: "bool",
    },
    type: "bool",
  };
  const out = simplifications(e).map(renderExpr);
  assert.ok(out.includes("(t0.c0 IS NULL)"));
  assert.ok(out.includes("(t0.c0 < 3)"));
  assert.ok(out.includes("1"));
  assert.ok(out.includes("((t0.c0 IS NULL) AND 1)"));
  assert.equal(simplifications(col).length, 0);
});

// ---- On MariaDB ----

const unavailable = mariadbUnavailableReason();
const skip = unavailable !== null && process.env["CI"] !== "true" ? unavailable : false;
if (skip !== false) process.stdout.write(`# skipping MariaDB fuzz tests: ${skip}\n`);

let mariadb: MariadbHandle | null = null;
let outDir = "";

before(
  async () => {
    outDir = await mkdtemp(join(tmpdir(), "tessera-fuzz-test-"));
    if (unavailable === null) mariadb = await startMariadb();
  },
  { timeout: 90_000 },
);

after(
  async () => {
    if (mariadb !== null) await mariadb.stop();
    await rm(outDir, { recursive: true, force: true });
  },
  { timeout: 30_000 },
);

function server(): SqlServer {
  assert.equal(unavailable, null, `CI requires MariaDB: ${unavailable}`);
  assert.ok(mariadb !== null);
  return mysqlServer(mariadb.address);
}

/**
 * A server with a planted bug: a query whose text contains `(NOT ` loses its first row.
 * TLP's `NOT p` partition and nothing else goes through it in a bounded run.
 */
function buggy(inner: SqlServer): SqlServer {
  const wrap = (s: SqlSession): SqlSession => ({
    connectionId: s.connectionId,
    async run(sql: string): Promise<Outcome> {
      const o = await s.run(sql);
      if (o.kind === "rows" && sql.includes("(NOT ") && o.rows.length > 0) {
        return { ...o, rows: o.rows.slice(1) };
      }
      return o;
    },
    destroy: () => s.destroy(),
    close: () => s.close(),
  });
  return {
    description: `buggy ${inner.description}`,
    connect: async () => wrap(await inner.connect()),
    cancel: (id) => inner.cancel(id),
  };
}

const seeds = (first: number, count: number): number[] =>
  Array.from({ length: count }, (_, i) => first + i);

test(
  "TLP and NoREC oracles find no mismatch on MariaDB (seeds 1-40)",
  { timeout: 60_000, skip },
  async () => {
    const report = await fuzz(
      { main: server(), reference: null },
      {
        seeds: seeds(1, 40),
        queriesPerSeed: 8,
        oracles: singleServerOracles,
        findingsMax: 0,
        minimizeChecksMax: 0,
        outDir: null,
        timeBudgetMs: 60_000,
      },
    );
    assert.equal(report.seeds, 40, "the time budget cut the run short");
    for (const [oracle, c] of Object.entries(report.counts)) {
      assert.equal(c.mismatch, 0, `${oracle} mismatched on MariaDB`);
      // The generator must produce mostly valid queries, or the oracles test nothing.
      assert.ok(
        c.ok >= 0.9 * (c.ok + c.invalid),
        `${oracle}: ${c.invalid} invalid of ${c.ok + c.invalid}`,
      );
    }
  },
);

test(
  "the two-server mode finds no mismatch comparing MariaDB with itself",
  { timeout: 30_000, skip },
  async () => {
    const report = await fuzz(
      { main: server(), reference: server() },
      {
        seeds: seeds(100, 10),
        queriesPerSeed: 5,
        oracles: ["differential", "differential-grouped"],
        findingsMax: 0,
        minimizeChecksMax: 0,
        outDir: null,
        timeBudgetMs: 30_000,
      },
    );
    assert.equal(report.counts["differential"]?.mismatch, 0);
    assert.equal(report.counts["differential-grouped"]?.mismatch, 0);
    assert.ok((report.counts["differential"]?.ok ?? 0) > 40);
  },
);

test(
  "a planted bug is found by TLP, minimized and saved as a failing .slt",
  { timeout: 60_000, skip },
  async () => {
    const real = server();
    const bad = buggy(real);
    const report = await fuzz(
      { main: bad, reference: null },
      {
        seeds: seeds(1, 20),
        queriesPerSeed: 5,
        oracles: ["tlp-where"],
        findingsMax: 1,
        minimizeChecksMax: 150,
        outDir,
        timeBudgetMs: 40_000,
      },
    );
    const finding = report.findings[0];
    assert.ok(finding !== undefined, "the planted bug was not found");
    assert.equal(finding.reproduces, true);
    // Minimized: no index and a single row are enough to lose "the first row".
    const inserts = finding.sql.filter((s) => s.startsWith("INSERT"));
    assert.ok(
      finding.sql.every((s) => !s.startsWith("CREATE INDEX")),
      finding.sql.join("\n"),
    );
    assert.equal(inserts.length, 1, finding.sql.join("\n"));
    assert.ok(!(inserts[0] ?? "").includes("), ("), `more than one row left: ${inserts[0]}`);
    // The saved file fails on the buggy server and passes on the real one.
    const text = await readFile(finding.file ?? "", "utf8");
    const records = parseScript(text);
    const onReal = await runScript(real, { file: "real", records }, defaultRunOptions);
    assert.deepEqual(
      { failed: onReal.failed, passed: onReal.passed },
      { failed: 0, passed: records.length },
    );
    const onBad = await runScript(bad, { file: "bad", records }, defaultRunOptions);
    assert.equal(onBad.failed, 1);
  },
);

test(
  "a planted bug is found by the differential oracle with MariaDB's result expected",
  { timeout: 60_000, skip },
  async () => {
    const real = server();
    // Differential queries have no NOT unless generated; plant on every non-empty result.
    const bad: SqlServer = {
      ...buggy(real),
      connect: async () => {
        const s = await real.connect();
        return {
          connectionId: s.connectionId,
          async run(sql: string): Promise<Outcome> {
            const o = await s.run(sql);
            if (o.kind === "rows" && sql.startsWith("SELECT") && o.rows.length > 1) {
              return { ...o, rows: o.rows.slice(1) };
            }
            return o;
          },
          destroy: () => s.destroy(),
          close: () => s.close(),
        };
      },
    };
    const report = await fuzz(
      { main: bad, reference: real },
      {
        seeds: seeds(1, 10),
        queriesPerSeed: 5,
        oracles: ["differential"],
        findingsMax: 1,
        // Each check builds the database on both servers; a short minimization suffices.
        minimizeChecksMax: 25,
        outDir,
        timeBudgetMs: 40_000,
      },
    );
    const finding = report.findings[0];
    assert.ok(finding !== undefined, "the planted bug was not found");
    assert.equal(finding.reproduces, true);
    const text = await readFile(finding.file ?? "", "utf8");
    assert.match(text, /reference server's \(MariaDB\) result/);
    assert.match(text, /\n----\n/);
    const onReal = await runScript(
      real,
      { file: "real", records: parseScript(text) },
      defaultRunOptions,
    );
    assert.equal(onReal.failed, 0);
  },
);
