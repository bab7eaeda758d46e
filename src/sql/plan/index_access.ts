/**
 * Access paths of a base table: which key ranges of an index (or of the clustered integer
 * primary key, the row handle) hold every row a WHERE clause can admit, and which path to
 * read — a range of the handle, a range of an index then the rows by handle, or the
 * whole table — chosen by estimated cost from the table's statistics (`../stats`).
 *
 * Conjuncts of the form `col op constant` (`=`, `<`, `<=`, `>`, `>=`, BETWEEN, IN,
 * IS NULL, `LIKE 'abc%'`) become *items* of their column (`collectItems`). When the query
 * runs, each item's constant is evaluated and turned into intervals of the column's
 * encoded key values (`itemIntervals`), exactly as the evaluator compares:
 * - integer columns: numeric constants, a DECIMAL or DOUBLE bound rounded to the integers
 *   it admits (`c > 2.5` is `c >= 3`), clamped to the column type;
 * - DOUBLE/FLOAT columns: numeric constants, compared as doubles;
 * - DECIMAL columns: integer and decimal constants (exact); a DOUBLE compares as doubles
 *   and is not used;
 * - strings (the index key is the column collation's sort key): string constants whose
 *   comparison with the column is under that collation (index_collation.ts), and a LIKE
 *   prefix as the range of sort keys starting with the prefix's sort key;
 * - DATE/DATETIME: DATETIME constants exactly; a string constant starting with a
 *   `YYYY-MM-DD` date (the evaluator compares it with the column's text) widened to that
 *   whole day, which always holds the boundary of the textual comparison;
 * - any column: IS NULL.
 * A string against a number, NULL, and anything else admit no range and leave the column
 * unconstrained (never wrong: only a superset of the rows is read). The items of a column
 * intersect; IN is a union of points. On an index, leading columns pinned to points
 * (`=`, IN, IS NULL) extend the key prefix and the next column's intervals bound it
 * (`a = 1 AND b > 5` on `(a, b)`). Every WHERE conjunct is still evaluated on the rows
 * read, and rows are returned in handle order, as a scan gives them.
 */
import { type Collation, KeyReader, KeyWriter, generalCiCollation, indexPrefixBytes,
  prefixNext } from "../../codec/mod.ts";
import { keyCollationMatches, keyCollationOf } from "./index_collation.ts";
import { type EvalContext, type Expr, type Value, evaluate, toDouble } from "../../expr/mod.ts";
import type { CompareOp, Expr as AstExpr } from "../parser/ast.ts";
import { type IndexInfo, type TableInfo, intRange, isPublic } from "../catalog/schema.ts";
import { indexEntry, rowKey, rowRange } from "../table/table.ts";
import { type Interval, type TableStats, estimateIntervals } from "../stats/mod.ts";

/** An inclusive integer range; `lo > hi` is empty. */
export interface IntRange {
  readonly lo: bigint;
  readonly hi: bigint;
}

/** A range of keys, end exclusive. */
export interface KeyRange {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
}

/** What a conjunct says about one column. */
export type ColumnItem =
  | { readonly kind: "cmp"; readonly op: "=" | "<" | "<=" | ">" | ">="; readonly value: Expr;
    /** BETWEEN's other bound: it takes part in the comparison's collation. */
    readonly peer?: Expr }
  | { readonly kind: "in"; readonly values: readonly Expr[] }
  | { readonly kind: "null" }
  | { readonly kind: "like"; readonly pattern: Expr; readonly escape: Expr | null };

/** A candidate path: an index (null: the clustered handle) whose first column has items. */
export interface AccessPath {
  readonly index: IndexInfo | null;
}

/** A base table's items and candidate paths, from planning. */
export interface AccessPlan {
  readonly table: TableInfo;
  readonly items: ReadonlyMap<number, readonly ColumnItem[]>;
  readonly paths: readonly AccessPath[];
}

/** How one run reads the table. */
export type Access =
  | { readonly kind: "scan"; readonly estRows: number | null }
  | { readonly kind: "empty" }
  | {
      readonly kind: "range";
      readonly index: IndexInfo | null;
      readonly ranges: readonly KeyRange[];
      /** Estimated rows read, null without statistics. */
      readonly estRows: number | null;
    };

/** Key ranges a path may read at most (an IN list times another); past it, fewer columns. */
const rangesMax = 4096;

/** Cost of reading one row by a scan of row keys (table scan, handle range). */
const scanRowCost = 1;
/** Cost of one row through an index: its entry, then the row by handle. */
const lookupRowCost = 3;
/** Cost of starting one range read. */
const rangeCost = 2;

const flipped: Partial<Record<string, "=" | "<" | "<=" | ">" | ">=">> = { "=": "=", "<": ">",
  "<=": ">=", ">": "<", ">=": "<=" };

/**
 * The items of `asts` (WHERE conjuncts) per column offset. `columnOffset` says which
 * column of the table an AST is (undefined: not one); `constant` compiles an AST that
 * reads no column of the table (undefined when it does).
 */
export function collectItems(asts: readonly AstExpr[],
  columnOffset: (ast: AstExpr) => number | undefined,
  constant: (ast: AstExpr) => Expr | undefined): Map<number, ColumnItem[]> {
  const byOffset = new Map<number, ColumnItem[]>();
  const add = (offset: number, item: ColumnItem): void => {
    const list = byOffset.get(offset) ?? [];
    list.push(item);
    byOffset.set(offset, list);
  };
  for (const ast of asts) {
    if (ast.kind === "binary" && flipped[ast.op] !== undefined) {
      const left = columnOffset(ast.left);
      const right = left === undefined ? columnOffset(ast.right) : undefined;
      const value = left !== undefined ? constant(ast.right)
        : right !== undefined ? constant(ast.left) : undefined;
      if (value === undefined) continue;
      if (left !== undefined) add(left, { kind: "cmp", op: ast.op as "=", value });
      else add(right!, { kind: "cmp", op: flipped[ast.op]!, value });
    } else if (ast.kind === "between" && !ast.not) {
      const offset = columnOffset(ast.operand);
      const low = offset === undefined ? undefined : constant(ast.low);
      const high = offset === undefined ? undefined : constant(ast.high);
      if (low === undefined || high === undefined) continue;
      add(offset!, { kind: "cmp", op: ">=", value: low, peer: high });
      add(offset!, { kind: "cmp", op: "<=", value: high, peer: low });
    } else if (ast.kind === "in" && !ast.not && ast.list.length <= rangesMax) {
      const offset = columnOffset(ast.operand);
      if (offset === undefined) continue;
      const values: Expr[] = [];
      for (const e of ast.list) {
        const v = constant(e);
        if (v === undefined) break;
        values.push(v);
      }
      if (values.length === ast.list.length) add(offset, { kind: "in", values });
    } else if (ast.kind === "is" && ast.value === "NULL" && !ast.not) {
      const offset = columnOffset(ast.operand);
      if (offset !== undefined) add(offset, { kind: "null" });
    } else if (ast.kind === "like" && !ast.not) {
      const offset = columnOffset(ast.operand);
      const pattern = offset === undefined ? undefined : constant(ast.pattern);
      const escape = ast.escape === null ? null : constant(ast.escape);
      if (pattern !== undefined && escape !== undefined) {
        add(offset!, { kind: "like", pattern, escape });
      }
    }
  }
  return byOffset;
}

/** The candidate paths of `table` for `items`; undefined when there is none. */
export function planAccess(table: TableInfo, items: ReadonlyMap<number, readonly ColumnItem[]>):
  AccessPlan | undefined {
  const paths: AccessPath[] = [];
  if (table.pkHandle !== null && items.has(table.pkHandle) && handleRangeable(table)) {
    paths.push({ index: null });
  }
  for (const index of table.indexes) {
    const first = index.columns[0];
    if (!isPublic(index) || first === undefined || !items.has(first)) continue;
    if (!index.columns.every((o) => isPublic(table.columns[o] ?? {}))) continue;
    paths.push({ index });
  }
  return paths.length === 0 ? undefined : { table, items, paths };
}

// ---- integer bounds -------------------------------------------------------------------------

function floorOf(x: number): bigint {
  return BigInt(Math.floor(x));
}

function ceilOf(x: number): bigint {
  return BigInt(Math.ceil(x));
}

/**
 * The range `column op value` admits, `null` when it admits nothing, or undefined when
 * the value cannot bound a key range (a string, a non-finite double).
 */
export function boundOf(op: CompareOp, value: Value): IntRange | null | undefined {
  const min = -(2n ** 64n);
  const max = 2n ** 64n;
  if (value === null) return null;
  let exact: bigint | undefined;
  let real: number | undefined;
  switch (value.kind) {
    case "int":
    case "uint":
      exact = value.value;
      break;
    case "decimal": {
      const unit = 10n ** BigInt(value.scale);
      if (value.unscaled % unit === 0n) exact = value.unscaled / unit;
      else real = toDouble(value, () => {}) ?? undefined;
      break;
    }
    case "double":
      if (!Number.isFinite(value.value)) return undefined;
      if (Number.isInteger(value.value) && Math.abs(value.value) < 2 ** 53) {
        exact = BigInt(value.value);
      } else {
        real = value.value;
      }
      break;
    default:
      return undefined;
  }
  if (exact === undefined && (real === undefined || !Number.isFinite(real))) return undefined;
  switch (op) {
    case "=":
      return exact === undefined ? null : { lo: exact, hi: exact };
    case ">":
      return { lo: exact !== undefined ? exact + 1n : floorOf(real!) + 1n, hi: max };
    case ">=":
      return { lo: exact ?? ceilOf(real!), hi: max };
    case "<":
      return { lo: min, hi: exact !== undefined ? exact - 1n : ceilOf(real!) - 1n };
    case "<=":
      return { lo: min, hi: exact ?? floorOf(real!) };
    default:
      return undefined;
  }
}

/** The intersection of two ranges. */
export function intersect(a: IntRange, b: IntRange): IntRange {
  return { lo: a.lo > b.lo ? a.lo : b.lo, hi: a.hi < b.hi ? a.hi : b.hi };
}

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

/**
 * Whether the table's rows can be read by a range of their handle: a clustered integer
 * primary key whose values are the handles in the same order (an unsigned BIGINT above
 * 2^63 - 1 wraps to a negative handle, so it cannot).
 */
export function handleRangeable(table: TableInfo): boolean {
  if (table.pkHandle === null) return false;
  const column = table.columns[table.pkHandle];
  return column !== undefined && column.type.kind === "int" &&
    intRange(column.type).max <= int64Max;
}

/** The row keys of handles in `range`, or null when it is empty. */
export function handleKeyRange(table: TableInfo, range: IntRange): KeyRange | null {
  const lo = range.lo > int64Min ? range.lo : int64Min;
  const hi = range.hi < int64Max ? range.hi : int64Max;
  if (lo > hi) return null;
  return { start: rowKey(table, lo), end: hi === int64Max ? rowRange(table).end
    : rowKey(table, hi + 1n) };
}

// ---- encoded intervals ----------------------------------------------------------------------

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** The key encoding of a non-null `value` of column `offset`, as its index entries hold it. */
export function encodeColumnValue(table: TableInfo, offset: number, value: Value): Uint8Array {
  const values: Value[] = table.columns.map(() => null);
  values[offset] = value;
  const probe: IndexInfo = { id: 1, name: "", unique: true, primary: false, columns: [offset] };
  return indexEntry(table, probe, { values, handle: 0n }).key.subarray(indexPrefixBytes);
}

const nullKey = Uint8Array.of(0x00);
/** The smallest encoding of a non-NULL value (every flag but NULL's is at least 1). */
const notNullLow = Uint8Array.of(0x01);

function point(encoded: Uint8Array): Interval {
  return { lo: encoded, hi: prefixNext(encoded), point: true };
}

function sameInterval(a: Interval, b: Interval): boolean {
  return compare(a.lo, b.lo) === 0 && (a.hi === null ? b.hi === null
    : b.hi !== null && compare(a.hi, b.hi) === 0);
}

function intersectInterval(a: Interval, b: Interval): Interval | null {
  const lo = compare(a.lo, b.lo) >= 0 ? a.lo : b.lo;
  const hi = a.hi === null ? b.hi : b.hi === null ? a.hi : compare(a.hi, b.hi) <= 0 ? a.hi : b.hi;
  if (hi !== null && compare(lo, hi) >= 0) return null;
  const out = { lo, hi, point: false };
  return { ...out, point: (a.point && sameInterval(out, a)) || (b.point && sameInterval(out, b)) };
}

/** Sorted, disjoint intervals covering the union of `list`. */
export function unionIntervals(list: readonly Interval[]): Interval[] {
  const sorted = [...list].sort((a, b) => compare(a.lo, b.lo));
  const out: Interval[] = [];
  for (const next of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && (last.hi === null || compare(next.lo, last.hi) < 0 ||
      (compare(next.lo, last.hi) === 0 && !(last.point && next.point)))) {
      if (last.point && next.point && sameInterval(last, next)) continue;
      const hi = last.hi === null || next.hi === null ? null
        : compare(last.hi, next.hi) >= 0 ? last.hi : next.hi;
      out[out.length - 1] = { lo: last.lo, hi, point: false };
    } else {
      out.push(next);
    }
  }
  return out;
}

/** The intersection of two interval sets. */
export function intersectIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const x of a) {
    for (const y of b) {
      const i = intersectInterval(x, y);
      if (i !== null) out.push(i);
    }
  }
  return unionIntervals(out);
}

/** How the evaluator's comparisons of a column can be bounded by its key. */
type RangeKind = "int" | "double" | "decimal" | "string" | "date" | null;

function rangeKindOf(table: TableInfo, offset: number): RangeKind {
  const type = table.columns[offset]?.type;
  switch (type?.kind) {
    case "int":
      return "int";
    case "double":
      return "double";
    case "decimal":
      return "decimal";
    case "string":
      return "string";
    case "date":
    case "datetime":
      return "date";
    default:
      return null;
  }
}

function compareInterval(op: "=" | "<" | "<=" | ">" | ">=", encoded: Uint8Array): Interval {
  switch (op) {
    case "=":
      return point(encoded);
    case "<":
      return { lo: notNullLow, hi: encoded, point: false };
    case "<=":
      return { lo: notNullLow, hi: prefixNext(encoded), point: false };
    case ">":
      return { lo: prefixNext(encoded), hi: null, point: false };
    case ">=":
      return { lo: encoded, hi: null, point: false };
  }
}

function dateTimeOf(year: number, month: number, day: number, end: boolean): Value {
  return { kind: "datetime", fsp: 6, value: { year, month, day, hour: end ? 23 : 0,
    minute: end ? 59 : 0, second: end ? 59 : 0, microsecond: end ? 999_999 : 0 } };
}

/** The intervals of `column op value`; undefined when the value cannot bound the key. */
function compareIntervals(table: TableInfo, offset: number, op: "=" | "<" | "<=" | ">" | ">=",
  value: Value): Interval[] | undefined {
  if (value === null) return [];
  const kind = rangeKindOf(table, offset);
  const enc = (v: Value): Uint8Array => encodeColumnValue(table, offset, v);
  switch (kind) {
    case "int": {
      const bound = boundOf(op, value);
      if (bound === undefined) return undefined;
      if (bound === null) return [];
      const column = table.columns[offset]!;
      const limits = intRange(column.type);
      const lo = bound.lo > limits.min ? bound.lo : limits.min;
      const hi = bound.hi < limits.max ? bound.hi : limits.max;
      if (lo > hi) return [];
      const of = (n: bigint): Value => (column.type.unsigned ? { kind: "uint", value: n }
        : { kind: "int", value: n });
      const loKey = enc(of(lo));
      return [lo === hi ? point(loKey) : { lo: loKey, hi: prefixNext(enc(of(hi))), point: false }];
    }
    case "double": {
      if (value.kind === "string" || value.kind === "datetime") return undefined;
      const d = toDouble(value, () => {});
      if (d === null || !Number.isFinite(d)) return undefined;
      return [compareInterval(op, enc({ kind: "double", value: d }))];
    }
    case "decimal":
      if (value.kind !== "int" && value.kind !== "uint" && value.kind !== "decimal") {
        return undefined;
      }
      return [compareInterval(op, enc(value.kind === "decimal" ? value
        : { kind: "decimal", unscaled: value.value, scale: 0 }))];
    case "string":
      return value.kind === "string" ? [compareInterval(op, enc(value))] : undefined;
    case "date": {
      if (value.kind === "datetime") return [compareInterval(op, enc(value))];
      if (value.kind !== "string") return undefined;
      const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value.value);
      if (m === null) return undefined;
      // The evaluator compares the column's text with the string: the boundary lies in
      // the day the string starts with, so the whole day is kept on the boundary's side.
      const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
      const first = enc(dateTimeOf(y, mo, d, false));
      const last = prefixNext(enc(dateTimeOf(y, mo, d, true)));
      switch (op) {
        case "=":
          return [{ lo: first, hi: last, point: false }];
        case "<":
        case "<=":
          return [{ lo: notNullLow, hi: last, point: false }];
        default:
          return [{ lo: first, hi: null, point: false }];
      }
    }
    default:
      return undefined;
  }
}

/** The sort-key prefix every match of LIKE `pattern` starts with; undefined if none. */
export function likePrefix(pattern: string, escape: string | null,
  collation: Collation = generalCiCollation): Uint8Array | undefined {
  const chars = [...pattern];
  let prefix = "";
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (escape !== null && c === escape && i + 1 < chars.length) {
      prefix += chars[++i]!;
    } else if (c === "%" || c === "_") {
      break;
    } else {
      prefix += c;
    }
  }
  const key = collation.sortKey(prefix);
  return key.length === 0 ? undefined : key;
}

function bytesKey(bytes: Uint8Array): Uint8Array {
  return new KeyWriter().write({ kind: "bytes", value: bytes }).finish();
}

/** The intervals one item admits on this run, or undefined when it cannot narrow the key. */
export function itemIntervals(table: TableInfo, offset: number, item: ColumnItem,
  ctx: EvalContext): Interval[] | undefined {
  const column = table.columns[offset];
  const compared = item.kind === "cmp" ? [item.value, ...(item.peer === undefined ? []
    : [item.peer])] : item.kind === "in" ? item.values
    : item.kind === "like" ? [item.pattern] : [];
  if (column !== undefined && !keyCollationMatches(column, compared)) return undefined;
  switch (item.kind) {
    case "null":
      return [point(nullKey)];
    case "cmp":
      return compareIntervals(table, offset, item.op, evaluate(item.value, ctx));
    case "in": {
      const all: Interval[] = [];
      for (const e of item.values) {
        const got = compareIntervals(table, offset, "=", evaluate(e, ctx));
        if (got === undefined) return undefined;
        all.push(...got);
      }
      return unionIntervals(all);
    }
    case "like": {
      if (rangeKindOf(table, offset) !== "string") return undefined;
      const pattern = evaluate(item.pattern, ctx);
      const escapeValue = item.escape === null ? { kind: "string", value: "\\" } as const
        : evaluate(item.escape, ctx);
      if (pattern === null) return [];
      if (pattern.kind !== "string" || escapeValue === null || escapeValue.kind !== "string") {
        return undefined;
      }
      const key = likePrefix(pattern.value, [...escapeValue.value][0] ?? null,
        keyCollationOf(table.columns[offset]!));
      if (key === undefined) return undefined;
      const next = prefixNext(key);
      return [{ lo: bytesKey(key), hi: next.length === 0 ? null : bytesKey(next),
        point: false }];
    }
  }
}

/** The intervals of column `offset` on this run: its items intersected (undefined: all). */
function columnIntervals(table: TableInfo, offset: number, items: readonly ColumnItem[],
  ctx: EvalContext): Interval[] | undefined {
  let set: Interval[] | undefined;
  for (const item of items) {
    const got = itemIntervals(table, offset, item, ctx);
    if (got === undefined) continue;
    set = set === undefined ? got : intersectIntervals(set, got);
  }
  return set;
}

/** A path's ranges on this run: relative to the index (for estimates) and as keys. */
export interface PathRanges {
  /** Ranges of encoded index values (no index prefix, no handle). */
  readonly intervals: readonly Interval[];
  readonly keys: readonly KeyRange[];
  /** Whether every index column is pinned to a point (an equality lookup). */
  readonly full: boolean;
}

/** The ranges of an index path on this run: null when empty, undefined when unusable. */
export function indexRanges(table: TableInfo, index: IndexInfo,
  items: ReadonlyMap<number, readonly ColumnItem[]>, ctx: EvalContext):
  PathRanges | null | undefined {
  let prefixes: Uint8Array[] = [new Uint8Array(0)];
  let tail: Interval[] | null = null;
  let pinned = 0;
  for (const offset of index.columns) {
    const columnItems = items.get(offset);
    const set = columnItems === undefined ? undefined
      : columnIntervals(table, offset, columnItems, ctx);
    if (set === undefined) break;
    if (set.length === 0) return null;
    if (set.every((i) => i.point) && prefixes.length * set.length <= rangesMax) {
      prefixes = prefixes.flatMap((p) => set.map((i) => concat(p, i.lo)));
      pinned++;
      continue;
    }
    if (prefixes.length * set.length <= rangesMax) tail = set;
    break;
  }
  if (pinned === 0 && tail === null) return undefined;
  const intervals: Interval[] = [];
  for (const p of prefixes) {
    if (tail === null) {
      const hi = prefixNext(p);
      intervals.push({ lo: p, hi: hi.length === 0 ? null : hi,
        point: pinned === index.columns.length });
      continue;
    }
    for (const t of tail) {
      const hi = t.hi !== null ? concat(p, t.hi) : p.length === 0 ? null : prefixNext(p);
      intervals.push({ lo: concat(p, t.lo), hi: hi !== null && hi.length === 0 ? null : hi,
        point: false });
    }
  }
  const prefix = encodeIndexPrefix(table, index);
  const end = prefixNext(prefix);
  const keys = intervals.map((i) => ({ start: concat(prefix, i.lo),
    end: i.hi === null ? end : concat(prefix, i.hi) }));
  return { intervals, keys, full: tail === null && pinned === index.columns.length };
}

function encodeIndexPrefix(table: TableInfo, index: IndexInfo): Uint8Array {
  const values: Value[] = table.columns.map(() => null);
  const probe: IndexInfo = { ...index, columns: [] };
  return indexEntry(table, probe, { values, handle: 0n }).key.subarray(0, indexPrefixBytes);
}

function intersectIntSets(a: readonly IntRange[], b: readonly IntRange[]): IntRange[] {
  const out: IntRange[] = [];
  for (const x of a) {
    for (const y of b) {
      const i = intersect(x, y);
      if (i.lo <= i.hi) out.push(i);
    }
  }
  out.sort((x, y) => (x.lo < y.lo ? -1 : x.lo > y.lo ? 1 : 0));
  const merged: IntRange[] = [];
  for (const r of out) {
    const last = merged[merged.length - 1];
    if (last !== undefined && r.lo <= last.hi + 1n) {
      merged[merged.length - 1] = { lo: last.lo, hi: r.hi > last.hi ? r.hi : last.hi };
    } else {
      merged.push(r);
    }
  }
  return merged;
}

function itemIntRanges(item: ColumnItem, ctx: EvalContext): IntRange[] | undefined {
  switch (item.kind) {
    case "null":
      return [];
    case "cmp": {
      const bound = boundOf(item.op, evaluate(item.value, ctx));
      return bound === undefined ? undefined : bound === null ? [] : [bound];
    }
    case "in": {
      const all: IntRange[] = [];
      for (const e of item.values) {
        const bound = boundOf("=", evaluate(e, ctx));
        if (bound === undefined) return undefined;
        if (bound !== null) all.push(bound);
      }
      return intersectIntSets(all, [{ lo: -(2n ** 64n), hi: 2n ** 64n }]);
    }
    case "like":
      return undefined;
  }
}

/** The ranges of the clustered handle on this run: null when empty, undefined unusable. */
export function handleRanges(table: TableInfo, items: ReadonlyMap<number, readonly ColumnItem[]>,
  ctx: EvalContext): PathRanges | null | undefined {
  const pk = table.pkHandle;
  const columnItems = pk === null ? undefined : items.get(pk);
  if (pk === null || columnItems === undefined) return undefined;
  let set: IntRange[] | undefined;
  for (const item of columnItems) {
    const got = itemIntRanges(item, ctx);
    if (got === undefined) continue;
    set = set === undefined ? got : intersectIntSets(set, got);
  }
  if (set === undefined) return undefined;
  const column = table.columns[pk]!;
  const limits = intRange(column.type);
  const clamped = intersectIntSets(set, [{ lo: limits.min, hi: limits.max }]);
  if (clamped.length === 0) return null;
  if (clamped.length > rangesMax) return undefined;
  const of = (n: bigint): Value => (column.type.unsigned ? { kind: "uint", value: n }
    : { kind: "int", value: n });
  // Only estimates read the intervals: built on first use.
  let intervals: Interval[] | undefined;
  const keys = clamped.map((r) => handleKeyRange(table, r)).filter((k) => k !== null);
  return {
    get intervals(): Interval[] {
      intervals ??= clamped.map((r) => {
        const lo = encodeColumnValue(table, pk, of(r.lo));
        return { lo, hi: prefixNext(encodeColumnValue(table, pk, of(r.hi))),
          point: r.lo === r.hi };
      });
      return intervals;
    },
    keys,
    full: clamped.every((r) => r.lo === r.hi),
  };
}

/**
 * Estimated rows of a path's ranges from the table's statistics; null without them (or
 * without statistics of that index). Exported for EXPLAIN.
 */
export function estimateRows(stats: TableStats | undefined, table: TableInfo,
  index: IndexInfo | null, ranges: PathRanges): number | null {
  if (stats === undefined) return null;
  const histogram = index === null
    ? stats.columns.get(table.columns[table.pkHandle ?? -1]?.id ?? -1)
    : stats.indexes.get(index.id);
  if (histogram === undefined) return null;
  return estimateIntervals(histogram, ranges.intervals, { unique: index === null ||
    (index.unique && ranges.full) });
}

/**
 * The access of one run: the cheapest path by estimated cost with statistics; without
 * them the clustered handle, else the index pinning the most columns (as a rule, a range
 * read beats a scan).
 */
export function chooseAccess(plan: AccessPlan, ctx: EvalContext,
  stats: TableStats | undefined): Access {
  const table = plan.table;
  const only = plan.paths.length === 1 ? plan.paths[0]! : undefined;
  if (only?.index === null) {
    // Only the clustered handle bounds the rows: one range of it reads a part of what a
    // scan reads, in the same order, so it wins whatever the estimates (not computed).
    const ranges = handleRanges(table, plan.items, ctx);
    if (ranges === null) return { kind: "empty" };
    if (ranges !== undefined && ranges.keys.length === 1) {
      return { kind: "range", index: null, ranges: ranges.keys, estRows: null };
    }
  }
  let best: { index: IndexInfo | null; ranges: PathRanges; cost: number; est: number | null;
    depth: number } | undefined;
  for (const path of plan.paths) {
    const ranges = path.index === null ? handleRanges(table, plan.items, ctx)
      : indexRanges(table, path.index, plan.items, ctx);
    if (ranges === null) return { kind: "empty" };
    if (ranges === undefined) continue;
    const est = estimateRows(stats, table, path.index, ranges);
    const perRow = path.index === null ? scanRowCost : lookupRowCost;
    const cost = est === null ? Number.POSITIVE_INFINITY
      : est * perRow + ranges.keys.length * rangeCost;
    // Without estimates: the handle first, then the path pinning the most key bytes.
    const depth = path.index === null ? Number.POSITIVE_INFINITY
      : Math.max(...ranges.intervals.map((i) => i.lo.length));
    if (best === undefined || cost < best.cost ||
      (cost === best.cost && depth > best.depth)) {
      best = { index: path.index, ranges, cost, est, depth };
    }
  }
  if (best === undefined) return { kind: "scan", estRows: stats?.count ?? null };
  if (stats !== undefined && best.est !== null &&
    stats.count * scanRowCost + rangeCost < best.cost) {
    return { kind: "scan", estRows: stats.count };
  }
  return { kind: "range", index: best.index, ranges: best.ranges.keys, estRows: best.est };
}

/** Bytes of a row key before the handle: 't', table id, "_r". */
const recordPrefixBytes = 11;

/** Whether `bytes` holds exactly `count` whole encoded values. */
function holdsValues(bytes: Uint8Array, count: number): boolean {
  try {
    const reader = new KeyReader(bytes);
    for (let i = 0; i < count; i++) {
      if (reader.done) return false;
      reader.read();
    }
    return reader.done;
  } catch {
    return false;
  }
}

/**
 * Estimated rows of key ranges as the executor reads them (`readIndex` / `scanRows` of a
 * `PlanEnv`: ranges of `index`, or of row keys when null) from the table's statistics;
 * null without them. For EXPLAIN, which sees the reads and not the plan's intervals.
 */
export function estimateKeyRanges(stats: TableStats | undefined, table: TableInfo,
  index: IndexInfo | null, keys: readonly KeyRange[]): number | null {
  if (stats === undefined) return null;
  const intervals: Interval[] = [];
  for (const k of keys) {
    if (index === null) {
      // A handle's 8 bytes are an int datum's body (its flag, 3, before them); an unsigned
      // column's values are uint datums (flag 4), without the sign bit flipped.
      const unsigned = table.columns[table.pkHandle ?? -1]?.type.unsigned === true;
      const body = (key: Uint8Array): Uint8Array => {
        const out = concat(Uint8Array.of(unsigned ? 0x04 : 0x03), key.subarray(recordPrefixBytes));
        if (unsigned) out[1]! ^= 0x80;
        return out;
      };
      const lo = body(k.start);
      const endIsLast = k.end.length !== k.start.length;
      const hi = endIsLast ? null : body(k.end);
      intervals.push({ lo, hi, point: hi !== null && compare(prefixNext(lo), hi) === 0 });
      continue;
    }
    const lo = k.start.subarray(indexPrefixBytes);
    const endKey = k.end.subarray(indexPrefixBytes);
    const sameIndex = compare(k.end.subarray(0, indexPrefixBytes),
      k.start.subarray(0, indexPrefixBytes)) === 0;
    const hi = sameIndex && endKey.length > 0 ? endKey : null;
    const point = hi !== null && compare(prefixNext(lo), hi) === 0 &&
      holdsValues(lo, index.columns.length);
    intervals.push({ lo, hi, point });
  }
  const full = intervals.every((i) => i.point);
  return estimateRows(stats, table, index, { intervals, keys, full });
}
