/**
 * Secondary-index access paths: a range of an integer column read through an index whose
 * first column it is, instead of a full table scan.
 *
 * Only what is simple to get exactly right is used: a public index (state absent or
 * `public`) led by a signed or unsigned integer column, bounded by comparisons with
 * numeric values (`c = v`, `c < v`, `c <= v`, `c > v`, `c >= v`, `c BETWEEN v AND w`).
 * A bound from a DECIMAL or DOUBLE is rounded to the integers it admits (`c > 2.5` is
 * `c >= 3`); a NULL bound admits nothing; a string bound is not used (MySQL compares a
 * string with an integer as doubles, which a key range cannot express), and the table
 * is scanned. The rows are fetched by handle in handle order, so a query sees them in
 * the order a scan would give, and every WHERE conjunct is still evaluated on them.
 *
 * The same bounds on a clustered integer primary key (the row handle) read a range of
 * row keys directly: no index and no lookup (`handleKeyRange`).
 */
import { prefixNext } from "../../codec/mod.ts";
import { type Value, toDouble } from "../../expr/mod.ts";
import type { CompareOp } from "../parser/ast.ts";
import { type IndexInfo, type TableInfo, intRange } from "../catalog/schema.ts";
import { indexEntry, rowKey, rowRange } from "../table/table.ts";

/** An inclusive integer range; `lo > hi` is empty. */
export interface IntRange {
  readonly lo: bigint;
  readonly hi: bigint;
}

/** The public index led by integer column `offset`, if the table has one. */
export function indexLedBy(table: TableInfo, offset: number): IndexInfo | undefined {
  const column = table.columns[offset];
  if (column === undefined || column.type.kind !== "int") return undefined;
  if (column.state !== undefined && column.state !== "public") return undefined;
  return table.indexes.find((index) => (index.state === undefined || index.state === "public") &&
    index.columns[0] === offset);
}

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
export function handleKeyRange(table: TableInfo, range: IntRange):
  { start: Uint8Array; end: Uint8Array } | null {
  const lo = range.lo > int64Min ? range.lo : int64Min;
  const hi = range.hi < int64Max ? range.hi : int64Max;
  if (lo > hi) return null;
  return { start: rowKey(table, lo), end: hi === int64Max ? rowRange(table).end
    : rowKey(table, hi + 1n) };
}

/** The start and end keys of `range` of the index's first column (clamped to its type). */
export function indexKeyRange(table: TableInfo, index: IndexInfo, range: IntRange):
  { start: Uint8Array; end: Uint8Array } | null {
  const offset = index.columns[0]!;
  const column = table.columns[offset]!;
  const limits = intRange(column.type);
  const lo = range.lo > limits.min ? range.lo : limits.min;
  const hi = range.hi < limits.max ? range.hi : limits.max;
  if (lo > hi) return null;
  const prefix = { ...index, columns: [offset], unique: true };
  const keyOf = (n: bigint): Uint8Array => {
    const values: Value[] = table.columns.map(() => null);
    values[offset] = column.type.unsigned ? { kind: "uint", value: n } : { kind: "int", value: n };
    return indexEntry(table, prefix, { values, handle: 0n }).key;
  };
  return { start: keyOf(lo), end: prefixNext(keyOf(hi)) };
}
