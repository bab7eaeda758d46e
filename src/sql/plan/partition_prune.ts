/**
 * Partition pruning (TiDB's `rule_partition_processor.go`): which partitions of a
 * partitioned table a statement's conjuncts (ANDed, on one table) can match, so the
 * others are not read. Conservative: a conjunct it does not understand keeps every
 * partition; the result is always a superset of the partitions holding matching rows.
 *
 * - Points: when every partitioning column is pinned by `=`, `IN (…)`, `IS NULL` or an OR
 *   of those (at most `pointCombinationsMax` combinations), the partitions the value
 *   combinations are placed in — for every method.
 * - Ranges (`<`, `<=`, `>`, `>=`, BETWEEN) on the first partitioning column: RANGE and
 *   RANGE COLUMNS keep the partitions whose bounds overlap; LIST and LIST COLUMNS the
 *   partitions listing a value inside; HASH a short integer range's values placed one by
 *   one. A RANGE / LIST / HASH expression must be the column itself (integers) or YEAR,
 *   TO_DAYS, TO_SECONDS of a DATE / DATETIME column (monotonic: the range's ends map to
 *   the expression's range).
 * - OR: the union of its branches' partitions.
 * Constants are compared after conversion to the column's type, and only when that is
 * exact (an INT column against an integer, a DATE against a date …); otherwise the
 * conjunct does not prune. Pure.
 */
import { type Value, toText, utcTimeZone } from "../../expr/mod.ts";
import { compareBytes } from "../../codec/mod.ts";
import type { Expr as AstExpr } from "../parser/ast.ts";
import { parseExpression } from "../parser/parse.ts";
import type { ColumnInfo, TableInfo } from "../catalog/schema.ts";
import { columnKey, exprValueAt, listValues, partitionOf, partitionOffsets, rangeBounds }
  from "../table/partition_route.ts";
import { storeValue } from "../table/table.ts";

/** Value combinations placed one by one, at most. */
const pointCombinationsMax = 256;
/** HASH: integer ranges this short are placed value by value. */
const hashRangeMax = 64;

/** How the pruner reads a conjunct's parts. */
export interface PruneResolver {
  /** The table's column offset `ast` names, or undefined. */
  column(ast: AstExpr): number | undefined;
  /** The value of `ast` when it is a constant (no columns or subqueries), else undefined. */
  constant(ast: AstExpr): Value | undefined;
}

type End = { readonly value: Value; readonly incl: boolean };

/** What one conjunct says about one column. */
type Fact =
  | { readonly kind: "points"; readonly offset: number; readonly values: readonly Value[] }
  | { readonly kind: "range"; readonly offset: number; readonly lo: End | null;
    readonly hi: End | null };

const all = (table: TableInfo): number[] =>
  (table.partition?.definitions ?? []).map((_, k) => k);

function conjunctsOf(e: AstExpr): AstExpr[] {
  return e.kind === "binary" && e.op === "AND" ? [...conjunctsOf(e.left), ...conjunctsOf(e.right)]
    : [e];
}

function disjunctsOf(e: AstExpr): AstExpr[] {
  return e.kind === "binary" && (e.op === "OR") ? [...disjunctsOf(e.left),
    ...disjunctsOf(e.right)] : [e];
}

const flipped: Readonly<Record<string, string>> = { "<": ">", "<=": ">=", ">": "<", ">=": "<=",
  "=": "=", "<=>": "<=>" };

/** The fact a conjunct states, or null. */
function factOf(e: AstExpr, r: PruneResolver): Fact | null {
  if (e.kind === "binary" && flipped[e.op] !== undefined) {
    let offset = r.column(e.left);
    let value: Value | undefined;
    let op: string = e.op;
    if (offset !== undefined) value = r.constant(e.right);
    else {
      offset = r.column(e.right);
      if (offset === undefined) return null;
      value = r.constant(e.left);
      op = flipped[e.op]!;
    }
    if (value === undefined) return null;
    if (op === "=" || op === "<=>") {
      if (value === null && op === "=") return { kind: "points", offset, values: [] };
      return { kind: "points", offset, values: [value] };
    }
    if (value === null) return { kind: "points", offset, values: [] };
    const end = { value, incl: op.endsWith("=") };
    return op.startsWith("<") ? { kind: "range", offset, lo: null, hi: end }
      : { kind: "range", offset, lo: end, hi: null };
  }
  if (e.kind === "in" && !e.not) {
    const offset = r.column(e.operand);
    if (offset === undefined) return null;
    const values: Value[] = [];
    for (const item of e.list) {
      const v = r.constant(item);
      if (v === undefined) return null;
      if (v !== null) values.push(v);
    }
    return { kind: "points", offset, values };
  }
  if (e.kind === "between" && !e.not) {
    const offset = r.column(e.operand);
    const lo = r.constant(e.low);
    const hi = r.constant(e.high);
    if (offset === undefined || lo === undefined || hi === undefined) return null;
    if (lo === null || hi === null) return { kind: "points", offset, values: [] };
    return { kind: "range", offset, lo: { value: lo, incl: true }, hi: { value: hi, incl: true } };
  }
  if (e.kind === "is" && e.value === "NULL" && !e.not) {
    const offset = r.column(e.operand);
    return offset === undefined ? null : { kind: "points", offset, values: [null] };
  }
  if (e.kind === "binary" && e.op === "OR") {
    // An OR of points on one column is a points fact.
    const facts = disjunctsOf(e).map((d) => factOf(d, r));
    const first = facts[0];
    if (first === null || first === undefined || first.kind !== "points" ||
      !facts.every((f) => f !== null && f.kind === "points" && f.offset === first.offset)) {
      return null;
    }
    return { kind: "points", offset: first.offset,
      values: facts.flatMap((f) => (f as Extract<Fact, { kind: "points" }>).values) };
  }
  return null;
}

/**
 * `value` as column `column` stores it, when that is exact (see the file comment);
 * undefined when the comparison cannot be pruned by.
 */
function asColumnValue(column: ColumnInfo, value: Value): Value | undefined {
  if (value === null) return null;
  const kind = column.type.kind;
  if (kind === "int") {
    if (value.kind === "int" || value.kind === "uint") return value;
    if (value.kind === "string" && /^\s*-?\d{1,18}\s*$/.test(value.value)) {
      return { kind: "int", value: BigInt(value.value.trim()) };
    }
    return undefined;
  }
  if (kind === "date" || kind === "datetime" || kind === "timestamp") {
    if (value.kind === "int" || value.kind === "uint" || value.kind === "double" ||
      value.kind === "decimal") return undefined;
    let warned = false;
    let stored: Value;
    try {
      stored = storeValue(value, { column: { ...column, nullable: true }, row: 1 },
        { warn: () => {
          warned = true;
        }, statementTime: { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0,
          microsecond: 0 }, timeZone: utcTimeZone, database: null, user: "", currentUser: "",
        connectionId: 0, version: "", lastInsertId: 0n, setLastInsertId: () => undefined,
        setUserVariable: () => undefined });
    } catch {
      return undefined;
    }
    if (warned || stored === null || kind === "timestamp") return undefined;
    const given = (toText(value) ?? "").trim();
    const got = toText(stored) ?? "";
    const rest = got.startsWith(given) ? got.slice(given.length) : null;
    return rest !== null && /^( 00:00:00(\.0+)?)?$/.test(rest) ? stored : undefined;
  }
  if (kind === "string" || kind === "bytes") {
    if (value.kind !== "string") return undefined;
    if (column.type.length !== null && [...value.value].length > column.type.length) {
      return undefined;
    }
    return value;
  }
  return undefined;
}

/** How a RANGE / LIST / HASH expression follows its column, or null when it does not. */
function monotonic(table: TableInfo): { offset: number; identity: boolean; fn: string } |
  null {
  const info = table.partition!;
  if (info.expr === undefined) return null;
  const parsed = parseExpression(info.expr);
  if (parsed.kind === "error") return null;
  const e = parsed.expr;
  const offsetOf = (name: string): number | undefined =>
    table.columns.find((c) => c.name.toLowerCase() === name.toLowerCase())?.offset;
  if (e.kind === "column") {
    const offset = offsetOf(e.column);
    if (offset === undefined || table.columns[offset]!.type.kind !== "int") return null;
    return { offset, identity: true, fn: "" };
  }
  if (e.kind === "func" && ["year", "to_days", "to_seconds"].includes(e.name) &&
    e.args.length === 1 && e.args[0]!.kind === "column") {
    const offset = offsetOf(e.args[0]!.column);
    if (offset === undefined) return null;
    const kind = table.columns[offset]!.type.kind;
    return kind === "date" || kind === "datetime" ? { offset, identity: false, fn: e.name }
      : null;
  }
  return null;
}

/** Partitions the point combinations of `points` (by partitioning column) are placed in. */
function pointPartitions(table: TableInfo, offsets: readonly number[],
  points: ReadonlyMap<number, readonly Value[]>): number[] | undefined {
  let combos: Value[][] = [table.columns.map(() => null)];
  for (const offset of offsets) {
    const column = table.columns[offset]!;
    const values: Value[] = [];
    for (const v of points.get(offset) ?? []) {
      const stored = asColumnValue(column, v);
      if (stored === undefined) return undefined;
      values.push(stored);
    }
    if (combos.length * values.length > pointCombinationsMax) return undefined;
    combos = combos.flatMap((row) => values.map((v) => {
      const next = [...row];
      next[offset] = v;
      return next;
    }));
  }
  const out = new Set<number>();
  for (const row of combos) {
    const k = partitionOf(table, row);
    if (k !== null) out.add(k);
  }
  return [...out].sort((a, b) => a - b);
}

type Domain = bigint | Uint8Array;

function cmp(a: Domain, b: Domain): number {
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  return compareBytes(a as Uint8Array, b as Uint8Array);
}

/** A range of the partitioning domain: integers of the expression, or key bytes. */
interface DomainRange {
  lo: { v: Domain; incl: boolean } | null;
  hi: { v: Domain; incl: boolean } | null;
}

/**
 * The range and point facts on `offset` as one range of the partitioning domain (a point
 * set as its lowest to its highest value), or undefined when none applies.
 */
function domainRange(table: TableInfo, offset: number, facts: readonly Fact[],
  expr: { identity: boolean; fn: string } | null): DomainRange | undefined {
  const column = table.columns[offset]!;
  const out: DomainRange = { lo: null, hi: null };
  let any = false;
  /** A value's place in the domain as the `side` end of a range, or undefined. */
  const toDomain = (value: Value, incl: boolean, side: "lo" | "hi"):
    { v: Domain; incl: boolean } | undefined => {
    const stored = asColumnValue(column, value);
    if (stored === undefined || stored === null) return undefined;
    if (expr === null) return { v: columnKey(table, offset, stored), incl };
    const mapped = exprValueAt(table, offset, stored);
    if (mapped === null) return undefined;
    let v = mapped;
    if (expr.identity && !incl) v = side === "lo" ? mapped + 1n : mapped - 1n;
    else if (side === "hi" && !incl && startsUnit(expr.fn, toText(stored) ?? "")) {
      // Below the first instant of a day (year, second): the unit before it.
      v = mapped - 1n;
    }
    // A monotonic (not strictly) function keeps the end.
    return { v, incl: true };
  };
  const narrow = (end: { v: Domain; incl: boolean }, side: "lo" | "hi"): void => {
    const current = out[side];
    const tighter = current === null || (side === "lo" ? cmp(end.v, current.v) > 0
      : cmp(end.v, current.v) < 0);
    if (tighter) out[side] = end;
    any = true;
  };
  for (const f of facts) {
    if (f.offset !== offset) continue;
    if (f.kind === "range") {
      for (const [end, side] of [[f.lo, "lo"], [f.hi, "hi"]] as const) {
        const got = end === null ? undefined : toDomain(end.value, end.incl, side);
        if (got !== undefined) narrow(got, side);
      }
      continue;
    }
    if (f.values.length === 0 || f.values.includes(null)) continue;
    const lows = f.values.map((v) => toDomain(v, true, "lo"));
    const highs = f.values.map((v) => toDomain(v, true, "hi"));
    if (lows.includes(undefined) || highs.includes(undefined)) continue;
    narrow(lows.reduce((a, b) => (cmp(b!.v, a!.v) < 0 ? b : a))!, "lo");
    narrow(highs.reduce((a, b) => (cmp(b!.v, a!.v) > 0 ? b : a))!, "hi");
  }
  return any ? out : undefined;
}

function inRange(v: Domain, range: DomainRange): boolean {
  if (range.lo !== null) {
    const c = cmp(v, range.lo.v);
    if (c < 0 || (c === 0 && !range.lo.incl)) return false;
  }
  if (range.hi !== null) {
    const c = cmp(v, range.hi.v);
    if (c > 0 || (c === 0 && !range.hi.incl)) return false;
  }
  return true;
}

/** Whether a DATE / DATETIME text is the first instant of `fn`'s unit (day, year, second). */
function startsUnit(fn: string, text: string): boolean {
  const time = text.length > 10 ? text.slice(11) : "00:00:00";
  const midnight = /^00:00:00(\.0+)?$/.test(time);
  switch (fn) {
    case "to_days":
      return midnight;
    case "year":
      return midnight && text.slice(5, 10) === "01-01";
    case "to_seconds":
      return /^\d\d:\d\d:\d\d(\.0+)?$/.test(time);
    default:
      return false;
  }
}

/** Partitions a range of the first partitioning column can match, or undefined (all). */
function rangePartitions(table: TableInfo, facts: readonly Fact[]): number[] | undefined {
  const info = table.partition!;
  const columnsForm = info.expr === undefined;
  const expr = columnsForm ? null : monotonic(table);
  if (!columnsForm && expr === null) return undefined;
  const offset = columnsForm ? partitionOffsets(table)[0]! : expr!.offset;
  const range = domainRange(table, offset, facts, expr);
  if (range === undefined) return undefined;
  switch (info.method) {
    case "RANGE":
    case "RANGE COLUMNS": {
      const bounds = rangeBounds(table);
      const width = bounds[0]?.length ?? 1;
      return bounds.flatMap((b, k) => {
        const upper = b[0] ?? null;
        // Rows below this partition's bound: the range's low end must be below it.
        if (upper !== null && range.lo !== null) {
          const c = cmp(range.lo.v, upper);
          if (width === 1 ? c >= 0 : c > 0) return [];
        }
        const lower = k === 0 ? null : bounds[k - 1]![0] ?? null;
        if (k > 0 && lower === null) return [];
        if (lower !== null && range.hi !== null) {
          const c = cmp(range.hi.v, lower);
          if (c < 0 || (c === 0 && !range.hi.incl && width === 1)) return [];
        }
        return [k];
      });
    }
    case "LIST":
    case "LIST COLUMNS": {
      if (columnsForm && partitionOffsets(table).length !== 1) return undefined;
      return listValues(table).flatMap((values, k) => (values.some((v) => v !== null &&
        inRange(Array.isArray(v) ? (v as Uint8Array[])[0]! : v as bigint, range)) ? [k] : []));
    }
    case "HASH": {
      if (expr === null || !expr.identity || range.lo === null || range.hi === null) {
        return undefined;
      }
      const lo = range.lo.v as bigint;
      const hi = range.hi.v as bigint;
      if (hi < lo) return [];
      if (hi - lo >= BigInt(hashRangeMax)) return undefined;
      const out = new Set<number>();
      const column = table.columns[offset]!;
      for (let v = lo; v <= hi; v++) {
        const row: Value[] = table.columns.map(() => null);
        row[offset] = column.type.unsigned ? { kind: "uint", value: v } : { kind: "int", value: v };
        const k = partitionOf(table, row);
        if (k !== null) out.add(k);
      }
      return [...out].sort((a, b) => a - b);
    }
    case "KEY":
      return undefined;
  }
}

function intersect(a: readonly number[], b: readonly number[]): number[] {
  return a.filter((k) => b.includes(k));
}

/**
 * The positions (ascending) of the partitions of `table` that rows satisfying every one
 * of `conjuncts` can be in.
 */
export function prunePartitions(table: TableInfo, conjuncts: readonly AstExpr[],
  r: PruneResolver): number[] {
  if (table.partition === undefined) return [];
  let kept = all(table);
  const facts: Fact[] = [];
  for (const c of conjuncts.flatMap(conjunctsOf)) {
    const fact = factOf(c, r);
    if (fact !== null) facts.push(fact);
    else if (c.kind === "binary" && c.op === "OR") {
      const union = new Set<number>();
      for (const branch of disjunctsOf(c)) {
        for (const k of prunePartitions(table, [branch], r)) union.add(k);
      }
      kept = intersect(kept, [...union].sort((a, b) => a - b));
    }
  }
  const offsets = partitionOffsets(table);
  const points = new Map<number, readonly Value[]>();
  for (const f of facts) {
    if (f.kind !== "points") continue;
    const known = points.get(f.offset);
    // Two point sets on one column: the smaller (either holds every match).
    if (known === undefined || f.values.length < known.length) points.set(f.offset, f.values);
  }
  if (offsets.length === 1) {
    // One partitioning column: every point set on it narrows (`id = 5 AND id = 15`).
    for (const f of facts) {
      if (f.kind !== "points" || f.offset !== offsets[0]) continue;
      const got = pointPartitions(table, offsets, new Map([[f.offset, f.values]]));
      if (got !== undefined) kept = intersect(kept, got);
    }
  } else if (offsets.every((o) => points.has(o))) {
    const got = pointPartitions(table, offsets, points);
    if (got !== undefined) kept = intersect(kept, got);
  }
  const ranged = rangePartitions(table, facts);
  if (ranged !== undefined) kept = intersect(kept, ranged);
  return kept;
}
