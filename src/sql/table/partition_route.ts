/**
 * Which partition a row of a partitioned table belongs to (TiDB's `locatePartition`), and
 * the partition bounds evaluated: at CREATE TABLE `resolvePartitionBounds` evaluates each
 * VALUES LESS THAN / VALUES IN item in the session's time zone, converts it to the
 * partitioning column's type (COLUMNS forms) and stores it as a canonical literal,
 * checking MySQL's rules (1493 not increasing, 1495 a repeated LIST value, 1566 NULL in
 * LESS THAN, 1654 a COLUMNS value of the wrong type, 1697 a non-integer bound).
 *
 * Placement, as MySQL does it: RANGE — the first partition whose bound the value is below
 * (NULL below everything); LIST — the partition listing the value (NULL only where NULL is
 * listed); HASH — |expr mod n| (NULL as 0); KEY — the same for one integer column, else a
 * fixed hash (FNV-1a) of the columns' index-key bytes, so values a collation deems equal
 * land together. RANGE COLUMNS and LIST COLUMNS compare the columns' index-key bytes
 * (the order and equality index ranges use). The expression is evaluated on the stored
 * row (TIMESTAMP values in UTC) with a fixed, UTC context. Pure: no I/O.
 */
import {
  type EvalContext,
  type Expr,
  type TimeZone,
  type Value,
  columnRef,
  defaultBuildOptions,
  evaluate,
  toText,
  utcTimeZone,
} from "../../expr/mod.ts";
import { compareBytes } from "../../codec/mod.ts";
import { type PartitionDef, type PartitionInfo, partitionColumnOffsets, physicalTable }
  from "../catalog/partition.ts";
import { type ColumnInfo, type IndexInfo, type TableInfo, fieldTypeOf }
  from "../catalog/schema.ts";
import { ER, MySqlError, mysqlError } from "../mysql_errors.ts";
import { parseExpression } from "../parser/parse.ts";
import { type TranslateScope, translate } from "../session/to_expr.ts";
import { indexEntry, storeValue } from "./table.ts";

/** Index key bytes before the column values: `t` table id `_i` index id. */
const indexPrefixBytes = 19;

/** A bound of RANGE partitioning: a value or MAXVALUE. */
type Bound = { readonly max: true } | { readonly max: false; readonly value: bigint | Uint8Array };

/** The partitioning of one table, ready to place rows. */
interface Router {
  readonly info: PartitionInfo;
  /** Offsets of the partitioning columns (COLUMNS / KEY order, else the expression's). */
  readonly offsets: readonly number[];
  /** RANGE / LIST / HASH: the expression over the row. */
  readonly expr: Expr | null;
  /** RANGE forms: per partition, its bound tuple. */
  readonly bounds: readonly (readonly Bound[])[];
  /** LIST forms: value key → partition position. */
  readonly list: ReadonlyMap<string, number>;
}

function fixedContext(timeZone: TimeZone): EvalContext {
  return {
    warn: () => undefined,
    statementTime: { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0,
      microsecond: 0 },
    timeZone,
    database: null,
    user: "",
    currentUser: "",
    connectionId: 0,
    version: "",
    lastInsertId: 0n,
    setLastInsertId: () => undefined,
    setUserVariable: () => undefined,
  };
}

const routeContext = fixedContext(utcTimeZone);

function scopeOf(columns: readonly ColumnInfo[] | null): TranslateScope {
  const noVariables = (): never => {
    throw mysqlError(ER.PARTITION_FUNCTION_IS_NOT_ALLOWED);
  };
  return {
    options: defaultBuildOptions, clause: "partition function", params: null, database: null,
    userVariable: noVariables, systemVariable: noVariables,
    column: (name) => {
      const c = columns?.find((col) => col.name.toLowerCase() === name.toLowerCase());
      return c === undefined ? undefined : columnRef(c.offset, c.name, fieldTypeOf(c));
    },
  };
}

function parseText(text: string): Expr {
  const parsed = parseExpression(text);
  if (parsed.kind === "error") throw parsed.error;
  return translate(parsed.expr, scopeOf(null));
}

/** The integer an expression result places by (NULL: null). */
function integerOf(value: Value): bigint | null {
  if (value === null) return null;
  switch (value.kind) {
    case "int":
    case "uint":
      return value.value;
    case "decimal":
      return value.unscaled / 10n ** BigInt(value.scale);
    case "double":
      return BigInt(Math.trunc(value.value));
    default: {
      const text = toText(value) ?? "0";
      return /^-?\d+$/.test(text) ? BigInt(text) : 0n;
    }
  }
}

/** The index-key bytes of `value` in column `offset` (collation-aware), or of NULL. */
export function columnKey(table: TableInfo, offset: number, value: Value): Uint8Array {
  const values: Value[] = table.columns.map(() => null);
  values[offset] = value;
  const probe: IndexInfo = { id: 1, name: "", unique: true, primary: false, columns: [offset] };
  // The id only prefixes the key (cut off); a table being created has none yet.
  const keyed = table.id > 0 ? table : { ...table, id: 1 };
  return indexEntry(keyed, probe, { values, handle: 0n }).key.subarray(indexPrefixBytes);
}

const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/**
 * Routers by the table's columns (offsets move when columns are added or dropped) and
 * partition definitions (shared by a table's pruned copies, which differ in `selected`).
 */
const routers = new WeakMap<readonly ColumnInfo[], WeakMap<readonly PartitionDef[], Router>>();

function routerOf(table: TableInfo): Router {
  const info = table.partition;
  if (info === undefined) throw new Error(`table ${table.name} is not partitioned`);
  let byDefinitions = routers.get(table.columns);
  if (byDefinitions === undefined) {
    byDefinitions = new WeakMap();
    routers.set(table.columns, byDefinitions);
  }
  const known = byDefinitions.get(info.definitions);
  if (known !== undefined) return known;
  const offsets = partitionColumnOffsets(table, info);
  const columnsForm = info.expr === undefined;
  let expr: Expr | null = null;
  if (!columnsForm) {
    const parsed = parseExpression(info.expr!);
    if (parsed.kind === "error") throw parsed.error;
    expr = translate(parsed.expr, scopeOf(table.columns));
  }
  const literal = (text: string, k: number): Value => {
    const value = evaluate(parseText(text), routeContext);
    if (!columnsForm) return value;
    const column = table.columns[offsets[k]!]!;
    return value === null ? null : storeValue(value, { column, row: 1 }, routeContext);
  };
  const keyOf = (values: readonly Value[]): string => (columnsForm
    ? values.map((v, k) => hexOf(columnKey(table, offsets[k]!, v))).join("/")
    : values.map((v) => (v === null ? "null" : String(integerOf(v)))).join("/"));
  const bounds = info.definitions.map((d) => (d.lessThan ?? []).map((text, k): Bound => {
    if (text === "MAXVALUE") return { max: true };
    const value = literal(text, k);
    return { max: false, value: columnsForm ? columnKey(table, offsets[k]!, value)
      : integerOf(value) ?? 0n };
  }));
  const list = new Map<string, number>();
  info.definitions.forEach((d, position) => {
    for (const tuple of d.inValues ?? []) {
      list.set(keyOf(tuple.map((text, k) => literal(text, k))), position);
    }
  });
  const router: Router = { info, offsets, expr, bounds, list };
  byDefinitions.set(info.definitions, router);
  return router;
}

function compareBound(value: bigint | Uint8Array, bound: Bound): number {
  if (bound.max) return -1;
  if (typeof value === "bigint") {
    const b = bound.value as bigint;
    return value < b ? -1 : value > b ? 1 : 0;
  }
  return compareBytes(value, bound.value as Uint8Array);
}

/** Whether a tuple lies below a bound tuple (MAXVALUE above every value). */
function belowBound(tuple: readonly (bigint | Uint8Array)[], bound: readonly Bound[]): boolean {
  for (let k = 0; k < bound.length; k++) {
    const b = bound[k]!;
    if (b.max) return true;
    const c = compareBound(tuple[k]!, b);
    if (c !== 0) return c < 0;
  }
  return false;
}

/** FNV-1a of bytes, 32 bits. */
function fnv1a(bytes: Uint8Array): bigint {
  let h = 0x811c9dc5;
  for (const byte of bytes) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return BigInt(h);
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

/** The position of the partition a row of `table` belongs to, or null when none. */
export function partitionOf(table: TableInfo, values: readonly Value[]): number | null {
  const r = routerOf(table);
  const info = r.info;
  const n = BigInt(info.definitions.length);
  const exprValue = (): bigint | null => integerOf(evaluate(r.expr!, { ...routeContext,
    row: values }));
  switch (info.method) {
    case "HASH":
      return Number(abs((exprValue() ?? 0n) % n));
    case "KEY": {
      const column = table.columns[r.offsets[0]!]!;
      if (r.offsets.length === 1 && column.type.kind === "int") {
        return Number(abs((integerOf(values[column.offset] ?? null) ?? 0n) % n));
      }
      const parts = r.offsets.map((o) => columnKey(table, o, values[o] ?? null));
      const all = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
      let at = 0;
      for (const p of parts) {
        all.set(p, at);
        at += p.length;
      }
      return Number(fnv1a(all) % n);
    }
    case "RANGE": {
      const v = exprValue();
      if (v === null) return 0;
      const k = r.bounds.findIndex((b) => belowBound([v], b));
      return k < 0 ? null : k;
    }
    case "RANGE COLUMNS": {
      const tuple = r.offsets.map((o) => columnKey(table, o, values[o] ?? null));
      const k = r.bounds.findIndex((b) => belowBound(tuple, b));
      return k < 0 ? null : k;
    }
    case "LIST": {
      const v = exprValue();
      return r.list.get(v === null ? "null" : String(v)) ?? null;
    }
    case "LIST COLUMNS": {
      const key = r.offsets.map((o) => hexOf(columnKey(table, o, values[o] ?? null))).join("/");
      return r.list.get(key) ?? null;
    }
  }
}

/** What 1526 names: the expression's value, or the columns' values. */
function valueText(table: TableInfo, values: readonly Value[]): string {
  const r = routerOf(table);
  if (r.expr !== null) {
    const v = integerOf(evaluate(r.expr, { ...routeContext, row: values }));
    return v === null ? "NULL" : String(v);
  }
  return r.offsets.map((o) => toText(values[o] ?? null) ?? "NULL").join(",");
}

/**
 * The partition (as a table of its own) a row of `table` is stored in; `table` itself
 * when it is not partitioned. 1526 when no partition takes the row; 1748 when the
 * statement named partitions (`allowed`) and the row's is not among them.
 */
export function routeRow(table: TableInfo, values: readonly Value[],
  allowed?: readonly number[]): TableInfo {
  if (table.partition === undefined) return table;
  const k = partitionOf(table, values);
  if (k === null) throw mysqlError(ER.NO_PARTITION_FOR_GIVEN_VALUE, [valueText(table, values)]);
  if (allowed !== undefined && !allowed.includes(k)) {
    throw mysqlError(ER.ROW_DOES_NOT_MATCH_GIVEN_PARTITION_SET);
  }
  return physicalTable(table, k);
}

/**
 * The partition position of a row with clustered integer handle `handle` when the
 * handle alone places it (the primary key is the only partitioning column), else
 * undefined.
 */
export function partitionOfHandle(table: TableInfo, handle: bigint): number | null | undefined {
  if (table.partition === undefined || table.pkHandle === null) return undefined;
  const r = routerOf(table);
  if (r.offsets.length !== 1 || r.offsets[0] !== table.pkHandle) return undefined;
  const values: Value[] = table.columns.map(() => null);
  const column = table.columns[table.pkHandle]!;
  values[table.pkHandle] = column.type.unsigned ? { kind: "uint", value: BigInt.asUintN(64,
    handle) } : { kind: "int", value: handle };
  return partitionOf(table, values);
}

/**
 * The value a partitioning expression gives for one column's value (the others NULL), for
 * pruning by monotonic functions; null when it gives NULL.
 */
export function exprValueAt(table: TableInfo, offset: number, value: Value): bigint | null {
  const r = routerOf(table);
  const values: Value[] = table.columns.map(() => null);
  values[offset] = value;
  return integerOf(evaluate(r.expr!, { ...routeContext, row: values }));
}

/** RANGE bounds as pruning compares them (bigints or key bytes; null: MAXVALUE). */
export function rangeBounds(table: TableInfo): readonly (readonly (bigint | Uint8Array |
  null)[])[] {
  return routerOf(table).bounds.map((b) => b.map((x) => (x.max ? null : x.value)));
}

/** LIST values per partition: integers (null for NULL) or key-byte tuples. */
export function listValues(table: TableInfo): readonly (readonly (bigint | null |
  readonly Uint8Array[])[])[] {
  const r = routerOf(table);
  const columnsForm = r.expr === null;
  return r.info.definitions.map((d) => (d.inValues ?? []).map((tuple) => {
    const values = tuple.map((text, k) => {
      const v = evaluate(parseText(text), routeContext);
      if (!columnsForm) return v;
      const column = table.columns[r.offsets[k]!]!;
      return v === null ? null : storeValue(v, { column, row: 1 }, routeContext);
    });
    return columnsForm ? values.map((v, k) => columnKey(table, r.offsets[k]!, v))
      : integerOf(values[0] ?? null);
  }));
}

/** The partitioning columns' offsets, in COLUMNS / KEY order. */
export function partitionOffsets(table: TableInfo): readonly number[] {
  return routerOf(table).offsets;
}

/** A COLUMNS bound or LIST value as a canonical SQL literal. */
function canonicalText(value: Value): string {
  if (value === null) return "NULL";
  if (value.kind === "int" || value.kind === "uint") return String(value.value);
  return `'${(toText(value) ?? "").replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

/** Whether a bound's kind suits its column (MySQL: 1654 otherwise). */
function suits(column: ColumnInfo, value: Value): boolean {
  if (value === null) return true;
  const numeric = value.kind === "int" || value.kind === "uint";
  return column.type.kind === "int" ? numeric : !numeric;
}

/**
 * `table` with its partition bounds evaluated (in `timeZone`, the session's) and stored
 * as canonical literals; throws MySQL's error for a bad bound (see the file comment).
 */
export function resolvePartitionBounds(table: TableInfo, timeZone: TimeZone): TableInfo {
  const info = table.partition;
  if (info === undefined) return table;
  const ctx = fixedContext(timeZone);
  const columnsForm = info.expr === undefined;
  const offsets = partitionColumnOffsets(table, info);
  const resolve = (def: PartitionDef, text: string, k: number, range: boolean): string => {
    if (text === "MAXVALUE") return text;
    let value: Value;
    try {
      value = evaluate(parseText(text), ctx);
    } catch (error: unknown) {
      if (error instanceof MySqlError && error.errno === ER.BAD_FIELD_ERROR.errno) {
        throw mysqlError(ER.PARTITION_FUNCTION_IS_NOT_ALLOWED);
      }
      throw error;
    }
    if (value === null && range) throw mysqlError(ER.NULL_IN_VALUES_LESS_THAN);
    if (!columnsForm) {
      if (value !== null && value.kind !== "int" && value.kind !== "uint") {
        throw mysqlError(ER.VALUES_IS_NOT_INT_TYPE_ERROR, [def.name]);
      }
      return canonicalText(value);
    }
    const column = table.columns[offsets[k]!]!;
    if (!suits(column, value)) throw mysqlError(ER.WRONG_TYPE_COLUMN_VALUE_ERROR);
    let stored: Value;
    try {
      stored = value === null ? null : storeValue(value, { column: { ...column,
        nullable: true }, row: 1 }, ctx);
    } catch {
      throw mysqlError(ER.WRONG_TYPE_COLUMN_VALUE_ERROR);
    }
    return canonicalText(stored);
  };
  const definitions = info.definitions.map((d) => ({ ...d,
    ...(d.lessThan === undefined ? {} : { lessThan: d.lessThan.map((t, k) =>
      resolve(d, t, k, true)) }),
    ...(d.inValues === undefined ? {} : { inValues: d.inValues.map((tuple) =>
      tuple.map((t, k) => resolve(d, t, k, false))) }) }));
  const resolved: TableInfo = { ...table, partition: { ...info, definitions } };
  // Order and uniqueness, on the values as rows are placed by.
  const r = routerOf(resolved);
  for (let k = 1; k < r.bounds.length && info.method.startsWith("RANGE"); k++) {
    if (!lessTuple(r.bounds[k - 1]!, r.bounds[k]!)) throw mysqlError(ER.RANGE_NOT_INCREASING_ERROR);
  }
  const listed = definitions.reduce((n, d) => n + (d.inValues?.length ?? 0), 0);
  if (r.list.size !== listed) throw mysqlError(ER.MULTIPLE_DEF_CONST_IN_LIST_PART_ERROR);
  return resolved;
}

/** Whether bound tuple `a` is strictly below `b` (MAXVALUE equal to MAXVALUE). */
function lessTuple(a: readonly Bound[], b: readonly Bound[]): boolean {
  for (let k = 0; k < a.length; k++) {
    const x = a[k]!;
    const y = b[k]!;
    if (x.max && y.max) continue;
    if (x.max) return false;
    if (y.max) return true;
    const c = compareBound(x.value, y);
    if (c !== 0) return c < 0;
  }
  return false;
}
