/**
 * Coprocessor pushdown on the SQL side ([T9]): which parts of a query over a base table
 * run on the KV nodes that hold its shards (`dag` requests, src/expr/dag.ts), and how
 * their pages come back together.
 *
 * - Selection: a FROM leaf's own conjuncts (`from.ts` computes them per leaf) that have
 *   no subqueries and are `isPushable` are evaluated on KV; the rest still on this node.
 * - Over one table whose conjuncts all went down (`PushTail`, planned by the SELECT):
 *   LIMIT without ORDER BY (each shard stops at offset + count rows, and the reader stops
 *   once it has them: pages arrive in key order, so they are the rows a full scan would
 *   have kept first), ORDER BY … LIMIT as TopN (each shard's first rows by the keys, ties
 *   in scan order; this node sorts their union, so the result is the full sort's), and
 *   GROUP BY / aggregates as a partial aggregation merged here (COUNT, SUM, MIN, MAX; AVG
 *   as SUM and COUNT; not DISTINCT, GROUP_CONCAT or the others): each group's partials
 *   are merged in page order, its first row taken from FIRST_ROW of the columns the
 *   select list, HAVING and ORDER BY read (the others are NULL in the record, unread), so
 *   the records read as `groupRows`' do (groups in first-seen order).
 * - Projection (with a tail, or alone when every conjunct went down): the scan reads only
 *   the columns the select list, ORDER BY, the aggregates and the pushed expressions
 *   read; the others come back NULL, unread.
 * - Aggregates over an index range whose keys hold every column they read (a covering
 *   index, key kinds that decode exactly) scan the index on KV (TiDB's IndexReader); so
 *   do other reads of a covering index (LIMIT, TopN, filters), the entries then put in
 *   handle order, as the unpushed range read gives the rows.
 * - Other index ranges are index lookups (TiDB's IndexLookUp, `readIndexEntries`): the
 *   conjuncts that read only index columns run on the entries, the others on the rows
 *   then fetched by handle (one request per shard for a batch of handles, in handle
 *   order); LIMIT / TopN run on the entries when no row conjunct is left (a TopN in the
 *   index's order, or its reverse, reads the entries in that order and stops early; else
 *   each shard's first by the order then the handle), else on the rows. An index join's
 *   lookups through a secondary index are one such read per batch (`lookupPushdown`).
 * - EXPLAIN ANALYZE: each read's requests are summed up (`CopSummary`: tasks and their
 *   round trips by the client's clock, keys scanned, rows returned).
 *
 * Not pushed: locking reads (they read and lock on this node), point and batch point gets
 * (their own paths), reads of a table the transaction wrote (its
 * buffered writes are not on KV: TiDB's UnionScan case), a table this statement already
 * scanned whole, or one read twice already by this statement (a correlated subquery
 * then scans it once and filters here, instead of a request per outer row), and
 * everything when `tessera_enable_coprocessor` is off. KV's warnings join the
 * statement's; an evaluation error on KV fails the statement as it would here. Requests
 * sent are counted in `ExecStats.coprocessorRequests`.
 */
import {
  type DagAggregate,
  type DagAggregation,
  type DagColumn,
  type DagColumnType,
  type DagOrderKey,
  type DagRequest,
  type DagResponse,
  type DagTopN,
  type EvalContext,
  type Expr,
  ExprError,
  type FieldType,
  type Value,
  compareValues,
  decodeDagResponse,
  decodableFromKey,
  decodeRow,
  encodeDagRequest,
  evaluate,
  intType,
  isPushable,
  toText,
  utcTimeZone,
} from "../../expr/mod.ts";
import { limits } from "../../base/mod.ts";
import { compareBytes } from "../../codec/mod.ts";
import type { ColumnInfo, IndexInfo, TableInfo } from "../catalog/schema.ts";
import type { DmlContext } from "../exec/dml.ts";
import { handleOfRowKey, rowRange, rowKey as tableRowKey } from "../table/table.ts";
import { dagColumnType } from "../table/typed_store.ts";
import { type PlannedAggregate, rowKey } from "./aggregate.ts";
import { type Compiled, withRow } from "./compile.ts";
import { type MemoryAccount, keyBytes, rowBytes } from "./memory_tracker.ts";
import { type Access, type KeyRange, handleRangeable } from "./index_access.ts";
import { hasRowId } from "./row_id.ts";
import { keyOrder } from "./topn.ts";

/** The coprocessor handler the KV nodes run DAG requests with. */
export const dagHandler = "dag";
/** Keys a page scans when no limit bounds it. */
const pagingKeysDefault = 20_000;
/** Pushed reads of one table per statement; past them it is scanned once and cached. */
export const pushedReadsPerTableMax = 2;

/** What a base table's read may carry to the KV nodes; expressions read the table's row. */
export interface PushedScan {
  /** Conjuncts a row must pass. */
  readonly filters: readonly Expr[];
  /** Rows wanted at most (LIMIT without ORDER BY: offset + count). */
  readonly limit: number | null;
  readonly topN: DagTopN | null;
  readonly aggregation: PushedAggregation | null;
  /**
   * Row positions read after the pushed read (null: all): the others are left out of the
   * scan (projection) and come back NULL. Known only when the SELECT's tail went down.
   */
  readonly columns: readonly number[] | null;
  /**
   * Scan this index's entries in the ranges instead of rows: a covering index (its
   * entries are the rows), or with `lookup` an index lookup (the rows fetched by handle).
   */
  readonly index: IndexInfo | null;
  /**
   * An index lookup (TiDB's IndexLookUp): the index entries in the ranges are read on KV
   * with the filters that read only index columns (and the tail, when no other filter can
   * drop a row it kept: `planLookup`), then the rows of their handles with the rest.
   */
  readonly lookup?: boolean;
}

/** A partial aggregation and how its partial rows become the SELECT's records. */
export interface PushedAggregation {
  readonly dag: DagAggregation;
  /** Merges the partial rows; the groups held are charged to `mem`. */
  merge(partials: readonly (readonly Value[])[], ctx: EvalContext, mem: MemoryAccount):
    Value[][];
}

/** What the rest of a SELECT over one table lets its read push (built when it runs). */
export interface PushTail {
  build: ((ctx: EvalContext) => Omit<PushedScan, "filters" | "index"> | null) | null;
}

/** A pushed read's result: rows (aggregated: partial rows, to `merge`) and handles. */
export interface PushedRows {
  readonly rows: Value[][];
  readonly handles: readonly bigint[];
  /** What its coprocessor requests did: of the read (an index lookup's index side). */
  readonly cop?: CopSummary;
  /** An index lookup's row side (the rows fetched by handle). */
  readonly fetchCop?: CopSummary;
}

/** What one side of a pushed read's coprocessor requests did (EXPLAIN ANALYZE). */
export interface CopSummary {
  /** Round-trip time per shard task, ms (the sum of its requests'), by task. */
  readonly taskMs: Map<number, number>;
  /** Requests sent (pages, retries included). */
  rpcs: number;
  /** Round-trip time of all requests, ms. */
  rpcMs: number;
  /** Keys the KV nodes scanned. */
  scannedKeys: number;
  /** Rows (entries, partial rows) that came back. */
  rows: number;
}

// ---- the request -------------------------------------------------------------------------

/** The handle as a scan column. */
const handleType: DagColumnType = { kind: "int", unsigned: false };

/** What a row written before `column` existed reads as (stored form; NULL without one). */
function originDefault(column: ColumnInfo): Value {
  if (column.originDefault === undefined) return null;
  return decodeRow(Uint8Array.from(Buffer.from(column.originDefault, "hex"))).get(0) ?? null;
}

/** The scan of a table's rows in its planner layout: its columns, then `_tidb_rowid`. */
export function tableScanColumns(table: TableInfo): { columns: DagColumn[];
  handleSlot: number | null } {
  const columns: DagColumn[] = table.columns.map((c) => ({ id: c.id, type: dagColumnType(c),
    originDefault: originDefault(c) }));
  if (!hasRowId(table)) return { columns, handleSlot: null };
  columns.push({ id: 0, type: handleType, originDefault: null });
  return { columns, handleSlot: columns.length - 1 };
}

/** `expr` with its columns moved `by` positions down (a leaf's columns in a join row). */
function shifted(expr: Expr, by: number): Expr {
  if (by === 0) return expr;
  switch (expr.kind) {
    case "constant":
      return expr;
    case "column":
      return { ...expr, index: expr.index - by };
    case "call":
      return { ...expr, args: expr.args.map((a) => shifted(a, by)) };
  }
}

/** `expr` reading position `slots.get(p)` where it read `p`. */
function moved(expr: Expr, slots: ReadonlyMap<number, number>): Expr {
  switch (expr.kind) {
    case "constant":
      return expr;
    case "column":
      return { ...expr, index: slots.get(expr.index)! };
    case "call":
      return { ...expr, args: expr.args.map((a) => moved(a, slots)) };
  }
}

/** The row positions a pushed read must scan: read after it, or by what runs on KV. */
function readColumns(scan: PushedScan): number[] {
  const read = new Set<number>(scan.columns ?? []);
  for (const e of scan.filters) columnsOf(e, read);
  for (const k of scan.topN?.order ?? []) columnsOf(k.expr, read);
  const agg = scan.aggregation?.dag;
  for (const e of agg?.groupBy ?? []) columnsOf(e, read);
  for (const a of agg?.aggregates ?? []) for (const e of a.args) columnsOf(e, read);
  return [...read].sort((a, b) => a - b);
}

/** Adds the positions of the columns `expr` reads to `out`. */
function columnsOf(expr: Expr, out: Set<number>): void {
  if (expr.kind === "column") out.add(expr.index);
  else if (expr.kind === "call") for (const a of expr.args) columnsOf(a, out);
}

/** Whether every column `expr` reads lies in `[from, from + width)`. */
function readsOnly(expr: Expr, from: number, width: number): boolean {
  switch (expr.kind) {
    case "constant":
      return true;
    case "column":
      return expr.index >= from && expr.index < from + width;
    case "call":
      return expr.args.every((a) => readsOnly(a, from, width));
  }
}

/** Whether a compiled expression can run on KV over a leaf at `from` of `width` columns. */
export function pushableCompiled(c: Compiled, from: number, width: number): boolean {
  return c.subs.length === 0 && readsOnly(c.expr, from, width) && isPushable(c.expr);
}

/** An expression in EXPLAIN's operator info: columns by name, calls as `fn(args)`. */
export function exprText(expr: Expr): string {
  switch (expr.kind) {
    case "constant":
      return expr.value === null ? "NULL" : toText(expr.value) ?? "NULL";
    case "column":
      return expr.name;
    case "call":
      return `${expr.fn}(${expr.args.map(exprText).join(", ")})`;
  }
}

// ---- planning a leaf's read (from.ts) ----------------------------------------------------

/** A leaf's pushed read: its ranges (null: the whole table), the scan and what it covers. */
export interface LeafPushdown<C> {
  readonly ranges: readonly KeyRange[] | null;
  readonly scan: PushedScan;
  /** The conjuncts evaluated on KV (skip them here when the read was pushed). */
  readonly conjuncts: ReadonlySet<C>;
  /** The tail went down too (the rows are limited, TopN'd or aggregated). */
  readonly tail: boolean;
}

/**
 * What a FROM leaf's read can push: its local conjuncts that can run on KV, and, when
 * all of them can and `tail` is given (the SELECT's only leaf), the tail. Undefined when
 * nothing is pushed (a point get, an index range but a covering one under aggregates, a
 * locking read, not a base table).
 */
export function leafPushdown<C extends { readonly compiled: Compiled }>(leaf: {
  readonly source: { readonly table?: TableInfo; readonly readPushed?: unknown };
  readonly offset: number;
  readonly width: number;
}, local: readonly C[], options: {
  readonly lock: boolean;
  readonly point: boolean;
  readonly access: Access | undefined;
  readonly tail: PushTail | undefined;
  readonly ctx: EvalContext;
}): LeafPushdown<C> | undefined {
  const table = leaf.source.table;
  if (table === undefined || leaf.source.readPushed === undefined) return undefined;
  if (options.lock || options.point) return undefined;
  const access = options.access;
  const index = access?.kind === "range" ? access.index : null;
  let ranges: KeyRange[] | null = null;
  if (access?.kind === "range") {
    ranges = [...access.ranges].sort((a, b) => compareBytes(a.start, b.start));
    for (let i = 1; i < ranges.length; i++) {
      if (compareBytes(ranges[i - 1]!.end, ranges[i]!.start) > 0) return undefined;
    }
    // Handles pinned one by one (`pk IN (…)`) are batch point gets, not coprocessor reads.
    if (index === null && ranges.every((r) => r.start.length === r.end.length &&
      handleOfRowKey(r.end) === handleOfRowKey(r.start) + 1n)) return undefined;
  }
  const pushed = local.filter((c) => pushableCompiled(c.compiled, leaf.offset, leaf.width));
  const filters = pushed.map((c) => shifted(c.compiled.expr, leaf.offset));
  const built = options.tail?.build?.(options.ctx) ?? null;
  const tail = pushed.length === local.length ? built : null;
  // A projection alone is not worth a request (the rows are read whole, cached).
  if (filters.length === 0 && (tail === null || (tail.limit === null &&
    tail.topN === null && tail.aggregation === null))) return undefined;
  const scan: PushedScan = { filters, limit: tail?.limit ?? null, topN: tail?.topN ?? null,
    aggregation: tail?.aggregation ?? null, columns: tail?.columns ??
      projectionBeside(built, local.filter((c) => !pushed.includes(c)), leaf.width), index };
  if (index !== null && index.state !== undefined && index.state !== "public") return undefined;
  // An index that holds what the query reads is read alone (IndexReader): aggregates that
  // no row order changes, or entries put in handle order (`readIndexEntries`). Else, and
  // for FIRST_ROW (which sees the rows in handle order), an index lookup.
  const lookup = index !== null && (scan.columns === null ||
    !covers(table, index, readColumns(scan)) || (scan.aggregation !== null &&
      scan.aggregation.dag.aggregates.some((a) => a.fn === "first_row")));
  return { ranges, scan: lookup ? { ...scan, lookup } : scan, conjuncts: new Set(pushed),
    tail: tail !== null };
}

/**
 * An index join's lookups of a batch of key values as one pushed index lookup
 * (`join_exec.ts`): the index entries of all the `ranges` in one request per shard, then
 * the rows of their handles with the leaf's pushable conjuncts, instead of a read of the
 * index and a batch get of rows per range. Undefined when the ranges overlap.
 */
export function lookupPushdown<C extends { readonly compiled: Compiled }>(leaf: {
  readonly offset: number;
  readonly width: number;
}, local: readonly C[], index: IndexInfo, ranges: readonly KeyRange[]):
  { ranges: KeyRange[]; scan: PushedScan; conjuncts: ReadonlySet<C> } | undefined {
  if (index.state !== undefined && index.state !== "public") return undefined;
  const sorted = [...ranges].sort((a, b) => compareBytes(a.start, b.start));
  for (let i = 1; i < sorted.length; i++) {
    if (compareBytes(sorted[i - 1]!.end, sorted[i]!.start) > 0) return undefined;
  }
  const pushed = local.filter((c) => pushableCompiled(c.compiled, leaf.offset, leaf.width));
  return { ranges: sorted, conjuncts: new Set(pushed), scan: { filters: pushed.map((c) =>
    shifted(c.compiled.expr, leaf.offset)), limit: null, topN: null, aggregation: null,
  columns: null, index, lookup: true } };
}

/**
 * The columns a read brings when some conjuncts stay here (`rest`): a projection alone
 * (`built` has no LIMIT, TopN or aggregates) plus what they read, or null (all) when one
 * has a subquery or reads beyond the row.
 */
function projectionBeside(built: Omit<PushedScan, "filters" | "index"> | null,
  rest: readonly { readonly compiled: Compiled }[], width: number): readonly number[] | null {
  if (built === null || built.columns === null || built.limit !== null ||
    built.topN !== null || built.aggregation !== null) return null;
  const read = new Set<number>(built.columns);
  for (const c of rest) {
    if (c.compiled.subs.length > 0) return null;
    columnsOf(c.compiled.expr, read);
  }
  const columns = [...read].sort((a, b) => a - b);
  return columns.every((p) => p >= 0 && p < width) ? columns : null;
}

/** The row position an index scan fills with the handle (clustered key, `_tidb_rowid`). */
function handlePosition(table: TableInfo): number | null {
  if (hasRowId(table)) return table.columns.length;
  // A signed integer key reads as its handle exactly.
  return table.pkHandle !== null && handleRangeable(table) &&
    table.columns[table.pkHandle]?.type.unsigned === false ? table.pkHandle : null;
}

/** Names (lower case) of the columns `index`'s keys hold exactly, and of the handle's. */
export function coveredNames(table: TableInfo, index: IndexInfo): Set<string> {
  const out = new Set<string>();
  table.columns.forEach((c, p) => {
    if (covers(table, index, [p])) out.add(c.name.toLowerCase());
  });
  if (hasRowId(table)) out.add("_tidb_rowid");
  return out;
}

/** Whether `index`'s keys hold every position of `read` exactly (a covering index). */
function covers(table: TableInfo, index: IndexInfo, read: readonly number[]): boolean {
  if (index.state !== undefined && index.state !== "public") return false;
  return read.every((p) => p === handlePosition(table) || (index.columns.includes(p) &&
    decodableFromKey(dagColumnType(table.columns[p]!))));
}

// ---- planning the tail (planner.ts) ------------------------------------------------------

/** The parts of a SELECT over one table that decide what its read may push. */
export interface SelectParts {
  readonly single: boolean;
  readonly lock: boolean;
  readonly distinct: boolean;
  readonly windows: boolean;
  readonly rollup: boolean;
  readonly grouped: boolean;
  readonly implicit: boolean;
  readonly having: boolean;
  /** SQL_CALC_FOUND_ROWS: the rows before LIMIT are counted, so LIMIT stays here. */
  readonly calcFoundRows: boolean;
  /** The FROM row's column types (its width). */
  readonly columnTypes: readonly FieldType[];
  readonly groupBy: readonly Compiled[];
  readonly aggregates: readonly PlannedAggregate[];
  /** What reads a grouped SELECT's records: select list, HAVING, ORDER BY. */
  readonly recordExprs: readonly Compiled[];
  /** ORDER BY keys (over the FROM row when not grouped). */
  readonly order: readonly { readonly compiled: Compiled; readonly desc: boolean }[];
  /** LIMIT, evaluated when the query runs; null without one. */
  readonly limit: (() => { count: bigint; offset: bigint }) | null;
}

const mergeable: ReadonlySet<string> = new Set(["count", "sum", "avg", "min", "max"]);

/** The tail a SELECT lets its only table's read push, or null. */
export function planTail(parts: SelectParts): PushTail | null {
  if (!parts.single || parts.lock || parts.distinct || parts.windows || parts.rollup) {
    return null;
  }
  const width = parts.columnTypes.length;
  if (parts.grouped) {
    const ok = parts.groupBy.every((g) => pushableCompiled(g, 0, width)) &&
      parts.aggregates.every((a) => !a.spec.distinct && mergeable.has(a.spec.name) &&
        a.args.every((x) => pushableCompiled(x, 0, width)));
    if (!ok) return null;
    const aggregation = planAggregation(parts);
    // The records are the merge's: the scan reads what the aggregation reads.
    return { build: () => ({ limit: null, topN: null, aggregation, columns: [] }) };
  }
  const limit = parts.limit;
  if (parts.having || (parts.calcFoundRows && limit !== null)) return null;
  // The rows are read by the select list and ORDER BY only (a subquery: by anything).
  let columns: number[] | null = null;
  if (parts.recordExprs.every((c) => c.subs.length === 0)) {
    const read = new Set<number>();
    for (const c of parts.recordExprs) columnsOf(c.expr, read);
    columns = [...read].sort((a, b) => a - b);
  }
  if (limit === null) {
    // Projection alone: the read brings only the columns read (pushed with its filters).
    const projected = columns;
    return projected === null ? null
      : { build: () => ({ limit: null, topN: null, aggregation: null, columns: projected }) };
  }
  if (parts.order.length === 0) {
    return { build: () => {
      const { count, offset } = limit();
      const wanted = count + offset;
      return wanted > BigInt(Number.MAX_SAFE_INTEGER) ? null
        : { limit: Number(wanted), topN: null, aggregation: null, columns };
    } };
  }
  if (!parts.order.every((k) => pushableCompiled(k.compiled, 0, width))) return null;
  const order = parts.order.map((k) => ({ expr: k.compiled.expr, desc: k.desc }));
  return { build: () => {
    const { count, offset } = limit();
    const wanted = count + offset;
    return wanted > BigInt(limits.coprocessorTopNRowsMax) ? null
      : { limit: null, topN: { order, count: Number(wanted) }, aggregation: null, columns };
  } };
}

/** One SQL aggregate's partials in the DAG aggregation. */
interface AggSlots {
  readonly name: string;
  readonly type: FieldType;
  /** Partial positions (after the group-by values): SUM, then COUNT for AVG. */
  readonly at: readonly number[];
}

/** The partial aggregation of a grouped SELECT and its merge into records. */
function planAggregation(parts: SelectParts): PushedAggregation {
  const aggregates: DagAggregate[] = [];
  const slots: AggSlots[] = parts.aggregates.map((a) => {
    const args = a.args.map((x) => x.expr);
    const at: number[] = [];
    const add = (fn: DagAggregate["fn"]): void => {
      at.push(aggregates.length);
      aggregates.push({ fn, args });
    };
    if (a.spec.name === "avg") {
      add("sum");
      add("count");
    } else {
      add(a.spec.name as DagAggregate["fn"]);
    }
    return { name: a.spec.name, type: a.spec.type, at };
  });
  const width = parts.columnTypes.length;
  // FIRST_ROW of the columns the records are read at (all when a subquery reads them).
  const read = new Set<number>();
  for (const c of parts.recordExprs) {
    if (c.subs.length > 0) parts.columnTypes.forEach((_, k) => read.add(k));
    else columnsOf(c.expr, read);
  }
  // A column grouped on reads as its group's value; FIRST_ROW brings the others.
  const grouping = new Map<number, number>();
  parts.groupBy.forEach((g, j) => {
    if (g.expr.kind === "column" && !grouping.has(g.expr.index)) grouping.set(g.expr.index, j);
  });
  const firsts = [...read].filter((k) => k < width && !grouping.has(k)).sort((a, b) => a - b);
  const firstAt = aggregates.length;
  for (const k of firsts) {
    aggregates.push({ fn: "first_row", args: [{ kind: "column", index: k, name: `#${k}`,
      type: parts.columnTypes[k]! }] });
  }
  // The rows each partial group saw: its first row counts only when it saw one.
  const rowsAt = aggregates.length;
  aggregates.push({ fn: "count", args: [] });
  const groupCount = parts.groupBy.length;
  const merge = (partials: readonly (readonly Value[])[], ctx: EvalContext,
    mem: MemoryAccount): Value[][] => {
    const groups = new Map<string, { first: Value[] | null; states: Value[] }>();
    for (const p of partials) {
      const key = rowKey(p.slice(0, groupCount));
      const values = p.slice(groupCount);
      let group = groups.get(key);
      if (group === undefined) {
        group = { first: null, states: slots.flatMap((s) => s.at.map((i) =>
          s.name === "count" || (s.name === "avg" && i === s.at[1]) ? zero : null)) };
        groups.set(key, group);
        // As `groupRows` counts a group: its key, accumulators and first row.
        mem.consume(keyBytes(key) + slots.length * 96 + rowBytes(p));
      }
      const seen = values[rowsAt];
      if (group.first === null && seen !== null && seen !== undefined &&
        (seen.kind === "int" || seen.kind === "uint") && seen.value > 0n) {
        const first = new Array<Value>(width).fill(null);
        firsts.forEach((k, j) => {
          first[k] = values[firstAt + j] ?? null;
        });
        for (const [k, j] of grouping) first[k] = p[j] ?? null;
        group.first = first;
      }
      let s = 0;
      for (const slot of slots) {
        for (const i of slot.at) {
          group.states[s] = combine(slot.name === "avg" ? (i === slot.at[0] ? "sum" : "count")
            : slot.name, group.states[s] ?? null, values[i] ?? null, ctx);
          s++;
        }
      }
    }
    if (groups.size === 0 && parts.implicit) {
      groups.set("", { first: null, states: slots.flatMap((s) => s.at.map((i) =>
        s.name === "count" || (s.name === "avg" && i === s.at[1]) ? zero : null)) });
    }
    const out: Value[][] = [];
    for (const group of groups.values()) {
      const record: Value[] = group.first ?? new Array<Value>(width).fill(null);
      let s = 0;
      for (const slot of slots) {
        const states = group.states.slice(s, s + slot.at.length);
        s += slot.at.length;
        record.push(finalValue(slot, states));
      }
      out.push(record);
    }
    return out;
  };
  return { dag: { groupBy: parts.groupBy.map((g) => g.expr), aggregates }, merge };
}

const zero: Value = { kind: "int", value: 0n };

/** Two partials of `fn` merged (NULL: none yet). */
function combine(fn: string, a: Value, b: Value, ctx: EvalContext): Value {
  if (b === null) return a;
  if (a === null) return b;
  switch (fn) {
    case "count":
      return { kind: "int", value: intOf(a) + intOf(b) };
    case "sum":
      if (a.kind === "decimal" && b.kind === "decimal") {
        const scale = Math.max(a.scale, b.scale);
        return { kind: "decimal", scale, unscaled: a.unscaled * 10n ** BigInt(scale - a.scale) +
          b.unscaled * 10n ** BigInt(scale - b.scale) };
      }
      return { kind: "double", value: doubleOf(a) + doubleOf(b) };
    case "min":
    case "max": {
      const order = compareValues(b, a, { warn: ctx.warn });
      return order !== null && (fn === "min" ? order < 0 : order > 0) ? b : a;
    }
    default:
      return a;
  }
}

function intOf(v: Value): bigint {
  return v !== null && (v.kind === "int" || v.kind === "uint") ? v.value : 0n;
}

function doubleOf(v: Value): number {
  if (v === null) return 0;
  if (v.kind === "double") return v.value;
  if (v.kind === "decimal") return Number(v.unscaled) / 10 ** v.scale;
  if (v.kind === "int" || v.kind === "uint") return Number(v.value);
  return 0;
}

/** An aggregate's result from its merged partials, as `Accumulator.result` gives it. */
function finalValue(slot: AggSlots, states: readonly Value[]): Value {
  switch (slot.name) {
    case "count":
      return { kind: "int", value: intOf(states[0] ?? null) };
    case "avg": {
      const sum = states[0] ?? null;
      const count = intOf(states[1] ?? null);
      if (sum === null || count === 0n) return null;
      if (slot.type.kind === "double" || sum.kind !== "decimal") {
        return { kind: "double", value: doubleOf(sum) / Number(count) };
      }
      const scale = slot.type.decimals;
      const scaled = sum.unscaled * 10n ** BigInt(scale - sum.scale);
      const twice = (scaled * 2n) / count;
      const rounded = twice >= 0n ? (twice + 1n) / 2n : (twice - 1n) / 2n;
      return { kind: "decimal", unscaled: rounded, scale };
    }
    case "sum": {
      const sum = states[0] ?? null;
      if (sum === null) return null;
      if (slot.type.kind === "double" && sum.kind !== "double") {
        return { kind: "double", value: doubleOf(sum) };
      }
      return sum;
    }
    default:
      return states[0] ?? null;
  }
}

// ---- running a pushed read (mod.ts) ------------------------------------------------------

/**
 * Whether reads of `table` may be pushed down now: the session allows it
 * (`tessera_enable_coprocessor`) and the transaction has no writes of its own in the
 * table's rows (the KV nodes cannot see them).
 */
export function canPushRead(ctx: DmlContext, table: TableInfo): boolean {
  try {
    const v = evaluate(ctx.scope("field list").systemVariable("tessera_enable_coprocessor",
      null), ctx.evalContext());
    if (v !== null && (v.kind === "int" || v.kind === "uint") && v.value === 0n) return false;
  } catch {
    // A session without the variable: the default, on.
  }
  const whole = rowRange(table);
  return !ctx.txn.hasWritesIn(whole.start, whole.end);
}

/** The request of a pushed read of rows (or of a covering index's entries, aggregated). */
function dagRequestOf(table: TableInfo, scan: PushedScan, evalCtx: EvalContext):
  { request: DagRequest; widen: (row: readonly Value[]) => Value[] } {
  const full = tableScanColumns(table);
  const width = full.columns.length;
  // Projection: the scan reads only the columns something reads (positions, ascending).
  const kept = scan.columns === null ? null : readColumns(scan);
  const positions = kept !== null && (kept.length < width || scan.index !== null) ? kept
    : null;
  const slotOf = new Map((positions ?? []).map((p, i) => [p, i]));
  const map = (e: Expr): Expr => (positions === null ? e : moved(e, slotOf));
  const agg = scan.aggregation?.dag ?? null;
  const limit = scan.limit;
  const index = scan.index;
  const handleAt = handlePosition(table);
  const request: DagRequest = {
    scan: index === null ? { kind: "table", tableId: table.id, desc: false,
      columns: positions === null ? full.columns : positions.map((p) => full.columns[p]!),
      handleSlot: positions === null || full.handleSlot === null ? full.handleSlot
        : slotOf.get(full.handleSlot) ?? null }
      // A covering index (leafPushdown checked): its key values and the handle.
      : { kind: "index", tableId: table.id, indexId: index.id, desc: false,
        keyColumns: index.columns.length,
        columns: (positions ?? kept ?? []).map((p) => ({ id: p === handleAt ? 0
          : index.columns.indexOf(p), type: p === handleAt ? handleType
          : dagColumnType(table.columns[p]!), originDefault: null })),
        handleSlot: handleAt === null ? null : slotOf.get(handleAt) ?? null },
    selection: scan.filters.map(map),
    aggregation: agg === null ? null : { groupBy: agg.groupBy.map(map),
      aggregates: agg.aggregates.map((a) => ({ fn: a.fn, args: a.args.map(map) })) },
    topN: scan.topN === null ? null : { count: scan.topN.count,
      order: scan.topN.order.map((k) => ({ expr: map(k.expr), desc: k.desc })) },
    limit,
    context: { timeZone: evalCtx.timeZone ?? utcTimeZone },
    pagingKeys: pagingKeysFor(limit),
  };
  // Rows come back in the scan's columns: put them at their positions (the rest NULL).
  const widen = (row: readonly Value[]): Value[] => {
    if (positions === null || agg !== null) return row as Value[];
    const out = new Array<Value>(width).fill(null);
    positions.forEach((p, i) => {
      out[p] = row[i] ?? null;
    });
    return out;
  };
  return { request, widen };
}

/** Keys a page scans: a limit's rows (at least 256), else the default. */
function pagingKeysFor(limit: number | null): number {
  return limit === null ? pagingKeysDefault
    : Math.min(limits.coprocessorPagingKeysMax, Math.max(256, limit));
}

function copSummary(): CopSummary {
  return { taskMs: new Map(), rpcs: 0, rpcMs: 0, scannedKeys: 0, rows: 0 };
}

/** Requests a `CopSummary` has seen (its task keys are per request). */
const summaryCalls = new WeakMap<CopSummary, number>();

/**
 * The pages of one DAG request over `ranges` (sorted), counted in `summary` and the
 * statement's `coprocessorRequests`; KV's warnings join the statement's, its evaluation
 * error is raised. Stopping the iteration stops the requests.
 */
async function* dagPages(ctx: DmlContext, plan: Uint8Array, ranges: readonly KeyRange[],
  summary: CopSummary, evalCtx: EvalContext, concurrency?: number, desc = false):
  AsyncGenerator<DagResponse> {
  const stats = ctx.storage.stats;
  const call = summaryCalls.get(summary) ?? 0;
  summaryCalls.set(summary, call + 1);
  const pages = ctx.txn.coprocessor<DagResponse>({
    handler: dagHandler,
    plan,
    ranges,
    decode: decodeDagResponse,
    resumeKey: (page) => page.resumeKey,
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(desc ? { desc } : {}),
    onRequest: () => {
      stats.coprocessorRequests = (stats.coprocessorRequests ?? 0) + 1;
      summary.rpcs++;
    },
    onReply: (task, ms) => {
      summary.rpcMs += ms;
      const key = call * 1_000_000 + task;
      summary.taskMs.set(key, (summary.taskMs.get(key) ?? 0) + ms);
    },
  });
  for await (const { value: page } of pages) {
    ctx.signal?.throwIfAborted();
    for (const warning of page.warnings) evalCtx.warn(warning);
    if (page.error !== null) throw new ExprError(page.error);
    summary.rows += page.rows.length;
    summary.scannedKeys += page.scannedKeys;
    yield page;
  }
}

/** Reads `table`'s rows in `ranges` (null: all) with `scan` pushed down to the KV nodes. */
export async function readPushed(ctx: DmlContext, table: TableInfo,
  ranges: readonly KeyRange[] | null, scan: PushedScan, evalCtx: EvalContext):
  Promise<PushedRows> {
  const index = scan.index;
  if (index !== null && ranges !== null && (scan.lookup === true || scan.aggregation === null)) {
    return readIndexEntries(ctx, table, index, ranges, scan, evalCtx);
  }
  const whole = rowRange(table);
  const { request, widen } = dagRequestOf(table, scan, evalCtx);
  const limit = scan.limit;
  const stats = ctx.storage.stats;
  // Counted as the read it replaces, too: a table scan, a range of row or index keys.
  if (index !== null) stats.indexRangeScans = (stats.indexRangeScans ?? 0) + 1;
  else if (ranges === null) stats.tableScans++;
  else stats.handleRangeScans = (stats.handleRangeScans ?? 0) + 1;
  const rows: Value[][] = [];
  const handles: bigint[] = [];
  const cop = copSummary();
  // A LIMIT with no filter is likely met by the first shard: one request at a time.
  const pages = dagPages(ctx, encodeDagRequest(request), ranges ?? [whole], cop, evalCtx,
    limit !== null && scan.filters.length === 0 ? 1 : undefined);
  for await (const page of pages) {
    for (const row of page.rows) rows.push(widen(row));
    if (page.handles !== null) handles.push(...page.handles);
    if (limit !== null && rows.length >= limit) break;
  }
  return { rows, handles, cop };
}

// ---- index lookups and covering index reads ----------------------------------------------

/** Handles whose rows one request of an index lookup fetches at most. */
const lookupBatchMax = 4_096;

/** How an index read splits its pushed work between the index entries and the rows. */
export interface LookupPlan {
  /** Filters that read only what the index keys hold: run on the entries. */
  readonly indexFilters: readonly Expr[];
  /** The other filters: run on the rows fetched. */
  readonly rowFilters: readonly Expr[];
  /**
   * The LIMIT / TopN runs on the entries (no row filter can drop a row it kept): each
   * shard's first entries by the order, then the handle (a LIMIT: by the handle), or the
   * first entries in index order when that is the order (`inIndexOrder`).
   */
  readonly indexTail: boolean;
}

/** The split of `scan`'s work over `index`; see `LookupPlan`. */
export function planLookup(table: TableInfo, index: IndexInfo, scan: PushedScan): LookupPlan {
  const covered = (e: Expr): boolean => {
    const read = new Set<number>();
    columnsOf(e, read);
    return covers(table, index, [...read]);
  };
  const indexFilters = scan.filters.filter(covered);
  const rowFilters = scan.filters.filter((e) => !covered(e));
  const indexTail = rowFilters.length === 0 && scan.aggregation === null &&
    ((scan.limit !== null && scan.limit <= limits.coprocessorTopNRowsMax) ||
      (scan.topN !== null && scan.topN.order.every((k) => covered(k.expr))));
  return { indexFilters, rowFilters, indexTail };
}

/**
 * Whether `order` is the index's key order (`desc`: reversed): every index column in key
 * order, then optionally the handle, all ascending (all descending); entries of equal
 * values are in handle order.
 */
export function inIndexOrder(table: TableInfo, index: IndexInfo,
  order: readonly { readonly expr: Expr; readonly desc: boolean }[], desc = false): boolean {
  const handleAt = handlePosition(table);
  const keys = index.columns.length;
  if (order.length !== keys && !(order.length === keys + 1 && handleAt !== null)) return false;
  return order.every((k, i) => k.desc === desc && k.expr.kind === "column" &&
    k.expr.index === (i < keys ? index.columns[i] : handleAt));
}

/**
 * How an index read reads its entries in order, stopping early: `asc` when its TopN is
 * the index order (a LIMIT of the entries), `desc` when it is the reverse (the entries
 * read backwards until the last one kept and its ties are read), else null.
 */
export function indexReadOrder(table: TableInfo, index: IndexInfo, scan: PushedScan):
  "asc" | "desc" | null {
  const topN = scan.topN;
  if (topN === null || !planLookup(table, index, scan).indexTail) return null;
  if (topN.count === 0 || inIndexOrder(table, index, topN.order)) return "asc";
  return inIndexOrder(table, index, topN.order, true) ? "desc" : null;
}

/**
 * An index read that is not a covering aggregate: the entries in `ranges` with the
 * filters and tail `planLookup` puts on them (LIMIT in index order stops each shard's scan
 * early; a TopN keeps each shard's first, merged here to the first overall); then, for a
 * lookup, the rows of their handles in handle order (as `readRanges` gives them), with
 * the other filters and the tail if the entries did not take it; for a covering read the
 * entries themselves, put in handle order.
 */
async function readIndexEntries(ctx: DmlContext, table: TableInfo, index: IndexInfo,
  ranges: readonly KeyRange[], scan: PushedScan, evalCtx: EvalContext): Promise<PushedRows> {
  const plan = planLookup(table, index, scan);
  const covering = scan.lookup !== true;
  const handleAt = handlePosition(table);
  const width = tableScanColumns(table).columns.length;
  // The entries' columns: what their filters and order read (all the query reads when
  // covering), then the handle.
  const read = new Set<number>(covering ? readColumns(scan) : []);
  for (const e of plan.indexFilters) columnsOf(e, read);
  const order = plan.indexTail ? scan.topN?.order ?? [] : [];
  for (const k of order) columnsOf(k.expr, read);
  const positions = [...read].filter((p) => p !== handleAt).sort((a, b) => a - b);
  const handleSlot = positions.length;
  const slotOf = new Map(positions.map((p, i) => [p, i]));
  if (handleAt !== null) slotOf.set(handleAt, handleSlot);
  const map = (e: Expr): Expr => moved(e, slotOf);
  const byHandle: DagOrderKey = { expr: { kind: "column", index: handleSlot, name: "_handle",
    type: intType({ length: 20, nullable: false }) }, desc: false };
  const readOrder = indexReadOrder(table, index, scan);
  let limit: number | null = null;
  let topN: DagTopN | null = null;
  // Read backwards: the first `count` entries and the rest of the last one's ties, then
  // the first by the order and the handle (`sorted`).
  let backwards: { readonly count: number; readonly tie: readonly number[] } | null = null;
  if (readOrder === "asc") limit = scan.topN!.count;
  else if (readOrder === "desc") {
    backwards = { count: scan.topN!.count, tie: scan.topN!.order.map((k) => slotOf.get(
      (k.expr as Extract<Expr, { kind: "column" }>).index)!) };
  } else if (plan.indexTail && scan.topN !== null) {
    topN = { count: scan.topN.count, order: [...scan.topN.order.map((k) => ({
      expr: map(k.expr), desc: k.desc })), byHandle] };
  } else if (plan.indexTail && scan.limit !== null) {
    topN = { count: scan.limit, order: [byHandle] };
  }
  const sorted: DagTopN | null = topN ?? (backwards === null ? null
    : { count: backwards.count, order: [...scan.topN!.order.map((k) => ({
      expr: map(k.expr), desc: k.desc })), byHandle] });
  const request: DagRequest = {
    scan: { kind: "index", tableId: table.id, indexId: index.id, desc: backwards !== null,
      keyColumns: index.columns.length, handleSlot,
      columns: [...positions.map((p) => ({ id: index.columns.indexOf(p),
        type: dagColumnType(table.columns[p]!), originDefault: null })),
      { id: 0, type: handleType, originDefault: null }] },
    selection: plan.indexFilters.map(map),
    aggregation: null,
    topN,
    limit,
    context: { timeZone: evalCtx.timeZone ?? utcTimeZone },
    pagingKeys: pagingKeysFor(limit ?? topN?.count ?? backwards?.count ?? null),
  };
  const stats = ctx.storage.stats;
  stats.indexRangeScans = (stats.indexRangeScans ?? 0) + 1;
  const cop = copSummary();
  let entries: { readonly row: readonly Value[]; readonly handle: bigint }[] = [];
  const tieOf = (row: readonly Value[]): string =>
    rowKey(backwards!.tie.map((slot) => row[slot] ?? null));
  const pages = dagPages(ctx, encodeDagRequest(request), ranges, cop, evalCtx,
    (limit !== null || backwards !== null) && plan.indexFilters.length === 0 ? 1 : undefined,
    backwards !== null);
  for await (const page of pages) {
    page.rows.forEach((row, k) => entries.push({ row, handle: page.handles?.[k] ?? 0n }));
    if (limit !== null && entries.length >= limit) break;
    if (backwards !== null && entries.length > backwards.count &&
      tieOf(entries[entries.length - 1]!.row) !== tieOf(entries[backwards.count - 1]!.row)) {
      break;
    }
  }
  if (limit !== null) entries = entries.slice(0, limit);
  if (sorted !== null) {
    // Each shard's first entries: the first of their union (the order ends in the handle).
    const quiet: EvalContext = { ...evalCtx, warn: () => undefined };
    const compare = keyOrder(sorted.order.map((k) => k.desc), quiet);
    const keyed = entries.map((e) => ({ e, keys: sorted.order.map((k) => evaluate(k.expr,
      withRow(quiet, e.row))) }));
    keyed.sort(compare);
    entries = keyed.slice(0, sorted.count).map((k) => k.e);
  }
  entries.sort((a, b) => (a.handle < b.handle ? -1 : a.handle > b.handle ? 1 : 0));
  entries = entries.filter((e, k) => k === 0 || entries[k - 1]!.handle !== e.handle);
  if (covering) {
    const rows = entries.map(({ row }) => {
      const out = new Array<Value>(width).fill(null);
      positions.forEach((p, i) => {
        out[p] = row[i] ?? null;
      });
      if (handleAt !== null) out[handleAt] = row[handleSlot] ?? null;
      return out;
    });
    return { rows, handles: entries.map((e) => e.handle), cop };
  }
  // The rows of the handles, with the other filters and the tail the entries did not run.
  stats.indexLookupRows = (stats.indexLookupRows ?? 0) + entries.length;
  const rowScan: PushedScan = { filters: plan.rowFilters, columns: scan.columns, index: null,
    limit: plan.indexTail ? null : scan.limit, topN: plan.indexTail ? null : scan.topN,
    aggregation: plan.indexTail ? null : scan.aggregation };
  const { request: rowRequest, widen } = dagRequestOf(table, rowScan, evalCtx);
  const rowPlan = encodeDagRequest(rowRequest);
  const fetchCop = copSummary();
  const rows: Value[][] = [];
  const handles: bigint[] = [];
  const wanted = rowScan.limit;
  for (let i = 0; i < entries.length && (wanted === null || rows.length < wanted);
    i += lookupBatchMax) {
    const batch = entries.slice(i, i + lookupBatchMax).map((e) => {
      const start = tableRowKey(table, e.handle);
      return { start, end: Uint8Array.of(...start, 0) };
    });
    for await (const page of dagPages(ctx, rowPlan, batch, fetchCop, evalCtx)) {
      for (const row of page.rows) rows.push(widen(row));
      if (page.handles !== null) handles.push(...page.handles);
      if (wanted !== null && rows.length >= wanted) break;
    }
  }
  return { rows, handles, cop, fetchCop };
}
