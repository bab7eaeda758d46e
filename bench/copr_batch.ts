/**
 * Coprocessor executor benchmark (`npm run bench:copr`): the same DAG requests run through
 * the reference row executor (`runDag`, src/expr/dag_exec.ts) and the vectorized batch
 * executor (`runDagBatch`, src/expr/batch) over 100,000 rows held in memory (a sorted-pairs
 * scanner, no KV node or RPC), every page to the end. Prints scanned rows/s for each and
 * the batch/row ratio per request; first checks both return the same pages. Numbers vary
 * with the machine; run on an idle one. `--rows N` and `--budget MS` change the size and
 * the time spent per measurement.
 */
import { isDeepStrictEqual } from "node:util";
import { tableId } from "../src/base/mod.ts";
import { encodeRowKey, prefixNext, recordPrefix } from "../src/codec/mod.ts";
import {
  type DagColumn,
  type DagPair,
  type DagRange,
  type DagRequest,
  type Expr,
  type Value,
  buildCall,
  columnRef,
  decimalType,
  defaultDagContext,
  doubleType,
  encodeRow,
  intType,
  integerLiteral,
  rangesAfterResume,
  runDag,
  runDagBatch,
  sortedPairsScanner,
  stringLiteral,
  stringType,
} from "../src/expr/mod.ts";

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const rowCount = argValue("--rows", 100_000);
const budgetMs = argValue("--budget", 2_000);
const table = 41;

/** h (handle), a INT 0…999, b INT 0…99, d DOUBLE, s VARCHAR, n DECIMAL(10,2). */
const columns: readonly DagColumn[] = [
  { id: 0, type: { kind: "int", unsigned: false }, originDefault: null },
  { id: 1, type: { kind: "int", unsigned: false }, originDefault: null },
  { id: 2, type: { kind: "int", unsigned: false }, originDefault: null },
  { id: 3, type: { kind: "double" }, originDefault: null },
  { id: 4, type: { kind: "string" }, originDefault: null },
  { id: 5, type: { kind: "decimal", scale: 2 }, originDefault: null },
];
const a = columnRef(1, "a", intType({ length: 11 }));
const b = columnRef(2, "b", intType({ length: 11 }));
const d = columnRef(3, "d", doubleType());
const s = columnRef(4, "s", stringType(16));
const n = columnRef(5, "n", decimalType(10, { scale: 2 }));

function call(name: string, ...args: Expr[]): Expr {
  const built = buildCall(name, args);
  if (built.kind !== "ok") throw new Error(`cannot build ${name}`);
  return built.expr;
}

/** Deterministic pseudo-random rows (a linear congruential sequence). */
function makePairs(): DagPair[] {
  let x = 12_345;
  const next = (m: number): number => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x % m;
  };
  const pairs: DagPair[] = [];
  for (let h = 1; h <= rowCount; h++) {
    const values: Value[] = [
      { kind: "int", value: BigInt(next(1000)) },
      { kind: "int", value: BigInt(next(100)) },
      next(20) === 0 ? null : { kind: "double", value: (next(20_000) - 10_000) / 16 },
      { kind: "string", value: `name-${next(5000)}` },
      { kind: "decimal", unscaled: BigInt(next(1_000_000)), scale: 2 },
    ];
    pairs.push({ key: encodeRowKey(tableId(table), BigInt(h)),
      value: encodeRow([1, 2, 3, 4, 5], values) });
  }
  return pairs;
}

function request(extra: Partial<DagRequest>): DagRequest {
  return { scan: { kind: "table", tableId: table, columns, handleSlot: 0, desc: false },
    selection: [], aggregation: null, topN: null, limit: null, context: defaultDagContext,
    pagingKeys: 100_000, ...extra };
}

const filter = call("and", call("<", a, integerLiteral("500")),
  call(">", d, integerLiteral("0")));
const cases: readonly { readonly name: string; readonly request: DagRequest }[] = [
  { name: "scan + selection (a < 500 AND d > 0)", request: request({ selection: [filter] }) },
  { name: "scan + selection (s LIKE 'name-1%')", request: request({
    selection: [call("like", s, stringLiteral("name-1%"))] }) },
  { name: "COUNT(*) WHERE a < 500", request: request({
    selection: [call("<", a, integerLiteral("500"))],
    aggregation: { groupBy: [], aggregates: [{ fn: "count", args: [] }] } }) },
  { name: "COUNT(*), SUM(a), SUM(d) (no group)", request: request({
    aggregation: { groupBy: [], aggregates: [{ fn: "count", args: [] },
      { fn: "sum", args: [a] }, { fn: "sum", args: [d] }] } }) },
  { name: "COUNT(*), SUM(a), MAX(d) GROUP BY b", request: request({
    aggregation: { groupBy: [b], aggregates: [{ fn: "count", args: [] },
      { fn: "sum", args: [a] }, { fn: "max", args: [d] }] } }) },
  { name: "SUM(n) GROUP BY b WHERE a + b > 300", request: request({
    selection: [call(">", call("+", a, b), integerLiteral("300"))],
    aggregation: { groupBy: [b], aggregates: [{ fn: "sum", args: [n] }] } }) },
  { name: "COUNT(*) WHERE s = 5 (warns: row fallback)", request: request({
    selection: [call("=", s, integerLiteral("5"))],
    aggregation: { groupBy: [], aggregates: [{ fn: "count", args: [] }] } }) },
  { name: "TopN 10 ORDER BY d DESC", request: request({
    topN: { order: [{ expr: d, desc: true }], count: 10 } }) },
];

type Runner = typeof runDag;

const prefix = recordPrefix(tableId(table));
const whole: DagRange[] = [{ start: prefix, end: prefixNext(prefix) }];

function runAll(run: Runner, r: DagRequest, scan: ReturnType<typeof sortedPairsScanner>):
  unknown[] {
  const pages: unknown[] = [];
  let left = whole;
  for (;;) {
    const result = run(r, left, scan);
    if (result.kind !== "ok") throw new Error("locked");
    pages.push(result.response);
    if (result.response.resumeKey === null) return pages;
    left = rangesAfterResume(left, result.response.resumeKey, { desc: false });
  }
}

/** Scanned rows per second of `run` on `r` over the budget. */
function rate(run: Runner, r: DagRequest, scan: ReturnType<typeof sortedPairsScanner>):
  number {
  runAll(run, r, scan);
  let done = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < budgetMs) {
    runAll(run, r, scan);
    done += rowCount;
    elapsed = performance.now() - start;
  }
  return (done * 1000) / elapsed;
}

const pairs = makePairs();
const scan = sortedPairsScanner(pairs);
const fmt = (x: number): string => `${(x / 1e6).toFixed(2)}M`.padStart(8);
console.log(`${rowCount} rows, ${budgetMs} ms per measurement; scanned rows/s`);
console.log(`${"request".padEnd(44)}     row    batch  batch/row`);
for (const c of cases) {
  if (!isDeepStrictEqual(runAll(runDagBatch, c.request, scan), runAll(runDag, c.request, scan))) {
    throw new Error(`${c.name}: the executors disagree`);
  }
  const row = rate(runDag, c.request, scan);
  const batch = rate(runDagBatch, c.request, scan);
  console.log(`${c.name.padEnd(44)}${fmt(row)} ${fmt(batch)}  ${(batch / row).toFixed(2)}x`);
}
