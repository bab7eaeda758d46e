/**
 * EXPLAIN and EXPLAIN ANALYZE of queries, in TiDB's row format: columns `id`, `estRows`,
 * `task`, `access object`, `operator info` (ANALYZE adds `actRows`, `execution info`,
 * `memory` and `disk`), one row per operator of a tree drawn with `└─` / `├─`.
 *
 * The access paths are the ones the executor takes, not a re-derivation: EXPLAIN plans
 * the query and runs it against a *recording* environment whose reads return no rows
 * (so nothing is read), which logs each read the FROM clause asks for — a point get, a
 * range of handles, a range of an index, a full scan — with the key ranges chosen by
 * `index_access.ts` from the table's statistics. EXPLAIN ANALYZE runs the query for real
 * through the same recorder, which then also counts rows and times each read; the
 * SELECT pipeline fills in its own counts (`SelectShape.act`). The operators above the
 * reads (Selection, HashJoin, HashAgg, Window, Sort / TopN / Limit, Projection, Union)
 * follow the query's clauses, which the executor runs in that order (`planner.ts`).
 *
 * Estimated rows come from the table's statistics (`ANALYZE TABLE`, `src/sql/stats`)
 * when it has them, else TiDB's pseudo estimates (10,000 rows, `stats:pseudo`); filters,
 * joins and grouping use simple fixed selectivities. Execution time comes from the
 * injected clock (`now`), so this file stays pure of I/O.
 */
import { stringType } from "../../expr/mod.ts";
import type { Expr as AstExpr, DeleteStatement, InsertStatement, Query, TableExpr,
  UpdateStatement } from "../parser/ast.ts";
import { formatExpr } from "../parser/format.ts";
import type { IndexInfo, TableInfo } from "../catalog/schema.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import type { ColumnDef } from "../wire/session.ts";
import { columnOf } from "../session/to_expr.ts";
import { Frame } from "./scope.ts";
import { type PlanEnv, type Planned, Planner } from "./planner.ts";
import type { AccessRecord, JoinTrace, JoinTraceNode, PlanTrace, QueryShape, SelectShape }
  from "./explain_shape.ts";
import { type CopSummary, type PushedScan, coveredNames, exprText, indexReadOrder,
  planLookup } from "./pushdown.ts";
import { type JoinDrawing, drawJoin } from "./explain_join.ts";
import { partitionLabel } from "./partition_source.ts";

/** Rows a table is assumed to hold without statistics (TiDB's pseudo count). */
export const pseudoRowCount = 10_000;
/** Share of rows a filter is assumed to keep (TiDB's pseudo selectivity). */
const filterSelectivity = 0.8;
/** Rows an index range with an equality is assumed to read without statistics. */
const pseudoEqualRows = 10;

/** `env` with every read logged in `trace` (and answered with no rows when `dry`). */
export function recordingEnv(env: PlanEnv, trace: PlanTrace, options: { readonly dry: boolean }):
  PlanEnv {
  const timed = async <T>(record: AccessRecord, read: () => Promise<T>, count: (t: T) => number,
    empty: T): Promise<T> => {
    trace.records.push(record);
    if (options.dry) return empty;
    const start = trace.now();
    const got = await read();
    record.rows += count(got);
    record.timeMs += trace.now() - start;
    return got;
  };
  const base = (table: TableInfo, kind: AccessRecord["kind"], extra: Partial<AccessRecord> = {}):
    AccessRecord => ({ table, kind, index: null, handles: [], pointRange: false, rows: 0,
    timeMs: 0, calls: 1, ...extra });
  const noRows = { handles: [], rows: [] };
  const out: PlanEnv = {
    ...env,
    scanTable: (table) => timed(base(table, "full"), () => env.scanTable(table),
      (t) => t.rows.length, noRows),
    getRow: (table, handle) => timed(base(table, "point", { handles: [handle] }),
      () => env.getRow(table, handle), (r) => (r === null ? 0 : 1), null),
    ...(env.getRows === undefined ? {} : { getRows: (table, handles) => timed(base(table,
      "point", { handles }), () => env.getRows!(table, handles), (t) => t.rows.length,
    noRows) }),
    lockRows: (table, handles) => (options.dry ? Promise.resolve()
      : env.lockRows(table, handles)),
  };
  if (env.scanTablePages !== undefined) {
    // A spilling run's paged read: one full-scan record, its rows counted page by page.
    const scanTablePages = env.scanTablePages;
    out.scanTablePages = (table, pageRows) => (async function* () {
      const record = base(table, "full");
      trace.records.push(record);
      if (options.dry) return;
      for await (const page of scanTablePages(table, pageRows)) {
        record.rows += page.rows.length;
        yield page;
      }
    })();
  }
  if (env.scanRows !== undefined) {
    const scanRows = env.scanRows;
    out.scanRows = (table, range) => timed(base(table, "handleRange", handleRangeOf(range)),
      () => scanRows(table, range), (t) => t.rows.length, noRows);
  }
  if (env.pushedRead !== undefined) {
    // One record per range (as the reads it replaces), the read counted on the first.
    const pushedRead = env.pushedRead;
    out.pushedRead = (table, ranges, scan, ctx) => {
      const records = ranges === null ? [base(table, "full", { pushed: scan })]
        : scan.index !== null ? ranges.map(() => base(table, "indexRange", { pushed: scan,
          index: scan.index }))
          : ranges.map((range) => base(table, "handleRange", { pushed: scan,
            ...handleRangeOf(range) }));
      const read = timed(records[0]!, () => pushedRead(table, ranges, scan, ctx),
        (t) => t.rows.length, { rows: [], handles: [] });
      trace.records.push(...records.slice(1));
      return read.then((got) => {
        // What the requests did, for EXPLAIN ANALYZE's execution info.
        const first = records[0]!;
        if (got.cop !== undefined) first.cop = mergeCop(first.cop, got.cop);
        if (got.fetchCop !== undefined) first.fetchCop = mergeCop(first.fetchCop, got.fetchCop);
        return got;
      });
    };
  }
  if (env.readIndex !== undefined) {
    const readIndex = env.readIndex;
    out.readIndex = (table, index, range) => timed(base(table, "indexRange", { index }),
      () => readIndex(table, index, range), (t) => t.rows.length, noRows);
  }
  if (env.virtualTable !== undefined) {
    const virtualTable = env.virtualTable;
    out.virtualTable = (name) => {
      const got = virtualTable(name);
      if (got === undefined) return undefined;
      const info = { name, columns: got.columns } as unknown as TableInfo;
      // Logged when its rows are read (when the query runs, not when it is planned).
      return { columns: got.columns, get rows() {
        trace.records.push(base(info, "mem", { rows: options.dry ? 0 : got.rows.length }));
        return options.dry ? [] : got.rows;
      } };
    };
  }
  return out;
}

/** Two reads' coprocessor summaries as one (a read that ran again: a loop). */
function mergeCop(a: CopSummary | undefined, b: CopSummary): CopSummary {
  if (a === undefined) return b;
  const taskMs = new Map(a.taskMs);
  let next = taskMs.size;
  for (const ms of b.taskMs.values()) taskMs.set(-++next, ms);
  return { taskMs, rpcs: a.rpcs + b.rpcs, rpcMs: a.rpcMs + b.rpcMs,
    scannedKeys: a.scannedKeys + b.scannedKeys, rows: a.rows + b.rows };
}

/**
 * TiDB's `cop_task` execution info: the shard tasks' times (max, min, avg, p95), the keys
 * the KV nodes scanned, the requests and their total round trip.
 */
export function copTaskInfo(cop: CopSummary): string {
  const times = [...cop.taskMs.values()].sort((x, y) => x - y);
  const n = times.length;
  const spread = n === 0 ? "" : `, max: ${formatMs(times[n - 1]!)}, min: ${formatMs(times[0]!)}` +
    `, avg: ${formatMs(times.reduce((x, y) => x + y, 0) / n)}, p95: ${
      formatMs(times[Math.max(0, Math.ceil(n * 0.95) - 1)]!)}`;
  return `cop_task: {num: ${n}${spread}, proc_keys: ${cop.scannedKeys}, rpc_num: ${cop.rpcs}` +
    `, rpc_time: ${formatMs(cop.rpcMs)}}`;
}

/** What a read of a range of row keys records: its first and last handles, if known. */
function handleRangeOf(range: { readonly start: Uint8Array; readonly end: Uint8Array }):
  { handles: bigint[]; pointRange: boolean } {
  const lo = handleOfKey(range.start);
  const hi = range.end.length === range.start.length ? handleOfKey(range.end) : undefined;
  const point = lo !== undefined && (hi === lo + 1n ||
    (range.end.length === range.start.length + 1 && range.end[range.end.length - 1] === 0));
  return { handles: lo === undefined ? [] : point ? [lo] : hi === undefined ? [lo]
    : [lo, hi - 1n], pointRange: point };
}

/** The handle a row key ends with (its last 8 bytes, sign-flipped), if it is one. */
function handleOfKey(key: Uint8Array): bigint | undefined {
  if (key.length < 8) return undefined;
  const view = new DataView(key.buffer, key.byteOffset + key.length - 8, 8);
  return BigInt.asIntN(64, view.getBigUint64(0) ^ (1n << 63n));
}

// ---- the operator tree ---------------------------------------------------------------------

/** One operator of the explained plan. */
export interface PlanNode {
  readonly op: string;
  readonly estRows: number;
  readonly task: "root" | "cop[tikv]";
  readonly access: string;
  readonly info: string;
  readonly children: PlanNode[];
  /** `(Build)` / `(Probe)` under joins and index lookups. */
  readonly role?: string;
  readonly act?: { readonly rows: number; readonly timeMs: number; readonly loops: number;
    readonly memBytes: number; readonly info?: string;
    /** Bytes held in temp files at most (spilling sorts and groupings, spill_select.ts). */
    readonly diskBytes?: number };
}

/** Statistics' row count of `table`, or undefined (pseudo). */
export type RowCounts = (table: TableInfo) => number | undefined;

const comparisonNames: Readonly<Record<string, string>> = { "=": "eq", "<>": "ne", "!=": "ne",
  "<": "lt", "<=": "le", ">": "gt", ">=": "ge", "<=>": "nulleq", AND: "and", OR: "or",
  "+": "plus", "-": "minus", "*": "mul", "/": "div" };

/** An expression in TiDB's operator-info style: `eq(t.a, 1)`, `and(…)`. */
export function infoExpr(e: AstExpr): string {
  switch (e.kind) {
    case "binary": {
      const name = comparisonNames[e.op];
      return name === undefined ? formatExpr(e) : `${name}(${infoExpr(e.left)}, ${
        infoExpr(e.right)})`;
    }
    case "column":
      return [e.db, e.table, e.column].filter((p) => p !== null).join(".");
    case "in":
      return `${e.not ? "not(" : ""}in(${[e.operand, ...e.list].map(infoExpr).join(", ")})${
        e.not ? ")" : ""}`;
    case "func":
      if (e.over !== null) return formatExpr(e);
      return `${e.name}(${e.args.map(infoExpr).join(", ")})`;
    default:
      return formatExpr(e);
  }
}

function conjuncts(e: AstExpr | null): AstExpr[] {
  if (e === null) return [];
  return e.kind === "binary" && e.op === "AND" ? [...conjuncts(e.left), ...conjuncts(e.right)]
    : [e];
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

function tableLabel(table: TableInfo, index: IndexInfo | null): string {
  const base = `table:${table.name}${partitionLabel(table)}`;
  if (index === null) return base;
  const cols = index.columns.map((c) => table.columns[c]?.name ?? String(c)).join(", ");
  return `${base}, index:${index.name}(${cols})`;
}

/** A reader subtree for one table's reads, with the single-table filter pushed down. */
function readerTree(records: readonly AccessRecord[], filter: readonly AstExpr[],
  rowCounts: RowCounts, analyze: boolean): PlanNode {
  const first = records[0]!;
  const table = first.table;
  const counted = rowCounts(table);
  const total = counted ?? pseudoRowCount;
  const stats = counted === undefined ? ", stats:pseudo" : "";
  const rows = records.reduce((n, r) => n + r.rows, 0);
  const timeMs = records.reduce((n, r) => n + r.timeMs, 0);
  const act = (n: number, loops = records.length) => (analyze
    ? { rows: n, timeMs, loops, memBytes: 0 } : undefined);
  const withAct = (node: Omit<PlanNode, "act">, n: number, loops?: number): PlanNode => {
    const a = act(n, loops);
    return a === undefined ? node : { ...node, act: a };
  };
  const filterInfo = filter.map(infoExpr).join(", ");
  const selected = (est: number) => (filter.length > 0 ? est * filterSelectivity : est);
  // EXPLAIN ANALYZE of a pushed read: its requests (`cop_task`), the keys KV scanned.
  const copRun = first.cop;
  const copInfo = (node: PlanNode, summary: CopSummary | undefined): PlanNode =>
    (node.act === undefined || summary === undefined ? node
      : { ...node, act: { ...node.act, info: copTaskInfo(summary) } });
  const scanned = copRun === undefined ? rows : copRun.scannedKeys;
  if (first.kind === "mem") {
    return withAct({ op: "MemTableScan", estRows: total, task: "root",
      access: `table:${table.name.toUpperCase()}`, info: "", children: [] }, rows);
  }
  if (first.kind === "point" || (first.kind === "handleRange" &&
    records.every((r) => r.kind === "handleRange" && r.pointRange))) {
    const handles = records.flatMap((r) => r.handles);
    const get: PlanNode = handles.length === 1 && first.kind === "point"
      ? withAct({ op: "Point_Get", estRows: 1, task: "root", access: tableLabel(table, null),
        info: `handle:${handles[0]}`, children: [] }, rows)
      : withAct({ op: "Batch_Point_Get", estRows: handles.length, task: "root",
        access: tableLabel(table, null),
        info: `handle:[${handles.join(" ")}], keep order:false, desc:false`, children: [] },
      rows, 1);
    return filter.length === 0 ? get : withAct({ op: "Selection", estRows: selected(
      get.estRows), task: "root", access: "", info: filterInfo, children: [get] }, rows);
  }
  const scanOf = (op: string, est: number, access: string, info: string, n = rows,
    keepOrder = false, desc = false): PlanNode => withAct({ op, estRows: est,
    task: "cop[tikv]", access, info: `${info}keep order:${keepOrder}${desc ? ", desc" : ""}${
      stats}`, children: [] }, n);
  if (first.kind === "indexRange" && first.pushed?.lookup === true) {
    // An index lookup on KV (pushdown.ts): the index side's filters (and tail), then the
    // rows by handle with the others.
    const pushed = first.pushed;
    const index = first.index!;
    const plan = planLookup(table, index, pushed);
    const names = coveredNames(table, index);
    const onIndex = filter.filter((c) => readsOnlyNames(c, names));
    const onRows = filter.filter((c) => !onIndex.includes(c));
    const est = counted === undefined ? pseudoEqualRows * records.length : total / 3;
    const fetch = first.fetchCop;
    const handles = copRun?.rows ?? rows;
    const readOrder = indexReadOrder(table, index, pushed);
    const keepOrder = readOrder !== null;
    // A TopN in index order is a Limit of the entries read in order.
    const tail = keepOrder ? { op: "Limit", estRows: pushed.topN!.count,
      info: `offset:0, count:${pushed.topN!.count}` } : pushedTail(pushed);
    let build = scanOf("IndexRangeScan", est, tableLabel(table, index),
      `ranges:${records.length}, `, scanned, keepOrder, readOrder === "desc");
    if (onIndex.length > 0) {
      build = withAct({ op: "Selection", estRows: est * filterSelectivity, task: "cop[tikv]",
        access: "", info: onIndex.map(infoExpr).join(", "), children: [build] }, handles);
    }
    if (plan.indexTail && tail !== null) {
      build = withAct({ ...tail, estRows: Math.min(build.estRows, tail.estRows),
        task: "cop[tikv]", access: "", children: [build] }, handles);
    }
    let probe = scanOf("TableRowIDScan", build.estRows, tableLabel(table, null), "",
      fetch?.scannedKeys ?? rows);
    if (onRows.length > 0) {
      probe = withAct({ op: "Selection", estRows: probe.estRows * filterSelectivity,
        task: "cop[tikv]", access: "", info: onRows.map(infoExpr).join(", "),
        children: [probe] }, fetch?.rows ?? rows);
    }
    if (!plan.indexTail && tail !== null) {
      probe = withAct({ ...tail, estRows: Math.min(probe.estRows, tail.estRows),
        task: "cop[tikv]", access: "", children: [probe] }, fetch?.rows ?? rows);
    }
    const lookup = withAct({ op: "IndexLookUp", estRows: probe.estRows, task: "root",
      access: "", info: "", children: [{ ...copInfo(build, copRun), role: "(Build)" },
        { ...copInfo(probe, fetch), role: "(Probe)" }] }, rows);
    return lookup.act === undefined ? lookup : { ...lookup, act: { ...lookup.act,
      info: `index_task: {fetch_handle: ${handles}}, table_task: {num: ${
        fetch?.taskMs.size ?? 0}, rpc_num: ${fetch?.rpcs ?? 0}}` } };
  }
  if (first.kind === "indexRange" && first.pushed !== undefined) {
    // A covering index read on KV: IndexReader over what ran there (pushdown.ts).
    const est = counted === undefined ? pseudoEqualRows * records.length : total / 3;
    const pushed = first.pushed;
    // Entries read in index order (or its reverse) and stopped early: a Limit.
    const readOrder = pushed.aggregation === null ? indexReadOrder(table, first.index!, pushed)
      : null;
    const indexScan = scanOf("IndexRangeScan", est, tableLabel(table, first.index),
      `ranges:${records.length}, `, scanned, readOrder !== null, readOrder === "desc");
    const selection = filter.length === 0 ? indexScan : withAct({ op: "Selection",
      estRows: selected(est), task: "cop[tikv]", access: "", info: filterInfo,
      children: [indexScan] }, rows);
    const tail = readOrder !== null ? { op: "Limit", estRows: pushed.topN!.count,
      info: `offset:0, count:${pushed.topN!.count}` } : pushedTail(pushed);
    const cop = tail === null ? selection : withAct({ ...tail, estRows: Math.min(
      selection.estRows, tail.estRows), task: "cop[tikv]", access: "", children: [selection] },
    rows);
    return copInfo(withAct({ op: "IndexReader", estRows: cop.estRows, task: "root",
      access: "", info: `index:${cop.op}`, children: [cop] }, rows), first.cop);
  }
  if (first.kind === "indexRange") {
    const est = counted === undefined ? pseudoEqualRows * records.length : total / 3;
    const build = { ...scanOf("IndexRangeScan", est, tableLabel(table, first.index),
      `ranges:${records.length}, `), role: "(Build)" };
    const rowScan = scanOf("TableRowIDScan", est, tableLabel(table, null), "");
    const probe: PlanNode = { ...(filter.length === 0 ? rowScan : withAct({ op: "Selection",
      estRows: selected(est), task: "cop[tikv]", access: "", info: filterInfo,
      children: [rowScan] }, rows)), role: "(Probe)" };
    return withAct({ op: "IndexLookUp", estRows: selected(est), task: "root", access: "",
      info: "", children: [build, probe] }, rows);
  }
  const range = first.kind === "handleRange";
  const est = range ? total / 3 : total;
  const rangeInfo = range ? `range:${records.map((r) => (r.handles.length === 2
    ? `[${r.handles[0]},${r.handles[1]}]` : r.pointRange ? `[${r.handles[0]},${r.handles[0]}]`
      : r.handles.length === 1 ? `[${r.handles[0]},+inf]` : "[-inf,+inf]")).join(", ")}, ` : "";
  const scan = scanOf(range ? "TableRangeScan" : "TableFullScan", est, tableLabel(table, null),
    rangeInfo, scanned);
  const selection = filter.length === 0 ? scan : withAct({ op: "Selection",
    estRows: selected(est), task: "cop[tikv]", access: "", info: filterInfo,
    children: [scan] }, rows);
  // LIMIT, TopN or partial aggregation pushed down with the read (pushdown.ts).
  const tail = first.pushed === undefined ? null : pushedTail(first.pushed);
  const cop = tail === null ? selection : withAct({ ...tail, estRows: Math.min(
    selection.estRows, tail.estRows), task: "cop[tikv]", access: "", children: [selection] },
  rows);
  return copInfo(withAct({ op: "TableReader", estRows: cop.estRows, task: "root", access: "",
    info: `data:${cop.op}`, children: [cop] }, rows), copRun);
}

/** Whether an AST conjunct reads only columns named in `names` (no subquery). */
function readsOnlyNames(e: AstExpr, names: ReadonlySet<string>): boolean {
  let ok = true;
  const visit = (node: unknown): void => {
    if (!ok || typeof node !== "object" || node === null) return;
    if (Array.isArray(node)) {
      for (const x of node) visit(x);
      return;
    }
    const o = node as { kind?: unknown; column?: unknown };
    if (o.kind === "subquery" || o.kind === "exists") ok = false;
    else if (o.kind === "column") ok = typeof o.column === "string" &&
      names.has(o.column.toLowerCase());
    else for (const v of Object.values(o)) visit(v);
  };
  visit(e);
  return ok;
}

/** The operator a pushed read ran above its scan on KV, as TiDB names it, or null. */
function pushedTail(scan: PushedScan): { op: string; estRows: number; info: string } | null {
  if (scan.limit !== null) {
    return { op: "Limit", estRows: scan.limit, info: `offset:0, count:${scan.limit}` };
  }
  if (scan.topN !== null) {
    const order = scan.topN.order.map((k) => `${exprText(k.expr)}${k.desc ? ":desc" : ""}`);
    return { op: "TopN", estRows: scan.topN.count, info: `${order.join(", ")}, offset:0, ` +
      `count:${scan.topN.count}` };
  }
  const agg = scan.aggregation?.dag;
  if (agg === undefined) return null;
  const funcs = agg.aggregates.filter((a) => a.fn !== "first_row" && !(a.fn === "count" &&
    a.args.length === 0 && a === agg.aggregates[agg.aggregates.length - 1]))
    .map((a) => `${a.fn}(${a.args.length === 0 ? "1" : a.args.map(exprText).join(", ")})`);
  const groupBy = agg.groupBy.length === 0 ? ""
    : `group by:${agg.groupBy.map(exprText).join(", ")}, `;
  return { op: "HashAgg", estRows: agg.groupBy.length === 0 ? 1 : pseudoEqualRows,
    info: `${groupBy}funcs:${funcs.join(", ")}` };
}

/** The conjuncts of a FROM list's ON clauses. */
function onConditions(from: readonly TableExpr[]): AstExpr[] {
  const out: AstExpr[] = [];
  for (const item of from) {
    if (item.kind === "join") {
      out.push(...onConditions([item.left, item.right]), ...conjuncts(item.on));
    } else if (item.kind === "tableList") {
      out.push(...onConditions(item.items));
    }
  }
  return out;
}

/** Tables a FROM list joins with LEFT / RIGHT joins (for the join's kind). */
function outerJoinKind(from: readonly TableExpr[]): string | null {
  for (const item of from) {
    if (item.kind === "join") {
      if (item.type === "LEFT") return "left outer join";
      if (item.type === "RIGHT") return "right outer join";
      const inner = outerJoinKind([item.left, item.right]);
      if (inner !== null) return inner;
    }
  }
  return null;
}

/**
 * The join group planned by cost that read the whole FROM clause: every read in [start,
 * end) is its own or a nested SELECT's (an outer join's side is not the whole FROM).
 */
function costJoinOf(trace: PlanTrace, start: number, end: number,
  nested: readonly SelectShape[]): JoinTrace | undefined {
  const inNested = (i: number): boolean => nested.some((s) => s.act!.recordsStart <= i &&
    i < s.act!.recordsEnd);
  return (trace.joins ?? []).find((j) => {
    if (j.start !== start || j.end > end) return false;
    for (let i = j.end; i < end; i++) if (!inNested(i)) return false;
    return true;
  });
}

/** The lookups of a join plan's index joins (records [start, end)). */
function lookupReads(node: JoinTraceNode): { start: number; end: number }[] {
  if (node.kind === "leaf") return [];
  return [...(node.inner === undefined ? [] : [node.inner]), ...lookupReads(node.probe),
    ...lookupReads(node.build)];
}

/** How `explain_join.ts` draws the leaves of a cost-planned join from the units read. */
function joinDrawing(trace: PlanTrace, units: readonly (AccessRecord[] | QueryShape)[],
  rowCounts: RowCounts, analyze: boolean, act: (rows: number) => PlanNode["act"]):
  JoinDrawing {
  const startOf = (u: AccessRecord[] | QueryShape): number => (Array.isArray(u)
    ? trace.records.indexOf(u[0]!)
    : u.kind === "select" ? u.act?.recordsStart ?? -1 : -1);
  return {
    records: trace.records,
    analyze,
    infoExpr,
    tableLabel,
    analyzed: (table) => rowCounts(table) !== undefined,
    joinAct: act,
    leaf: (start, end, filter, estRows) => {
      const inside = units.filter((u) => startOf(u) >= start && startOf(u) < end);
      const drawn = inside.map((u) => (Array.isArray(u)
        ? readerTree(u, inside.length === 1 ? filter : [], rowCounts, analyze)
        : shapeTree(u, trace, rowCounts, analyze)));
      if (drawn.length === 0) {
        return { op: "TableDual", estRows, task: "root", access: "", info: "rows:0",
          children: [] };
      }
      // An outer join read as one leaf: its sides, joined.
      let tree = drawn[0]!;
      for (const next of drawn.slice(1)) {
        tree = { op: "HashJoin", estRows, task: "root", access: "", info: "left outer join",
          children: [{ ...next, role: "(Build)" }, { ...tree, role: "(Probe)" }] };
      }
      return { ...tree, estRows };
    },
  };
}

/** The tree of one SELECT. */
/** Whether `outer`'s reads hold `inner`'s (a SELECT registered later holds an equal one). */
function holds(trace: PlanTrace, outer: SelectShape, inner: SelectShape): boolean {
  const o = outer.act!;
  const i = inner.act!;
  if (o.recordsStart > i.recordsStart || o.recordsEnd < i.recordsEnd) return false;
  return o.recordsStart < i.recordsStart || o.recordsEnd > i.recordsEnd ||
    trace.selects.indexOf(outer) > trace.selects.indexOf(inner);
}

function selectTree(shape: SelectShape, trace: PlanTrace, rowCounts: RowCounts,
  analyze: boolean): PlanNode {
  const act = shape.act;
  const records = trace.records;
  // A SELECT that never ran read nothing.
  const start = act?.recordsStart ?? 0;
  const end = act?.recordsEnd ?? 0;
  // SELECTs run inside this one's FROM (derived tables, views): their own subtrees.
  const inside = act === null ? [] : trace.selects.filter((s) => s !== shape &&
    s.act !== null && s.act.recordsEnd > s.act.recordsStart && holds(trace, shape, s));
  const direct = inside.filter((s) => !inside.some((o) => o !== s && holds(trace, o, s)));
  // A join group planned by cost draws its plan (explain_join.ts); lookups are not leaves.
  const joinPlan = costJoinOf(trace, start, end, direct);
  const lookups = joinPlan === undefined ? [] : lookupReads(joinPlan.root);
  // Reads of one table in a row form one reader (an IN list reads several ranges).
  const units: (AccessRecord[] | QueryShape)[] = [];
  for (let i = start; i < end;) {
    const lookup = lookups.find((r) => r.start === i && r.end > i);
    if (lookup !== undefined) {
      i = lookup.end;
      continue;
    }
    const nested = direct.find((s) => s.act!.recordsStart === i);
    if (nested !== undefined) {
      // A subquery's reads (run while WHERE filtered) belong to its own subtree.
      const unit = nested.compound ?? nested;
      if (nested.derived === true && !units.includes(unit)) units.push(unit);
      i = nested.act!.recordsEnd;
      continue;
    }
    const r = records[i++]!;
    const last = units[units.length - 1];
    if (Array.isArray(last) && last[0]!.table === r.table && last[0]!.kind === r.kind &&
      last[0]!.index === r.index) last.push(r);
    else units.push([r]);
  }
  const groups = units.filter((u): u is AccessRecord[] => Array.isArray(u));
  const all = [...onConditions(shape.from), ...conjuncts(shape.where)];
  const single = units.length === 1 && groups.length === 1;
  // A point or batch point get consumes the key's `=` / IN conjuncts.
  const points = single && (groups[0]![0]!.kind === "point" || groups[0]!.every((r) =>
    r.pointRange));
  const pushed = !single ? [] : all.filter((c) => !(points && ((c.kind === "binary" &&
    c.op === "=") || (c.kind === "in" && !c.not && c.operand.kind === "column"))));
  const timeMs = act?.timeMs ?? 0;
  const loops = act?.loops ?? 1;
  const rootAct = (rows: number, width: number) => (analyze
    ? { rows, timeMs, loops, memBytes: rows * width * 16 } : undefined);
  const node = (op: string, estRows: number, info: string, children: PlanNode[], rows: number,
    role?: string): PlanNode => {
    const a = rootAct(rows, shape.fields.length);
    return { op, estRows, task: "root", access: "", info, children,
      ...(a === undefined ? {} : { act: a }), ...(role === undefined ? {} : { role }) };
  };
  let tree: PlanNode;
  if (joinPlan !== undefined) {
    tree = drawJoin(joinPlan.root, joinDrawing(trace, units, rowCounts, analyze,
      (rows) => rootAct(rows, shape.fields.length)));
  } else if (units.length === 0) {
    const dual = shape.dualRows ?? 1;
    tree = node("TableDual", dual, `rows:${dual}`, [], act?.fromRows ?? dual);
  } else {
    const readers = units.map((u) => (Array.isArray(u)
      ? readerTree(u, single ? pushed : [], rowCounts, analyze)
      : shapeTree(u, trace, rowCounts, analyze)));
    tree = readers[0]!;
    const kind = outerJoinKind(shape.from) ?? "inner join";
    const equal = all.filter((c) => c.kind === "binary" && c.op === "=" &&
      c.left.kind === "column" && c.right.kind === "column" &&
      (c.left.table ?? "") !== (c.right.table ?? ""));
    for (let i = 1; i < readers.length; i++) {
      const est = Math.max(tree.estRows, readers[i]!.estRows);
      const info = i === readers.length - 1 && equal.length > 0
        ? `${kind}, equal:[${equal.map(infoExpr).join(" ")}]`
        : `${kind}${equal.length === 0 ? ", CARTESIAN" : ""}`;
      tree = node("HashJoin", est, info, [{ ...readers[i]!, role: "(Build)" },
        { ...tree, role: "(Probe)" }], act?.fromRows ?? 0);
    }
    const rest = single ? [] : all.filter((c) => !equal.includes(c));
    if (rest.length > 0) {
      tree = node("Selection", tree.estRows * filterSelectivity, rest.map(infoExpr).join(", "),
        [tree], act?.fromRows ?? 0);
    }
  }
  // Subqueries (planned inside, not read as part of FROM): under an Apply, as TiDB shows.
  tree = semiJoinTree(shape, tree, (s) => selectTree(s, trace, rowCounts, analyze),
    act?.fromRows ?? 0, analyze);
  const subqueries = shape.nested.filter((s) => s.derived !== true && s.semi !== true);
  if (subqueries.length > 0) {
    tree = node("Apply", tree.estRows, "subqueries", [{ ...tree, role: "(Build)" },
      ...subqueries.map((s) => ({ ...selectTree(s, trace, rowCounts, analyze),
        role: "(Probe)" }))], act?.fromRows ?? 0);
  }
  let est = tree.estRows;
  if (shape.grouped) {
    est = shape.groupBy.length === 0 ? 1 : Math.max(1, est * filterSelectivity);
    const info = [shape.groupBy.length > 0 ? `group by:${shape.groupBy.map(infoExpr)
      .join(", ")}` : "", `funcs:${shape.aggregates.join(", ")}`].filter((s) => s !== "")
      .join(", ");
    tree = node("HashAgg", est, info, [tree], act?.groups ?? 0);
  }
  if (shape.having !== null) {
    est *= filterSelectivity;
    tree = node("Selection", est, infoExpr(shape.having), [tree], act?.outRows ?? 0);
  }
  if (shape.windows.length > 0) {
    tree = node("Window", est, shape.windows.join(", "), [tree], act?.outRows ?? 0);
  }
  if (shape.distinct) {
    est = Math.max(1, est * filterSelectivity);
    tree = node("HashAgg", est, `group by:${shape.fields.join(", ")}`, [tree],
      act?.outRows ?? 0);
  }
  const order = shape.orderBy.map((o) => `${o.text}${o.desc ? ":desc" : ""}`).join(", ");
  const limitText = shape.limit === null ? null : {
    count: formatExpr(shape.limit.count),
    offset: shape.limit.offset === null ? "0" : formatExpr(shape.limit.offset) };
  const limitCount = limitText === null ? NaN : Number(limitText.count);
  if (limitText !== null && Number.isFinite(limitCount)) est = Math.min(est, limitCount);
  if (order !== "" && limitText !== null && shape.topN !== false) {
    tree = node("TopN", est, `${order}, offset:${limitText.offset}, count:${limitText.count}`,
      [tree], act?.outRows ?? 0);
  } else if (order !== "") {
    tree = node("Sort", est, order, [tree], act?.outRows ?? 0);
    // optimizer_switch topn=off: the whole sort, then LIMIT.
    if (limitText !== null) {
      tree = node("Limit", est, `offset:${limitText.offset}, count:${limitText.count}`,
        [tree], act?.outRows ?? 0);
    }
  } else if (limitText !== null) {
    tree = node("Limit", est, `offset:${limitText.offset}, count:${limitText.count}`, [tree],
      act?.outRows ?? 0);
  }
  if (!shape.plainFields || shape.grouped) {
    tree = node("Projection", est, shape.fields.join(", "), [tree], act?.outRows ?? 0);
  }
  return tree;
}

/** The semi joins of a SELECT's WHERE (`decorrelate.ts`) over its FROM's tree. */
function semiJoinTree(shape: SelectShape, from: PlanNode, inner: (s: SelectShape) => PlanNode,
  rows: number, analyze: boolean): PlanNode {
  let tree = from;
  for (const semi of shape.semiJoins ?? []) {
    const info = [semi.kind, semi.equal.length === 0 ? "" : `equal:[${semi.equal.map(([o, i]) =>
      `eq(${infoExpr(o)}, ${infoExpr(i)})`).join(" ")}]`, semi.other.length === 0 ? ""
      : `other cond:${semi.other.map(infoExpr).join(", ")}`].filter((s) => s !== "").join(", ");
    const est = tree.estRows * filterSelectivity;
    tree = { op: "HashJoin", estRows: est, task: "root", access: "", info,
      children: [{ ...inner(semi.inner), role: "(Build)" }, { ...tree, role: "(Probe)" }],
      ...(analyze ? { act: { rows, timeMs: 0, loops: 1, memBytes: 0 } } : {}) };
  }
  return tree;
}

function shapeTree(shape: QueryShape | undefined, trace: PlanTrace, rowCounts: RowCounts,
  analyze: boolean): PlanNode {
  if (shape === undefined) {
    return { op: "TableDual", estRows: 1, task: "root", access: "", info: "rows:1",
      children: [] };
  }
  if (shape.kind === "select") return selectTree(shape, trace, rowCounts, analyze);
  const children = shape.children.map((c) => shapeTree(c, trace, rowCounts, analyze));
  let tree: PlanNode = children.length === 1 ? children[0]! : { op: shape.op,
    estRows: children.reduce((n, c) => n + c.estRows, 0), task: "root", access: "", info: "",
    children };
  if (shape.orderBy.length > 0 || shape.limit !== null) {
    const info = [shape.orderBy.join(", "), shape.limit === null ? "" : `offset:${
      shape.limit.offset === null ? "0" : formatExpr(shape.limit.offset)}, count:${
      formatExpr(shape.limit.count)}`].filter((s) => s !== "").join(", ");
    const op = shape.orderBy.length === 0 ? "Limit" : shape.limit === null ? "Sort" : "TopN";
    const count = shape.limit === null ? NaN : Number(formatExpr(shape.limit.count));
    const est = Number.isFinite(count) ? Math.min(count, tree.estRows) : tree.estRows;
    if (op === "TopN" && shape.topN === false) {
      // optimizer_switch topn=off: the whole sort, then LIMIT.
      const sorted: PlanNode = { op: "Sort", estRows: tree.estRows, task: "root", access: "",
        info: shape.orderBy.join(", "), children: [tree] };
      tree = { op: "Limit", estRows: est, task: "root", access: "", info: info.slice(
        shape.orderBy.join(", ").length + 2), children: [sorted] };
    } else {
      tree = { op, estRows: est, task: "root", access: "", info, children: [tree] };
    }
  }
  return tree;
}

/** Rows of the tree in TiDB's layout: ids numbered, drawn with tree characters. */
function layoutRows(root: PlanNode, analyze: boolean, brief: boolean): string[][] {
  const out: string[][] = [];
  let next = 1;
  const ids = new Map<PlanNode, number>();
  const number = (n: PlanNode): void => {
    for (const c of n.children) number(c);
    ids.set(n, next++);
  };
  number(root);
  const walk = (n: PlanNode, prefix: string, branch: string): void => {
    // FORMAT = 'brief' drops the operator numbers, as TiDB does.
    const id = `${prefix}${branch}${n.op}${brief ? "" : `_${ids.get(n)}`}${n.role ?? ""}`;
    const est = Number.isNaN(n.estRows) ? "N/A" : round2(n.estRows).toFixed(2);
    const info = n.info;
    if (analyze) {
      const a = n.act;
      out.push([id, est, a === undefined ? "0" : String(a.rows), n.task, n.access,
        a === undefined ? "time:0s, loops:0" : `time:${formatMs(a.timeMs)}, loops:${a.loops}${
          a.info === undefined ? "" : `, ${a.info}`}`,
        info, a === undefined || a.memBytes === 0 ? "N/A" : `${a.memBytes} Bytes`,
        a?.diskBytes === undefined ? "N/A" : `${a.diskBytes} Bytes`]);
    } else {
      out.push([id, est, n.task, n.access, info]);
    }
    const childPrefix = prefix + (branch === "" ? "" : branch === "├─" ? "│ " : "  ");
    n.children.forEach((c, i) => walk(c, childPrefix, i === n.children.length - 1 ? "└─"
      : "├─"));
  };
  walk(root, "", "");
  return out;
}

function formatMs(ms: number): string {
  return ms < 1 ? `${Math.round(ms * 1000)}µs` : ms < 1000 ? `${round2(ms)}ms`
    : `${round2(ms / 1000)}s`;
}

/** The result of an EXPLAIN. */
export interface ExplainOutput {
  readonly columns: ColumnDef[];
  readonly rows: string[][];
}

/**
 * EXPLAIN [ANALYZE] of `query`: planned (and, for ANALYZE, run) with `env`; `now` is the
 * clock of execution times in ms.
 */
export async function explainQuery(env: PlanEnv, query: Query, options: {
  readonly analyze: boolean; readonly format: string | null; readonly now: () => number }):
  Promise<ExplainOutput> {
  const brief = formatIsBrief(options.format);
  const { root } = await queryTree(env, query, options);
  return outputOf(root, options.analyze, brief);
}

/** Whether FORMAT is `brief` (else `row`); 1918 for a format this EXPLAIN does not print. */
function formatIsBrief(format: string | null): boolean {
  const name = format?.toLowerCase() ?? "row";
  if (name !== "row" && name !== "brief" && name !== "traditional") {
    throw mysqlError(ER.UNKNOWN_EXPLAIN_FORMAT, [format ?? ""]);
  }
  return name === "brief";
}

function outputOf(root: PlanNode, analyze: boolean, brief: boolean): ExplainOutput {
  const names = analyze
    ? ["id", "estRows", "actRows", "task", "access object", "execution info", "operator info",
      "memory", "disk"]
    : ["id", "estRows", "task", "access object", "operator info"];
  return { columns: names.map((n) => columnOf(n, stringType(256, { nullable: false }))),
    rows: layoutRows(root, analyze, brief) };
}

async function queryTree(env: PlanEnv, query: Query, options: { readonly analyze: boolean;
  readonly now: () => number }): Promise<{ root: PlanNode }> {
  const trace: PlanTrace = { records: [], selects: [], planned: [], now: options.now };
  const recorded = recordingEnv(env, trace, { dry: !options.analyze });
  const planner = new Planner(recorded);
  planner.trace = trace;
  const plan: Planned = planner.planQuery(query, new Frame(null), null);
  const start = options.now();
  const rows = await plan.run();
  const totalMs = options.now() - start;
  if (!options.analyze) {
    // Subqueries the dry run never reached (no outer rows): run each alone, to log reads.
    for (let i = 0; i < trace.planned.length; i++) {
      const s = trace.planned[i]!;
      if (s.act === null && s.run !== undefined) await s.run();
    }
  }
  const rowCounts: RowCounts = (table) => env.tableStats?.(table)?.count;
  let root = shapeTree(plan.shape, trace, rowCounts, options.analyze);
  if (options.analyze && root.act !== undefined) {
    // The root's memory is the statement's peak by its memory tracker (memory_tracker.ts).
    const peak = planner.memory().peak;
    // Its disk: the most a spilling run held in temp files (spill_select.ts).
    const disk = planner.diskPeak;
    root = { ...root, act: { ...root.act, rows: rows.length, timeMs: totalMs,
      ...(peak > 0 ? { memBytes: peak } : {}), ...(disk > 0 ? { diskBytes: disk } : {}) } };
  }
  return { root };
}

/**
 * EXPLAIN of INSERT, UPDATE or DELETE (not ANALYZE, which would write): the write operator
 * over what it reads. INSERT … SELECT reads its query; a single-table UPDATE / DELETE
 * reads as the write executor does (`src/sql/exec/dml.ts`): one point get when WHERE pins
 * the clustered key to a constant, else a full scan filtered by WHERE.
 */
export async function explainWrite(env: PlanEnv, statement: InsertStatement | UpdateStatement |
  DeleteStatement, options: { readonly analyze: boolean; readonly format: string | null;
  readonly now: () => number }): Promise<ExplainOutput> {
  const brief = formatIsBrief(options.format);
  if (options.analyze) {
    throw mysqlError(ER.NOT_SUPPORTED_YET, ["EXPLAIN ANALYZE of INSERT, UPDATE and DELETE"]);
  }
  const write = (op: string, children: PlanNode[]): PlanNode => ({ op, estRows: NaN,
    task: "root", access: "", info: "N/A", children });
  if (statement.kind === "insert") {
    const children = statement.source.kind === "query"
      ? [(await queryTree(env, statement.source.query, options)).root] : [];
    return outputOf(write(statement.replace ? "Replace" : "Insert", children), false, brief);
  }
  const items = statement.kind === "update" ? statement.tables : statement.from;
  const item = items[0];
  if (items.length !== 1 || item?.kind !== "table" ||
    (statement.kind === "delete" && statement.targets.length > 0)) {
    throw mysqlError(ER.NOT_SUPPORTED_YET, ["EXPLAIN of multi-table UPDATE and DELETE"]);
  }
  const db = item.name.db ?? env.database;
  if (db === null) throw mysqlError(ER.NO_DB_ERROR);
  const table = env.schema.table(db, item.name.name);
  if (table === undefined) throw mysqlError(ER.NO_SUCH_TABLE, [db, item.name.name]);
  const alias = item.alias ?? table.name;
  const where = conjuncts(statement.where);
  const pk = table.pkHandle === null ? undefined : table.columns[table.pkHandle]!.name;
  const isPk = (e: AstExpr): boolean => e.kind === "column" && pk !== undefined &&
    e.column.toLowerCase() === pk.toLowerCase() && (e.table === null ||
      e.table.toLowerCase() === alias.toLowerCase());
  const constant = (e: AstExpr): boolean => !JSON.stringify(e).includes("\"kind\":\"column\"");
  const key = where.find((c) => c.kind === "binary" && c.op === "=" &&
    ((isPk(c.left) && constant(c.right)) || (isPk(c.right) && constant(c.left))));
  const rowCounts: RowCounts = (t) => env.tableStats?.(t)?.count;
  let read: PlanNode;
  if (key !== undefined && key.kind === "binary") {
    const value = isPk(key.left) ? key.right : key.left;
    read = { op: "Point_Get", estRows: 1, task: "root", access: tableLabel(table, null),
      info: `handle:${formatExpr(value)}`, children: [] };
    const rest = where.filter((c) => c !== key);
    if (rest.length > 0) {
      read = { op: "Selection", estRows: filterSelectivity, task: "root", access: "",
        info: rest.map(infoExpr).join(", "), children: [read] };
    }
  } else {
    const record: AccessRecord = { table, kind: "full", index: null, handles: [],
      pointRange: false, rows: 0, timeMs: 0, calls: 1 };
    read = readerTree([record], where, rowCounts, false);
  }
  return outputOf(write(statement.kind === "update" ? "Update" : "Delete", [read]), false,
    brief);
}
