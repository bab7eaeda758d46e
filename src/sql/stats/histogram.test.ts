/**
 * The pure parts of statistics: equal-depth histograms and top-N from samples, row
 * estimates of points and ranges against the true counts, NDV from a partial sample,
 * the stored form round trip, the builder over a table's rows, and the auto-analyze rule.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { KeyWriter } from "../../codec/mod.ts";
import type { Value } from "../../expr/mod.ts";
import { parse } from "../parser/parse.ts";
import { type TableInfo, tableInfoOf } from "../catalog/schema.ts";
import { StatsBuilder } from "./builder.ts";
import { decodeStats, encodeStats } from "./codec.ts";
import { type Interval, buildHistogram, compareBytes, estimateEqual, estimateInterval,
  estimateIntervals, fraction } from "./histogram.ts";
import { needsAnalyze } from "./service.ts";

const key = (n: number): Uint8Array => new KeyWriter().write({ kind: "int", value: BigInt(n) })
  .finish();
const next = (k: Uint8Array): Uint8Array => {
  const out = k.slice();
  out[out.length - 1]!++;
  return out;
};
const range = (lo: number, hi: number): Interval => ({ lo: key(lo), hi: key(hi), point: false });

test("equal-depth buckets over uniform values, with exact counts", () => {
  const values = Array.from({ length: 10_000 }, (_, i) => key(i % 5000));
  const h = buildHistogram(values, { notNullCount: 10_000, nullCount: 7 });
  assert.equal(h.ndv, 5000);
  assert.equal(h.nullCount, 7);
  assert.ok(h.buckets.length <= 256 && h.buckets.length >= 200, `${h.buckets.length}`);
  // Every value repeats twice, so top-N holds 20 of them; the buckets hold the rest.
  assert.equal(h.topN.length, 20);
  const inBuckets = h.buckets.reduce((s, b) => s + b.count, 0);
  assert.equal(inBuckets + h.topN.reduce((s, t) => s + t.count, 0), 10_000);
  for (let i = 1; i < h.buckets.length; i++) {
    assert.ok(compareBytes(h.buckets[i - 1]!.upper, h.buckets[i]!.lower) < 0);
  }
  assert.equal(estimateEqual(h, key(1234)), 2);
  const est = estimateInterval(h, range(1000, 2000));
  assert.ok(Math.abs(est - 2000) < 100, `range estimate ${est}`);
  assert.ok(Math.abs(estimateInterval(h, { lo: key(4000), hi: null, point: false }) - 2000) < 100);
  assert.equal(estimateInterval(h, { lo: Uint8Array.of(0), hi: Uint8Array.of(1), point: true }),
    7);
  assert.equal(estimateInterval(h, range(6000, 7000)), 0);
});

test("skewed values: the frequent ones are top-N with their counts", () => {
  const values: Uint8Array[] = [];
  for (let i = 0; i < 900; i++) values.push(key(42));
  for (let i = 0; i < 100; i++) values.push(key(1000 + i));
  const h = buildHistogram(values, { notNullCount: 1000, nullCount: 0 });
  assert.equal(h.topN[0]?.count, 900);
  assert.equal(estimateEqual(h, key(42)), 900);
  assert.ok(estimateEqual(h, key(1050)) <= 1);
  assert.equal(estimateIntervals(h, [{ lo: key(42), hi: next(key(42)), point: true },
    { lo: key(1050), hi: next(key(1050)), point: true }], { unique: false }) > 900, true);
  assert.ok(Math.abs(estimateInterval(h, range(0, 1000)) - 900) < 1);
});

test("a partial sample scales counts and estimates NDV", () => {
  // Sample of 2,000 distinct values out of a table of 100,000 rows, all distinct.
  const sample = Array.from({ length: 2000 }, (_, i) => key(i * 50));
  const h = buildHistogram(sample, { notNullCount: 100_000, nullCount: 0 });
  assert.ok(h.ndv > 50_000, `ndv ${h.ndv}`);
  const est = estimateInterval(h, range(0, 50_000));
  assert.ok(Math.abs(est - 50_000) < 2_000, `estimate ${est}`);
  assert.ok(estimateEqual(h, key(500)) <= 2);
});

test("fraction interpolates within a bucket", () => {
  assert.equal(fraction(key(0), key(100), key(50)), 0.5);
  assert.equal(fraction(key(0), key(100), key(-5)), 0);
  assert.equal(fraction(key(0), key(100), key(500)), 1);
});

function tableOf(sql: string): TableInfo {
  const parsed = parse(sql);
  const statement = parsed.kind === "ok" ? parsed.statements[0]!.statement : undefined;
  assert.ok(statement?.kind === "createTable");
  return tableInfoOf(statement.table.name, statement, { tableId: 5, dbId: 1 });
}

test("the builder samples a bounded number of rows and round-trips through the codec", () => {
  const table = tableOf("CREATE TABLE t (id INT PRIMARY KEY, a INT, s VARCHAR(10), " +
    "KEY ka (a), KEY kas (a, s))");
  const builder = new StatsBuilder(table, { sampleRowsMax: 500 });
  for (let i = 0; i < 3000; i++) {
    const values: Value[] = [{ kind: "int", value: BigInt(i) },
      i % 10 === 0 ? null : { kind: "int", value: BigInt(i % 100) },
      { kind: "string", value: `v${i % 7}` }];
    builder.add(values, BigInt(i));
  }
  const stats = builder.finish("77");
  assert.equal(stats.count, 3000);
  const a = stats.columns.get(table.columns[1]!.id)!;
  assert.equal(a.nullCount, 300);
  assert.equal(a.notNullCount, 2700);
  assert.ok(a.ndv >= 80 && a.ndv <= 100, `ndv ${a.ndv}`);
  const id = stats.columns.get(table.columns[0]!.id)!;
  assert.ok(id.ndv > 2000, `id ndv ${id.ndv}`);
  const ka = stats.indexes.get(table.indexes[0]!.id)!;
  assert.equal(ka.notNullCount, 3000);
  const back = decodeStats(encodeStats(stats));
  assert.deepEqual(back, stats);
});

test("auto-analyze: after half the rows changed, or enough rows of a new table", () => {
  const options = { autoAnalyzeRatio: 0.5, autoAnalyzeMinRows: 1000 };
  assert.equal(needsAnalyze(undefined, 999, options), false);
  assert.equal(needsAnalyze(undefined, 1000, options), true);
  const meta = { version: "1", count: 100, modifyBase: 40 };
  assert.equal(needsAnalyze(meta, 90, options), false);
  assert.equal(needsAnalyze(meta, 91, options), true);
  assert.equal(needsAnalyze({ ...meta, count: 0 }, 41, options), true);
  assert.equal(needsAnalyze({ ...meta, count: 0 }, 40, options), false);
});
