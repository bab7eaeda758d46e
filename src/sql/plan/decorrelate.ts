/**
 * Subquery decorrelation: a WHERE conjunct `EXISTS (q)`, `NOT EXISTS (q)`, `x IN (q)` or
 * `x NOT IN (q)` runs as a hash semi join instead of running `q` per outer row
 * (`compile.ts`), as TiDB's rule_decorrelate does (`SemiJoin`, `AntiSemiJoin`, and the
 * null-aware anti semi join of NOT IN). Switched by `optimizer_switch`'s `semijoin` flag.
 *
 * The subquery `q` must be a plain SELECT (no GROUP BY, HAVING, aggregates, windows,
 * locking, WITH; LIMIT only under EXISTS and at least 1). Its WHERE conjuncts are split:
 * those reading only its own FROM filter it as it is read, once per outer run
 * (uncorrelated, so point and range access still apply); the others are correlated —
 * `inner = outer` equalities whose sides hash in one domain become the join's hash keys,
 * and every correlated conjunct is re-checked on the candidates of a bucket with the
 * outer row's values in its cells (hash keys find a superset: `hash.ts`). IN adds
 * `x = field` keys. A subquery whose FROM or select list reads the outer query, or a key
 * that does not hash, is left to the per-row path; so is one that reads a single table by
 * its clustered key from the outer row (a point get per row) unless the table's
 * statistics say it is small. A correlated EXISTS / IN inside an expression (the select
 * list, an OR) becomes a left outer semi join computing its value (`semiValue`).
 *
 * Semantics kept: a conjunct in WHERE keeps a row only when TRUE, so EXISTS / IN keep a
 * row when some inner row makes every correlated conjunct and `x = field` TRUE, NOT
 * EXISTS when none does; NOT IN keeps a row when the inner rows passing the correlated
 * conjuncts are none, or when `x = field` is FALSE (not NULL) for every one of them — a
 * NULL on either side makes NOT IN NULL, hence no row, as MySQL.
 */
import { type BuildResult, type EvalContext, type Expr, type Value, buildCall, evaluate, isTrue }
  from "../../expr/mod.ts";
import type { Expr as AstExpr, SelectQuery, TableName } from "../parser/ast.ts";
import type { TableInfo } from "../catalog/schema.ts";
import { isAggregateCall } from "./aggregate.ts";
import { compile, containsSubquery, withRow } from "./compile.ts";
import { type FromHost, type Source, planFrom } from "./from.ts";
import { type HashDomain, hashDomain, hashKey } from "./hash.ts";
import { type Cell, Frame, type Layout, Scope, newCell } from "./scope.ts";
import { type MemoryAccount, keyBytes } from "./memory_tracker.ts";
import { findWindowCall } from "./window.ts";

/** Rows under which a table is scanned for a semi join even when point gets could do. */
const smallTableRows = 1000;

/** A WHERE conjunct that may run as a semi join, by its form alone. */
export interface SemiCandidate {
  readonly ast: AstExpr;
  readonly kind: "exists" | "in";
  readonly not: boolean;
  readonly query: SelectQuery;
  /** IN: the operand's items. */
  readonly operand: readonly AstExpr[];
}

/** The semi join kinds, by TiDB's names in EXPLAIN. */
export type SemiKind = "semi join" | "anti semi join" | "Null-aware anti semi join" |
  "left outer semi join" | "anti left outer semi join";

/** What planning a semi join needs from the planner. */
export interface SemiHost extends FromHost {
  /** Runs `body` without recording shapes for EXPLAIN (a probe planning). */
  quietly<T>(body: () => T): T;
  /** The base table a FROM name stands for, if it is one (not a view or CTE). */
  baseTable?(name: TableName): TableInfo | undefined;
}

/** One hash key: the outer side (on outer rows) and the inner side (on inner rows). */
interface SemiKey {
  readonly outer: Expr;
  readonly inner: Expr;
  readonly domain: HashDomain;
}

/** A planned semi join: the inner source and how outer rows are tested against it. */
export interface SemiJoin {
  readonly kind: SemiKind;
  readonly candidate: SemiCandidate;
  /** The subquery's FROM with its uncorrelated conjuncts; its layout. */
  readonly inner: Source;
  readonly innerWhere: AstExpr | null;
  /** Hash keys from correlated equalities, then (IN) the operand's. */
  readonly corrKeys: readonly SemiKey[];
  readonly inKeys: readonly SemiKey[];
  /** Correlated conjuncts (re-checked), on inner rows with `frame`'s cells set. */
  readonly checks: readonly Expr[];
  readonly frame: Frame;
  /** IN: `x = field` over cells, ANDed (three-valued), and its cells. */
  readonly inTest: { readonly expr: Expr; readonly left: readonly Cell[];
    readonly right: readonly Cell[] } | null;
  /** For EXPLAIN: the equalities (outer, inner) and other conditions as written. */
  readonly equal: readonly (readonly [AstExpr, AstExpr])[];
  readonly other: readonly AstExpr[];
}

function conjunctsOf(e: AstExpr | null): AstExpr[] {
  if (e === null) return [];
  return e.kind === "binary" && e.op === "AND" ? [...conjunctsOf(e.left), ...conjunctsOf(e.right)]
    : [e];
}

/** The AND of `list`, null when empty. */
export function andOf(list: readonly AstExpr[]): AstExpr | null {
  if (list.length === 0) return null;
  return list.reduce((a, b) => ({ kind: "binary", op: "AND", left: a, right: b }));
}

/** Whether `node` holds an aggregate call outside subqueries. */
function hasAggregate(node: unknown): boolean {
  if (node === null || typeof node !== "object") return false;
  if (Array.isArray(node)) return node.some(hasAggregate);
  const e = node as AstExpr;
  if (typeof e.kind === "string") {
    if (isAggregateCall(e)) return true;
    if (e.kind === "subquery" || e.kind === "exists" || e.kind === "inSubquery" ||
      e.kind === "compareSubquery") {
      return e.kind === "inSubquery" || e.kind === "compareSubquery"
        ? hasAggregate(e.operand) : false;
    }
  }
  return Object.values(node).some(hasAggregate);
}

function isIntLiteral(e: AstExpr | null, atLeast: bigint): boolean {
  return e !== null && e.kind === "int" && BigInt(e.text) >= atLeast;
}

/** The candidate a WHERE conjunct is, by its form, or null. */
export function semiCandidate(conjunct: AstExpr): SemiCandidate | null {
  let e = conjunct;
  let not = false;
  while (e.kind === "unary" && (e.op === "NOT" || e.op === "!")) {
    not = !not;
    e = e.operand;
  }
  if (e.kind !== "exists" && e.kind !== "inSubquery") return null;
  const query = e.query;
  if (query.kind !== "select" || query.with !== null || query.groupBy.length > 0 ||
    query.having !== null || query.windows.length > 0 || query.lock !== null ||
    query.from.length === 0 || hasAggregate(query.fields) ||
    findWindowCall(query.fields) !== undefined || containsSubquery(query.fields)) return null;
  if (e.kind === "exists") {
    const limit = query.limit;
    if (limit !== null && (!isIntLiteral(limit.count, 1n) ||
      (limit.offset !== null && !(limit.offset.kind === "int" && BigInt(limit.offset.text) ===
        0n)))) return null;
    return { ast: conjunct, kind: "exists", not, query, operand: [] };
  }
  const operand = e.operand.kind === "row" ? e.operand.items : [e.operand];
  if (query.limit !== null || containsSubquery(e.operand) ||
    query.fields.length !== operand.length ||
    query.fields.some((f) => f.expr.kind === "star")) return null;
  return { ast: conjunct, kind: "in", not: not !== e.not, query, operand };
}

/** The column references of `node` (it holds no subquery). */
function columnRefs(node: unknown): AstExpr[] {
  if (node === null || typeof node !== "object") return [];
  if (Array.isArray(node)) return node.flatMap(columnRefs);
  if ((node as { kind?: unknown }).kind === "column") return [node as AstExpr];
  return Object.values(node).flatMap(columnRefs);
}

/** How a conjunct of the subquery's WHERE reads: its own FROM only, or the outer query. */
function readsOuter(ast: AstExpr, layout: Layout, outer: Scope, host: SemiHost):
  { outer: boolean; inner: boolean } {
  const frame = new Frame(outer);
  const scope = new Scope(layout, "where clause", frame);
  const tracked = scope.track();
  compile(ast, scope, host);
  scope.stopTracking();
  return { outer: frame.correlations.length > 0, inner: tracked.size > 0 };
}

/**
 * Plans `candidate` as a semi join of the outer rows (layout of `outer`), or null when it
 * must run per row (then the caller compiles it as a plain conjunct, whose errors are the
 * ones MySQL gives).
 */
export function planSemiJoin(candidate: SemiCandidate, outer: Scope, host: SemiHost,
  options: { readonly value: boolean } = { value: false }): SemiJoin | null {
  const query = candidate.query;
  const split = splitCorrelated(query, outer, host, candidate.kind === "in");
  if (split === null) return null;
  const { layout, innerConjuncts, correlated, corrKeys, equal, other } = split;
  if (pointKeyed(query, corrKeys, host)) return null;
  const innerScope = (clause: string): Scope => new Scope(layout, clause, new Frame(null));
  const frame = new Frame(outer);
  const checkScope = new Scope(layout, "where clause", frame);
  const checks = correlated.map((c) => compile(c, checkScope, host).expr);
  const inKeys: SemiKey[] = [];
  let inTest: SemiJoin["inTest"] = null;
  if (candidate.kind === "in") {
    const left: Cell[] = [];
    const right: Cell[] = [];
    let test: Expr | null = null;
    for (let i = 0; i < candidate.operand.length; i++) {
      const outerExpr = compile(candidate.operand[i]!, outer, host).expr;
      const inner = compile(query.fields[i]!.expr, innerScope("field list"), host).expr;
      const domain = hashDomain(outerExpr.type, inner.type);
      if (domain === null) return null;
      inKeys.push({ outer: outerExpr, inner, domain });
      equal.push([candidate.operand[i]!, query.fields[i]!.expr]);
      left.push(newCell(outerExpr.type));
      right.push(newCell(inner.type));
      const built = buildCall("=", [left[i]!, right[i]!]);
      if (built.kind !== "ok") return null;
      const both: BuildResult = test === null ? built : buildCall("and", [test, built.expr]);
      if (both.kind !== "ok") return null;
      test = both.expr;
    }
    inTest = { expr: test!, left, right };
  }
  // A value (`semiValue`) is worth a join only for a correlated subquery: compile.ts runs
  // an uncorrelated one once per statement already.
  if (options.value && correlated.length === 0) return null;
  const innerWhere = andOf(innerConjuncts);
  const inner = planFrom(query.from, innerWhere, new Frame(null), host, { lock: false });
  const kind: SemiKind = options.value
    ? (candidate.not ? "anti left outer semi join" : "left outer semi join")
    : !candidate.not ? "semi join"
      : candidate.kind === "exists" ? "anti semi join" : "Null-aware anti semi join";
  return { kind, candidate, inner, innerWhere, corrKeys, inKeys, checks, frame, inTest, equal,
    other };
}

/**
 * Whether the subquery reads one base table by its clustered key from the outer row: a
 * point get per outer row (what TiDB's index join does) beats scanning the whole table,
 * unless its statistics say it is small.
 */
function pointKeyed(query: SelectQuery, keys: readonly SemiKey[], host: SemiHost): boolean {
  const only = query.from.length === 1 && query.from[0]!.kind === "table"
    ? host.baseTable?.(query.from[0]!.name) : undefined;
  return only !== undefined && only.pkHandle !== null && keys.some((k) =>
    k.inner.kind === "column" && k.inner.index === only.pkHandle) &&
    (host.tableStats?.(only)?.count ?? Infinity) > smallTableRows;
}

/** A subquery's WHERE split into what reads only its FROM and what reads the outer query. */
interface Split {
  readonly layout: Layout;
  readonly innerConjuncts: AstExpr[];
  readonly correlated: AstExpr[];
  /** Correlated `inner = outer` equalities that hash, as keys and as written. */
  readonly corrKeys: SemiKey[];
  readonly keyAsts: (readonly [AstExpr, AstExpr])[];
  readonly equal: [AstExpr, AstExpr][];
  /** The other correlated conjuncts. */
  readonly other: AstExpr[];
}

/**
 * Splits `query`'s WHERE (see `Split`), or null when its FROM reads the outer query, a
 * name does not resolve (the per-row path then raises MySQL's error), or (`fieldsInner`)
 * its select list reads the outer query.
 */
function splitCorrelated(query: SelectQuery, outer: Scope, host: SemiHost,
  fieldsInner: boolean): Split | null {
  // A probe of the subquery's FROM, for its layout; correlated FROMs are left alone.
  let layout: Layout;
  try {
    const probe = new Frame(outer);
    layout = host.quietly(() => planFrom(query.from, null, probe, host, { lock: false }).layout);
    if (probe.correlations.length > 0) return null;
  } catch {
    return null;
  }
  const innerConjuncts: AstExpr[] = [];
  const correlated: AstExpr[] = [];
  try {
    for (const c of conjunctsOf(query.where)) {
      if (containsSubquery(c)) {
        // Kept inside only when it reads nothing outside (its subqueries included).
        host.quietly(() => compile(c, new Scope(layout, "where clause", new Frame(null)), host));
        innerConjuncts.push(c);
        continue;
      }
      if (readsOuter(c, layout, outer, host).outer) correlated.push(c);
      else innerConjuncts.push(c);
    }
    // The select list: EXISTS ignores it but it must resolve; IN's may not read outside.
    for (const f of query.fields) {
      if (f.expr.kind === "star") continue;
      // Column by column: an aggregate call does not compile outside its SELECT.
      for (const ref of columnRefs(f.expr)) {
        if (readsOuter(ref, layout, outer, host).outer && fieldsInner) return null;
      }
    }
  } catch {
    return null;
  }
  const innerScope = (clause: string): Scope => new Scope(layout, clause, new Frame(null));
  const corrKeys: SemiKey[] = [];
  const keyAsts: (readonly [AstExpr, AstExpr])[] = [];
  const equal: [AstExpr, AstExpr][] = [];
  const other: AstExpr[] = [];
  for (const c of correlated) {
    if (c.kind === "binary" && c.op === "=") {
      const l = readsOuter(c.left, layout, outer, host);
      const r = readsOuter(c.right, layout, outer, host);
      const pair = l.inner && !l.outer && !r.inner ? [c.left, c.right] as const
        : r.inner && !r.outer && !l.inner ? [c.right, c.left] as const : null;
      if (pair !== null) {
        const inner = compile(pair[0], innerScope("where clause"), host).expr;
        const outerExpr = compile(pair[1], outer, host).expr;
        const domain = hashDomain(outerExpr.type, inner.type);
        if (domain !== null) {
          corrKeys.push({ outer: outerExpr, inner, domain });
          keyAsts.push([pair[1], pair[0]]);
          equal.push([pair[1], pair[0]]);
          continue;
        }
      }
    }
    other.push(c);
  }
  return { layout, innerConjuncts, correlated, corrKeys, keyAsts, equal, other };
}

/**
 * A correlated scalar subquery of one aggregate item (`(SELECT COUNT(*) FROM u WHERE
 * u.k = t.a)`) as a join with a derived table (`optimizer_switch` flag
 * `subquery_to_derived`, MySQL 8.0.21's transformation; TiDB decorrelates it the same
 * way): `grouped` computes the item per correlation key once per statement (`SELECT k, item
 * FROM … WHERE <uncorrelated> GROUP BY k`), each outer row looks its key up, and a key
 * with no group — or a NULL key, which `=` matches nothing with — takes the item's value
 * over no rows (`empty`: the subquery with WHERE FALSE, e.g. 0 for COUNT, NULL for SUM).
 * Only for a subquery over one table, view or CTE whose correlated conjuncts are all
 * integer equalities `inner = outer` (so that grouping and `=` agree exactly), and not
 * when they pin a big table's clustered key (a point get per row is cheaper).
 */
export interface ScalarJoin {
  readonly grouped: SelectQuery;
  readonly empty: SelectQuery;
  readonly outerKeys: readonly Expr[];
  readonly equal: readonly (readonly [AstExpr, AstExpr])[];
}

/** The subquery of a scalar subquery expression when its form allows `planScalarJoin`. */
export function scalarCandidate(e: AstExpr): SelectQuery | null {
  if (e.kind !== "subquery") return null;
  const q = e.query;
  // One table, view or CTE (a join inside is left to the per-row path and its index joins).
  if (q.kind !== "select" || q.with !== null || q.groupBy.length > 0 || q.having !== null ||
    q.windows.length > 0 || q.lock !== null || q.limit !== null || q.from.length !== 1 ||
    q.from[0]!.kind !== "table" ||
    q.fields.length !== 1 || q.fields[0]!.expr.kind === "star" || q.withRollup ||
    !hasAggregate(q.fields) || findWindowCall(q.fields) !== undefined ||
    containsSubquery(q.fields)) return null;
  return q;
}

/** Plans `query` (by `scalarCandidate`) as a scalar join, or null to run it per row. */
export function planScalarJoin(query: SelectQuery, outer: Scope, host: SemiHost):
  ScalarJoin | null {
  const split = splitCorrelated(query, outer, host, true);
  if (split === null || split.correlated.length === 0 || split.other.length > 0 ||
    split.corrKeys.length !== split.correlated.length ||
    split.corrKeys.some((k) => k.domain !== "int") ||
    pointKeyed(query, split.corrKeys, host)) return null;
  const keys = split.keyAsts.map(([, inner]) => inner);
  const base = { ...query, orderBy: [], limit: null, distinct: false };
  const grouped: SelectQuery = { ...base, where: andOf(split.innerConjuncts),
    fields: [...keys.map((k) => ({ expr: k, alias: null })), query.fields[0]!], groupBy: keys };
  const empty: SelectQuery = { ...base, where: { kind: "bool", value: false } };
  return { grouped, empty, outerKeys: split.corrKeys.map((k) => k.outer), equal: split.equal };
}

/** The value of a scalar join for the outer row of `outerCtx`. */
export function scalarLookup(join: ScalarJoin, built: { readonly byKey: Map<string, Value>;
  readonly empty: Value }, outerCtx: EvalContext): Value {
  const key = keyOf(join.outerKeys.map((e) => ({ outer: e, inner: e, domain: "int" })),
    "outer", outerCtx);
  return key === null ? built.empty : built.byKey.get(key) ?? built.empty;
}

/** The lookup table of a scalar join from `grouped`'s rows (keys first, then the value). */
export function scalarTable(join: ScalarJoin, rows: readonly Value[][], emptyValue: Value):
  { byKey: Map<string, Value>; empty: Value; bytes: number } {
  const n = join.outerKeys.length;
  const byKey = new Map<string, Value>();
  let bytes = 0;
  for (const row of rows) {
    let key = "";
    let nullKey = false;
    for (let i = 0; i < n; i++) {
      const part = hashKey(row[i] ?? null, "int");
      if (part === null) nullKey = true;
      key += `${part}\u0001`;
    }
    // A NULL key's group is never looked up (`=` matches nothing with NULL).
    if (nullKey) continue;
    byKey.set(key, row[n] ?? null);
    bytes += keyBytes(key) + 16;
  }
  return { byKey, empty: emptyValue, bytes };
}

/** The hash key of `keys` on a row, or null when one is NULL (matches nothing). */
function keyOf(keys: readonly SemiKey[], side: "outer" | "inner", ctx: EvalContext):
  string | null {
  let key = "";
  for (const k of keys) {
    const part = hashKey(evaluate(k[side], ctx), k.domain);
    if (part === null) return null;
    key += `${part}\u0001`;
  }
  return key;
}

interface InnerRow {
  readonly row: Value[];
  /** IN: the field values (for the three-valued test). */
  readonly values: readonly Value[];
}

/** Rows of one bucket, with (uncorrelated NOT IN) an index by the IN key. */
interface Bucket {
  readonly rows: InnerRow[];
  index?: { readonly byKey: Map<string, InnerRow[]>; readonly withNull: InnerRow[] };
}

/** A semi join's hash table over its inner rows, and the bytes it holds. */
export interface SemiBuild {
  readonly buckets: Map<string, Bucket>;
  readonly bytes: number;
}

function hashedKeys(semi: SemiJoin): readonly SemiKey[] {
  return semi.kind === "semi join" ? [...semi.corrKeys, ...semi.inKeys] : semi.corrKeys;
}

/** Builds the hash table of the inner rows (counted on `mem`). */
export function buildSemiJoin(semi: SemiJoin, innerRows: readonly Value[][], ctx: EvalContext,
  mem: MemoryAccount): SemiBuild {
  const hashed = hashedKeys(semi);
  const buckets = new Map<string, Bucket>();
  let tableBytes = 0;
  for (const row of innerRows) {
    const rowCtx = withRow(ctx, row);
    const key = keyOf(hashed, "inner", rowCtx);
    if (key === null) continue;
    const values = semi.inKeys.map((k) => evaluate(k.inner, rowCtx));
    const bucket = buckets.get(key);
    const bytes = bucket === undefined ? keyBytes(key) : 8;
    mem.consume(bytes);
    tableBytes += bytes;
    if (bucket === undefined) buckets.set(key, { rows: [{ row, values }] });
    else bucket.rows.push({ row, values });
  }
  return { buckets, bytes: tableBytes };
}

/** The outer rows the semi join keeps, in their order. */
export function probeSemiJoin(semi: SemiJoin, build: SemiBuild, outerRows: readonly Value[][],
  ctx: EvalContext): Value[][] {
  const hashed = hashedKeys(semi);
  const buckets = build.buckets;
  const out: Value[][] = [];
  for (const row of outerRows) {
    const rowCtx = withRow(ctx, row);
    const key = keyOf(hashed, "outer", rowCtx);
    const bucket = key === null ? undefined : buckets.get(key);
    if (semi.kind === "anti semi join") {
      if (bucket === undefined || !anyPasses(semi, bucket, rowCtx, ctx, false)) out.push(row);
      continue;
    }
    if (semi.kind === "semi join") {
      if (bucket !== undefined && anyPasses(semi, bucket, rowCtx, ctx, true)) out.push(row);
      continue;
    }
    if (bucket === undefined || notInKeeps(semi, bucket, rowCtx, ctx)) out.push(row);
  }
  return out;
}

/** Sets the correlation cells of the checks from the outer row. */
function bindOuter(semi: SemiJoin, outerCtx: EvalContext): void {
  for (const c of semi.frame.correlations) c.cell.value = evaluate(c.outer, outerCtx);
}

/** Whether every correlated conjunct holds on inner row `row`. */
function checksHold(semi: SemiJoin, row: readonly Value[], ctx: EvalContext): boolean {
  if (semi.checks.length === 0) return true;
  const rowCtx = withRow(ctx, row);
  for (const c of semi.checks) if (isTrue(evaluate(c, rowCtx), ctx.warn) !== true) return false;
  return true;
}

/** `x = field` of IN, three-valued, for an outer row's values and an inner row's. */
function inTruth(semi: SemiJoin, outerValues: readonly Value[], inner: InnerRow,
  ctx: EvalContext): boolean | null {
  const test = semi.inTest!;
  test.left.forEach((cell, i) => {
    cell.value = outerValues[i] ?? null;
  });
  test.right.forEach((cell, i) => {
    cell.value = inner.values[i] ?? null;
  });
  return isTrue(evaluate(test.expr, ctx), ctx.warn);
}

/** EXISTS / IN (`needIn`) or NOT EXISTS: whether some row of the bucket passes. */
function anyPasses(semi: SemiJoin, bucket: Bucket, outerCtx: EvalContext, ctx: EvalContext,
  needIn: boolean): boolean {
  bindOuter(semi, outerCtx);
  const outerValues = needIn && semi.inTest !== null
    ? semi.inKeys.map((k) => evaluate(k.outer, outerCtx)) : [];
  for (const inner of bucket.rows) {
    if (!checksHold(semi, inner.row, ctx)) continue;
    if (needIn && semi.inTest !== null && inTruth(semi, outerValues, inner, ctx) !== true) {
      continue;
    }
    return true;
  }
  return false;
}

/** NOT IN: whether the outer row is kept (see the file comment). */
function notInKeeps(semi: SemiJoin, bucket: Bucket, outerCtx: EvalContext, ctx: EvalContext):
  boolean {
  return inOver(semi, bucket, outerCtx, ctx) === false;
}

/**
 * `x IN (…)` over the bucket's rows that pass the correlated conjuncts, three-valued:
 * TRUE if one compares TRUE, else NULL if one compares NULL, else FALSE (none: FALSE).
 */
function inOver(semi: SemiJoin, bucket: Bucket, outerCtx: EvalContext, ctx: EvalContext):
  boolean | null {
  const outerValues = semi.inKeys.map((k) => evaluate(k.outer, outerCtx));
  let candidates: readonly InnerRow[] = bucket.rows;
  let sawNull = false;
  if (semi.checks.length === 0) {
    // Every row of the bucket is in the set: only the same IN key or a NULL can match.
    const outerKey = keyOf(semi.inKeys, "outer", outerCtx);
    if (outerKey !== null) {
      bucket.index ??= indexOf(semi, bucket.rows);
      candidates = [...bucket.index.byKey.get(outerKey) ?? [], ...bucket.index.withNull];
    }
    for (const inner of candidates) {
      const truth = inTruth(semi, outerValues, inner, ctx);
      if (truth === true) return true;
      if (truth === null) sawNull = true;
    }
    return sawNull ? null : false;
  }
  bindOuter(semi, outerCtx);
  for (const inner of candidates) {
    if (!checksHold(semi, inner.row, ctx)) continue;
    const truth = inTruth(semi, outerValues, inner, ctx);
    if (truth === true) return true;
    if (truth === null) sawNull = true;
  }
  return sawNull ? null : false;
}

/**
 * The value of the EXISTS / [NOT] IN subquery of a left outer semi join for an outer row
 * (`outerCtx`): 1, 0 or NULL, as compile.ts would compute it running the subquery.
 */
export function semiValue(semi: SemiJoin, build: SemiBuild, outerCtx: EvalContext,
  ctx: EvalContext): Value {
  const key = keyOf(semi.corrKeys, "outer", outerCtx);
  const bucket = key === null ? undefined : build.buckets.get(key);
  let truth: boolean | null;
  if (semi.candidate.kind === "exists") {
    truth = bucket !== undefined && anyPasses(semi, bucket, outerCtx, ctx, false);
  } else {
    truth = bucket === undefined ? false : inOver(semi, bucket, outerCtx, ctx);
    if (semi.candidate.not && truth !== null) truth = !truth;
  }
  return truth === null ? null : { kind: "int", value: truth ? 1n : 0n };
}

function indexOf(semi: SemiJoin, rows: readonly InnerRow[]): NonNullable<Bucket["index"]> {
  const byKey = new Map<string, InnerRow[]>();
  const withNull: InnerRow[] = [];
  for (const inner of rows) {
    let key = "";
    let nullSeen = false;
    semi.inKeys.forEach((k, i) => {
      const part = hashKey(inner.values[i] ?? null, k.domain);
      if (part === null) nullSeen = true;
      else key += `${part}\u0001`;
    });
    if (nullSeen) {
      withNull.push(inner);
      continue;
    }
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [inner]);
    else list.push(inner);
  }
  return { byKey, withNull };
}
