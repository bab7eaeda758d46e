/**
 * The FROM clause: tables, derived tables and views as row sources, joined.
 *
 * Comma lists, INNER/CROSS joins and their ON conditions are flattened with the WHERE
 * clause into one join group: its leaves (base tables, derived tables, views, CTEs, and
 * outer joins as opaque units) and its conjuncts. A conjunct that reads one leaf filters
 * that leaf as it is read (`pk = value` on a clustered integer key becomes a point get,
 * also for a value from an outer query's row, and comparisons, IN, IS NULL and LIKE
 * prefixes of indexed columns read the cheapest index or handle ranges by the table's
 * statistics, `index_access.ts`); the leaves are
 * then joined greedily, smallest first and preferring a leaf connected by an equality,
 * with a hash join on the equalities whose sides can be hashed (same comparison domain)
 * and a nested loop otherwise; each remaining conjunct filters as soon as its leaves are
 * joined. LEFT and RIGHT joins run their two sides as groups of their own and
 * null-extend unmatched rows.
 * USING and NATURAL join on equalities and merge the columns as MySQL does: the merged
 * column is listed first by `*`, unqualified names see one column, the other side's is
 * reachable only qualified.
 *
 * Rows of a group are full-width arrays (every leaf's positions; unjoined ones NULL), so
 * conjuncts compile once against the group's layout. Memory is bounded by the query's
 * quota (`memory_tracker.ts`: widened rows, hash tables and join output are counted, 8175
 * past `tidb_mem_quota_query`); work by `joinRowsMax` / `joinPairsMax`: a join step that
 * would produce or examine more rows fails with 1104.
 */
import { type EvalContext, type Expr, type Value, evaluate, isTrue } from "../../expr/mod.ts";
import type { Expr as AstExpr, TableExpr } from "../parser/ast.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import type { IndexInfo, TableInfo } from "../catalog/schema.ts";
import { integralValue } from "../table/table.ts";
import { type Access, type AccessPlan, type KeyRange, chooseAccess, collectItems, planAccess }
  from "./index_access.ts";
import type { TableStats } from "../stats/mod.ts";
import { type CompileHost, type Compiled, compile, containsSubquery, holds, withRow }
  from "./compile.ts";
import { type HashDomain, hashDomain, hashKey } from "./hash.ts";
import { type Col, type Frame, type Layout, Scope, findColumn } from "./scope.ts";
import { type MemoryAccount, MemoryScope, keyBytes, noMemoryAccount, rowBytes, rowsBytes }
  from "./memory_tracker.ts";

/** Rows produced by one step of a join, at most. */
const joinRowsMax = 2_000_000;
/** Row pairs a nested-loop join step may examine, at most. */
const joinPairsMax = 50_000_000;

/** A leaf's rows, and their handles when it is a base table. */
export interface SourceRows {
  readonly rows: Value[][];
  readonly handles?: readonly bigint[];
  /**
   * Bytes the rows were charged to the query's memory tracker (join output): the reader
   * takes them over and releases them when it drops the rows (`MemoryScope.adopt`).
   */
  readonly charged?: number;
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
}

interface Leaf {
  readonly source: Source;
  readonly offset: number;
  readonly width: number;
}

/** A flattened inner-join tree: its leaves, layout and ON / USING conjuncts. */
interface Tree {
  readonly leaves: Leaf[];
  readonly cols: Col[];
  readonly star: number[];
  readonly conjuncts: AstExpr[];
  /** Aliases of its sources, lower case (two sources with one alias are 1066). */
  readonly quals: string[];
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
  host: FromHost, options: { readonly lock: boolean }): Source {
  const trees = items.map((item) => flatten(item, frame, host));
  const empty: Tree = { leaves: [], cols: [], star: [], conjuncts: [], quals: [] };
  const tree = trees.reduce((acc, t) => combine(acc, t, []), empty);
  return planGroup(tree, [...tree.conjuncts, ...conjunctsOf(where)], frame, host, options.lock);
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
        return { ...joined, cols: merged.cols, star: merged.star };
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

interface Conjunct {
  readonly compiled: Compiled;
  /** Leaves it reads (bit i = leaf i). */
  readonly mask: bigint;
  /** For `a = b` with sides on disjoint leaves: the sides, their masks, whether hashable. */
  readonly eq: { readonly sides: readonly [Expr, Expr]; readonly masks: readonly [bigint, bigint] }
    | null;
}

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
    return { compiled, mask, eq };
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
 * For a base-table leaf: its conjuncts of the form `column op constant` and the paths
 * (clustered handle, indexes) they can bound (`index_access.ts`), if any.
 */
function rangeKey(asts: readonly AstExpr[], scope: Scope, leaf: Leaf, leaves: readonly Leaf[],
  host: CompileHost): AccessPlan | undefined {
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
  return planAccess(table, collectItems(asts.filter((a) => !containsSubquery(a)), columnOffset,
    constant));
}

/** The rows of `ranges` (in one index, or of row keys), merged in handle order. */
async function readRanges(source: Source, access: Extract<Access, { kind: "range" }>):
  Promise<SourceRows> {
  if (access.ranges.length === 1) return source.readRange!(access.index, access.ranges[0]!);
  const byHandle = new Map<bigint, Value[]>();
  for (const range of access.ranges) {
    const got = await source.readRange!(access.index, range);
    got.rows.forEach((row, k) => byHandle.set(got.handles![k]!, row));
  }
  const handles = [...byHandle.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { handles, rows: handles.map((h) => byHandle.get(h)!) };
}

function planGroup(tree: Tree, asts: readonly AstExpr[], frame: Frame, host: FromHost,
  lock: boolean): Source {
  const layout: Layout = { cols: tree.cols, star: tree.star };
  const scope = new Scope(layout, "where clause", frame);
  const leaves = tree.leaves;
  const conjuncts = analyze(asts, scope, leaves, host);
  const width = tree.cols.length;
  // Point keys: from conjuncts reading only one leaf (or none) besides the key.
  const points = leaves.map((leaf) => pointKey(asts, scope, leaf, leaves, host));
  const ranges = leaves.map((leaf, i) => (points[i] !== undefined ? undefined
    : rangeKey(asts, scope, leaf, leaves, host)));
  const body = async (mem: MemoryScope): Promise<SourceRows> => {
    const ctx = host.evalContext();
    const applied = new Set<Conjunct>();
    const sets: { mask: bigint; rows: Value[][] }[] = [];
    for (let i = 0; i < leaves.length; i++) {
      const leaf = leaves[i]!;
      const bit = 1n << BigInt(i);
      const key = points[i];
      let handle: bigint | undefined;
      if (key !== undefined) {
        handle = integralValue(evaluate(key, ctx));
        if (handle === undefined && evaluate(key, ctx) === null) {
          sets.push({ mask: bit, rows: [] });
          continue;
        }
      }
      const range = ranges[i];
      const access = range === undefined ? undefined
        : chooseAccess(range, ctx, host.tableStats?.(range.table));
      if (access?.kind === "empty") {
        sets.push({ mask: bit, rows: [] });
        continue;
      }
      const got = access?.kind === "range" ? await readRanges(leaf.source, access)
        : await leaf.source.read(handle);
      let rows = leaves.length === 1 ? got.rows
        : got.rows.map((r) => widen(r, leaf.offset, width));
      // An outer join's output (charged by it), or the widened copies a join holds.
      mem.adopt(got.charged ?? 0);
      if (leaves.length > 1) mem.consume(rowsBytes(rows));
      const local = conjuncts.filter((c) => !applied.has(c) &&
        (c.mask === bit || (c.mask === 0n && i === 0)));
      for (const c of local) applied.add(c);
      const keep: boolean[] = [];
      // Without subqueries the conjuncts are evaluated at once (no await per row).
      if (local.every((c) => c.compiled.subs.length === 0)) {
        for (const row of rows) keep.push(allHoldNow(local, row, ctx));
      } else {
        for (const row of rows) keep.push(await allHold(local, row, ctx));
      }
      if (lock && leaf.source.table !== undefined && got.handles !== undefined) {
        const handles = got.handles.filter((_, k) => keep[k]);
        if (handles.length > 0) await host.lockRows(leaf.source.table, handles);
      }
      rows = rows.filter((_, k) => keep[k]);
      sets.push({ mask: bit, rows });
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
    return { rows: out };
  };
  const read = async (): Promise<SourceRows> => {
    // What the join holds is handed to the reader with its rows (`SourceRows.charged`).
    const mem = new MemoryScope(host.memory?.() ?? noMemoryAccount);
    try {
      const got = await body(mem);
      return { ...got, charged: mem.handOver() };
    } catch (error: unknown) {
      mem.close();
      throw error;
    }
  };
  return { layout, read };
}

function widen(row: readonly Value[], offset: number, width: number): Value[] {
  const out: Value[] = new Array<Value>(width).fill(null);
  for (let k = 0; k < row.length; k++) out[offset + k] = row[k]!;
  return out;
}

/** `allHold` of conjuncts without subqueries. */
function allHoldNow(conjuncts: readonly Conjunct[], row: readonly Value[],
  ctx: EvalContext): boolean {
  if (conjuncts.length === 0) return true;
  const rowCtx = withRow(ctx, row);
  for (const c of conjuncts) {
    if (isTrue(evaluate(c.compiled.expr, rowCtx), ctx.warn) !== true) return false;
  }
  return true;
}

async function allHold(conjuncts: readonly Conjunct[], row: readonly Value[],
  ctx: EvalContext): Promise<boolean> {
  for (const c of conjuncts) {
    if (c.compiled.subs.length === 0) {
      if (isTrue(evaluate(c.compiled.expr, withRow(ctx, row)), ctx.warn) !== true) return false;
    } else if (!await holds(c.compiled, row, ctx)) {
      return false;
    }
  }
  return true;
}

/** The (current side, next side) expressions of an equality between the two, or null. */
function eqSides(c: Conjunct, currentMask: bigint, nextMask: bigint):
  { cur: Expr; next: Expr; domain: HashDomain } | null {
  const eq = c.eq;
  if (eq === null) return null;
  const [a, b] = eq.sides;
  const [am, bm] = eq.masks;
  const domain = hashDomain(a.type, b.type)!;
  if ((am & ~currentMask) === 0n && (bm & ~nextMask) === 0n) return { cur: a, next: b, domain };
  if ((bm & ~currentMask) === 0n && (am & ~nextMask) === 0n) return { cur: b, next: a, domain };
  return null;
}

function compositeKey(exprs: readonly { e: Expr; domain: HashDomain }[], row: readonly Value[],
  ctx: EvalContext): string | null {
  const rctx = withRow(ctx, row);
  let key = "";
  for (const { e, domain } of exprs) {
    const k = hashKey(evaluate(e, rctx), domain);
    if (k === null) return null;
    key += `${k}\u0001`;
  }
  return key;
}

function mergeRows(a: readonly Value[], b: readonly Value[], leaves: readonly Leaf[],
  mask: bigint): Value[] {
  const out = [...a];
  leaves.forEach((leaf, i) => {
    if ((mask & (1n << BigInt(i))) === 0n) return;
    for (let k = leaf.offset; k < leaf.offset + leaf.width; k++) out[k] = b[k]!;
  });
  return out;
}

async function joinStep(current: Value[][], next: Value[][], nextMask: bigint,
  leaves: readonly Leaf[], eqs: readonly { cur: Expr; next: Expr; domain: HashDomain }[],
  filters: readonly Conjunct[], ctx: EvalContext, mem: MemoryAccount): Promise<Value[][]> {
  const out: Value[][] = [];
  const emit = async (merged: Value[]): Promise<void> => {
    if (!await allHold(filters, merged, ctx)) return;
    if (out.length >= joinRowsMax) throw mysqlError(ER.TOO_BIG_SELECT);
    mem.consume(rowBytes(merged));
    out.push(merged);
  };
  if (eqs.length > 0) {
    const table = new Map<string, Value[][]>();
    const nextKeys = eqs.map((q) => ({ e: q.next, domain: q.domain }));
    // The build side's hash table, held while probing.
    let tableBytes = 0;
    for (const row of next) {
      const key = compositeKey(nextKeys, row, ctx);
      if (key === null) continue;
      const bucket = table.get(key);
      const bytes = bucket === undefined ? keyBytes(key) : 8;
      mem.consume(bytes);
      tableBytes += bytes;
      if (bucket === undefined) table.set(key, [row]);
      else bucket.push(row);
    }
    const curKeys = eqs.map((q) => ({ e: q.cur, domain: q.domain }));
    let pairs = 0;
    for (const row of current) {
      const key = compositeKey(curKeys, row, ctx);
      if (key === null) continue;
      const bucket = table.get(key);
      if (bucket === undefined) continue;
      pairs += bucket.length;
      if (pairs > joinPairsMax) throw mysqlError(ER.TOO_BIG_SELECT);
      for (const match of bucket) await emit(mergeRows(row, match, leaves, nextMask));
    }
    mem.release(tableBytes);
    return out;
  }
  if (current.length * next.length > joinPairsMax) throw mysqlError(ER.TOO_BIG_SELECT);
  for (const row of current) {
    for (const match of next) await emit(mergeRows(row, match, leaves, nextMask));
  }
  return out;
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
  const read = async (): Promise<SourceRows> => {
    // What the join holds is handed to the reader with its rows (`SourceRows.charged`).
    const mem = new MemoryScope(host.memory?.() ?? noMemoryAccount);
    try {
      const got = await body(mem);
      return { ...got, charged: mem.handOver() };
    } catch (error: unknown) {
      mem.close();
      throw error;
    }
  };
  return { layout, read };
}
