/**
 * A table's rows and index entries as KV pairs (DESIGN "Data model"): the row of handle h
 * lives at `t{tableId}_r{h}` (row codec value); a unique index entry is
 * `t{tableId}_i{indexId}{values}` → the handle (8 bytes), a non-unique one is
 * `t{tableId}_i{indexId}{values}{handle}` → empty. A unique index entry with a NULL value
 * carries the handle in its key too, since NULLs never collide (as MySQL and TiDB).
 *
 * Also here: converting a value to a column's type as INSERT and UPDATE store it, with
 * MySQL's strict-mode errors (1048, 1264, 1366, 1406). BLOB and BINARY values are kept as
 * strings until `expr` has a byte-string value. Pure: no I/O.
 */
import { indexId, tableId } from "../../base/mod.ts";
import {
  type KeyDatum,
  encodeIndexKey,
  encodeRowKey,
  generalCiCollation,
  recordPrefix,
  utf8mb4BinCollation,
  prefixNext,
} from "../../codec/mod.ts";
/** The handle of a row key (src/codec/table_key.ts). */
export { handleOfRowKey } from "../../codec/mod.ts";
import {
  type Value,
  buildCast,
  decodeRow,
  decodeRowInto,
  encodeRow,
  evaluate,
  toCodecDecimal,
  toText,
  valueConstant,
} from "../../expr/mod.ts";
import type { EvalContext } from "../../expr/mod.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import { readStoredValue, storeTypedValue } from "./typed_store.ts";
import { type ColumnInfo, type IndexInfo, type TableInfo, intRange } from "../catalog/schema.ts";

/** The row key of `handle`. */
export function rowKey(table: TableInfo, handle: bigint): Uint8Array {
  return encodeRowKey(tableId(table.id), handle);
}

/** The key range of all rows of `table`. */
export function rowRange(table: TableInfo): { start: Uint8Array; end: Uint8Array } {
  const start = recordPrefix(tableId(table.id));
  return { start, end: prefixNext(start) };
}

/** The value under a row key. */
export function encodeRowValue(table: TableInfo, values: readonly Value[]): Uint8Array {
  return encodeRow(table.columns.map((c) => c.id), values);
}

/**
 * A stored row as values in column order; a column the row lacks (added after it was
 * written) reads as the column's origin default, NULL when it has none.
 */
export function decodeRowValue(table: TableInfo, bytes: Uint8Array): Value[] {
  const columns = table.columns;
  const out = new Array<Value | undefined>(columns.length).fill(undefined);
  decodeRowInto(bytes, slotsOf(columns), out);
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]!;
    const value = out[i];
    // A DATE reads as a date (the row codec keeps only the DATETIME fields), a TIMESTAMP
    // as UTC, ENUM, SET, TIME and JSON texts with their tags (typed_store.ts).
    out[i] = readStoredValue(c, value === undefined ? originDefaultOf(c) : value);
  }
  return out as Value[];
}

/** Column id → position, per columns list (checked against the list on every use). */
const columnSlots = new WeakMap<readonly ColumnInfo[], { ids: number[];
  slots: ReadonlyMap<number, number> }>();

function slotsOf(columns: readonly ColumnInfo[]): ReadonlyMap<number, number> {
  const cached = columnSlots.get(columns);
  if (cached !== undefined && cached.ids.length === columns.length &&
    cached.ids.every((id, i) => columns[i]!.id === id)) return cached.slots;
  const ids = columns.map((c) => c.id);
  const slots = new Map(ids.map((id, i) => [id, i]));
  columnSlots.set(columns, { ids, slots });
  return slots;
}

const originDefaults = new WeakMap<ColumnInfo, Value>();

/** `column.originDefault` decoded (cached per column info). */
function originDefaultOf(column: ColumnInfo): Value {
  if (column.originDefault === undefined) return null;
  const cached = originDefaults.get(column);
  if (cached !== undefined) return cached;
  const bytes = Uint8Array.from(Buffer.from(column.originDefault, "hex"));
  const value = decodeRow(bytes).get(0) ?? null;
  originDefaults.set(column, value);
  return value;
}

/** The `ColumnInfo.originDefault` text of `value`. */
export function encodeOriginDefault(value: Value): string {
  return Buffer.from(encodeRow([0], [value])).toString("hex");
}

function keyDatum(column: ColumnInfo, value: Value): KeyDatum {
  if (value === null) return { kind: "null" };
  switch (value.kind) {
    case "int":
      return { kind: "int", value: value.value };
    case "uint":
      return { kind: "uint", value: value.value };
    case "double":
      return { kind: "float", value: value.value };
    case "decimal":
      return { kind: "decimal", value: toCodecDecimal(value.unscaled, value.scale) };
    case "string":
      return { kind: "string", value: value.value,
        collation: column.type.binaryCollation ? utf8mb4BinCollation : generalCiCollation };
    case "datetime": {
      // TiDB's packed time: ordered like the value and within 64 bits up to year 9999
      // (YYYYMMDDhhmmss × 10^6 overflowed for any year after 1844). A TIMESTAMP is in UTC.
      const d = value.value;
      const ymd = (BigInt(d.year) * 13n + BigInt(d.month)) << 5n | BigInt(d.day);
      const hms = BigInt(d.hour) << 12n | BigInt(d.minute) << 6n | BigInt(d.second);
      return { kind: "uint", value: (ymd << 17n | hms) << 24n | BigInt(d.microsecond) };
    }
  }
}

/** The index entry of a row: key, value, and the values that make it unique. */
export interface IndexEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  /** True when the key alone must be unique (a unique index without NULLs). */
  readonly distinct: boolean;
}

/** The entry of `index` for a row. */
export function indexEntry(
  table: TableInfo,
  index: IndexInfo,
  row: { readonly values: readonly Value[]; readonly handle: bigint },
): IndexEntry {
  const values = index.columns.map((o) => keyDatum(table.columns[o]!, row.values[o] ?? null));
  const distinct = index.unique && values.every((v) => v.kind !== "null");
  const key = encodeIndexKey({ tableId: tableId(table.id), indexId: indexId(index.id), values,
    ...(distinct ? {} : { handle: row.handle }) });
  const value = distinct ? handleBytes(row.handle) : new Uint8Array(0);
  return { key, value, distinct };
}

function handleBytes(handle: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, handle);
  return out;
}

/** The handle stored in a unique index entry. */
export function handleOfIndexValue(bytes: Uint8Array): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigInt64(0);
}

/** The `'x-y'` of MySQL's 1062 message for an index's values. */
export function duplicateText(values: readonly Value[], columns: readonly number[]): string {
  return columns.map((o) => toText(values[o] ?? null) ?? "NULL").join("-");
}

/**
 * `value` as an int64 when it is exactly one (a client may bind `2` as a DOUBLE or a
 * string); comparing an integer column with it is then plain equality.
 */
export function integralValue(value: Value): bigint | undefined {
  if (value === null) return undefined;
  let n: bigint | undefined;
  switch (value.kind) {
    case "int":
    case "uint":
      n = value.value;
      break;
    case "double":
      n = Number.isInteger(value.value) ? BigInt(value.value) : undefined;
      break;
    case "decimal":
      n = value.unscaled % 10n ** BigInt(value.scale) === 0n
        ? value.unscaled / 10n ** BigInt(value.scale) : undefined;
      break;
    case "string":
      n = /^-?\d{1,19}$/.test(value.value) ? BigInt(value.value) : undefined;
      break;
    default:
      n = undefined;
  }
  return n !== undefined && n >= -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
}

/** The handle of a row whose primary key is its handle. */
export function handleOf(value: Value): bigint {
  if (value === null || (value.kind !== "int" && value.kind !== "uint")) {
    throw new Error("integer primary key without an integer value");
  }
  return BigInt.asIntN(64, value.value);
}

/** Where a converted value goes, for error messages. */
export interface StoreTarget {
  readonly column: ColumnInfo;
  /** 1-based row number of the statement. */
  readonly row: number;
}

/**
 * `value` converted to `column`'s type as INSERT/UPDATE store it under strict SQL mode:
 * NULL into NOT NULL is 1048, out of range 1264, unconvertible 1366, too long 1406.
 */
export function storeValue(value: Value, target: StoreTarget, ctx: EvalContext): Value {
  const { column, row } = target;
  if (value === null) {
    if (!column.nullable) throw mysqlError(ER.BAD_NULL_ERROR, [column.name]);
    return null;
  }
  const t = column.type;
  const incorrect = (typeName: string): Error => mysqlError(ER.TRUNCATED_WRONG_VALUE_FOR_FIELD,
    [typeName, toText(value) ?? "NULL", column.name, row]);
  const outOfRange = (): Error => mysqlError(ER.WARN_DATA_OUT_OF_RANGE, [column.name, row]);
  const cast = (targetKind: Parameters<typeof buildCast>[1], typeName: string): Value => {
    const built = buildCast(valueConstant(value), targetKind);
    if (built.kind !== "ok") throw incorrect(typeName);
    let warned = false;
    let result: Value;
    try {
      result = evaluate(built.expr, { ...ctx, warn: () => {
        warned = true;
      } });
    } catch {
      throw outOfRange();
    }
    if (warned) {
      if (value.kind === "string") throw incorrect(typeName);
      throw outOfRange();
    }
    return result;
  };
  switch (t.kind) {
    case "int": {
      if (value.kind === "string" && !/^\s*[+-]?\d+(\.\d*)?\s*$/.test(value.value)) {
        throw incorrect("integer");
      }
      let n: bigint;
      if (value.kind === "int" || value.kind === "uint") {
        n = value.value;
      } else if (value.kind === "double") {
        if (!Number.isFinite(value.value)) throw outOfRange();
        n = BigInt(Math.round(value.value));
      } else {
        const asDecimal = cast({ kind: "decimal", precision: 65, scale: 0 }, "integer");
        if (asDecimal === null || asDecimal.kind !== "decimal") throw incorrect("integer");
        n = asDecimal.unscaled;
      }
      const range = intRange(t);
      if (n < range.min || n > range.max) throw outOfRange();
      return t.unsigned ? { kind: "uint", value: n } : { kind: "int", value: n };
    }
    case "decimal":
      return cast({ kind: "decimal", precision: t.length ?? 10, scale: t.scale }, "decimal");
    case "double":
      return cast({ kind: "double" }, "double");
    case "string":
    case "bytes": {
      const text = toText(value) ?? "";
      if (t.length !== null && [...text].length > t.length) {
        throw mysqlError(ER.DATA_TOO_LONG, [column.name, row]);
      }
      return { kind: "string", value: text };
    }
    default:
      // DATE, DATETIME, TIMESTAMP, TIME, YEAR, ENUM, SET, JSON: see typed_store.ts.
      return storeTypedValue(value, column, row, ctx.timeZone);
  }
}
