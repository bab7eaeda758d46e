/**
 * The FROM clause: tables, derived tables and views as row sources, joined.
 *
 * Comma lists, INNER/CROSS joins and their ON conditions are flattened with the WHERE
 * clause into one join group: its leaves (base tables, derived tables, views, CTEs, and
 * outer joins as opaque units) and its conjuncts. A conjunct that reads one leaf filters
 * that leaf as it is read (`pk = value` on a clustered integer key becomes a point get,
 * also for a value from an outer query's row, and comparisons, IN, IS NULL and LIKE
 * prefixes of indexed columns read the cheapest index or handle ranges by the table's
 * statistics, `index_access.ts`). Groups of two leaves or more are joined by cost
 * (`join_exec.ts`, `join_order.ts`): the order by estimated rows (dynamic programming,
 * greedy above a bound, STRAIGHT_JOIN as written), each join a hash join on the
 * equalities whose sides can be hashed (same comparison domain, `join_step.ts`), an index
 * join that looks the inner table up by the outer side's key values instead of reading it,
 * a merge join of two handle-ordered leaves, or a nested loop; with
 * `tessera_opt_join_reorder` off every leaf is read, then joined greedily, smallest first
 * and preferring a leaf connected by an equality. Each remaining conjunct filters as soon
 * as its leaves are joined. LEFT and RIGHT joins run their two sides as groups of their
 * own and null-extend unmatched rows.
 * USING and NATURAL join on equalities and merge the columns as MySQL does: the merged
 * column is listed first by `*`, unqualified names see one column, the other side's is
 * reachable only qualified.
 *
 * A base-table leaf's pushable conjuncts run on the KV nodes with its read (and, when a
 * SELECT reads one table, its LIMIT, TopN or aggregates: `pushdown.ts`); the rest here.
 *
 * Rows of a group are full-width arrays (every leaf's positions; unjoined ones NULL), so
 * conjuncts compile once against the group's layout. Memory is bounded by the query's
 * quota (`memory_tracker.ts`: widened rows, hash tables and join output are counted, 8175
 * past `tidb_mem_quota_query`); work by `joinRowsMax` / `joinPairsMax`: a join step that
 * would produce or examine more rows fails with 1104.
 */
import { type Expr, type Value, evaluate } from "../../expr/mod.ts";
import type { Expr as AstExpr, TableExpr } from "../parser/ast.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import type { IndexInfo, TableInfo } from "../catalog/schema.ts";
import { integralValue } from "../table/table.ts";
import { type ColumnItem, type KeyRange, chooseAccess, collectItems,
  planAccess } from "./index_access.ts";
import type { TableStats } from "../stats/mod.ts";
import { type CompileHost, compile, containsSubquery } from "./compile.ts";
import { hashDomain } from "./hash.ts";
import { type Conjunct, type Leaf, allHold, allHoldNow, compositeKey, eqSides, joinPairsMax,
  joinRowsMax, joinStep, mergeRows, readRanges, widen } from "./join_step.ts";
import { type LeafAccess, costBasedJoin, joinSettings, leafPlanInfo } from "./join_exec.ts";
import type { JoinPlan } from "./join_order.ts";
import type { PlanTrace } from "./explain_shape.ts";
import { type Col, type Frame, type Layout, Scope, findColumn } from "./scope.ts";
import { type PushTail, type PushedScan, leafPushdown } from "./pushdown.ts";
import { leafPartitions } from "./partition_source.ts";
import { holdMask } from "./vec_filter.ts";
import { MemoryScope, keyBytes, noMemoryAccount, rowBytes, rowsBytes }
  from "./memory_tracker.ts";
import { type SpillContext, graceJoinPages, graceOuterJoinPages } from "./spill_join.ts";

/** A leaf's rows, and their handles when it is a base table. */
export interface SourceRows {
  readonly rows: Value[][];
  readonly handles?: readonly bigint[];
  /**
   * Bytes the rows were charged to the query's memory tracker (join output): the reader
   * takes them over and releases them when it drops the rows (`MemoryScope.adopt`).
   */
  readonly charged?: number;
  /** Over one table, the SELECT's pushed tail ran on KV (rows limited or aggregated). */
  readonly tail?: boolean;
}

/** A row source: its layout and how to read it. */
export interface Source {
  readonly layout: Layout;
  /** A base table's info, for point gets and locking. */
  readonly table?: TableInfo;
  /** A base table's `_tidb_rowid` position (row_id.ts), when it has one. */
  readonly rowIdColumn?: number;
  /** Reads the rows; `handle` (base tables only) asks for that one row. */
  read(handle?: bigint): Promise<SourceRows>;
  /**
   * Base tables: the rows whose `index` entries (null: whose row keys) lie in the key
   * range, in handle order.
   */
  readRange?(index: IndexInfo | null, keys: KeyRange): Promise<SourceRows>;
  /** Base tables: whether this statement holds the table's full scan (reads are free). */
  scanned?(): boolean;
  /** Base tables: all rows a page at a time (spilling runs, `spill_select.ts`). */
  scanPages?(): AsyncIterable<Value[][]>;
  /**
   * A group of one base table, or an equi-join of two (no lock): its rows page by page,
   * its conjuncts applied (spilling runs; two tables join partition by partition,
   * `spill_join.ts`).
   */
  pages?(spill: SpillContext): AsyncIterable<Value[][]>;
  /** Base tables: the rows of these handles (ascending) that exist, in handle order. */
  readHandles?(handles: readonly bigint[]): Promise<SourceRows>;
  /** Partitioned base tables: this source reading only the partitions at `positions`. */
  prune?(positions: readonly number[]): Source;
  /**
   * Base tables: the rows of `ranges` (null: all) read with `scan` pushed down to the KV
   * nodes (pushdown.ts), or undefined when it may not be pushed now (read as usual).
   */
  readPushed?(ranges: readonly KeyRange[] | null, scan: PushedScan):
    Promise<SourceRows | undefined>;
}

/** What FROM planning needs from the planner. */
export interface FromHost extends CompileHost {
  /** The source of a table name (base table, view, CTE, information_schema table). */
  tableSource(item: Extract<TableExpr, { kind: "table" }>): Source;
  /** The source of a derived table. */
  derivedSource(item: Extract<TableExpr, { kind: "derived" }>): Source;
  /** Locks the rows of a base table a locking read returns. */
  lockRows(table: TableInfo, handles: readonly bigint[]): Promise<void>;
  /** The table's statistics, if analyzed (for access-path costs). */
  tableStats?(table: TableInfo): TableStats | undefined;
  /** Under EXPLAIN: the trace that join groups log their plans in (`join_exec.ts`). */
  readonly trace?: PlanTrace | null;
}

/** A flattened inner-join tree: its leaves, layout and ON / USING conjuncts. */
interface Tree {
  readonly leaves: Leaf[];
  readonly cols: Col[];
  readonly star: number[];
  readonly conjuncts: AstExpr[];
  /** Aliases of its sources, lower case (two sources with one alias are 1066). */
  readonly quals: string[];
  /** Joined by STRAIGHT_JOIN: its leaves are joined in the written order. */
  readonly straight?: boolean;
}

/** Conjuncts that came from an ON clause (their unknown columns are "in 'on clause'"). */
const fromOn = new WeakSet<AstExpr>();

function onConjuncts(e: AstExpr | null): AstExpr[] {
  const list = conjunctsOf(e);
  for (const c of list) fromOn.add(c);
  return list;
}

function conjunctsOf(e: AstExpr | null): AstExpr[] {
  if (e === null) return [];
  return e.kind === "binary" && e.op === "AND" ? [...conjunctsOf(e.left), ...conjunctsOf(e.right)]
    : [e];
}

function colRef(col: Col): AstExpr {
  return { kind: "column", db: null, table: col.qual, column: col.name };
}

/** The positions of USING columns on both sides; 1054 / 1052 as MySQL says them. */
function usingPairs(left: Layout, right: Layout, names: readonly string[]):
  { left: number; right: number }[] {
  return names.map((name) => {
    const l = findColumn(left, name, null, "from clause");
    const r = findColumn(right, name, null, "from clause");
    if (l === undefined || r === undefined) {
      throw mysqlError(ER.BAD_FIELD_ERROR, [name, "from clause"]);
    }
    return { left: l, right: r };
  });
}

function naturalNames(left: Layout, right: Layout): string[] {
  const names: string[] = [];
  for (const i of left.star) {
    const col = left.cols[i]!;
    if (col.hidden) continue;
    const lower = col.name.toLowerCase();
    if (names.some((n) => n.toLowerCase() === lower)) continue;
    if (right.cols.some((c) => !c.hidden && c.name.toLowerCase() === lower)) names.push(col.name);
  }
  return names;
}

/**
 * The layout of `left` joined with `right` (right's positions after left's), with the
 * USING columns merged: `keepRight` keeps the right side's visible (RIGHT JOIN).
 */
function mergedLayout(left: Layout, right: Layout, pairs: readonly { left: number;
  right: number }[], keepRight: boolean): { cols: Col[]; star: number[] } {
  const width = left.cols.length;
  const cols = [...left.cols, ...right.cols];
  const mergedStar: number[] = [];
  for (const p of pairs) {
    const hide = keepRight ? p.left : width + p.right;
    cols[hide] = { ...cols[hide]!, hidden: true };
    mergedStar.push(keepRight ? width + p.right : p.left);
  }
  const skipLeft = new Set(pairs.map((p) => p.left));
  const skipRight = new Set(pairs.map((p) => p.right));
  const star = [...mergedStar, ...left.star.filter((i) => !skipLeft.has(i)),
    ...right.star.filter((i) => !skipRight.has(i)).map((i) => width + i)];
  return { cols, star };
}

function shift(leaves: readonly Leaf[], by: number): Leaf[] {
  return leaves.map((l) => ({ ...l, offset: l.offset + by }));
}

/** Plans a FROM list with the WHERE conjuncts: the group's source. */
export function planFrom(items: readonly TableExpr[], where: AstExpr | null, frame: Frame,
  host: FromHost, options: { readonly lock: boolean; readonly straight?: boolean;
    /** What the SELECT over this one table may push down with its read (pushdown.ts). */
    readonly tail?: PushTail }): Source {
  const trees = items.map((item) => flatten(item, frame, host));
  const empty: Tree = { leaves: [], cols: [], star: [], conjuncts: [], quals: [],
    ...(options.straight === true ? { straight: true } : {}) };
  const tree = trees.reduce((acc, t) => combine(acc, t, []), empty);
  return planGroup(tree, [...tree.conjuncts, ...conjunctsOf(where)], frame, host, options.lock,
    options.tail);
}

function combine(a: Tree, b: Tree, extra: readonly AstExpr[]): Tree {
  const width = a.cols.length;
  const twice = b.quals.find((q) => a.quals.includes(q));
  if (twice !== undefined) {
    throw mysqlError(ER.NONUNIQ_TABLE, [b.cols.find((c) => c.qual.toLowerCase() === twice)
      ?.qual ?? twice]);
  }
  return {
    quals: [...a.quals, ...b.quals],
    leaves: [...a.leaves, ...shift(b.leaves, width)],
    cols: [...a.cols, ...b.cols],
    star: [...a.star, ...b.star.map((i) => width + i)],
    conjuncts: [...a.conjuncts, ...b.conjuncts, ...extra],
    ...(a.straight === true || b.straight === true ? { straight: true } : {}),
  };
}

function leafTree(source: Source): Tree {
  const width = source.layout.cols.length;
  const quals = [...new Set(source.layout.cols.map((c) => c.qual.toLowerCase()))]
    .filter((q) => q !== "");
  return { leaves: [{ source, offset: 0, width }], cols: [...source.layout.cols],
    star: [...source.layout.star], conjuncts: [], quals };
}

function flatten(item: TableExpr, frame: Frame, host: FromHost): Tree {
  switch (item.kind) {
    case "table":
      return leafTree(host.tableSource(item));
    case "derived":
      return leafTree(host.derivedSource(item));
    case "tableList":
      return item.items.map((i) => flatten(i, frame, host)).reduce((acc, t) => combine(acc, t,
        []), { leaves: [], cols: [], star: [], conjuncts: [], quals: [] });
    case "join": {
      const left = flatten(item.left, frame, host);
      const right = flatten(item.right, frame, host);
      const names = item.natural ? naturalNames(left, right) : item.using;
      const pairs = names === null ? [] : usingPairs(left, right, names);
      const equalities: AstExpr[] = pairs.map((p) => ({ kind: "binary", op: "=",
        left: colRef(left.cols[p.left]!), right: colRef(right.cols[p.right]!) }));
      if (item.type === "INNER" || item.type === "STRAIGHT") {
        const merged = mergedLayout(left, right, pairs, false);
        const joined = combine(left, right, [...equalities, ...onConjuncts(item.on)]);
        return { ...joined, cols: merged.cols, star: merged.star,
          ...(item.type === "STRAIGHT" ? { straight: true } : {}) };
      }
      const merged = mergedLayout(left, right, pairs, item.type === "RIGHT");
      combine(left, right, []);
      const source = outerJoin(left, right, merged, [...equalities, ...onConjuncts(item.on)],
        item.type === "RIGHT", frame, host);
      return leafTree(source);
    }
  }
}

// ---- conjunct analysis -------------------------------------------------------------------

function maskOf(positions: ReadonlySet<number>, leaves: readonly Leaf[]): bigint {
  let mask = 0n;
  for (const p of positions) {
    const i = leaves.findIndex((l) => p >= l.offset && p < l.offset + l.width);
    if (i >= 0) mask |= 1n << BigInt(i);
  }
  return mask;
}

function analyze(asts: readonly AstExpr[], scope: Scope, leaves: readonly Leaf[],
  host: CompileHost): Conjunct[] {
  const onScope = new Scope(scope.layout, "on clause", scope.frame);
  return asts.map((ast) => {
    const clauseScope = fromOn.has(ast) ? onScope : scope;
    const tracked = clauseScope.track();
    const compiled = compile(ast, clauseScope, host);
    clauseScope.stopTracking();
    const mask = maskOf(tracked, leaves);
    let eq: Conjunct["eq"] = null;
    if (ast.kind === "binary" && ast.op === "=" && !containsSubquery(ast)) {
      const l = scope.track();
      const left = compile(ast.left, scope, host).expr;
      const r = scope.track();
      const right = compile(ast.right, scope, host).expr;
      scope.stopTracking();
      const lm = maskOf(l, leaves);
      const rm = maskOf(r, leaves);
      if (lm !== 0n && rm !== 0n && (lm & rm) === 0n &&
        hashDomain(left.type, right.type) !== null) {
        eq = { sides: [left, right], masks: [lm, rm] };
      }
    }
    return { ast, compiled, mask, eq };
  });
}

// ---- join groups -------------------------------------------------------------------------

/** For a base-table leaf: an expression that pins its handle (integer key or _tidb_rowid). */
function pointKey(asts: readonly AstExpr[], scope: Scope, leaf: Leaf, leaves: readonly Leaf[],
  host: CompileHost): Expr | undefined {
  const table = leaf.source.table;
  const handleColumn = table?.pkHandle ?? leaf.source.rowIdColumn;
  if (table === undefined || handleColumn === undefined) return undefined;
  const pk = leaf.offset + handleColumn;
  for (const ast of asts) {
    if (ast.kind !== "binary" || ast.op !== "=" || containsSubquery(ast)) continue;
    for (const [colSide, valueSide] of [[ast.left, ast.right], [ast.right, ast.left]] as const) {
      if (colSide.kind !== "column") continue;
      const c = scope.track();
      const col = compile(colSide, scope, host).expr;
      const v = scope.track();
      const value = compile(valueSide, scope, host).expr;
      scope.stopTracking();
      if (col.kind === "column" && col.index === pk && c.size === 1 &&
        maskOf(v, leaves) === 0n) return value;
    }
  }
  return undefined;
}

/**
 * For a base-table leaf that can read ranges: the items (`column op constant`, by column
 * offset) of `asts`, as `index_access.ts` collects them; undefined for other leaves.
 */
function leafItems(asts: readonly AstExpr[], scope: Scope, leaf: Leaf, leaves: readonly Leaf[],
  host: CompileHost): Map<number, ColumnItem[]> | undefined {
  const table = leaf.source.table;
  if (table === undefined || leaf.source.readRange === undefined) return undefined;
  const columnOffset = (ast: AstExpr): number | undefined => {
    if (ast.kind !== "column") return undefined;
    const tracked = scope.track();
    const e = compile(ast, scope, host).expr;
    scope.stopTracking();
    if (e.kind !== "column" || tracked.size !== 1) return undefined;
    const offset = e.index - leaf.offset;
    return offset >= 0 && offset < leaf.width ? offset : undefined;
  };
  const constant = (ast: AstExpr): Expr | undefined => {
    const tracked = scope.track();
    const e = compile(ast, scope, host).expr;
    scope.stopTracking();
    return maskOf(tracked, leaves) === 0n ? e : undefined;
  };
  return collectItems(asts.filter((a) => !containsSubquery(a)), columnOffset, constant);
}

/** A partitioned base-table leaf reading only the partitions its conjuncts can match. */
function prunedLeaf(leaf: Leaf, asts: readonly AstExpr[], scope: Scope, host: CompileHost):
  Leaf {
  const source = leaf.source;
  if (source.table?.partition === undefined || source.prune === undefined) return leaf;
  const offset = (ast: AstExpr): number | undefined => {
    if (ast.kind !== "column") return undefined;
    const tracked = scope.track();
    const e = compile(ast, scope, host).expr;
    scope.stopTracking();
    if (e.kind !== "column" || tracked.size !== 1) return undefined;
    const at = e.index - leaf.offset;
    return at >= 0 && at < source.table!.columns.length ? at : undefined;
  };
  const positions = leafPartitions(source.table, asts, offset,
    (ast) => evaluate(compile(ast, scope, host).expr, host.evalContext()));
  return { ...leaf, source: source.prune(positions) };
}

function planGroup(tree: Tree, asts: readonly AstExpr[], frame: Frame, host: FromHost,
  lock: boolean, tail?: PushTail): Source {
  const layout: Layout = { cols: tree.cols, star: tree.star };
  const scope = new Scope(layout, "where clause", frame);
  // Partitioned tables read only the partitions their conjuncts can match.
  const leaves = tree.leaves.map((leaf) => prunedLeaf(leaf, asts, scope, host));
  const conjuncts = analyze(asts, scope, leaves, host);
  const width = tree.cols.length;
  // Point keys: from conjuncts reading only one leaf (or none) besides the key.
  const points = leaves.map((leaf) => pointKey(asts, scope, leaf, leaves, host));
  const items = leaves.map((leaf, i) => (points[i] !== undefined ? undefined
    : leafItems(asts, scope, leaf, leaves, host)));
  const ranges = leaves.map((leaf, i) => (items[i] === undefined ? undefined
    : planAccess(leaf.source.table!, items[i])));
  // Cost-based joins (join_exec.ts): what each leaf offers, and the plans chosen so far.
  const infos = leaves.length < 2 ? [] : leaves.map((leaf, i) => leafPlanInfo(i, leaf,
    conjuncts, items[i], points[i] !== undefined,
    (c) => leafItems([c.ast], scope, leaf, leaves, host)));
  const memo = new Map<string, JoinPlan>();
  // Runs of this group in the statement (a correlated subquery's group runs many times).
  let runs = 0;
  const body = async (mem: MemoryScope): Promise<SourceRows> => {
    runs++;
    const ctx = host.evalContext();
    const applied = new Set<Conjunct>();
    let tailApplied = false;
    // How each leaf is read on this run (a point get, ranges, a scan, or nothing).
    const prepared: LeafAccess[] = [];
    const prepare = (i: number): LeafAccess => {
      const known = prepared[i];
      if (known !== undefined) return known;
      let got: LeafAccess;
      const key = points[i];
      let handle: bigint | undefined;
      if (key !== undefined) handle = integralValue(evaluate(key, ctx));
      if (key !== undefined && handle === undefined && evaluate(key, ctx) === null) {
        got = { kind: "empty" };
      } else {
        const range = ranges[i];
        const access = range === undefined ? undefined
          : chooseAccess(range, ctx, host.tableStats?.(range.table));
        got = access?.kind === "empty" ? { kind: "empty" } : { kind: "read", handle, access };
      }
      prepared[i] = got;
      return got;
    };
    // Leaf i's conjuncts not yet applied (leaf 0 takes those reading no leaf).
    const claim = (i: number): Conjunct[] => {
      const bit = 1n << BigInt(i);
      const local = conjuncts.filter((c) => !applied.has(c) &&
        (c.mask === bit || (c.mask === 0n && i === 0)));
      for (const c of local) applied.add(c);
      return local;
    };
    // Reads leaf i, filtered by its local conjuncts.
    const readLeaf = async (i: number): Promise<Value[][]> => {
      const leaf = leaves[i]!;
      const prep = prepare(i);
      if (prep.kind === "empty") return [];
      const { handle, access } = prep;
      const claimed = claim(i);
      // Pushable conjuncts (over one table also LIMIT, TopN, aggregates) run on KV.
      const push = leafPushdown(leaf, claimed, { lock, point: handle !== undefined, access,
        tail: leaves.length === 1 ? tail : undefined, ctx });
      const pushed = push === undefined ? undefined
        : await leaf.source.readPushed?.(push.ranges, push.scan);
      if (pushed !== undefined && push?.tail === true) tailApplied = true;
      const local = pushed === undefined ? claimed
        : claimed.filter((c) => !push!.conjuncts.has(c));
      const got = pushed ?? (access?.kind === "range" ? await readRanges(leaf.source, access)
        : await leaf.source.read(handle));
      let rows = leaves.length === 1 ? got.rows
        : got.rows.map((r) => widen(r, leaf.offset, width));
      // An outer join's output (charged by it), or the widened copies a join holds.
      mem.adopt(got.charged ?? 0);
      if (leaves.length > 1) mem.consume(rowsBytes(rows));
      const keep: boolean[] = [];
      // Without subqueries the conjuncts are evaluated at once (no await per row).
      if (local.every((c) => c.compiled.subs.length === 0)) {
        // A batch at a time where it can (vec_filter.ts).
        holdMask(local.map((c) => c.compiled.expr), rows, ctx, keep);
      } else {
        for (const row of rows) keep.push(await allHold(local, row, ctx));
      }
      if (lock && leaf.source.table !== undefined && got.handles !== undefined) {
        const handles = got.handles.filter((_, k) => keep[k]);
        if (handles.length > 0) await host.lockRows(leaf.source.table, handles);
      }
      rows = rows.filter((_, k) => keep[k]);
      return rows;
    };
    const settings = leaves.length < 2 ? undefined : joinSettings(host);
    if (settings?.reorder === true) {
      const rows = await costBasedJoin({ leaves, conjuncts, infos, applied, ctx, mem, width,
        lock, straight: tree.straight === true, settings, memo, rerun: runs > 1,
        tableStats: (table) => host.tableStats?.(table),
        lockRows: (table, handles) => host.lockRows(table, handles),
        trace: host.trace ?? null, prepare, claim, readLeaf });
      // Conjuncts left (none normally): apply on the whole.
      const left = conjuncts.filter((c) => !applied.has(c));
      const out: Value[][] = [];
      for (const row of rows) if (await allHold(left, row, ctx)) out.push(row);
      return { rows: out };
    }
    const sets: { mask: bigint; rows: Value[][] }[] = [];
    for (let i = 0; i < leaves.length; i++) {
      sets.push({ mask: 1n << BigInt(i), rows: await readLeaf(i) });
    }
    if (leaves.length === 0) {
      const rows: Value[][] = [[]];
      const kept = (await allHold(conjuncts, [], ctx)) ? rows : [];
      return { rows: kept };
    }
    // Greedy joins.
    let current = sets.reduce((best, s) => (s.rows.length < best.rows.length ? s : best));
    let rest = sets.filter((s) => s !== current);
    while (rest.length > 0) {
      const mask = current.mask;
      const connected = rest.filter((s) => conjuncts.some((c) => !applied.has(c) &&
        c.eq !== null && eqSides(c, mask, s.mask) !== null));
      const pool = connected.length > 0 ? connected : rest;
      const next = pool.reduce((best, s) => (s.rows.length < best.rows.length ? s : best));
      rest = rest.filter((s) => s !== next);
      const joinedMask = mask | next.mask;
      const eqs = conjuncts.filter((c) => !applied.has(c) && c.eq !== null &&
        eqSides(c, mask, next.mask) !== null);
      const filters = conjuncts.filter((c) => !applied.has(c) &&
        (c.mask & ~joinedMask) === 0n);
      for (const c of filters) applied.add(c);
      const rows = await joinStep(current.rows, next.rows, next.mask, leaves, eqs.map((c) =>
        eqSides(c, mask, next.mask)!), filters, ctx, mem);
      current = { mask: joinedMask, rows };
    }
    // Conjuncts left (none normally): apply on the whole.
    const left = conjuncts.filter((c) => !applied.has(c));
    const out: Value[][] = [];
    for (const row of current.rows) if (await allHold(left, row, ctx)) out.push(row);
    return tailApplied ? { rows: out, tail: true } : { rows: out };
  };
  const only = leaves.length === 1 && !lock ? leaves[0]!.source : undefined;
  const joined = leaves.length === 2 && !lock &&
    leaves.every((l) => l.source.scanPages !== undefined)
    ? graceJoinPages(leaves, conjuncts, width, () => host.evalContext(),
      (leaf) => leaf.source.scanPages!()) : undefined;
  return { layout, read: () => chargedRead(host, body),
    ...(only?.scanPages === undefined ? {}
      : { pages: () => filteredPages(only.scanPages!(), conjuncts, host) }),
    // An outer join of two paged sources (`graceOuterJoinPages`), filtered by the WHERE.
    ...(only?.pages === undefined || only.scanPages !== undefined ? {}
      : { pages: (spill: SpillContext) => filteredPages(only.pages!(spill), conjuncts, host) }),
    ...(joined === undefined ? {} : { pages: joined }) };
}

/** A one-table group's rows page by page, filtered by its conjuncts (spilling runs). */
async function* filteredPages(pages: AsyncIterable<Value[][]>, conjuncts: readonly Conjunct[],
  host: FromHost): AsyncGenerator<Value[][]> {
  const ctx = host.evalContext();
  const now = conjuncts.every((c) => c.compiled.subs.length === 0);
  for await (const rows of pages) {
    const kept: Value[][] = [];
    for (const row of rows) {
      if (now ? allHoldNow(conjuncts, row, ctx) : await allHold(conjuncts, row, ctx)) {
        kept.push(row);
      }
    }
    if (kept.length > 0) yield kept;
  }
}

/**
 * Runs a join's `body` in a memory scope of the query and hands what the rows hold to the
 * reader with them (`SourceRows.charged`); on a failure the scope is released.
 */
async function chargedRead(host: FromHost, body: (mem: MemoryScope) => Promise<SourceRows>):
  Promise<SourceRows> {
  const mem = new MemoryScope(host.memory?.() ?? noMemoryAccount);
  try {
    const got = await body(mem);
    return { ...got, charged: mem.handOver() };
  } catch (error: unknown) {
    mem.close();
    throw error;
  }
}

// ---- outer joins -------------------------------------------------------------------------

function outerJoin(left: Tree, right: Tree, merged: { cols: Col[]; star: number[] },
  on: readonly AstExpr[], rightJoin: boolean, frame: Frame, host: FromHost): Source {
  const leftSource = planGroup(left, left.conjuncts, frame, host, false);
  const rightSource = planGroup(right, right.conjuncts, frame, host, false);
  const layout: Layout = { cols: merged.cols, star: merged.star };
  const lw = left.cols.length;
  const rw = right.cols.length;
  const sides: Leaf[] = [{ source: leftSource, offset: 0, width: lw },
    { source: rightSource, offset: lw, width: rw }];
  const scope = new Scope(layout, "on clause", frame);
  const conjuncts = analyze(on, scope, sides, host);
  // The preserved side drives; conjuncts reading only the other side filter it first.
  const innerBit = rightJoin ? 1n : 2n;
  const body = async (mem: MemoryScope): Promise<SourceRows> => {
    const ctx = host.evalContext();
    const leftGot = await leftSource.read();
    mem.adopt(leftGot.charged ?? 0);
    const leftRows = leftGot.rows.map((r) => widen(r, 0, lw + rw));
    mem.consume(rowsBytes(leftRows));
    const rightGot = await rightSource.read();
    mem.adopt(rightGot.charged ?? 0);
    const rightRows = rightGot.rows.map((r) => widen(r, lw, lw + rw));
    mem.consume(rowsBytes(rightRows));
    const [outerRows, innerRows] = rightJoin ? [rightRows, leftRows] : [leftRows, rightRows];
    const innerOnly = conjuncts.filter((c) => c.mask === innerBit);
    const rest = conjuncts.filter((c) => c.mask !== innerBit);
    const inner: Value[][] = [];
    for (const row of innerRows) if (await allHold(innerOnly, row, ctx)) inner.push(row);
    const outerBit = rightJoin ? 2n : 1n;
    const eqs = rest.map((c) => eqSides(c, outerBit, innerBit)).filter((e) => e !== null);
    let buckets: Map<string, Value[][]> | null = null;
    if (eqs.length > 0) {
      buckets = new Map();
      const keys = eqs.map((q) => ({ e: q.next, domain: q.domain }));
      for (const row of inner) {
        const key = compositeKey(keys, row, ctx);
        if (key === null) continue;
        const bucket = buckets.get(key);
        mem.consume(bucket === undefined ? keyBytes(key) : 8);
        if (bucket === undefined) buckets.set(key, [row]);
        else bucket.push(row);
      }
    }
    const outerKeys = eqs.map((q) => ({ e: q.cur, domain: q.domain }));
    const out: Value[][] = [];
    let pairs = 0;
    for (const row of outerRows) {
      let candidates: Value[][];
      if (buckets !== null) {
        const key = compositeKey(outerKeys, row, ctx);
        candidates = key === null ? [] : buckets.get(key) ?? [];
      } else {
        candidates = inner;
      }
      pairs += candidates.length;
      if (pairs > joinPairsMax) throw mysqlError(ER.TOO_BIG_SELECT);
      let matched = false;
      for (const candidate of candidates) {
        const mergedRow = mergeRows(row, candidate, sides, innerBit);
        if (!await allHold(rest, mergedRow, ctx)) continue;
        matched = true;
        mem.consume(rowBytes(mergedRow));
        out.push(mergedRow);
      }
      if (!matched) out.push(row);
      if (out.length > joinRowsMax) throw mysqlError(ER.TOO_BIG_SELECT);
    }
    return { rows: out };
  };
  // Past the quota, spilling: joined partition by partition (spill_join.ts).
  const pages = graceOuterJoinPages(sides, conjuncts, rightJoin, () => host.evalContext());
  return { layout, read: () => chargedRead(host, body),
    ...(pages === undefined ? {} : { pages }) };
}
