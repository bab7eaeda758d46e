/**
 * What a planned query tells EXPLAIN (`explain.ts`) about itself: its clauses (a
 * `SelectShape` per SELECT, a `CompoundShape` per set operation or parenthesized query),
 * and, while EXPLAIN runs it, the reads of its FROM clause and its row counts per stage.
 * Kept apart from `explain.ts` so the planner can fill these in without importing it.
 */
import type { Expr as AstExpr, Limit, Query, SelectQuery, TableExpr } from "../parser/ast.ts";
import { formatExpr } from "../parser/format.ts";
import type { IndexInfo, TableInfo } from "../catalog/schema.ts";
import type { CopSummary, PushedScan } from "./pushdown.ts";

/** One read the FROM clause asked for. */
export interface AccessRecord {
  readonly table: TableInfo;
  readonly kind: "point" | "handleRange" | "indexRange" | "full" | "mem";
  readonly index: IndexInfo | null;
  /** Point gets: the handle; handle ranges: [first, last] when known. */
  readonly handles: readonly bigint[];
  /** Handle ranges read as one-key ranges (IN lists of a clustered key). */
  readonly pointRange: boolean;
  /** What the read pushed down to the KV nodes (pushdown.ts), if it did. */
  readonly pushed?: PushedScan;
  /** EXPLAIN ANALYZE: what the pushed read's requests did (an index lookup's index side). */
  cop?: CopSummary;
  /** EXPLAIN ANALYZE: an index lookup's row side. */
  fetchCop?: CopSummary;
  rows: number;
  timeMs: number;
  calls: number;
}

/** What a planned SELECT tells EXPLAIN about itself. */
export interface SelectShape {
  readonly kind: "select";
  readonly from: readonly TableExpr[];
  readonly where: AstExpr | null;
  readonly groupBy: readonly AstExpr[];
  readonly aggregates: readonly string[];
  readonly grouped: boolean;
  readonly having: AstExpr | null;
  readonly windows: readonly string[];
  readonly distinct: boolean;
  readonly orderBy: readonly { readonly text: string; readonly desc: boolean }[];
  readonly limit: Limit | null;
  readonly fields: readonly string[];
  /** Whether every field is a plain column (no Projection operator then). */
  readonly plainFields: boolean;
  /** Filled by runs under a trace: the reads of its FROM, and row counts per stage. */
  act: SelectAct | null;
  /** A FROM source (derived table, view, CTE), not a subquery of an expression. */
  derived?: boolean;
  /** A FROM source's set operation this SELECT is a part of. */
  compound?: CompoundShape;
  /** Runs the SELECT alone (EXPLAIN's dry run of subqueries the query never reached). */
  run?: () => Promise<unknown>;
  /** SELECTs planned inside this one (derived tables, subqueries), outermost first. */
  readonly nested: readonly SelectShape[];
  /** The inner side of a semi join of the SELECT holding it (`decorrelate.ts`). */
  semi?: boolean;
  /** WHERE subqueries run as semi joins over the FROM's rows, in order. */
  semiJoins?: readonly SemiJoinShape[];
  /** Rows of a FROM that is not read (constant-false WHERE: 0); absent: 1. */
  dualRows?: number;
  /** ORDER BY … LIMIT runs as a bounded TopN (false: a full sort then LIMIT). */
  topN?: boolean;
}

/** A semi join EXPLAIN draws as a HashJoin over the FROM's tree. */
export interface SemiJoinShape {
  readonly kind: string;
  /** `outer = inner` hash equalities, and the other correlated conjuncts. */
  readonly equal: readonly (readonly [AstExpr, AstExpr])[];
  readonly other: readonly AstExpr[];
  readonly inner: SelectShape;
}

/** A SELECT's counts from its runs under a trace. */
export interface SelectAct {
  /** Index range of its FROM's reads in the trace's records. */
  recordsStart: number;
  recordsEnd: number;
  fromRows: number;
  groups: number;
  outRows: number;
  timeMs: number;
  loops: number;
}

/** A set operation or parenthesized query. */
export interface CompoundShape {
  readonly kind: "compound";
  readonly op: string;
  readonly children: readonly (QueryShape | undefined)[];
  readonly orderBy: readonly string[];
  readonly limit: Limit | null;
  /** ORDER BY … LIMIT runs as a bounded TopN (false: a full sort then LIMIT). */
  topN?: boolean;
}

export type QueryShape = SelectShape | CompoundShape;

/**
 * One operator of a join group's plan as it ran (`join_exec.ts`): a leaf's reads (records
 * [start, end)) or a join of two parts; an index join's inner table is read by lookups
 * (its records [start, end), drawn under the join, not as a leaf).
 */
export type JoinTraceNode =
  | { readonly kind: "leaf"; readonly start: number; readonly end: number;
    readonly estRows: number; readonly filter: readonly AstExpr[] }
  | {
      readonly kind: "join";
      readonly op: "HashJoin" | "MergeJoin" | "IndexJoin";
      readonly estRows: number;
      /** Rows it produced. */
      readonly rows: number;
      readonly build: JoinTraceNode;
      readonly probe: JoinTraceNode;
      readonly equal: readonly AstExpr[];
      readonly other: readonly AstExpr[];
      readonly inner?: { readonly table: TableInfo; readonly index: IndexInfo | null;
        readonly start: number; readonly end: number; readonly filter: readonly AstExpr[];
        readonly outerKeys: readonly AstExpr[]; readonly innerKeys: readonly AstExpr[] };
    };

/** A join group's plan, logged when the group's reads (records [start, end)) ended. */
export interface JoinTrace {
  readonly start: number;
  readonly end: number;
  readonly root: JoinTraceNode;
}

/** The trace a planner fills while EXPLAIN runs its plan. */
export interface PlanTrace {
  readonly records: AccessRecord[];
  /** Join groups planned by cost (`join_exec.ts`), as they ran. */
  joins?: JoinTrace[];
  /** SELECTs that ran, in the order their first run ended. */
  readonly selects: SelectShape[];
  /** Every SELECT planned, in the order planning finished. */
  readonly planned: SelectShape[];
  readonly now: () => number;
}

/** The shape of SELECT `query`, with what planning learned (names, aggregates, windows). */
export function selectShape(trace: PlanTrace, query: SelectQuery, parts: {
  readonly grouped: boolean; readonly fields: readonly string[];
  readonly plainFields: boolean; readonly aggregates: readonly string[];
  readonly windows: readonly string[];
  /** `trace.planned.length` when planning of this SELECT began. */
  readonly plannedBefore: number }): SelectShape {
  const { plannedBefore, ...rest } = parts;
  const inner = trace.planned.slice(plannedBefore);
  const shape: SelectShape = {
    kind: "select", from: query.from, where: query.where, groupBy: query.groupBy,
    having: query.having, distinct: query.distinct, limit: query.limit,
    orderBy: query.orderBy.map((o) => ({ text: formatExpr(o.expr), desc: o.desc })),
    ...rest, act: null,
    // Direct children only: those no other inner SELECT holds.
    nested: inner.filter((s) => !inner.some((o) => o.nested.includes(s))),
  };
  trace.planned.push(shape);
  return shape;
}

/** The shape of a set operation or parenthesized query over its parts' shapes. */
export function compoundShape(query: Extract<Query, { kind: "setOp" | "parenQuery" }>,
  children: readonly (QueryShape | undefined)[]): CompoundShape {
  const op = query.kind === "parenQuery" ? "Paren" : query.op === "UNION" ? "Union"
    : query.op === "INTERSECT" ? "Intersect" : "Except";
  return { kind: "compound", op, children, limit: query.limit,
    orderBy: query.orderBy.map((o) => `${formatExpr(o.expr)}${o.desc ? ":desc" : ""}`) };
}

/** Adds one run's counts to a SELECT's (a correlated subquery runs many times). */
export function noteSelectRun(trace: PlanTrace, shape: SelectShape, act: SelectAct): void {
  const seen = shape.act;
  if (seen === null) {
    shape.act = act;
    trace.selects.push(shape);
    return;
  }
  seen.fromRows += act.fromRows;
  seen.groups += act.groups;
  seen.outRows += act.outRows;
  seen.timeMs += act.timeMs;
  seen.loops += 1;
}

/** Marks the SELECTs of `shape` as read by a FROM clause (derived tables, views, CTEs). */
export function markDerived(shape: QueryShape | undefined, top?: CompoundShape): void {
  if (shape === undefined) return;
  if (shape.kind === "select") {
    shape.derived = true;
    if (top !== undefined) shape.compound = top;
  } else {
    for (const child of shape.children) markDerived(child, top ?? shape);
  }
}
