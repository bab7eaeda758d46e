/**
 * Tests of the coprocessor DAG executor (dag_exec.ts) over rows written with the real row
 * codec under real row and index keys (codec/table_key): scan rows decode as the SQL
 * layer reads them (handle slot, origin defaults, ENUM/TIMESTAMP/DATE tags); selection,
 * limit, TopN in both directions with NULLs (checked against a full stable sort), partial
 * aggregates with NULLs, empty input and strings grouped by utf8mb4_general_ci; paging
 * resumes exactly where a page stopped, forward and backward, for rows, TopN and
 * aggregates; index scans decode their keys (unique entries take the handle from the
 * value); evaluation errors and warnings come back as data; a lock stops the run.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ErrorCode, TesseraError, indexId, limits, tableId } from "../base/mod.ts";
import {
  type KeyDatum,
  compareBytes,
  encodeIndexKey,
  encodeRowKey,
  generalCiCollation,
  indexPrefix,
  prefixNext,
  recordPrefix,
} from "../codec/mod.ts";
import { buildCall } from "./build.ts";
import type { DagAggregate, DagColumn, DagRequest, DagResponse } from "./dag.ts";
import { defaultDagContext } from "./dag.ts";
import {
  type DagPair,
  type DagRange,
  dagValueKey,
  rangesAfterResume,
  runDag,
  sortedPairsScanner,
} from "./dag_exec.ts";
import { compareForSort } from "./compare.ts";
import { type Expr, columnRef, integerLiteral, stringLiteral } from "./expr.ts";
import { encodeRow } from "./row_codec.ts";
import { resolveTimeZone } from "./temporal_tz.ts";
import { type FieldType, decimalType, doubleType, intType, stringType } from "./types.ts";
import { type DateTime, type Value, toCodecDecimal } from "./value.ts";

const opts = { timeout: 60_000 };
const t = 10;

function call(name: string, args: readonly Expr[]): Expr {
  const built = buildCall(name, args);
  if (built.kind !== "ok") throw new Error(`cannot build ${name}`);
  return built.expr;
}

const I = (v: number | bigint): Value => ({ kind: "int", value: BigInt(v) });
const S = (v: string): Value => ({ kind: "string", value: v });
const D = (v: number): Value => ({ kind: "double", value: v });
const dt = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0): DateTime =>
  ({ year: y, month: mo, day: d, hour: h, minute: mi, second: s, microsecond: 0 });

/** The table: h (handle), a INT, s VARCHAR, d DOUBLE, e ENUM, ts TIMESTAMP, n DECIMAL(6,2). */
const columns: readonly DagColumn[] = [
  { id: 0, type: { kind: "int", unsigned: false }, originDefault: null },
  { id: 1, type: { kind: "int", unsigned: false }, originDefault: null },
  { id: 2, type: { kind: "string" }, originDefault: null },
  { id: 3, type: { kind: "double" }, originDefault: null },
  { id: 4, type: { kind: "enum", members: ["x", "y", "z"] }, originDefault: null },
  { id: 5, type: { kind: "timestamp", fsp: 0 }, originDefault: null },
  // Added after some rows were written: those read its origin default.
  { id: 6, type: { kind: "decimal", scale: 2 }, originDefault: { kind: "decimal",
    unscaled: 700n, scale: 2 } },
];
const types: readonly FieldType[] = [intType({ length: 20 }), intType({ length: 11 }),
  stringType(20), doubleType(), stringType(1), { ...intType({ length: 19 }), kind: "datetime",
    code: 0x07 }, decimalType(6, { scale: 2 })];
const names = ["h", "a", "s", "d", "e", "ts", "n"];
const col = (i: number): Expr => columnRef(i, names[i]!, types[i]!);

interface TestRow {
  readonly handle: bigint;
  /** a, s, d, e, ts, n (n undefined: the row predates the column). */
  readonly a: Value;
  readonly s: Value;
  readonly d: Value;
  readonly e: Value;
  readonly ts: Value;
  readonly n?: Value;
}

function rowPair(r: TestRow): DagPair {
  const ids = [1, 2, 3, 4, 5];
  const values = [r.a, r.s, r.d, r.e, r.ts];
  if (r.n !== undefined) {
    ids.push(6);
    values.push(r.n);
  }
  return { key: encodeRowKey(tableId(t), r.handle), value: encodeRow(ids, values) };
}

function pairsOf(rows: readonly TestRow[]): DagPair[] {
  return rows.map(rowPair).sort((x, y) => compareBytes(x.key, y.key));
}

const rowRange: DagRange = { start: recordPrefix(tableId(t)),
  end: prefixNext(recordPrefix(tableId(t))) };

function request(extra: Partial<DagRequest> = {}): DagRequest {
  return { scan: { kind: "table", tableId: t, columns, handleSlot: 0, desc: false },
    selection: [], aggregation: null, topN: null, limit: null, context: defaultDagContext,
    pagingKeys: 1000, ...extra };
}

function desc(r: DagRequest): DagRequest {
  return { ...r, scan: { ...r.scan, desc: true } };
}

function run1(r: DagRequest, pairs: readonly DagPair[], ranges = [rowRange]): DagResponse {
  const result = runDag(r, ranges, sortedPairsScanner(pairs));
  assert.equal(result.kind, "ok");
  return (result as { response: DagResponse }).response;
}

/** Runs every page to the end; returns the pages. */
function runPages(r: DagRequest, pairs: readonly DagPair[], ranges = [rowRange]): DagResponse[] {
  const pages: DagResponse[] = [];
  let left: DagRange[] = [...ranges];
  for (;;) {
    const page = run1(r, pairs, left);
    pages.push(page);
    if (page.resumeKey === null) return pages;
    assert.ok(pages.length <= pairs.length + 1, "paging makes progress");
    left = rangesAfterResume(left, page.resumeKey, { desc: r.scan.desc });
  }
}

const sample: readonly TestRow[] = [
  { handle: 1n, a: I(5), s: S("apple"), d: D(1.5), e: S("y"), ts: { kind: "datetime", fsp: 0,
    value: dt(2024, 1, 2, 3, 4, 5) }, n: { kind: "decimal", unscaled: 125n, scale: 2 } },
  { handle: -3n, a: null, s: S("Apple"), d: D(-2), e: S("x"), ts: null },
  { handle: 2n ** 40n, a: I(-7), s: null, d: null, e: S("z"), ts: null, n: null },
  { handle: 7n, a: I(5), s: S("banana "), d: D(0), e: S(""), ts: null },
];

test("a table scan decodes rows as the SQL layer reads them", opts, () => {
  const page = run1(request(), pairsOf(sample));
  assert.deepEqual(page.handles, [-3n, 1n, 7n, 2n ** 40n]);
  assert.deepEqual(page.rows[1], [I(1), I(5), S("apple"), D(1.5),
    { kind: "string", value: "y", tag: { kind: "enum", index: 2 } },
    { kind: "datetime", fsp: 0, value: dt(2024, 1, 2, 3, 4, 5), utc: true },
    { kind: "decimal", unscaled: 125n, scale: 2 }]);
  // The row written before column n existed reads its origin default; an explicit NULL
  // stays NULL; the ENUM's empty error value has index 0.
  assert.deepEqual(page.rows[0]![6], { kind: "decimal", unscaled: 700n, scale: 2 });
  assert.equal(page.rows[3]![6], null);
  assert.deepEqual(page.rows[2]![4], { kind: "string", value: "", tag: { kind: "enum",
    index: 0 } });
  assert.equal(page.resumeKey, null);
  assert.equal(page.scannedKeys, 4);
});

test("selection keeps rows whose every conjunct is true; TIMESTAMPs read in the zone", opts,
  () => {
    const five = call("=", [col(1), integerLiteral("5")]);
    const ci = call("=", [col(2), stringLiteral("APPLE")]);
    assert.deepEqual(run1(request({ selection: [five] }), pairsOf(sample)).handles, [1n, 7n]);
    assert.deepEqual(run1(request({ selection: [five, ci] }), pairsOf(sample)).handles, [1n]);
    assert.deepEqual(run1(request({ selection: [ci] }), pairsOf(sample)).handles, [-3n, 1n]);
    // NULL is not true: the row with a NULL `a` is dropped by `a <> 5` too.
    const not5 = call("<>", [col(1), integerLiteral("5")]);
    assert.deepEqual(run1(request({ selection: [not5] }), pairsOf(sample)).handles, [2n ** 40n]);
    // The stored UTC 03:04:05 is 11:04:05 in +08:00.
    const at = call("=", [col(5), stringLiteral("2024-01-02 11:04:05")]);
    const zoned = request({ selection: [at], context: { timeZone: resolveTimeZone("+08:00")! } });
    assert.deepEqual(run1(zoned, pairsOf(sample)).handles, [1n]);
    assert.deepEqual(run1(request({ selection: [at] }), pairsOf(sample)).handles, []);
  });

test("a limit stops the scan at its row count, in both directions", opts, () => {
  const pairs = pairsOf(sample);
  const page = run1(request({ limit: 2 }), pairs);
  assert.deepEqual(page.handles, [-3n, 1n]);
  assert.equal(page.scannedKeys, 2);
  assert.equal(page.resumeKey, null);
  assert.deepEqual(run1(desc(request({ limit: 3 })), pairs).handles, [2n ** 40n, 7n, 1n]);
  const five = call("=", [col(1), integerLiteral("5")]);
  const filtered = run1(desc(request({ limit: 1, selection: [five] })), pairs);
  assert.deepEqual(filtered.handles, [7n]);
  assert.equal(run1(request({ limit: 0 }), pairs).scannedKeys, 0);
});

// ---- TopN against a full sort -----------------------------------------------------------

const rowArb: fc.Arbitrary<TestRow> = fc.record({
  handle: fc.bigInt({ min: -1000n, max: 1000n }),
  a: fc.option(fc.integer({ min: -5, max: 5 }).map((v) => I(v)), { freq: 4 }),
  s: fc.option(fc.constantFrom("a", "A", "b", "B ", "c", "é", "E").map(S), { freq: 4 }),
  d: fc.option(fc.double({ noNaN: true, min: -100, max: 100 }).map(D), { freq: 4 }),
  e: fc.constantFrom("x", "y", "z").map(S),
  ts: fc.constant(null),
}).map((r) => ({ ...r }));

const rowsArb = fc.uniqueArray(rowArb, { selector: (r) => r.handle, maxLength: 60 });

/** MySQL's ORDER BY comparison of one key: NULLs first ascending. */
function orderOf(x: Value, y: Value, keyDesc: boolean): number {
  const o = x === null ? (y === null ? 0 : -1) : y === null ? 1
    : compareForSort(x, y, { warn: () => undefined }) ?? 0;
  return keyDesc ? -o : o;
}

/** The order keys of a scan row as the executor evaluates them (NEG of `a` is `-a`). */
function sortKeysOf(row: readonly Value[], order: readonly { expr: Expr }[]): Value[] {
  return order.map((o) => o.expr.kind === "column" ? row[o.expr.index]!
    : row[1] === null ? null : I(-(row[1] as { value: bigint }).value));
}

test("TopN keeps the first rows of a stable sort, NULLs first ascending", opts, () => {
  const orders: readonly { expr: Expr; desc: boolean }[][] = [
    [{ expr: col(1), desc: false }],
    [{ expr: col(1), desc: true }],
    [{ expr: col(2), desc: false }, { expr: col(3), desc: true }],
    [{ expr: col(4), desc: true }, { expr: call("neg", [col(1)]), desc: false }],
  ];
  fc.assert(fc.property(rowsArb, fc.integer({ min: 1, max: 12 }), fc.nat(3), fc.boolean(),
    fc.integer({ min: 1, max: 9 }), (rows, count, which, scanDesc, pagingKeys) => {
      const order = orders[which]!;
      const pairs = pairsOf(rows);
      const base = request({ topN: { count, order } });
      const r = scanDesc ? desc(base) : base;
      const all = run1({ ...r, topN: null }, pairs);
      const byOrder = (x: { keys: Value[]; i: number }, y: { keys: Value[]; i: number }):
        number => {
        for (let j = 0; j < order.length; j++) {
          const o = orderOf(x.keys[j]!, y.keys[j]!, order[j]!.desc);
          if (o !== 0) return o;
        }
        return x.i - y.i;
      };
      const keyed = all.rows.map((row, i) => ({ row, i, keys: sortKeysOf(row, order) }))
        .sort(byOrder);
      assert.deepEqual(run1(r, pairs).rows, keyed.slice(0, count).map((k) => k.row));
      // Pages are partial TopNs: merging them gives the same keys (ties in any order).
      const pages = runPages({ ...r, pagingKeys }, pairs);
      const merged = pages.flatMap((p) => p.rows.map((row) => ({ row, i: 0,
        keys: sortKeysOf(row, order) }))).sort(byOrder);
      assert.deepEqual(merged.slice(0, count).map((m) => m.keys),
        keyed.slice(0, count).map((k) => k.keys));
    }), { seed: 7201, numRuns: 150 });
});

// ---- aggregation ------------------------------------------------------------------------

const aggs: readonly DagAggregate[] = [
  { fn: "count", args: [] },
  { fn: "count", args: [col(1)] },
  { fn: "sum", args: [col(1)] },
  { fn: "sum", args: [col(3)] },
  { fn: "min", args: [col(2)] },
  { fn: "max", args: [col(1)] },
  { fn: "first_row", args: [col(1)] },
];

test("partial aggregates follow MySQL's types and NULL rules", opts, () => {
  const rows: TestRow[] = [
    { handle: 1n, a: I(2), s: S("b"), d: D(0.5), e: S("x"), ts: null },
    { handle: 2n, a: null, s: S("a"), d: null, e: S("x"), ts: null },
    { handle: 3n, a: I(-9), s: S("A"), d: D(2), e: S("y"), ts: null },
    { handle: 4n, a: null, s: null, d: null, e: S("y"), ts: null },
    { handle: 5n, a: I(4), s: S("a "), d: D(1), e: S("y"), ts: null },
  ];
  const grouped = run1(request({ aggregation: { groupBy: [col(4)], aggregates: aggs } }),
    pairsOf(rows));
  assert.equal(grouped.handles, null);
  assert.deepEqual(grouped.rows, [
    [{ kind: "string", value: "x", tag: { kind: "enum", index: 1 } }, I(2), I(1),
      { kind: "decimal", unscaled: 2n, scale: 0 }, D(0.5), S("a"), I(2), I(2)],
    [{ kind: "string", value: "y", tag: { kind: "enum", index: 2 } }, I(3), I(2),
      { kind: "decimal", unscaled: -5n, scale: 0 }, D(3), S("A"), I(4), I(-9)],
  ]);
  // Strings group by utf8mb4_general_ci: 'a', 'A' and 'a ' are one group (the first seen
  // names it), NULL is a group of its own.
  const byS = run1(request({ aggregation: { groupBy: [col(2)], aggregates: [aggs[0]!,
    aggs[2]!] } }), pairsOf(rows));
  assert.deepEqual(byS.rows, [
    [S("b"), I(1), { kind: "decimal", unscaled: 2n, scale: 0 }],
    [S("a"), I(3), { kind: "decimal", unscaled: -5n, scale: 0 }],
    [null, I(1), null],
  ]);
  // FIRST_ROW keeps a leading NULL; SUM of only NULLs is NULL while COUNT is 0.
  const nulls = run1(request({ selection: [call("isnull", [col(1)])],
    aggregation: { groupBy: [], aggregates: aggs } }), pairsOf(rows));
  assert.deepEqual(nulls.rows, [[I(2), I(0), null, null, S("a"), null, null]]);
  // No row passes: no group at all, with or without GROUP BY.
  const none = call("=", [col(1), integerLiteral("1000")]);
  for (const groupBy of [[], [col(2)]]) {
    const empty = run1(request({ selection: [none], aggregation: { groupBy, aggregates: aggs } }),
      pairsOf(rows));
    assert.deepEqual(empty.rows, []);
  }
  // Decimal SUM keeps the largest scale and exact digits past 2^64.
  const big: TestRow[] = [1n, 2n, 3n].map((h) => ({ handle: h, a: I(2n ** 62n), s: null,
    d: null, e: S("x"), ts: null, n: { kind: "decimal", unscaled: 1n, scale: 2 } }));
  const sums = run1(request({ aggregation: { groupBy: [], aggregates: [
    { fn: "sum", args: [col(1)] }, { fn: "sum", args: [col(6)] }] } }), pairsOf(big));
  assert.deepEqual(sums.rows, [[{ kind: "decimal", unscaled: 3n * 2n ** 62n, scale: 0 },
    { kind: "decimal", unscaled: 3n, scale: 2 }]]);
});

test("paged aggregates merge to the unpaged ones, in both directions", opts, () => {
  fc.assert(fc.property(rowsArb, fc.integer({ min: 1, max: 7 }), fc.boolean(),
    (rows, pagingKeys, scanDesc) => {
      const base = request({ aggregation: { groupBy: [col(2)], aggregates: [aggs[0]!,
        aggs[1]!, aggs[5]!] } });
      const r = scanDesc ? desc(base) : base;
      const pairs = pairsOf(rows);
      const whole = run1(r, pairs);
      const pages = runPages({ ...r, pagingKeys }, pairs);
      assert.equal(pages.reduce((n, p) => n + p.scannedKeys, 0), rows.length);
      const merged = new Map<string, bigint[]>();
      for (const p of pages) {
        for (const row of p.rows) {
          const k = dagValueKey(row[0]!);
          const m = merged.get(k) ?? [0n, 0n, -(2n ** 64n)];
          const max = row[3] === null ? m[2]! : (row[3] as { value: bigint }).value;
          merged.set(k, [m[0]! + (row[1] as { value: bigint }).value,
            m[1]! + (row[2] as { value: bigint }).value, max > m[2]! ? max : m[2]!]);
        }
      }
      const want = new Map(whole.rows.map((row) => [dagValueKey(row[0]!), [
        (row[1] as { value: bigint }).value, (row[2] as { value: bigint }).value,
        row[3] === null ? -(2n ** 64n) : (row[3] as { value: bigint }).value]]));
      assert.deepEqual(merged, want);
    }), { seed: 7202, numRuns: 150 });
});

// ---- paging ------------------------------------------------------------------------------

test("paging resumes exactly where a page stopped, over several ranges", opts, () => {
  fc.assert(fc.property(rowsArb, fc.integer({ min: 1, max: 9 }), fc.boolean(),
    fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 6 }),
    (rows, pagingKeys, scanDesc, cuts) => {
      const pairs = pairsOf(rows);
      // Disjoint ascending ranges between sorted cut points (handles); with an odd number
      // of points the last range is open (the shard's end).
      const points = [...new Set(cuts)].sort((x, y) => x - y)
        .map((h) => encodeRowKey(tableId(t), BigInt(h)));
      const sorted: DagRange[] = [];
      for (let i = 0; i < points.length; i += 2) {
        sorted.push({ start: points[i]!, end: points[i + 1] });
      }
      if (sorted.length === 0) sorted.push(rowRange);
      const odd = call("<>", [call("%", [col(0), integerLiteral("2")]), integerLiteral("0")]);
      const base = request({ selection: [odd] });
      const r = scanDesc ? desc(base) : base;
      const whole = run1(r, pairs, sorted);
      const pages = runPages({ ...r, pagingKeys }, pairs, sorted);
      assert.deepEqual(pages.flatMap((p) => p.handles!), whole.handles);
      assert.deepEqual(pages.flatMap((p) => p.rows), whole.rows);
      assert.equal(pages.reduce((n, p) => n + p.scannedKeys, 0), whole.scannedKeys);
      for (const p of pages) assert.ok(p.scannedKeys <= pagingKeys);
    }), { seed: 7203, numRuns: 200 });
});

test("a page ends once its rows pass the byte target, and the next goes on", opts, () => {
  const wide = "w".repeat(1_000_000);
  const rows: TestRow[] = Array.from({ length: 6 }, (_, i) => ({ handle: BigInt(i), a: I(i),
    s: S(wide), d: null, e: S("x"), ts: null }));
  const pages = runPages(request(), pairsOf(rows));
  assert.ok(pages.length > 1, `${pages.length} pages`);
  assert.ok(pages[0]!.rows.length < 6 && pages[0]!.resumeKey !== null);
  assert.deepEqual(pages.flatMap((p) => p.handles!), [0n, 1n, 2n, 3n, 4n, 5n]);
  assert.ok(limits.coprocessorPageBytesTarget < limits.rpcFrameBytesMax / 4);
});

// ---- index scans -------------------------------------------------------------------------

/** A DATETIME as the index key codec packs it (src/sql/table/table.ts keyDatum). */
function packed(d: DateTime): KeyDatum {
  const ymd = (BigInt(d.year) * 13n + BigInt(d.month)) << 5n | BigInt(d.day);
  const hms = BigInt(d.hour) << 12n | BigInt(d.minute) << 6n | BigInt(d.second);
  return { kind: "uint", value: (ymd << 17n | hms) << 24n | BigInt(d.microsecond) };
}

test("index scans decode key values and handles, unique entries from their values", opts,
  () => {
    const entries: { values: KeyDatum[]; handle: bigint; unique: boolean }[] = [
      { values: [{ kind: "decimal", value: toCodecDecimal(15n, 1) }, packed(dt(2020, 2, 29))],
        handle: 9n, unique: true },
      { values: [{ kind: "null" }, packed(dt(1999, 12, 31, 23, 59, 59))], handle: 4n,
        unique: false },
      { values: [{ kind: "decimal", value: toCodecDecimal(-2n, 0) }, { kind: "null" }],
        handle: -1n, unique: false },
      { values: [{ kind: "decimal", value: toCodecDecimal(15n, 1) }, packed(dt(2021, 1, 1))],
        handle: 3n, unique: true },
    ];
    const pairs = entries.map((e) => {
      const key = encodeIndexKey({ tableId: tableId(t), indexId: indexId(2), values: e.values,
        ...(e.unique ? {} : { handle: e.handle }) });
      const value = new Uint8Array(e.unique ? 8 : 0);
      if (e.unique) new DataView(value.buffer).setBigInt64(0, e.handle);
      return { key, value };
    }).sort((x, y) => compareBytes(x.key, y.key));
    const range: DagRange = { start: indexPrefix(tableId(t), indexId(2)),
      end: prefixNext(indexPrefix(tableId(t), indexId(2))) };
    const r: DagRequest = request({ scan: { kind: "index", tableId: t, indexId: 2,
      keyColumns: 2, handleSlot: 2, desc: false, columns: [
        { id: 1, type: { kind: "date" }, originDefault: null },
        { id: 0, type: { kind: "decimal", scale: 3 }, originDefault: null },
        { id: 0, type: { kind: "int", unsigned: false }, originDefault: null }] } });
    const page = run1(r, pairs, [range]);
    assert.deepEqual(page.handles, [4n, -1n, 9n, 3n]);
    const date = (d: DateTime): Value => ({ kind: "datetime", fsp: 0, value: d, date: true });
    assert.deepEqual(page.rows, [
      [date(dt(1999, 12, 31, 23, 59, 59)), null, I(4)],
      [null, { kind: "decimal", unscaled: -2000n, scale: 3 }, I(-1)],
      [date(dt(2020, 2, 29)), { kind: "decimal", unscaled: 1500n, scale: 3 }, I(9)],
      [date(dt(2021, 1, 1)), { kind: "decimal", unscaled: 1500n, scale: 3 }, I(3)],
    ]);
    const back = run1(desc({ ...r, limit: 2 }), pairs, [range]);
    assert.deepEqual(back.handles, [3n, 9n]);
    // Selection over key columns, and paging backwards one key at a time.
    const sel = call(">", [columnRef(1, "n", decimalType(6, { scale: 3 })),
      integerLiteral("0")]);
    const pages = runPages(desc({ ...r, selection: [sel], pagingKeys: 1 }), pairs, [range]);
    assert.deepEqual(pages.flatMap((p) => p.handles!), [3n, 9n]);
    assert.equal(pages.length, 5);
  });

test("a key outside the scanned table or index is refused as corrupt", opts, () => {
  const other = { key: encodeRowKey(tableId(t + 1), 1n), value: encodeRow([1], [I(1)]) };
  assert.throws(() => run1(request(), [other], [{ start: new Uint8Array(0), end: undefined }]),
    (e: unknown) => e instanceof TesseraError && e.code === ErrorCode.CodecCorrupt);
  const garbage = { key: encodeRowKey(tableId(t), 1n), value: Uint8Array.of(9, 9) };
  assert.throws(() => run1(request(), [garbage]), /corrupt row/);
});

// ---- errors, warnings, locks --------------------------------------------------------------

test("an evaluation error ends the page as data; warnings are counted and capped", opts, () => {
  const rows: TestRow[] = Array.from({ length: 100 }, (_, i) => ({ handle: BigInt(i),
    a: I(i === 50 ? 2n ** 62n : i), s: S(`${i}abc`), d: null, e: S("x"), ts: null }));
  const overflow = call(">", [call("*", [col(1), integerLiteral("4")]), integerLiteral("0")]);
  const failed = run1(request({ selection: [overflow] }), pairsOf(rows));
  assert.deepEqual(failed.rows, []);
  assert.equal(failed.resumeKey, null);
  assert.equal(failed.error?.kind, "outOfRange");
  const warned = run1(request({ selection: [call(">=", [col(2), integerLiteral("0")])] }),
    pairsOf(rows));
  assert.equal(warned.rows.length, 100);
  assert.equal(warned.warningCount, 100);
  assert.equal(warned.warnings.length, limits.coprocessorWarningsMax);
  assert.deepEqual(warned.warnings[0], { kind: "truncatedWrongValue", typeName: "DOUBLE",
    value: "0abc" });
});

test("a lock met by the scan is returned as is", opts, () => {
  const pairs = pairsOf(sample);
  const inner = sortedPairsScanner(pairs);
  const split = encodeRowKey(tableId(t), 5n);
  const ranges: DagRange[] = [{ start: rowRange.start, end: split },
    { start: split, end: rowRange.end }];
  const seen: string[] = [];
  const result = runDag<{ readonly kind: "locked"; readonly key: string }>(request(), ranges,
    (range, o) => {
      seen.push(range.start === split ? "second" : "first");
      return range.start === split ? { kind: "locked", key: "k" } : inner(range, o);
    });
  assert.deepEqual(seen, ["first", "second"]);
  assert.deepEqual(result, { kind: "locked", key: "k" });
});

test("a built-in that reads the session fails loudly instead of reading a made-up value",
  opts, () => {
    // decodeDagRequest refuses NOW(); a request built in process skips that check.
    const now = call("now", []);
    const r = request({ selection: [call("<", [col(5), now])] });
    assert.throws(() => run1(r, pairsOf(sample)), /statement time/);
  });

test("group keys match the SQL layer's: general_ci strings, numbers by value", opts, () => {
  assert.equal(dagValueKey(S("a")), dagValueKey(S("A ")));
  assert.equal(dagValueKey(S("é")), dagValueKey(S("E")));
  assert.equal(generalCiCollation.compare("é", "E"), 0);
  assert.notEqual(dagValueKey(S("a")), dagValueKey(S("b")));
  assert.equal(dagValueKey(I(1)), dagValueKey({ kind: "uint", value: 1n }));
  assert.notEqual(dagValueKey(I(1)), dagValueKey(S("1")));
  assert.notEqual(dagValueKey(null), dagValueKey(S("")));
});

test("empty ranges are skipped; ranges out of order or overlapping are refused", opts, () => {
  const k = (h: bigint): Uint8Array => encodeRowKey(tableId(t), h);
  const pairs = pairsOf(sample);
  // A range clipped to a shard it misses is empty (start above end): it reads nothing.
  const page = run1(request(), pairs, [{ start: k(5n), end: k(2n) },
    { start: k(2n), end: k(8n) }]);
  assert.deepEqual(page.handles, [7n]);
  // An empty end is open, as on the wire, also when read backwards.
  const open = run1(desc(request()), pairs, [{ start: k(2n), end: new Uint8Array(0) }]);
  assert.deepEqual(open.handles, [2n ** 40n, 7n]);
  for (const ranges of [[{ start: k(5n), end: k(9n) }, { start: k(1n), end: k(3n) }],
    [{ start: k(1n), end: k(5n) }, { start: k(4n), end: k(9n) }],
    [{ start: k(1n), end: undefined }, { start: k(4n), end: k(9n) }]]) {
    assert.throws(() => run1(request(), pairs, ranges), /ascending and disjoint/);
  }
});

test("rangesAfterResume keeps what a page left, in its direction", opts, () => {
  const k = (h: bigint): Uint8Array => encodeRowKey(tableId(t), h);
  const ranges: DagRange[] = [{ start: k(1n), end: k(3n) }, { start: k(5n), end: undefined }];
  assert.deepEqual(rangesAfterResume(ranges, k(2n), { desc: false }),
    [{ start: k(2n), end: k(3n) }, ranges[1]]);
  assert.deepEqual(rangesAfterResume(ranges, k(4n), { desc: false }), [ranges[1]]);
  assert.deepEqual(rangesAfterResume(ranges, k(6n), { desc: true }),
    [ranges[0], { start: k(5n), end: k(6n) }]);
  assert.deepEqual(rangesAfterResume(ranges, k(2n), { desc: true }),
    [{ start: k(1n), end: k(2n) }]);
  assert.deepEqual(rangesAfterResume(ranges, k(1n), { desc: true }), []);
});

test("a partial aggregation page ends at its memory bounds and the next page goes on", opts,
  () => {
    const n = limits.coprocessorAggGroupsMax + 5;
    const pairs: DagPair[] = [];
    const value = encodeRow([1], [I(1)]);
    for (let h = 0; h < n; h++) pairs.push({ key: encodeRowKey(tableId(t), BigInt(h)), value });
    const r = request({ pagingKeys: limits.coprocessorPagingKeysMax,
      aggregation: { groupBy: [col(0)], aggregates: [{ fn: "count", args: [] }] } });
    const pages = runPages(r, pairs);
    assert.ok(pages.length >= 2);
    for (const p of pages) assert.ok(p.rows.length <= limits.coprocessorAggGroupsMax);
    const handles = pages.flatMap((p) => p.rows.map((row) => (row[0] as { value: bigint }).value));
    assert.deepEqual(handles, Array.from({ length: n }, (_, h) => BigInt(h)));
    const counts = pages.flatMap((p) => p.rows.map((row) => row[1]));
    assert.ok(counts.every((c) => c !== null && c !== undefined && c.kind === "int" &&
      c.value === 1n));
  });
