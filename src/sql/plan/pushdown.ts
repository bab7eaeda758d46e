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
 * - Projection, with a tail: the scan reads only the columns the select list, ORDER BY,
 *   the aggregates and the pushed expressions read; the others come back NULL, unread.
 * - Aggregates over an index range whose keys hold every column they read (a covering
 *   index, key kinds that decode exactly) scan the index on KV (TiDB's IndexReader).
 *
 * Not pushed: locking reads (they read and lock on this node), point and batch point gets
 * and other index ranges (their own paths), reads of a table the transaction wrote (its
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
  isPushable,
  toText,
  utcTimeZone,
} from "../../expr/mod.ts";
import { limits } from "../../base/mod.ts";
import { compareBytes } from "../../codec/mod.ts";
import type { ColumnInfo, IndexInfo, TableInfo } from "../catalog/schema.ts";
import type { DmlContext } from "../exec/dml.ts";
import { handleOfRowKey, rowRange } from "../table/table.ts";
import { dagColumnType } from "../table/typed_store.ts";
import { type PlannedAggregate, rowKey } from "./aggregate.ts";
import type { Compiled } from "./compile.ts";
import { type MemoryAccount, keyBytes, rowBytes } from "./memory_tracker.ts";
import { type Access, type KeyRange, handleRangeable } from "./index_access.ts";
import { hasRowId } from "./row_id.ts";

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
  /** Scan this index's entries in the ranges instead of rows (a covering index). */
  readonly index: IndexInfo | null;
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
  const tail = pushed.length === local.length ? options.tail?.build?.(options.ctx) ?? null
    : null;
  if (filters.length === 0 && tail === null) return undefined;
  const scan: PushedScan = { filters, limit: tail?.limit ?? null, topN: tail?.topN ?? null,
    aggregation: tail?.aggregation ?? null, columns: tail?.columns ?? null, index };
  // An index range is pushed when the index alone holds what the query reads, and only
  // for aggregates that no row order changes (index order is not the handle order a
  // LIMIT, a TopN's ties or FIRST_ROW would see otherwise).
  if (index !== null && (scan.columns === null || !covers(table, index, readColumns(scan)) ||
    scan.aggregation === null ||
    scan.aggregation.dag.aggregates.some((a) => a.fn === "first_row"))) return undefined;
  return { ranges, scan, conjuncts: new Set(pushed), tail: tail !== null };
}

/** The row position an index scan fills with the handle (clustered key, `_tidb_rowid`). */
function handlePosition(table: TableInfo): number | null {
  if (hasRowId(table)) return table.columns.length;
  // A signed integer key reads as its handle exactly.
  return table.pkHandle !== null && handleRangeable(table) &&
    table.columns[table.pkHandle]?.type.unsigned === false ? table.pkHandle : null;
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
  if (parts.having || parts.calcFoundRows || limit === null) return null;
  // The rows are read by the select list and ORDER BY only (a subquery: by anything).
  let columns: number[] | null = null;
  if (parts.recordExprs.every((c) => c.subs.length === 0)) {
    const read = new Set<number>();
    for (const c of parts.recordExprs) columnsOf(c.expr, read);
    columns = [...read].sort((a, b) => a - b);
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

/** Reads `table`'s rows in `ranges` (null: all) with `scan` pushed down to the KV nodes. */
export async function readPushed(ctx: DmlContext, table: TableInfo,
  ranges: readonly KeyRange[] | null, scan: PushedScan, evalCtx: EvalContext):
  Promise<PushedRows> {
  const whole = rowRange(table);
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
    pagingKeys: limit === null ? pagingKeysDefault
      : Math.min(limits.coprocessorPagingKeysMax, Math.max(256, limit)),
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
  const stats = ctx.storage.stats;
  // Counted as the read it replaces, too: a table scan, a range of row or index keys.
  if (index !== null) stats.indexRangeScans = (stats.indexRangeScans ?? 0) + 1;
  else if (ranges === null) stats.tableScans++;
  else stats.handleRangeScans = (stats.handleRangeScans ?? 0) + 1;
  const rows: Value[][] = [];
  const handles: bigint[] = [];
  const pages = ctx.txn.coprocessor<DagResponse>({
    handler: dagHandler,
    plan: encodeDagRequest(request),
    ranges: ranges ?? [whole],
    decode: decodeDagResponse,
    resumeKey: (page) => page.resumeKey,
    // A LIMIT with no filter is likely met by the first shard: one request at a time.
    ...(limit !== null && scan.filters.length === 0 ? { concurrency: 1 } : {}),
    onRequest: () => {
      stats.coprocessorRequests = (stats.coprocessorRequests ?? 0) + 1;
    },
  });
  for await (const { value: page } of pages) {
    ctx.signal?.throwIfAborted();
    for (const warning of page.warnings) evalCtx.warn(warning);
    if (page.error !== null) throw new ExprError(page.error);
    for (const row of page.rows) rows.push(widen(row));
    if (page.handles !== null) handles.push(...page.handles);
    if (limit !== null && rows.length >= limit) break;
  }
  return { rows, handles };
}
