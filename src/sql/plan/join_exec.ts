/**
 * Cost-based joins of an inner-join group (`from.ts` `planGroup`, two leaves or more):
 * estimate each leaf, choose the join order and operators (`join_order.ts`), run them.
 *
 * Estimates, before reading: a base table's rows are its statistics' count (else TiDB's
 * pseudo 10,000) times the selectivity of each local conjunct — by the column's
 * histogram when analyzed, else TiDB's pseudo rates (1/1000 for `=` and IS NULL, n/1000
 * for IN, 1/3 for a range or LIKE, 0.8 for anything else); a point get is one row; its
 * cost is the rows its access path reads. Other leaves (derived tables, views, outer
 * joins) are read first and counted exactly (they are read in full in any plan).
 *
 * Index join (TiDB's IndexLookUpJoin): a base-table leaf joined by an equality on its
 * clustered integer handle, or on an index's leading column (after columns the leaf's
 * own `=` / IN conditions pin), can be read by lookups of the outer side's distinct key
 * values, `lookupBatchRows` outer rows at a time: the key values become an IN item of
 * that column beside the leaf's own items, turned into key ranges as a WHERE clause's
 * are (`index_access.ts`), which holds every row the equality can match (by the handle:
 * one batch of point gets, `Source.readHandles`); the fetched rows are filtered by the
 * leaf's conjuncts and hash-joined with the batch, which re-checks every condition.
 * Through a secondary index a batch's ranges are one pushed index lookup (pushdown.ts)
 * when the coprocessor may be used: the entries of all of them, then the rows, with the
 * leaf's pushable conjuncts on KV.
 * When values cannot bound the key (a string against a number) or the statement already
 * holds the table's scan, the leaf is read in full instead.
 *
 * Merge join: two leaves equal on their clustered integer handles are read in handle
 * order, so one pass joins them (checked as it runs: a side out of order hash-joins).
 *
 * Settings: `tidb_opt_join_reorder_threshold` (leaves up to which the order is found by
 * dynamic programming; greedy above), `tessera_opt_index_join` (OFF: no index joins) and
 * `tessera_opt_join_reorder` (OFF: the rule-based joins of `from.ts`, every leaf read in
 * full then joined smallest first). A group that runs again in the statement (a correlated
 * subquery's) counts a full read of a table as free: the statement keeps its scan. Under
 * EXPLAIN the plan as it ran is logged in the
 * trace (`JoinTrace`), with each part's estimated rows.
 */
import { type EvalContext, type Value, constant, evaluate } from "../../expr/mod.ts";
import type { Expr as AstExpr } from "../parser/ast.ts";
import { type IndexInfo, type TableInfo, intRange, isPublic } from "../catalog/schema.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import { type TableStats, estimateIntervals } from "../stats/mod.ts";
import { type CompileHost, withRow } from "./compile.ts";
import type { JoinTraceNode, PlanTrace } from "./explain_shape.ts";
import { type HashDomain, hashDomain, hashKey } from "./hash.ts";
import { type Access, type ColumnItem, type KeyRange, boundOf, handleRangeable, handleRanges,
  indexRanges, itemIntervals } from "./index_access.ts";
import { type JoinPlan, type LeafEstimate, dpLeavesMaxDefault, planJoins } from "./join_order.ts";
import { type Conjunct, type Leaf, allHold, eqSides, joinRowsMax, joinStep,
  mergeJoinStep, widen } from "./join_step.ts";
import { type MemoryScope, rowsBytes } from "./memory_tracker.ts";
import type { Source, SourceRows } from "./from.ts";
import { lookupPushdown } from "./pushdown.ts";
import { holdMask } from "./vec_filter.ts";

/** Rows a table is assumed to hold without statistics (TiDB's pseudo count). */
export const pseudoRows = 10_000;
/** Outer rows whose key values one round of lookups reads. */
export const lookupBatchRows = 1024;
/** Range reads of one round of lookups run at a time. */
const lookupsInFlight = 16;
/** Plans remembered per group (by their estimates; a correlated group reruns often). */
const memoMax = 32;

/** How one run reads a leaf: nothing, or a point get / ranges / a scan. */
export type LeafAccess =
  | { readonly kind: "empty" }
  | { readonly kind: "read"; readonly handle: bigint | undefined;
    readonly access: Access | undefined };

/** A way of reading a base-table leaf by lookups of another side's key values. */
export interface LookupCandidate {
  readonly leaf: number;
  /** The index read (null: the clustered handle). */
  readonly index: IndexInfo | null;
  /** The table column the key sets. */
  readonly column: number;
  /** The equality giving the key, and its outer side. */
  readonly conjunct: Conjunct;
  readonly outerSide: 0 | 1;
  readonly domain: HashDomain;
  /** Whether one key value finds one row at most (handle, fully keyed unique index). */
  readonly unique: boolean;
}

/** What planning learned of a leaf for cost-based joins. */
export interface LeafPlanInfo {
  /** Its table, when a base table that can read ranges. */
  readonly table: TableInfo | undefined;
  /** The items of its constant conditions (`column op constant`), by column offset. */
  readonly items: ReadonlyMap<number, readonly ColumnItem[]>;
  /** Per local conjunct, its items (selectivity estimates). */
  readonly localItems: ReadonlyMap<Conjunct, ReadonlyMap<number, readonly ColumnItem[]>>;
  readonly lookups: readonly LookupCandidate[];
}

const pointItem = (item: ColumnItem): boolean => item.kind === "null" || item.kind === "in" ||
  (item.kind === "cmp" && item.op === "=");

/** Index-join candidates of leaf `i`: equalities on its handle or an index's key. */
function lookupCandidates(i: number, leaf: Leaf, conjuncts: readonly Conjunct[],
  items: ReadonlyMap<number, readonly ColumnItem[]>): LookupCandidate[] {
  const table = leaf.source.table;
  if (table === undefined || leaf.source.readRange === undefined) return [];
  const bit = 1n << BigInt(i);
  const out: LookupCandidate[] = [];
  for (const c of conjuncts) {
    if (c.eq === null) continue;
    for (const side of [0, 1] as const) {
      const e = c.eq.sides[side];
      if (c.eq.masks[side] !== bit || e.kind !== "column") continue;
      const column = e.index - leaf.offset;
      if (column < 0 || column >= table.columns.length) continue;
      const outerSide = side === 0 ? 1 : 0;
      const domain = hashDomain(c.eq.sides[0].type, c.eq.sides[1].type)!;
      const base = { leaf: i, column, conjunct: c, outerSide, domain } as const;
      if (table.pkHandle === column && handleRangeable(table)) {
        out.push({ ...base, index: null, unique: true });
      }
      for (const index of table.indexes) {
        if (!isPublic(index) || !index.columns.every((o) => isPublic(table.columns[o] ?? {}))) {
          continue;
        }
        for (let k = 0; k < index.columns.length; k++) {
          const col = index.columns[k]!;
          if (col === column) {
            out.push({ ...base, index, unique: index.unique && k === index.columns.length - 1 });
            break;
          }
          if (!(items.get(col) ?? []).some(pointItem)) break;
        }
      }
    }
  }
  return out;
}

/** The planning facts of leaf `i` (`items`: its constant conditions' items, if a table). */
export function leafPlanInfo(i: number, leaf: Leaf, conjuncts: readonly Conjunct[],
  items: ReadonlyMap<number, readonly ColumnItem[]> | undefined, pointGet: boolean,
  itemsOf: (c: Conjunct) => ReadonlyMap<number, readonly ColumnItem[]> | undefined):
  LeafPlanInfo {
  const bit = 1n << BigInt(i);
  const localItems = new Map<Conjunct, ReadonlyMap<number, readonly ColumnItem[]>>();
  if (items !== undefined) {
    for (const c of conjuncts) {
      if (c.mask !== bit) continue;
      const got = itemsOf(c);
      if (got !== undefined && got.size > 0) localItems.set(c, got);
    }
  }
  return {
    table: items === undefined ? undefined : leaf.source.table,
    items: items ?? new Map(),
    localItems,
    lookups: items === undefined || pointGet ? [] : lookupCandidates(i, leaf, conjuncts, items),
  };
}

/** The session's join settings; see the file comment. */
export interface JoinSettings {
  readonly reorder: boolean;
  readonly indexJoin: boolean;
  readonly dpLeavesMax: number;
}

function sysvar(host: CompileHost, name: string): Value {
  try {
    return evaluate(host.baseScope("field list").systemVariable(name, null), host.evalContext());
  } catch {
    // An environment without the variable (unit tests): the default.
    return null;
  }
}

function intOf(v: Value): number | undefined {
  return v !== null && (v.kind === "int" || v.kind === "uint") ? Number(v.value) : undefined;
}

/** Reads the join settings of the session (defaults without them). */
export function joinSettings(host: CompileHost): JoinSettings {
  return {
    reorder: intOf(sysvar(host, "tessera_opt_join_reorder")) !== 0,
    indexJoin: intOf(sysvar(host, "tessera_opt_index_join")) !== 0,
    dpLeavesMax: intOf(sysvar(host, "tidb_opt_join_reorder_threshold")) ?? dpLeavesMaxDefault,
  };
}

/** What one run of a group's cost-based join works with (from `planGroup`). */
export interface JoinRun {
  readonly leaves: readonly Leaf[];
  readonly conjuncts: readonly Conjunct[];
  readonly infos: readonly LeafPlanInfo[];
  readonly applied: Set<Conjunct>;
  readonly ctx: EvalContext;
  readonly mem: MemoryScope;
  readonly width: number;
  readonly lock: boolean;
  readonly straight: boolean;
  readonly settings: JoinSettings;
  /** Plans by their estimates, kept by the group across runs. */
  readonly memo: Map<string, JoinPlan>;
  /**
   * Whether the group ran before in this statement: a table it reads in full is then
   * read once for every later run (the statement's scan cache), so full reads cost nothing.
   */
  readonly rerun: boolean;
  readonly tableStats: (table: TableInfo) => TableStats | undefined;
  readonly lockRows: (table: TableInfo, handles: readonly bigint[]) => Promise<void>;
  readonly trace: PlanTrace | null;
  prepare(i: number): LeafAccess;
  /** Claims leaf i's local conjuncts not yet applied (the ones its read filters by). */
  claim(i: number): Conjunct[];
  /** Reads leaf i in full, filtered by its local conjuncts (claims them). */
  readLeaf(i: number): Promise<Value[][]>;
}

const pseudoEqualRate = 1 / 1000;
const pseudoRangeRate = 1 / 3;
const otherRate = 0.8;

function pseudoItemRate(item: ColumnItem): number {
  switch (item.kind) {
    case "null":
      return pseudoEqualRate;
    case "in":
      return Math.min(1, item.values.length * pseudoEqualRate);
    case "cmp":
      return item.op === "=" ? pseudoEqualRate : pseudoRangeRate;
    case "like":
      return pseudoRangeRate;
  }
}

/** The share of a table's rows a local conjunct keeps. */
function selectivity(run: JoinRun, info: LeafPlanInfo, c: Conjunct, stats: TableStats | undefined,
  total: number): number {
  const items = info.localItems.get(c);
  const table = info.table;
  if (items === undefined || table === undefined) return otherRate;
  let rate = 1;
  for (const [offset, list] of items) {
    for (const item of list) {
      const histogram = stats?.columns.get(table.columns[offset]?.id ?? -1);
      let r: number | undefined;
      if (histogram !== undefined && total > 0) {
        try {
          const intervals = itemIntervals(table, offset, item, run.ctx);
          if (intervals !== undefined) {
            r = estimateIntervals(histogram, intervals, { unique: offset === table.pkHandle }) /
              total;
          }
        } catch {
          r = undefined;
        }
      }
      rate *= Math.min(1, Math.max(0, r ?? pseudoItemRate(item)));
    }
  }
  return rate;
}

interface Estimated {
  readonly estimates: LeafEstimate[];
  /** The leaves read to count them. */
  readonly counted: (Ran | undefined)[];
  readonly candidates: LookupCandidate[];
}

/** Reads leaf i in full (its local conjuncts filter it), noting its reads for EXPLAIN. */
async function readTraced(run: JoinRun, i: number, estRows: number): Promise<Ran> {
  const start = run.trace?.records.length ?? 0;
  const open = run.conjuncts.filter((c) => !run.applied.has(c));
  const rows = await run.readLeaf(i);
  const filter = open.filter((c) => run.applied.has(c)).map((c) => c.ast);
  return { rows, node: { kind: "leaf", start, end: run.trace?.records.length ?? 0, estRows,
    filter } };
}

async function estimate(run: JoinRun): Promise<Estimated> {
  const counted: (Ran | undefined)[] = [];
  const candidates = run.infos.flatMap((info) => info.lookups);
  const estimates: LeafEstimate[] = [];
  for (let i = 0; i < run.leaves.length; i++) {
    const leaf = run.leaves[i]!;
    const info = run.infos[i]!;
    const table = leaf.source.table;
    if (table === undefined) {
      const got = await readTraced(run, i, 0);
      counted[i] = got;
      estimates.push({ card: got.rows.length, cost: 0, lookups: [] });
      continue;
    }
    const prep = run.prepare(i);
    if (prep.kind === "empty") {
      estimates.push({ card: 0, cost: 0, lookups: [] });
      continue;
    }
    const stats = run.tableStats(table);
    const total = stats?.count ?? pseudoRows;
    const scanned = leaf.source.scanned?.() === true;
    const free = scanned || (run.rerun && prep.handle === undefined &&
      prep.access?.kind !== "range");
    let card: number;
    let cost: number;
    if (prep.handle !== undefined) {
      card = 1;
      cost = 1;
    } else {
      const bit = 1n << BigInt(i);
      card = total;
      for (const c of run.conjuncts) {
        if (c.mask === bit) card *= selectivity(run, info, c, stats, total);
      }
      const access = prep.access;
      cost = access?.kind === "range"
        ? (access.estRows ?? card) * (access.index === null ? 1 : 3) + access.ranges.length
        : total;
    }
    if (free) cost = 0;
    const lookups = !run.settings.indexJoin || free ? [] : info.lookups.map((cand) => {
      const column = table.columns[cand.column];
      const histogram = stats?.columns.get(column?.id ?? -1);
      const perKeyRows = cand.unique ? 1 : histogram !== undefined
        ? Math.max(1, histogram.notNullCount / Math.max(1, histogram.ndv))
        : Math.max(1, total * pseudoEqualRate);
      return { keyMask: cand.conjunct.eq!.masks[cand.outerSide], perKeyRows,
        rowCost: cand.index === null ? 1 : 3, id: candidates.indexOf(cand) };
    });
    estimates.push({ card, cost, lookups });
  }
  return { estimates, counted, candidates };
}

/** Rows of a part of the plan, and what EXPLAIN draws of it. */
interface Ran {
  readonly rows: Value[][];
  readonly node: JoinTraceNode;
}

/** Whether an equality's side is the clustered handle of a base-table leaf. */
function isHandle(run: JoinRun, c: Conjunct, side: 0 | 1): boolean {
  const e = c.eq!.sides[side];
  if (e.kind !== "column") return false;
  const leaf = run.leaves.find((l) => e.index >= l.offset && e.index < l.offset + l.width);
  const table = leaf?.source.table;
  return leaf !== undefined && table !== undefined && table.pkHandle === e.index - leaf.offset &&
    handleRangeable(table);
}

/** NDVs of an equality's sides: a plain column's from its table's statistics. */
function sideNdv(run: JoinRun, c: Conjunct, side: 0 | 1): number | null {
  const e = c.eq!.sides[side];
  if (e.kind !== "column") return null;
  const leaf = run.leaves.find((l) => e.index >= l.offset && e.index < l.offset + l.width);
  const table = leaf?.source.table;
  if (leaf === undefined || table === undefined) return null;
  const column = table.columns[e.index - leaf.offset];
  const ndv = column === undefined ? undefined : run.tableStats(table)?.columns.get(column.id)?.ndv;
  return ndv ?? null;
}

function choosePlan(run: JoinRun, estimates: readonly LeafEstimate[]): JoinPlan {
  const key = JSON.stringify([run.settings, run.straight, run.rerun, estimates.map((e) =>
    [e.card, e.cost, e.lookups.map((l) => [l.id, l.perKeyRows])])]);
  const seen = run.memo.get(key);
  if (seen !== undefined) return seen;
  const plan = planJoins({
    leaves: estimates,
    conjuncts: run.conjuncts.map((c) => ({ mask: c.mask, eq: c.eq === null ? null
      : { masks: c.eq.masks, ndv: [sideNdv(run, c, 0), sideNdv(run, c, 1)],
        merge: isHandle(run, c, 0) && isHandle(run, c, 1) } })),
    dpLeavesMax: run.settings.dpLeavesMax,
    straight: run.straight,
    indexJoin: run.settings.indexJoin,
  });
  if (run.memo.size >= memoMax) run.memo.clear();
  run.memo.set(key, plan);
  return plan;
}

/** Joins the group's leaves by a cost-based plan; the rows are full-width. */
export async function costBasedJoin(run: JoinRun): Promise<Value[][]> {
  const start = run.trace?.records.length ?? 0;
  const { estimates, counted, candidates } = await estimate(run);
  const plan = choosePlan(run, estimates);
  const exec = async (p: JoinPlan): Promise<Ran> => {
    if (p.kind === "leaf") {
      const seen = counted[p.leaf];
      if (seen === undefined) return readTraced(run, p.leaf, p.card);
      return { rows: seen.rows, node: { ...seen.node, estRows: p.card } as JoinTraceNode };
    }
    const probe = await exec(p.probe);
    const eqs = run.conjuncts.filter((c) => !run.applied.has(c) && c.eq !== null &&
      eqSides(c, p.probe.mask, p.build.mask) !== null);
    if (p.op === "index") return indexJoin(run, p, candidates[p.lookup!]!, probe, eqs);
    const build = await exec(p.build);
    const filters = run.conjuncts.filter((c) => !run.applied.has(c) &&
      (c.mask & ~p.mask) === 0n);
    for (const c of filters) run.applied.add(c);
    const sides = eqs.map((c) => eqSides(c, p.probe.mask, p.build.mask)!);
    // A merge join on the handles (null if a side was not in handle order after all).
    const on = p.op === "merge" ? sides.find((q, k) => isHandle(run, eqs[k]!, 0) &&
      isHandle(run, eqs[k]!, 1) && q.domain === "int") : undefined;
    const merged = on === undefined ? null : await mergeJoinStep(probe.rows, build.rows,
      p.build.mask, run.leaves, on.cur, on.next, filters, run.ctx, run.mem);
    const rows = merged ?? await joinStep(probe.rows, build.rows, p.build.mask, run.leaves,
      sides, filters, run.ctx, run.mem);
    // A merge join shows its key first.
    const key = merged === null ? -1 : sides.indexOf(on!);
    const equal = key < 0 ? eqs : [eqs[key]!, ...eqs.filter((_, k) => k !== key)];
    return { rows, node: { kind: "join", op: merged === null ? "HashJoin" : "MergeJoin",
      estRows: p.card, rows: rows.length, build: build.node, probe: probe.node,
      equal: equal.map((c) => c.ast),
      other: filters.filter((c) => !eqs.includes(c)).map((c) => c.ast) } };
  };
  const ran = await exec(plan);
  if (run.trace !== null) {
    (run.trace.joins ??= []).push({ start, end: run.trace.records.length, root: ran.node });
  }
  return ran.rows;
}

/**
 * The handles (ascending, distinct) equal to `values` by the clustered integer key's
 * comparison (`boundOf`: 3.0 is 3, 3.5 is none), or undefined when one cannot be bounded.
 */
function handlesOf(table: TableInfo, values: readonly Value[]): bigint[] | undefined {
  const limits = intRange(table.columns[table.pkHandle!]!.type);
  const out = new Set<bigint>();
  for (const v of values) {
    const bound = boundOf("=", v);
    if (bound === undefined) return undefined;
    if (bound !== null && bound.lo >= limits.min && bound.lo <= limits.max) out.add(bound.lo);
  }
  return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The rows of key ranges of `index` (null: row keys) of a base-table source, merged in
 * handle order; up to `lookupsInFlight` reads at a time.
 */
async function readLookups(source: Source, index: IndexInfo | null,
  keys: readonly KeyRange[]): Promise<SourceRows> {
  if (keys.length === 1) return source.readRange!(index, keys[0]!);
  const byHandle = new Map<bigint, Value[]>();
  for (let at = 0; at < keys.length; at += lookupsInFlight) {
    const reads = keys.slice(at, at + lookupsInFlight).map((k) => source.readRange!(index, k));
    for (const got of await Promise.all(reads)) {
      got.rows.forEach((row, k) => byHandle.set(got.handles![k]!, row));
    }
  }
  const handles = [...byHandle.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { handles, rows: handles.map((h) => byHandle.get(h)!) };
}

/** The left (or right) side of an equality conjunct as written. */
function astSide(c: Conjunct, left: boolean): AstExpr {
  const ast = c.ast;
  return ast.kind === "binary" ? (left ? ast.left : ast.right) : ast;
}

/** The rows of `got` (leaf i's) widened, filtered by `local`, locked when asked. */
async function innerRows(run: JoinRun, i: number, got: SourceRows, local: readonly Conjunct[]):
  Promise<{ rows: Value[][]; bytes: number }> {
  const leaf = run.leaves[i]!;
  const rows = got.rows.map((r) => widen(r, leaf.offset, run.width));
  const bytes = rowsBytes(rows);
  run.mem.consume(bytes);
  const keep: boolean[] = [];
  if (local.every((c) => c.compiled.subs.length === 0)) {
    // A batch at a time where it can (vec_filter.ts).
    holdMask(local.map((c) => c.compiled.expr), rows, run.ctx, keep);
  } else {
    for (const row of rows) keep.push(await allHold(local, row, run.ctx));
  }
  const table = leaf.source.table;
  if (run.lock && table !== undefined && got.handles !== undefined) {
    const handles = got.handles.filter((_, k) => keep[k]);
    if (handles.length > 0) await run.lockRows(table, handles);
  }
  return { rows: rows.filter((_, k) => keep[k]), bytes };
}

/**
 * An index join: the outer rows in batches, each batch's distinct key values looked up
 * in the inner leaf (`cand`), the rows found hash-joined with the batch.
 */
async function indexJoin(run: JoinRun, p: Extract<JoinPlan, { kind: "join" }>,
  cand: LookupCandidate, probe: Ran, eqConjuncts: readonly Conjunct[]): Promise<Ran> {
  const i = cand.leaf;
  const leaf = run.leaves[i]!;
  const table = leaf.source.table!;
  const start = run.trace?.records.length ?? 0;
  const local = run.claim(i);
  const eqs = eqConjuncts.map((c) => eqSides(c, p.probe.mask, p.build.mask)!);
  const filters = run.conjuncts.filter((c) => !run.applied.has(c) && (c.mask & ~p.mask) === 0n);
  for (const c of filters) run.applied.add(c);
  const outer = cand.conjunct.eq!.sides[cand.outerSide];
  const base = run.infos[i]!.items;
  const out: Value[][] = [];
  const emit = (rows: readonly Value[][]): void => {
    for (const row of rows) out.push(row);
    if (out.length > joinRowsMax) throw mysqlError(ER.TOO_BIG_SELECT);
  };
  const outerRows = probe.rows;
  for (let at = 0; at < outerRows.length; at += lookupBatchRows) {
    let batch = outerRows.slice(at, at + lookupBatchRows);
    const seen = new Set<string>();
    const values: Value[] = [];
    for (const row of batch) {
      const v = evaluate(outer, withRow(run.ctx, row));
      const k = hashKey(v, cand.domain);
      if (k === null || seen.has(k)) continue;
      seen.add(k);
      values.push(v);
    }
    if (values.length === 0) continue;
    const scanned = leaf.source.scanned?.() === true;
    // The conjuncts the fetched rows are filtered by here (not those run on KV), and the
    // bytes a pushed read charged for its rows (released with the batch).
    let rest = local;
    let charged = 0;
    // By the handle: one batch of point gets.
    const handles = cand.index === null && !scanned && leaf.source.readHandles !== undefined
      ? handlesOf(table, values) : undefined;
    let got: SourceRows;
    if (handles !== undefined) {
      if (handles.length === 0) continue;
      got = await leaf.source.readHandles!(handles);
    } else {
      // The key values as an IN item of the key column, beside the leaf's own items.
      const items = new Map(base);
      items.set(cand.column, [...(base.get(cand.column) ?? []), { kind: "in",
        values: values.map((v) => constant(v, outer.type)) }]);
      const ranges = scanned ? undefined : cand.index === null
        ? handleRanges(table, items, run.ctx) : indexRanges(table, cand.index, items, run.ctx);
      if (ranges === null) continue;
      if (ranges === undefined) {
        // The key cannot bound the read (or the statement holds the scan): every row,
        // once, for the rest of the outer rows.
        got = await leaf.source.read();
        batch = outerRows.slice(at);
        at = outerRows.length;
      } else {
        // Through a secondary index: one pushed index lookup (pushdown.ts) if it may be.
        const push = cand.index === null || run.lock ? undefined
          : lookupPushdown(leaf, local, cand.index, ranges.keys);
        const pushed = push === undefined ? undefined
          : await leaf.source.readPushed?.(push.ranges, push.scan);
        if (pushed !== undefined) {
          rest = local.filter((c) => !push!.conjuncts.has(c));
          charged = pushed.charged ?? 0;
          run.mem.adopt(charged);
        }
        got = pushed ?? await readLookups(leaf.source, cand.index, ranges.keys);
      }
    }
    const inner = await innerRows(run, i, got, rest);
    emit(await joinStep(batch, inner.rows, p.build.mask, run.leaves, eqs, filters, run.ctx,
      run.mem));
    run.mem.release(inner.bytes + charged);
  }
  const end = run.trace?.records.length ?? 0;
  const node: JoinTraceNode = { kind: "join", op: "IndexJoin", estRows: p.card,
    rows: out.length,
    build: { kind: "leaf", start, end: start, estRows: p.build.card, filter: [] },
    probe: probe.node, equal: eqConjuncts.map((c) => c.ast),
    other: filters.filter((c) => !eqConjuncts.includes(c)).map((c) => c.ast),
    inner: { table, index: cand.index, start, end, filter: local.map((c) => c.ast),
      outerKeys: eqConjuncts.map((c, k) => astSide(c, eqs[k]!.cur === c.eq!.sides[0])),
      innerKeys: eqConjuncts.map((c, k) => astSide(c, eqs[k]!.cur !== c.eq!.sides[0])) } };
  return { rows: out, node };
}
