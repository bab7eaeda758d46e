/**
 * Tests of the batch executor's edges against the row executor: a request with a field
 * it does not know runs on `runDag`; `setDagExecutor("row")` switches `runDagConfigured`;
 * warnings past the cap and an overflow error in the middle of a batch come back exactly
 * as the row executor returns them (the batch reruns row at a time); a corrupt row the
 * page never reaches is ignored, one it reaches throws the row executor's error; MIN and
 * MAX over strings and numbers in one page agree.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { tableId } from "../../base/mod.ts";
import { encodeRowKey, prefixNext, recordPrefix } from "../../codec/mod.ts";
import { buildCall } from "../build.ts";
import type { DagColumn, DagRequest } from "../dag.ts";
import { type DagResponse, defaultDagContext } from "../dag.ts";
import { type DagPair, type DagRange, runDag, sortedPairsScanner } from "../dag_exec.ts";
import { type Expr, columnRef, integerLiteral } from "../expr.ts";
import { encodeRow } from "../row_codec.ts";
import { intType, stringType } from "../types.ts";
import type { Value } from "../value.ts";
import { batchExecStats, dagExecutor, runDagBatch, runDagConfigured, setDagExecutor }
  from "./batch_exec.ts";

const opts = { timeout: 30_000 };
const t = 12;
const columns: readonly DagColumn[] = [
  { id: 0, type: { kind: "int", unsigned: false }, originDefault: null },
  { id: 1, type: { kind: "int", unsigned: false }, originDefault: null },
  { id: 2, type: { kind: "string" }, originDefault: null },
];
const a = columnRef(1, "a", intType({ length: 20 }));
const s = columnRef(2, "s", stringType(20));
const range: DagRange = { start: recordPrefix(tableId(t)),
  end: prefixNext(recordPrefix(tableId(t))) };

function call(name: string, ...args: Expr[]): Expr {
  const built = buildCall(name, args);
  if (built.kind !== "ok") throw new Error(`cannot build ${name}`);
  return built.expr;
}

function request(extra: Partial<DagRequest> = {}): DagRequest {
  return { scan: { kind: "table", tableId: t, columns, handleSlot: 0, desc: false },
    selection: [], aggregation: null, topN: null, limit: null, context: defaultDagContext,
    pagingKeys: 10_000, ...extra };
}

/** Rows h = 1…n: a = f(h), s = g(h). */
function pairs(n: number, f: (h: number) => Value, g: (h: number) => Value): DagPair[] {
  const out: DagPair[] = [];
  for (let h = 1; h <= n; h++) {
    out.push({ key: encodeRowKey(tableId(t), BigInt(h)),
      value: encodeRow([1, 2], [f(h), g(h)]) });
  }
  return out;
}

const I = (v: number | bigint): Value => ({ kind: "int", value: BigInt(v) });
const S = (v: string): Value => ({ kind: "string", value: v });

function same(r: DagRequest, data: readonly DagPair[]): DagResponse {
  const scan = sortedPairsScanner(data);
  const want = runDag(r, [range], scan);
  assert.deepStrictEqual(runDagBatch(r, [range], scan), want);
  assert.equal(want.kind, "ok");
  return (want as { response: DagResponse }).response;
}

test("a request with a field the batch executor does not know runs on runDag", opts, () => {
  const data = pairs(20, (h) => I(h), (h) => S(`x${h}`));
  const r = { ...request({ limit: 5 }), indexFilter: [call(">", a, integerLiteral("3"))] };
  const before = batchExecStats.delegated;
  same(r, data);
  assert.equal(batchExecStats.delegated, before + 1);
  // Absent-valued fields do not count.
  const nulls = { ...request({ limit: 5 }), indexFilter: null };
  same(nulls, data);
  assert.equal(batchExecStats.delegated, before + 1);
});

test("setDagExecutor chooses what runDagConfigured runs", opts, () => {
  const data = pairs(10, (h) => I(h), () => S("x"));
  const scan = sortedPairsScanner(data);
  assert.equal(dagExecutor(), "batch");
  const before = batchExecStats.vectorized;
  setDagExecutor("row");
  try {
    const got = runDagConfigured(request(), [range], scan);
    assert.deepStrictEqual(got, runDag(request(), [range], scan));
    assert.equal(batchExecStats.vectorized, before);
  } finally {
    setDagExecutor("batch");
  }
  runDagConfigured(request(), [range], scan);
  assert.equal(batchExecStats.vectorized, before + 1);
});

test("warnings past the cap and an error mid-batch match the row executor", opts, () => {
  // s = 'N abc' warns on every row read as a number; a overflows a * 2^62 at h = 1500.
  const data = pairs(3000, (h) => I(h >= 1500 ? 4 : 1), (h) => S(`${h} abc`));
  const warned = same(request({ selection: [call(">", s, integerLiteral("10"))] }), data);
  assert.equal(warned.warningCount, 3000);
  assert.equal(warned.rows.length, 2990);
  const failed = same(request({ selection: [call(">", s, integerLiteral("10")),
    call(">", call("*", a, integerLiteral("4611686018427387904")), integerLiteral("0"))] }),
  data);
  assert.equal(failed.error?.kind, "outOfRange");
  assert.equal(failed.warningCount, 1500);
  const summed = same(request({ aggregation: { groupBy: [],
    aggregates: [{ fn: "sum", args: [s] }] } }), data);
  assert.equal(summed.warningCount, 3000);
  const sorted = same(request({ topN: { order: [{ expr: call("*", a,
    integerLiteral("3074457345618258602")), desc: true }], count: 3 } }), data);
  assert.equal(sorted.error?.kind, "outOfRange");
});

test("a corrupt row: ignored past the limit, the row executor's error when reached", opts,
  () => {
    const data = pairs(50, (h) => I(h), () => S("x"));
    const bad = [...data];
    bad[30] = { key: data[30]!.key, value: new Uint8Array([1, 1, 1, 9]) };
    same(request({ limit: 10 }), bad);
    const scan = sortedPairsScanner(bad);
    let rowError: unknown;
    try {
      runDag(request(), [range], scan);
    } catch (error: unknown) {
      rowError = error;
    }
    assert.ok(rowError instanceof Error);
    assert.throws(() => runDagBatch(request(), [range], scan), rowError);
    // Not read by an aggregation, but still checked, as the row executor checks it.
    const agg = request({ aggregation: { groupBy: [],
      aggregates: [{ fn: "count", args: [] }] } });
    assert.throws(() => runDagBatch(agg, [range], scan), rowError);
  });

test("MIN and MAX over strings and numbers in one page agree", opts, () => {
  const data = pairs(2500, (h) => (h % 7 === 0 ? null : I(h % 13)),
    (h) => S(["b", "10", "A", "3x", "abc"][h % 5]!));
  const mixed = call("if", call(">", a, integerLiteral("6")), s, a);
  for (const fn of ["min", "max"] as const) {
    same(request({ aggregation: { groupBy: [a], aggregates: [{ fn, args: [mixed] },
      { fn, args: [s] }, { fn, args: [a] }] } }), data);
    same(request({ aggregation: { groupBy: [], aggregates: [{ fn, args: [mixed] }] } }), data);
  }
});
