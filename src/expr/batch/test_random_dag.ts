/**
 * Random tables and DAG requests for the batch executor's conformance test and benchmark
 * helpers: a seeded generator (mulberry32) of rows over every `DagColumnType` (NULLs,
 * integers past 2^53, BIGINT UNSIGNED past 2^63, strings with numeric prefixes, dates,
 * TIMESTAMPs, TIME, JSON, ENUM, SET, rows that predate a column), random expressions
 * built with `buildCall` (comparisons, logic, arithmetic that can overflow, IN, BETWEEN,
 * LIKE, IS NULL, CASE/IF/COALESCE and other built-ins the batch path runs generically),
 * and random requests (selection, limit, TopN, aggregates with group-bys, both scan
 * directions, tiny page sizes), plus a pager that runs a request to the end.
 */
import { indexId, tableId } from "../../base/mod.ts";
import { type KeyDatum, encodeIndexKey, encodeRowKey } from "../../codec/mod.ts";
import { buildCall } from "../build.ts";
import type { DagAggregate, DagColumn, DagColumnType, DagRequest, DagResponse } from "../dag.ts";
import { type DagPair, type DagRange, type DagRunResult, type DagScanner, rangesAfterResume,
  sortedPairsScanner } from "../dag_exec.ts";
import { type Expr, columnRef, constant, decimalLiteral, doubleLiteral, integerLiteral,
  nullLiteral, stringLiteral } from "../expr.ts";
import { encodeRow } from "../row_codec.ts";
import { dateType, timeType } from "../temporal_functions.ts";
import { resolveTimeZone, utcTimeZone } from "../temporal_tz.ts";
import { type FieldType, TypeCode, dateTimeType, decimalType, doubleType, intType,
  stringType } from "../types.ts";
import type { DateTime, Value } from "../value.ts";

/** A seeded pseudo-random generator (mulberry32). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

export const testTable = 77;

/** The random table's columns: the handle, then one of each DagColumnType. */
export const randomColumns: readonly DagColumn[] = [
  { id: 0, type: { kind: "int", unsigned: false }, originDefault: null },
  { id: 1, type: { kind: "int", unsigned: false }, originDefault: null },
  { id: 2, type: { kind: "int", unsigned: true }, originDefault: null },
  { id: 3, type: { kind: "decimal", scale: 2 }, originDefault: null },
  { id: 4, type: { kind: "double" }, originDefault: null },
  { id: 5, type: { kind: "string" }, originDefault: null },
  { id: 6, type: { kind: "date" }, originDefault: null },
  { id: 7, type: { kind: "datetime", fsp: 3 }, originDefault: null },
  { id: 8, type: { kind: "timestamp", fsp: 0 }, originDefault: null },
  { id: 9, type: { kind: "time" }, originDefault: null },
  { id: 10, type: { kind: "json" }, originDefault: null },
  { id: 11, type: { kind: "enum", members: ["x", "y", "z"] }, originDefault: null },
  { id: 12, type: { kind: "set", members: ["a", "b", "c"] }, originDefault: null },
  // Added after some rows were written: those read its origin default.
  { id: 13, type: { kind: "int", unsigned: false }, originDefault: { kind: "int", value: 7n } },
  { id: 14, type: { kind: "string" }, originDefault: { kind: "string", value: "dflt" } },
];

function fieldTypeOf(t: DagColumnType): FieldType {
  switch (t.kind) {
    case "int":
      return intType({ length: 20, unsigned: t.unsigned });
    case "decimal":
      return decimalType(12, { scale: t.scale });
    case "double":
      return doubleType();
    case "date":
      return dateType(true);
    case "datetime":
      return dateTimeType(t.fsp);
    case "timestamp":
      return { ...dateTimeType(t.fsp), code: TypeCode.Timestamp };
    case "time":
      return timeType(0, true);
    default:
      return stringType(40);
  }
}

/** A reference to column `i` of `randomColumns`. */
export function columnOf(i: number): Expr {
  return columnRef(i, `c${i}`, fieldTypeOf(randomColumns[i]!.type));
}

const strings = ["a", "A", "b", "12abc", "3", "", "  7 ", "x%y", "héllo", "Zz", "1e3", "-2.5",
  "abc", "ABC ", "0", "9223372036854775807"];

function randomDateTime(rng: Rng, micro: boolean): DateTime {
  return { year: rng.int(1990, 2030), month: rng.int(1, 12), day: rng.int(1, 28),
    hour: rng.int(0, 23), minute: rng.int(0, 59), second: rng.int(0, 59),
    microsecond: micro ? rng.int(0, 999) * 1000 : 0 };
}

/** One stored value of column `i` (as the SQL layer writes it). */
function storedValue(rng: Rng, i: number): Value {
  if (rng.chance(0.12)) return null;
  const t = randomColumns[i]!.type;
  switch (t.kind) {
    case "int":
      if (t.unsigned) {
        return { kind: "uint", value: rng.chance(0.1)
          ? rng.pick([2n ** 63n + 5n, 2n ** 64n - 1n, 2n ** 53n + 1n]) : BigInt(rng.int(0, 60)) };
      }
      return { kind: "int", value: rng.chance(0.08)
        ? rng.pick([2n ** 62n, -(2n ** 62n), 2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n])
        : BigInt(rng.int(-40, 40)) };
    case "decimal":
      return { kind: "decimal", unscaled: BigInt(rng.int(-50_000, 50_000)), scale: 2 };
    case "double":
      return { kind: "double", value: rng.chance(0.05) ? rng.pick([1e300, -1e300, -0, 0.1])
        : Math.round(rng.next() * 2000 - 1000) / 8 };
    case "string":
      return { kind: "string", value: rng.pick(strings) };
    case "date":
      return { kind: "datetime", value: { ...randomDateTime(rng, false), hour: 0, minute: 0,
        second: 0 }, fsp: 0 };
    case "datetime":
      return { kind: "datetime", value: randomDateTime(rng, true), fsp: 3 };
    case "timestamp":
      return { kind: "datetime", value: randomDateTime(rng, false), fsp: 0 };
    case "time":
      return { kind: "string", value: rng.pick(["12:30:00", "-01:00:00", "100:00:00",
        "00:00:01", "23:59:59"]) };
    case "json":
      return { kind: "string", value: rng.pick(['{"a": 1}', "[1, 2]", "3", '"x"', "null",
        "2.5"]) };
    case "enum":
      return { kind: "string", value: rng.pick(["x", "y", "z"]) };
    case "set":
      return { kind: "string", value: rng.pick(["", "a", "a,c", "b", "a,b,c"]) };
  }
}

/** `n` rows with random handles, sorted by key. */
export function randomPairs(rng: Rng, n: number): DagPair[] {
  const handles = new Set<bigint>();
  while (handles.size < n) handles.add(BigInt(rng.int(-100_000, 100_000)));
  const pairs = [...handles].map((h) => {
    const old = rng.chance(0.2);
    const ids: number[] = [];
    const values: Value[] = [];
    for (let i = 1; i < randomColumns.length; i++) {
      if (old && i >= 13) continue;
      ids.push(randomColumns[i]!.id);
      values.push(storedValue(rng, i));
    }
    return { key: encodeRowKey(tableId(testTable), h), value: encodeRow(ids, values) };
  });
  pairs.sort((x, y) => Buffer.compare(x.key, y.key));
  return pairs;
}

/** Column references of the table scan. */
export const tableColumnRefs: readonly Expr[] = randomColumns.map((_, i) => columnOf(i));

function leaf(rng: Rng, cols: readonly Expr[]): Expr {
  if (rng.chance(0.55)) return rng.pick(cols);
  switch (rng.int(0, 6)) {
    case 0:
      return integerLiteral(String(rng.int(0, 30)));
    case 1:
      return decimalLiteral(`${rng.int(0, 99)}.${rng.int(0, 9)}5`);
    case 2:
      return doubleLiteral(`${rng.int(0, 50)}e${rng.int(-1, 1)}`);
    case 3:
      return stringLiteral(rng.pick(strings));
    case 4:
      return nullLiteral();
    case 5:
      return integerLiteral(rng.pick(["9223372036854775807", "4611686018427387904",
        "18446744073709551615"]));
    default:
      return constant({ kind: "int", value: BigInt(-rng.int(0, 20)) }, intType({ length: 3 }));
  }
}

const binaryOps = ["=", "<>", "<", "<=", ">", ">=", "<=>", "and", "or", "xor", "+", "-", "*",
  "+", "-", "*", "/", "div", "%", "=", "<", "and", "or"];
const unaryOps = ["not", "isnull", "istrue", "isfalse", "neg", "abs", "length", "upper",
  "cast_signed", "round", "floor", "not", "isnull", "year", "hour", "unix_timestamp",
  "date", "sqrt", "json_valid", "cast_unsigned", "cast_decimal", "to_days", "ln", "hex"];

/** A random expression of height at most `depth`. */
export function randomExpr(rng: Rng, depth: number, cols = tableColumnRefs): Expr {
  if (depth <= 1 || rng.chance(0.2)) return leaf(rng, cols);
  const sub = (): Expr => randomExpr(rng, depth - 1, cols);
  for (;;) {
    let name: string;
    let args: Expr[];
    const shape = rng.int(0, 9);
    if (shape <= 4) {
      name = rng.pick(binaryOps);
      args = [sub(), sub()];
    } else if (shape <= 6) {
      name = rng.pick(unaryOps);
      args = [sub()];
    } else if (shape === 7) {
      name = rng.pick(["in", "between"]);
      args = name === "between" ? [sub(), sub(), sub()]
        : [sub(), ...Array.from({ length: rng.int(1, 4) }, () => leaf(rng, cols))];
    } else if (shape === 8) {
      name = "like";
      args = [sub(), stringLiteral(rng.pick(["a%", "%b%", "_", "1%", "%", "x\\%y", "A_c"]))];
    } else {
      name = rng.pick(["if", "coalesce", "case", "concat", "ifnull", "nullif", "convert_tz",
        "greatest", "datediff", "strcmp", "repeat", "timestampdiff_day"]);
      args = name === "if" || name === "case" ? [sub(), sub(), sub()] : [sub(), sub()];
      if (name === "convert_tz") {
        args = [sub(), stringLiteral(rng.pick(["+00:00", "+05:30"])),
          stringLiteral(rng.pick(["-03:00", "UTC"]))];
      } else if (name === "repeat") {
        args = [sub(), integerLiteral(String(rng.int(0, 3)))];
      } else if (name === "timestampdiff_day") {
        name = "timestampdiff";
        args = [stringLiteral("DAY"), sub(), sub()];
      }
    }
    const built = buildCall(name, args);
    if (built.kind === "ok") return built.expr;
  }
}

/** A random request over the random table (its rows, or `indexScan`'s entries). */
export function randomRequest(rng: Rng, index = false): DagRequest {
  const cols = index ? indexColumnRefs : tableColumnRefs;
  const expr = (depth: number): Expr => randomExpr(rng, depth, cols);
  const selection: Expr[] = [];
  for (let i = rng.int(0, 2); i > 0; i--) selection.push(expr(rng.int(1, 4)));
  let aggregation: DagRequest["aggregation"] = null;
  let topN: DagRequest["topN"] = null;
  let limit: number | null = null;
  switch (rng.int(0, 3)) {
    case 0:
      break;
    case 1:
      limit = rng.int(0, 40);
      break;
    case 2: {
      const order = Array.from({ length: rng.int(1, 2) }, () =>
        ({ expr: expr(rng.int(1, 2)), desc: rng.chance(0.5) }));
      topN = { order, count: rng.int(0, 25) };
      break;
    }
    default: {
      const groupBy = Array.from({ length: rng.int(0, 2) }, () =>
        rng.chance(0.7) ? (index ? rng.pick(cols) : columnOf(rng.pick([1, 2, 5, 6, 11, 13, 4,
          3]))) : expr(2));
      const aggregates: DagAggregate[] = Array.from({ length: rng.int(1, 4) }, () => {
        const fn = rng.pick(["count", "sum", "min", "max", "first_row", "sum", "count"] as const);
        const arg = rng.chance(0.7) ? rng.pick(cols) : expr(2);
        if (fn === "count") return { fn, args: rng.chance(0.3) ? [] : [arg] };
        return { fn, args: [arg] };
      });
      aggregation = { groupBy, aggregates };
    }
  }
  const zone = rng.chance(0.5) ? utcTimeZone : resolveTimeZone("+05:30")!;
  return {
    scan: index ? { ...indexScan, desc: rng.chance(0.4) } : { kind: "table",
      tableId: testTable, columns: randomColumns, handleSlot: 0, desc: rng.chance(0.4) },
    selection, aggregation, topN, limit, context: { timeZone: zone },
    pagingKeys: rng.chance(0.4) ? rng.int(1, 9) : rng.int(300, 3000),
  };
}

export const testIndex = 3;

/** The index scan: (a INT, d DOUBLE, t DATETIME) then the handle. */
export const indexScan = {
  kind: "index" as const, tableId: testTable, indexId: testIndex, keyColumns: 3,
  columns: [
    { id: 0, type: { kind: "int", unsigned: false }, originDefault: null },
    { id: 1, type: { kind: "double" }, originDefault: null },
    { id: 2, type: { kind: "datetime", fsp: 0 }, originDefault: null },
    { id: 0, type: { kind: "int", unsigned: false }, originDefault: null },
  ] as readonly DagColumn[],
  handleSlot: 3, desc: false,
};

const indexColumnRefs: readonly Expr[] = [columnRef(0, "a", intType({ length: 20 })),
  columnRef(1, "d", doubleType()), columnRef(2, "t", dateTimeType(0)),
  columnRef(3, "h", intType({ length: 20 }))];

function packDateTime(d: DateTime): bigint {
  const ymd = BigInt(((d.year * 13 + d.month) << 5) | d.day);
  const hms = BigInt((d.hour << 12) | (d.minute << 6) | d.second);
  return (((ymd << 17n) | hms) << 24n) | BigInt(d.microsecond);
}

/** `n` entries of `indexScan`'s index, sorted by key; some unique (handle in the value). */
export function randomIndexPairs(rng: Rng, n: number): DagPair[] {
  const out = new Map<string, DagPair>();
  for (let h = 0; out.size < n; h++) {
    const values: KeyDatum[] = [
      rng.chance(0.1) ? { kind: "null" } : { kind: "int", value: BigInt(rng.int(-30, 30)) },
      rng.chance(0.1) ? { kind: "null" } : { kind: "float", value: rng.int(-100, 100) / 4 },
      { kind: "uint", value: packDateTime(randomDateTime(rng, false)) },
    ];
    const unique = rng.chance(0.3);
    const handle = BigInt(h * 7 - 500);
    const key = encodeIndexKey({ tableId: tableId(testTable), indexId: indexId(testIndex),
      values, ...(unique ? {} : { handle }) });
    const value = new Uint8Array(unique ? 8 : 1);
    if (unique) new DataView(value.buffer).setBigInt64(0, handle);
    out.set(Buffer.from(key).toString("hex"), { key, value });
  }
  return [...out.values()].sort((x, y) => Buffer.compare(x.key, y.key));
}

/** A scanner over sorted pairs that reports a lock when a read would reach `lockKey`. */
export function lockingScanner(pairs: readonly DagPair[], lockKey: Uint8Array | null):
  DagScanner<{ readonly kind: "locked"; readonly key: Uint8Array }> {
  const inner = sortedPairsScanner(pairs);
  return (range, options) => {
    const read = inner(range, options);
    if (lockKey !== null && read.kind === "ok" &&
      read.pairs.some((p) => Buffer.compare(p.key, lockKey) === 0)) {
      return { kind: "locked", key: lockKey };
    }
    return read;
  };
}

type Runner = <L extends { readonly kind: "locked" }>(request: DagRequest,
  ranges: readonly DagRange[], scan: DagScanner<L>) => DagRunResult<L>;

/** Every page of `request` over `ranges` (stopping at a lock, an error or `maxPages`). */
export function allPages<L extends { readonly kind: "locked" }>(run: Runner,
  request: DagRequest, ranges: readonly DagRange[], scan: DagScanner<L>, maxPages = 400):
  (DagResponse | L)[] {
  const out: (DagResponse | L)[] = [];
  let left = ranges;
  for (let i = 0; i < maxPages; i++) {
    const result = run(request, left, scan);
    if (result.kind !== "ok") {
      out.push(result as L);
      return out;
    }
    out.push(result.response);
    const resume = result.response.resumeKey;
    if (resume === null) return out;
    left = rangesAfterResume(left, resume, { desc: request.scan.desc });
  }
  return out;
}
