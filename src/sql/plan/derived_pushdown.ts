/**
 * Predicate pushdown into derived tables, views and non-recursive CTEs (`optimizer_switch`
 * flag `derived_condition_pushdown`, as MySQL 8.0.22): a WHERE conjunct that reads only
 * one such source's columns is rewritten in terms of the source query's select list and
 * added to that query's WHERE, so it filters the rows as they are read (point gets and
 * index ranges included) instead of after the source is materialized.
 *
 * Only where it cannot change a result: the source is a plain SELECT with a FROM and no
 * GROUP BY, HAVING, aggregates, window functions, DISTINCT or LIMIT; the columns the
 * conjunct reads map to select items that are named columns or aliased expressions
 * without subqueries or volatile calls; the conjunct itself holds no subquery, variable
 * or volatile call; and the source sits where WHERE filters its rows one for one (the
 * FROM list, inner joins, the preserved side of an outer join — not a null-extended side).
 * Columns are the source's by qualifier, or unqualified when it is the FROM's only item.
 */
import type { Expr as AstExpr, Query, TableExpr } from "../parser/ast.ts";
import { isAggregateCall } from "./aggregate.ts";
import { findWindowCall } from "./window.ts";

/** A FROM source rows of which WHERE filters one for one. */
export type PushTarget = Extract<TableExpr, { kind: "table" | "derived" }>;

/** Sources of `items` in positions a WHERE conjunct may be pushed into. */
export function pushTargets(items: readonly TableExpr[]): PushTarget[] {
  const out: PushTarget[] = [];
  const visit = (item: TableExpr): void => {
    switch (item.kind) {
      case "table":
      case "derived":
        out.push(item);
        return;
      case "tableList":
        item.items.forEach(visit);
        return;
      case "join":
        if (item.type !== "RIGHT") visit(item.left);
        if (item.type !== "LEFT") visit(item.right);
    }
  };
  items.forEach(visit);
  return out;
}

const volatileFunctions = new Set(["rand", "uuid", "uuid_short", "sleep", "sysdate",
  "get_lock", "release_lock", "release_all_locks", "is_free_lock", "is_used_lock",
  "last_insert_id", "found_rows", "row_count", "benchmark", "values", "nextval", "lastval",
  "setval", "random_bytes", "master_pos_wait"]);
const impure = new Set(["userVar", "assign", "subquery", "exists", "inSubquery",
  "compareSubquery", "default", "star", "groupConcat"]);

/** Whether `node` reads no variable or subquery and calls nothing volatile or aggregate. */
function pure(node: unknown): boolean {
  if (node === null || typeof node !== "object") return true;
  if (Array.isArray(node)) return node.every(pure);
  const e = node as AstExpr;
  if (typeof e.kind === "string") {
    if (impure.has(e.kind) || isAggregateCall(e)) return false;
    if (e.kind === "func" && (volatileFunctions.has(e.name.toLowerCase()) || e.over !== null)) {
      return false;
    }
  }
  return Object.values(node).every(pure);
}

/**
 * The source query's output columns by lower-case name → the select item's expression,
 * or null when the query may not take pushed conjuncts. `columns`: the source's own
 * column list (`AS d (x, y)`, a view's), if any.
 */
export function outputExprs(query: Query, columns: readonly string[] | null):
  Map<string, AstExpr> | null {
  if (query.kind !== "select" || query.from.length === 0 || query.groupBy.length > 0 ||
    query.having !== null || query.distinct || query.limit !== null ||
    query.windows.length > 0 || query.lock !== null || findWindowCall(query.fields) !== undefined
  ) return null;
  if (query.fields.some((f) => f.expr.kind === "star" || isAggregateCall(f.expr))) return null;
  if (columns !== null && columns.length !== query.fields.length) return null;
  const out = new Map<string, AstExpr>();
  const seen = new Set<string>();
  query.fields.forEach((f, i) => {
    const name = columns?.[i] ?? f.alias ?? (f.expr.kind === "column" ? f.expr.column : null);
    if (name === null) return;
    const key = name.toLowerCase();
    // A name twice (1060 when planned) maps to nothing.
    if (seen.has(key)) out.delete(key);
    else if (pure(f.expr) && findWindowCall(f.expr) === undefined) out.set(key, f.expr);
    seen.add(key);
  });
  return out;
}

/**
 * `conjunct` with its columns of source `alias` replaced by the source's expressions, or
 * null when it reads anything else (`unqualified`: bare names are the source's too).
 */
export function substituteConjunct(conjunct: AstExpr, alias: string, unqualified: boolean,
  exprs: ReadonlyMap<string, AstExpr>): AstExpr | null {
  if (!pure(conjunct)) return null;
  let ok = true;
  let reads = false;
  const walk = (n: unknown): unknown => {
    if (Array.isArray(n)) return n.map(walk);
    if (n === null || typeof n !== "object") return n;
    const e = n as AstExpr;
    if (e.kind === "column") {
      const mine = e.db === null && (e.table === null ? unqualified
        : e.table.toLowerCase() === alias.toLowerCase());
      const target = mine ? exprs.get(e.column.toLowerCase()) : undefined;
      if (target === undefined) {
        ok = false;
        return e;
      }
      reads = true;
      return target;
    }
    return Object.fromEntries(Object.entries(n).map(([k, v]) => [k, walk(v)]));
  };
  const out = walk(conjunct) as AstExpr;
  return ok && reads ? out : null;
}

/**
 * The SELECTs of a UNION ALL tree without ORDER BY or LIMIT, in order, or null. A
 * conjunct reaches every branch, rewritten per branch by position (the caller checks
 * that each branch's column has the union's type, so the values compared are the same).
 */
export function unionBranches(query: Query): Extract<Query, { kind: "select" }>[] | null {
  if (query.with !== null || query.orderBy.length > 0 || query.limit !== null) return null;
  switch (query.kind) {
    case "select":
      return [query];
    case "parenQuery":
      return unionBranches(query.query);
    case "setOp": {
      if (query.op !== "UNION" || !query.all) return null;
      const left = unionBranches(query.left);
      const right = unionBranches(query.right);
      return left === null || right === null ? null : [...left, ...right];
    }
    case "values":
      return null;
  }
}

/** The output names of a SELECT by position (null: not a plain name), or `columns`. */
export function outputNames(query: Extract<Query, { kind: "select" }>,
  columns: readonly string[] | null): (string | null)[] {
  return query.fields.map((f, i) => columns?.[i] ?? f.alias ??
    (f.expr.kind === "column" ? f.expr.column : null));
}

/** A UNION ALL tree (`unionBranches`) with `perBranch[i]` added to branch i's WHERE. */
export function withBranchConjuncts(query: Query, perBranch: readonly AstExpr[][]): Query {
  let next = 0;
  const walk = (q: Query): Query => {
    switch (q.kind) {
      case "select":
        return withConjuncts(q, perBranch[next++] ?? []);
      case "parenQuery":
        return { ...q, query: walk(q.query) };
      case "setOp": {
        const left = walk(q.left);
        return { ...q, left, right: walk(q.right) };
      }
      case "values":
        return q;
    }
  };
  return walk(query);
}

/** Every table, view, CTE and derived table of a FROM list. */
export function fromSources(items: readonly TableExpr[]): PushTarget[] {
  const out: PushTarget[] = [];
  const visit = (item: TableExpr): void => {
    if (item.kind === "table" || item.kind === "derived") out.push(item);
    else if (item.kind === "tableList") item.items.forEach(visit);
    else {
      visit(item.left);
      visit(item.right);
    }
  };
  items.forEach(visit);
  return out;
}

/**
 * Column pruning (flag `column_pruning`): the names of source `alias`'s columns that
 * `query` may read anywhere (its clauses, ON conditions, subqueries), lower case, or null
 * when it may read them all (`*`, `alias.*`, USING, NATURAL). Unqualified names count
 * for every source, so the set is never too small.
 */
export function referencedColumns(query: SelectQueryAst, alias: string): Set<string> | null {
  const names = new Set<string>();
  const lower = alias.toLowerCase();
  let all = false;
  const walk = (n: unknown): void => {
    if (all || n === null || typeof n !== "object") return;
    if (Array.isArray(n)) {
      n.forEach(walk);
      return;
    }
    const node = n as { kind?: unknown };
    // COUNT(*) reads no column.
    if (node.kind === "func" && (n as { args: readonly AstExpr[] }).args.every((a) =>
      a.kind === "star")) return;
    if (node.kind === "star") {
      const e = n as Extract<AstExpr, { kind: "star" }>;
      if (e.table === null || e.table.name.toLowerCase() === lower) all = true;
      return;
    }
    if (node.kind === "join") {
      const j = n as Extract<TableExpr, { kind: "join" }>;
      if (j.natural || j.using !== null) all = true;
    }
    if (node.kind === "column") {
      const e = n as Extract<AstExpr, { kind: "column" }>;
      if (e.table === null || e.table.toLowerCase() === lower) names.add(e.column.toLowerCase());
      return;
    }
    Object.values(n).forEach(walk);
  };
  walk(query);
  return all ? null : names;
}

type SelectQueryAst = Extract<Query, { kind: "select" }>;

/**
 * `query` with the select items no one reads (`used`, by output name) computed as NULL,
 * when that cannot change its rows: a plain SELECT without DISTINCT, grouping, aggregates,
 * ORDER BY (which may name an item) or windows; items that assign variables stay.
 */
export function pruneColumns(query: Query, columns: readonly string[] | null,
  used: ReadonlySet<string>): Query {
  if (query.kind !== "select" || query.distinct || query.groupBy.length > 0 ||
    query.having !== null || query.orderBy.length > 0 || query.windows.length > 0 ||
    query.fields.some((f) => f.expr.kind === "star" || hasAggregateOrWindow(f.expr))) {
    return query;
  }
  let changed = false;
  const fields = query.fields.map((f, i) => {
    const name = columns?.[i] ?? f.alias ?? (f.expr.kind === "column" ? f.expr.column : null);
    if (name === null || used.has(name.toLowerCase()) || f.expr.kind === "null" ||
      hasAssign(f.expr)) return f;
    changed = true;
    const expr: AstExpr = { kind: "null" };
    prunedItems.add(expr);
    return { expr, alias: name };
  });
  return changed ? { ...query, fields } : query;
}

/** The NULLs `pruneColumns` put in place of items (EXPLAIN draws no Projection for them). */
export const prunedItems = new WeakSet<AstExpr>();

function hasAggregateOrWindow(e: AstExpr): boolean {
  let found = false;
  const walk = (n: unknown): void => {
    if (found || n === null || typeof n !== "object") return;
    if (Array.isArray(n)) {
      n.forEach(walk);
      return;
    }
    const node = n as AstExpr;
    if (typeof node.kind === "string" && (isAggregateCall(node) ||
      findWindowCall(node) !== undefined)) {
      found = true;
      return;
    }
    Object.values(n).forEach(walk);
  };
  walk(e);
  return found;
}

function hasAssign(n: unknown): boolean {
  if (n === null || typeof n !== "object") return false;
  if (Array.isArray(n)) return n.some(hasAssign);
  if ((n as { kind?: unknown }).kind === "assign") return true;
  return Object.values(n).some(hasAssign);
}

/** `query` (a SELECT, by `outputExprs`) with `conjuncts` added to its WHERE. */
export function withConjuncts(query: Query, conjuncts: readonly AstExpr[]): Query {
  if (query.kind !== "select" || conjuncts.length === 0) return query;
  const all = query.where === null ? [...conjuncts] : [query.where, ...conjuncts];
  return { ...query, where: all.reduce((a, b) => ({ kind: "binary", op: "AND", left: a,
    right: b })) };
}
