/**
 * The window evaluator alone (`evaluateWindow`, `resolveWindowSpec`), table-driven: each
 * case is a call (function, frame, parameter), rows of (partition, order key, argument)
 * and the values MySQL 8 gives, in input order; plus named-window resolution and its
 * errors.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type EvalContext, type Value, doubleType, intType, toText } from "../../expr/mod.ts";
import type { NamedWindow, WindowSpec } from "../parser/ast.ts";
import { type AggSpec, aggregateType } from "./aggregate.ts";
import { type Bound, type Frame, type WindowCall, type WindowRow, evaluateWindow,
  resolveWindowSpec } from "./window.ts";

const ctx: EvalContext = { warn: () => {}, statementTime: { year: 2026, month: 1, day: 1,
  hour: 0, minute: 0, second: 0, microsecond: 0 }, database: null, user: "u@h",
currentUser: "u@%", connectionId: 1, version: "8.0", lastInsertId: 0n,
setLastInsertId: () => {}, setUserVariable: () => {} };

const int = (n: number | null): Value => (n === null ? null : { kind: "int", value: BigInt(n) });

/** Rows as [partition, order key, argument]. */
type Rows = readonly (readonly [string, number | null, number | null])[];

const sample: Rows = [
  ["a", 1, 10], ["a", 2, 20], ["a", 2, 30], ["a", 4, 40], ["b", 1, 5], ["b", 3, null],
];

const b = (type: Bound["type"], offset?: number): Bound => ({ type,
  offset: offset === undefined ? null : int(offset) });
const wholePartition: Frame = { unit: "ROWS", start: b("UNBOUNDED PRECEDING"),
  end: b("UNBOUNDED FOLLOWING") };
const defaultOrdered: Frame = { unit: "RANGE", start: b("UNBOUNDED PRECEDING"),
  end: b("CURRENT ROW") };

const argType = intType({ length: 11 });
function agg(name: string): AggSpec {
  const arg = { kind: "constant", value: null, type: argType } as const;
  const args = name === "count*" ? [] : [arg];
  const base = name === "count*" ? "count" : name;
  return { name: base, args, distinct: false, type: name === "stddev_pop" ? doubleType({})
    : aggregateType(base, args), text: name };
}

interface Case {
  readonly title: string;
  readonly name: string;
  readonly frame?: Frame;
  readonly param?: number;
  readonly desc?: boolean;
  readonly ordered?: boolean;
  readonly rows?: Rows;
  /** Lag / lead default per row. */
  readonly defaults?: boolean;
  readonly expected: readonly (string | null)[];
}

const cases: readonly Case[] = [
  { title: "ROW_NUMBER numbers rows per partition", name: "row_number",
    expected: ["1", "2", "3", "4", "1", "2"] },
  { title: "RANK leaves gaps after peers", name: "rank", expected: ["1", "2", "2", "4", "1", "2"] },
  { title: "DENSE_RANK does not", name: "dense_rank", expected: ["1", "2", "2", "3", "1", "2"] },
  { title: "RANK without ORDER BY: all peers", name: "rank", ordered: false,
    expected: ["1", "1", "1", "1", "1", "1"] },
  { title: "PERCENT_RANK is (rank - 1) / (rows - 1)", name: "percent_rank",
    expected: ["0", "0.3333333333333333", "0.3333333333333333", "1", "0", "1"] },
  { title: "CUME_DIST counts peers", name: "cume_dist",
    expected: ["0.25", "0.75", "0.75", "1", "0.5", "1"] },
  { title: "NTILE gives earlier buckets the extra rows", name: "ntile", param: 3,
    expected: ["1", "1", "2", "3", "1", "2"] },
  { title: "NTILE with more buckets than rows", name: "ntile", param: 10,
    expected: ["1", "2", "3", "4", "1", "2"] },
  { title: "LAG takes the previous row or NULL", name: "lag", param: 1,
    expected: [null, "10", "20", "30", null, "5"] },
  { title: "LEAD 2 with a default", name: "lead", param: 2, defaults: true,
    expected: ["30", "40", "-1", "-1", "-1", "-1"] },
  { title: "LAG 0 is the row itself", name: "lag", param: 0,
    expected: ["10", "20", "30", "40", "5", null] },
  { title: "FIRST_VALUE over the default frame", name: "first_value",
    expected: ["10", "10", "10", "10", "5", "5"] },
  { title: "LAST_VALUE over the default frame sees the last peer", name: "last_value",
    expected: ["10", "30", "30", "40", "5", null] },
  { title: "LAST_VALUE over the whole partition", name: "last_value", frame: wholePartition,
    expected: ["40", "40", "40", "40", null, null] },
  { title: "NTH_VALUE 2 is NULL until the frame has two rows", name: "nth_value", param: 2,
    expected: [null, "20", "20", "20", null, null] },
  { title: "SUM over the default frame is a running total with peers", name: "sum",
    expected: ["10", "60", "60", "100", "5", "5"] },
  { title: "SUM without ORDER BY is the partition total", name: "sum", ordered: false,
    frame: wholePartition, expected: ["100", "100", "100", "100", "5", "5"] },
  { title: "SUM over ROWS 1 PRECEDING AND 1 FOLLOWING slides", name: "sum",
    frame: { unit: "ROWS", start: b("PRECEDING", 1), end: b("FOLLOWING", 1) },
    expected: ["30", "60", "90", "70", "5", "5"] },
  { title: "COUNT over ROWS CURRENT ROW AND UNBOUNDED FOLLOWING", name: "count",
    frame: { unit: "ROWS", start: b("CURRENT ROW"), end: b("UNBOUNDED FOLLOWING") },
    expected: ["4", "3", "2", "1", "1", "0"] },
  { title: "COUNT(*) counts NULL arguments too", name: "count*", frame: wholePartition,
    expected: ["4", "4", "4", "4", "2", "2"] },
  { title: "SUM over RANGE 1 PRECEDING uses key values", name: "sum",
    frame: { unit: "RANGE", start: b("PRECEDING", 1), end: b("CURRENT ROW") },
    expected: ["10", "60", "60", "40", "5", null] },
  { title: "SUM over RANGE BETWEEN CURRENT ROW AND 2 FOLLOWING", name: "sum",
    frame: { unit: "RANGE", start: b("CURRENT ROW"), end: b("FOLLOWING", 2) },
    expected: ["60", "90", "90", "40", "5", null] },
  { title: "RANGE 1 PRECEDING over DESC keys looks at larger keys", name: "sum", desc: true,
    frame: { unit: "RANGE", start: b("PRECEDING", 1), end: b("CURRENT ROW") },
    expected: ["60", "50", "50", "40", "5", null] },
  { title: "an empty frame gives NULL (SUM) and 0 (COUNT)", name: "count",
    frame: { unit: "ROWS", start: b("FOLLOWING", 5), end: b("FOLLOWING", 6) },
    expected: ["0", "0", "0", "0", "0", "0"] },
  { title: "MIN over a sliding frame", name: "min",
    frame: { unit: "ROWS", start: b("PRECEDING", 1), end: b("CURRENT ROW") },
    expected: ["10", "10", "20", "30", "5", "5"] },
  { title: "STDDEV_POP of the partition", name: "stddev_pop", ordered: false,
    frame: wholePartition, expected: ["11.180339887498949", "11.180339887498949",
      "11.180339887498949", "11.180339887498949", "0", "0"] },
];

function callOf(c: Case): WindowCall {
  const aggregate = ["sum", "count", "count*", "min", "stddev_pop"].includes(c.name);
  const ordered = c.ordered ?? true;
  return { name: c.name === "count*" ? "count" : c.name, agg: aggregate ? agg(c.name) : null,
    orderDesc: ordered ? [c.desc ?? false] : [], param: c.param ?? 1,
    frame: c.frame ?? (ordered ? defaultOrdered : wholePartition) };
}

function rowsOf(c: Case): WindowRow[] {
  const ordered = c.ordered ?? true;
  return (c.rows ?? sample).map(([p, k, v]) => ({ partition: [{ kind: "string", value: p }],
    order: ordered ? [int(k)] : [], args: c.defaults ? [int(v), int(-1)] : [int(v)] }));
}

test("window functions give MySQL's values", () => {
  for (const c of cases) {
    const got = evaluateWindow(callOf(c), rowsOf(c), ctx).values.map((v) => toText(v));
    assert.deepEqual(got, c.expected, c.title);
  }
});

test("rows come back in partition then ORDER BY order, stable", () => {
  const rows: WindowRow[] = [["b", 2], ["a", 3], ["b", 1], ["a", 1], ["a", 3]].map(
    ([p, k]) => ({ partition: [{ kind: "string", value: p as string }], order: [int(k as number)],
      args: [] }));
  const call: WindowCall = { name: "row_number", agg: null, orderDesc: [true], param: 1,
    frame: defaultOrdered };
  const { permutation, values } = evaluateWindow(call, rows, ctx);
  assert.deepEqual(permutation, [1, 4, 3, 0, 2]);
  assert.deepEqual(values.map((v) => toText(v)), ["1", "1", "2", "3", "2"]);
});

test("NULL partition keys form one partition, sorted first", () => {
  const keys: readonly (readonly [number | null, number])[] = [[null, 1], [1, 2], [null, 3]];
  const rows: WindowRow[] = keys.map(([p, k]) => ({
    partition: [int(p)], order: [int(k)], args: [] }));
  const call: WindowCall = { name: "row_number", agg: null, orderDesc: [false], param: 1,
    frame: defaultOrdered };
  const { permutation, values } = evaluateWindow(call, rows, ctx);
  assert.deepEqual(permutation, [0, 2, 1]);
  assert.deepEqual(values.map((v) => toText(v)), ["1", "1", "2"]);
});

test("aggregate windows stop at the work bound with 1104", () => {
  const rows: WindowRow[] = Array.from({ length: 3000 }, (_, i) => ({ partition: [],
    order: [int(i)], args: [int(i)] }));
  const call: WindowCall = { name: "sum", agg: agg("sum"), orderDesc: [false], param: 1,
    frame: { unit: "ROWS", start: b("CURRENT ROW"), end: b("UNBOUNDED FOLLOWING") } };
  assert.throws(() => evaluateWindow(call, rows, ctx, { budget: { adds: 49_999_000 } }),
    { errno: 1104 });
});

const spec = (s: Partial<WindowSpec>): WindowSpec => ({ ref: null, partitionBy: [],
  orderBy: [], frame: null, ...s });
const col = (name: string) => ({ kind: "column", db: null, table: null, column: name }) as const;

test("named windows merge and their misuse gives MySQL's errors", () => {
  const named: NamedWindow[] = [
    { name: "w1", spec: spec({ partitionBy: [col("a")] }) },
    { name: "w2", spec: spec({ ref: "w1", orderBy: [{ expr: col("b"), desc: true }] }) },
    { name: "wf", spec: spec({ frame: { unit: "ROWS", start: { type: "CURRENT ROW",
      value: null }, end: null } }) },
  ];
  const merged = resolveWindowSpec(spec({ ref: "w2", frame: { unit: "ROWS",
    start: { type: "UNBOUNDED PRECEDING", value: null }, end: null } }), named);
  assert.deepEqual(merged.partitionBy, [col("a")]);
  assert.deepEqual(merged.orderBy, [{ expr: col("b"), desc: true }]);
  assert.equal(merged.frame?.unit, "ROWS");
  // `OVER wf` is window wf itself, frame included.
  assert.equal(resolveWindowSpec(spec({ ref: "wf" }), named).frame?.unit, "ROWS");
  const errors: readonly [WindowSpec, readonly NamedWindow[], number][] = [
    [spec({ ref: "nope" }), named, 3579],
    [spec({ ref: "w1", partitionBy: [col("c")] }), named, 3581],
    [spec({ ref: "wf", orderBy: [{ expr: col("b"), desc: false }] }), named, 3582],
    [spec({ ref: "w2", orderBy: [{ expr: col("c"), desc: false }] }), named, 3583],
    [spec({}), [{ name: "x", spec: spec({ ref: "y" }) }, { name: "y", spec: spec({ ref: "x" }) }],
      3580],
    [spec({}), [{ name: "x", spec: spec({}) }, { name: "X", spec: spec({}) }], 3591],
  ];
  for (const [s, n, errno] of errors) {
    assert.throws(() => resolveWindowSpec(s, n), { errno }, String(errno));
  }
});
