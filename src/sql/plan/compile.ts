/**
 * Compiling clause expressions that may hold subqueries, and evaluating them per row.
 *
 * `translate` (session/to_expr.ts) turns an AST expression into an evaluator node; a
 * subquery cannot be one, since running it is asynchronous. So before translating, each
 * subquery (scalar, EXISTS, IN, ANY/ALL) is planned on its own and replaced by a `Cell`;
 * evaluating the compiled expression for a row first runs the subqueries (binding their
 * correlations from the row), stores each result in its cell, then evaluates the tree
 * synchronously. An uncorrelated subquery runs once per statement; a correlated one once
 * per distinct set of outer values (memoized, bounded).
 *
 * MySQL semantics kept here: a scalar subquery with more than one row is 1242, with none
 * is NULL; `x IN (subquery)` is NULL when x is NULL and the subquery has rows, or when no
 * row matches and one is NULL; `x op ANY` is true if some comparison is true, else NULL
 * if some is NULL; `x op ALL` is false if some comparison is false, else NULL if some is
 * NULL (and true over no rows). `(a, b) IN (SELECT x, y …)` is `(a = x AND b = y) OR …`;
 * row comparisons with ANY / ALL are 1235.
 */
import {
  type BuildResult,
  type EvalContext,
  type Expr,
  type FieldType,
  type Value,
  buildCall,
  evaluate,
  intType,
  isPushable,
  isTrue,
  toText,
} from "../../expr/mod.ts";
import type { CompareOp, Expr as AstExpr, Query } from "../parser/ast.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import { type TranslateScope, rowComparisonOps, translate } from "../session/to_expr.ts";
import { type HashDomain, hashDomain, hashKey } from "./hash.ts";
import { type Cell, Frame, type Scope, newCell } from "./scope.ts";
import { type MemoryAccount, keyBytes, noMemoryAccount, rowsBytes } from "./memory_tracker.ts";

/** A planned query: its output columns and how to run it. */
export interface PlannedQuery {
  readonly names: readonly string[];
  readonly types: readonly FieldType[];
  run(): Promise<Value[][]>;
}

/** What compiling needs from the planner. */
export interface CompileHost {
  /** The session's translation scope of a clause (variables, parameters). */
  baseScope(clause: string): TranslateScope;
  /** Plans `query` nested in the clause `outer`; the frame collects its correlations. */
  planNested(query: Query, outer: Scope): { plan: PlannedQuery; frame: Frame };
  /** The statement's evaluation context (without a row). */
  evalContext(): EvalContext;
  /** The statement's memory tracker (`memory_tracker.ts`); absent: nothing is counted. */
  memory?(): MemoryAccount;
  /**
   * A correlated `EXISTS` / `[NOT] IN` subquery `e` as a left outer semi join
   * (`decorrelate.ts`): its value for an outer row's context, or null to run it per row.
   */
  semiValue?(e: AstExpr, scope: Scope): SemiRunner | null;
  /** A correlated scalar aggregate subquery `e` as a join (`decorrelate.ts`), or null. */
  scalarValue?(e: AstExpr, scope: Scope): { run: SemiRunner; type: FieldType } | null;
  /** Whether constant subtrees are folded when compiling (`foldConstants`). */
  foldsConstants?(): boolean;
}

/** The value of a decorrelated subquery for the outer row of `ctx`. */
export type SemiRunner = (ctx: EvalContext) => Promise<Value>;

type SubKind = "scalar" | "exists" | "in" | "compare" | "row";

/** One subquery of a compiled expression. */
interface Sub {
  readonly kind: SubKind;
  readonly cell: Cell;
  readonly plan: PlannedQuery;
  readonly frame: Frame;
  /**
   * IN / compare: the left operand (several for a row `(a, b) IN …`), and the comparison
   * built on cells: one per operand item and one per subquery column.
   */
  readonly operand: readonly Expr[] | null;
  readonly left: readonly Cell[];
  readonly right: readonly Cell[];
  readonly test: Expr | null;
  readonly all: boolean;
  readonly not: boolean;
  /** IN: the hash domain of operand = column, or null to compare one by one. */
  readonly domain: HashDomain | null;
  /** Results by correlation values (one entry, key "", when uncorrelated). */
  readonly cache: Map<string, Value[][]>;
  /** Where the cache's bytes are counted, and how many it holds. */
  readonly cacheMemory: { account: () => MemoryAccount; bytes: number };
  /** A decorrelated EXISTS / IN: computes the value itself (`plan` is not run). */
  readonly runner?: SemiRunner;
  /** A row subquery (`(a, b) = (SELECT x, y …)`): one cell per column of its one row. */
  readonly rowCells?: readonly Cell[];
}

/** An expression ready to evaluate on rows. */
export interface Compiled {
  readonly expr: Expr;
  readonly subs: readonly Sub[];
}

/** Correlated results kept per subquery before the cache is reset. */
const subqueryCacheEntriesMax = 4096;
const subQual = "\u0000sub";

const subqueryKinds = new Set(["subquery", "exists", "inSubquery", "compareSubquery"]);

/** Whether `node` holds a subquery anywhere. */
export function containsSubquery(node: unknown): boolean {
  if (node === null || typeof node !== "object") return false;
  if (Array.isArray(node)) return node.some(containsSubquery);
  const kind = (node as { kind?: unknown }).kind;
  if (typeof kind === "string" && subqueryKinds.has(kind)) return true;
  return Object.values(node).some(containsSubquery);
}

/** Compiles `ast` in `scope`: subqueries planned, names resolved through the scope chain. */
export function compile(ast: AstExpr, scope: Scope, host: CompileHost): Compiled {
  const subs: Sub[] = [];
  const base = host.baseScope(scope.clause);
  // Cells: constants whose value changes per row (outer columns, subquery results).
  const cells = new Set<Expr>();
  const tscope: TranslateScope = {
    ...base,
    column: (name, qual) => {
      if (qual === subQual) {
        const [sub, column] = name.split(".");
        const found = subs[Number(sub)]!;
        return column === undefined ? found.cell : found.rowCells![Number(column)];
      }
      const found = scope.resolve(name, qual);
      if (found?.kind === "constant") cells.add(found);
      return found;
    },
  };
  const placeholder = (sub: Sub): AstExpr => {
    sub.cacheMemory.account = () => host.memory?.() ?? noMemoryAccount;
    subs.push(sub);
    return { kind: "column", db: null, table: subQual, column: String(subs.length - 1) };
  };
  const nested = (query: Query): { plan: PlannedQuery; frame: Frame } => {
    const planned = host.planNested(query, scope);
    return planned;
  };
  // `(a, b) op (SELECT x, y …)`: the subquery's one row as a row of cells, compared item
  // by item when the expression is translated (`rowComparison`).
  const rowOfSubquery = (query: Query): AstExpr => {
    const { plan, frame } = nested(query);
    const cells = plan.types.map((type) => newCell({ ...type, nullable: true }));
    const sub = { ...newSub("row", plan, frame, newCell(intType({ length: 1 })), null, null,
      false, false), rowCells: cells };
    const at = placeholder(sub) as { column: string };
    return { kind: "row", items: cells.map((_, i): AstExpr =>
      ({ kind: "column", db: null, table: subQual, column: `${at.column}.${i}` })) };
  };
  const oneColumn = (plan: PlannedQuery): void => {
    if (plan.names.length !== 1) throw mysqlError(ER.OPERAND_COLUMNS, [1]);
  };
  const walk = (n: unknown): unknown => {
    if (Array.isArray(n)) return n.map(walk);
    if (n === null || typeof n !== "object") return n;
    const e = n as AstExpr;
    switch (e.kind) {
      case "column":
        // `db.t.c`: the database must be the one table `t` comes from.
        return e.db !== null && e.table !== null && scope.knowsTable(e.db, e.table)
          ? { ...e, db: null } : e;
      case "subquery": {
        const scalar = host.scalarValue?.(e, scope);
        if (scalar !== undefined && scalar !== null) {
          return placeholder(semiSub(scalar.run, { ...scalar.type, nullable: true }));
        }
        const { plan, frame } = nested(e.query);
        oneColumn(plan);
        return placeholder(newSub("scalar", plan, frame, newCell({ ...plan.types[0]!,
          nullable: true }), null, null, false, false));
      }
      case "exists": {
        const runner = host.semiValue?.(e, scope);
        if (runner !== undefined && runner !== null) return placeholder(semiSub(runner));
        const { plan, frame } = nested(e.query);
        return placeholder(newSub("exists", plan, frame, newCell(intType({ length: 1 })), null,
          null, false, false));
      }
      case "binary":
        if (rowComparisonOps.has(e.op) && (e.left.kind === "row" || e.right.kind === "row") &&
          (e.left.kind === "subquery" || e.right.kind === "subquery")) {
          return { ...e,
            left: e.left.kind === "subquery" ? rowOfSubquery(e.left.query) : walk(e.left),
            right: e.right.kind === "subquery" ? rowOfSubquery(e.right.query) : walk(e.right) };
        }
        return Object.fromEntries(Object.entries(n).map(([k, v]) => [k, walk(v)]));
      case "inSubquery":
      case "compareSubquery": {
        const items = e.operand.kind === "row" ? e.operand.items : [e.operand];
        if (items.length > 1 && e.kind !== "inSubquery") {
          throw mysqlError(ER.NOT_SUPPORTED_YET, ["row comparisons with ANY / ALL"]);
        }
        if (e.kind === "inSubquery") {
          const runner = host.semiValue?.(e, scope);
          if (runner !== undefined && runner !== null) return placeholder(semiSub(runner));
        }
        const operand = items.map((item) => translate(walk(item) as AstExpr, tscope));
        const { plan, frame } = nested(e.query);
        if (plan.names.length !== items.length) {
          throw mysqlError(ER.OPERAND_COLUMNS, [items.length]);
        }
        const op: CompareOp = e.kind === "inSubquery" ? "=" : e.op;
        const all = e.kind === "compareSubquery" && e.quantifier === "ALL";
        const not = e.kind === "inSubquery" && e.not;
        return placeholder(newSub(e.kind === "inSubquery" ? "in" : "compare", plan, frame,
          newCell(intType({ length: 1 })), operand, op, all, not));
      }
      default:
        return Object.fromEntries(Object.entries(n).map(([k, v]) => [k, walk(v)]));
    }
  };
  const rewritten = walk(ast) as AstExpr;
  for (const sub of subs) {
    cells.add(sub.cell);
    for (const cell of sub.rowCells ?? []) cells.add(cell);
  }
  const expr = translate(rewritten, tscope);
  return { expr: host.foldsConstants?.() === true ? foldConstants(expr, cells, host) : expr,
    subs };
}

/**
 * Constant folding of subtrees (`optimizer_switch` flag `constant_folding`): a call whose
 * arguments are all constants (not cells) and that depends on nothing else (`isPushable`:
 * no clock, session, variable, randomness or side effect) becomes its value, computed
 * once when planning. One that warns or fails is left to run per row, so its warnings
 * and errors stay where MySQL raises them.
 */
function foldConstants(e: Expr, cells: ReadonlySet<Expr>, host: CompileHost): Expr {
  if (e.kind !== "call") return e;
  const args = e.args.map((a) => foldConstants(a, cells, host));
  const node: Expr = args.every((a, i) => a === e.args[i]) ? e : { ...e, args };
  if (!args.every((a) => a.kind === "constant" && !cells.has(a)) || !isPushable(node)) {
    return node;
  }
  let warned = false;
  try {
    const ctx = Object.create(host.evalContext()) as { warn: EvalContext["warn"] };
    ctx.warn = () => {
      warned = true;
    };
    const value = evaluate(node, ctx as EvalContext);
    return warned ? node : { kind: "constant", value, type: e.type };
  } catch {
    return node;
  }
}

function newSub(kind: SubKind, plan: PlannedQuery, frame: Frame, cell: Cell,
  operand: readonly Expr[] | null, op: CompareOp | null, all: boolean, not: boolean): Sub {
  const left = (operand ?? []).map((e) => newCell(e.type));
  const right = left.map((_, i) => newCell(plan.types[i]!));
  let test: Expr | null = null;
  if (op !== null) {
    // One comparison per column, ANDed: `(a, b) IN …` is `(a = x AND b = y) OR …`.
    for (let i = 0; i < left.length; i++) {
      const built = buildCall(op, [left[i]!, right[i]!]);
      if (built.kind !== "ok") throw mysqlError(ER.NOT_SUPPORTED_YET, [`comparison ${op}`]);
      const both: BuildResult = test === null ? built : buildCall("and", [test, built.expr]);
      if (both.kind !== "ok") throw mysqlError(ER.NOT_SUPPORTED_YET, [`comparison ${op}`]);
      test = both.expr;
    }
  }
  const domain = operand === null || operand.length !== 1 ? null
    : hashDomain(operand[0]!.type, plan.types[0]!);
  return { kind, cell, plan, frame, operand, left, right, test, all, not, domain,
    cache: new Map(), cacheMemory: { account: () => noMemoryAccount, bytes: 0 } };
}

/** The Sub of a decorrelated subquery: its runner gives the value (of `type`). */
function semiSub(runner: SemiRunner, type: FieldType = intType({ length: 1 })): Sub {
  const none: PlannedQuery = { names: [], types: [], run: () => Promise.resolve([]) };
  return { ...newSub("exists", none, new Frame(null), newCell(type), null, null, false, false),
    runner };
}

function keyOf(values: readonly Value[]): string {
  return values.map((v) => (v === null ? "\u0000" : `${v.kind}:${toText(v)}`)).join("\u0001");
}

async function subRows(sub: Sub, ctx: EvalContext): Promise<Value[][]> {
  const values = sub.frame.correlations.map((c) => evaluate(c.outer, ctx));
  const key = keyOf(values);
  const cached = sub.cache.get(key);
  if (cached !== undefined) return cached;
  sub.frame.correlations.forEach((c, i) => {
    c.cell.value = values[i]!;
  });
  const rows = await sub.plan.run();
  const memory = sub.cacheMemory;
  if (sub.cache.size >= subqueryCacheEntriesMax) {
    sub.cache.clear();
    memory.account().release(memory.bytes);
    memory.bytes = 0;
  }
  // Cached results are held until the statement ends (or the cache is reset).
  const bytes = rowsBytes(rows) + keyBytes(key);
  memory.account().consume(bytes);
  memory.bytes += bytes;
  sub.cache.set(key, rows);
  return rows;
}

async function runSub(sub: Sub, ctx: EvalContext): Promise<Value> {
  if (sub.runner !== undefined) return sub.runner(ctx);
  // The operand's own subqueries were hoisted into the enclosing list, before this one.
  const operand = sub.operand === null ? [] : sub.operand.map((e) => evaluate(e, ctx));
  const rows = await subRows(sub, ctx);
  switch (sub.kind) {
    case "scalar":
      if (rows.length > 1) throw mysqlError(ER.SUBQUERY_NO_1_ROW);
      return rows.length === 0 ? null : rows[0]![0] ?? null;
    case "exists":
      return { kind: "int", value: rows.length > 0 ? 1n : 0n };
    case "row":
      if (rows.length > 1) throw mysqlError(ER.SUBQUERY_NO_1_ROW);
      sub.rowCells!.forEach((cell, i) => {
        cell.value = rows[0]?.[i] ?? null;
      });
      return null;
    case "in":
    case "compare": {
      const result = quantified(sub, operand, rows, ctx);
      if (result === null) return null;
      return { kind: "int", value: (sub.not ? !result : result) ? 1n : 0n };
    }
  }
}

/** Rows of an IN subquery by hash key, and whether one is NULL. */
interface InIndex {
  readonly buckets: Map<string, Value[]>;
  readonly hasNull: boolean;
}

/** Hash indexes of IN results (rows arrays are cached per subquery, so this is too). */
const inIndexes = new WeakMap<readonly Value[][], InIndex>();
/** Below this many rows an IN subquery compares one by one. */
const inHashRowsMin = 8;

function inIndexOf(rows: readonly Value[][], domain: HashDomain): InIndex {
  let index = inIndexes.get(rows);
  if (index === undefined) {
    const buckets = new Map<string, Value[]>();
    let hasNull = false;
    for (const row of rows) {
      const v = row[0] ?? null;
      const key = hashKey(v, domain);
      if (key === null) {
        hasNull = true;
        continue;
      }
      const bucket = buckets.get(key);
      if (bucket === undefined) buckets.set(key, [v]);
      else bucket.push(v);
    }
    index = { buckets, hasNull };
    inIndexes.set(rows, index);
  }
  return index;
}

/** ANY (IN is `= ANY`) or ALL over the rows: true, false or null (unknown). */
function quantified(sub: Sub, operand: readonly Value[], rows: readonly Value[][],
  ctx: EvalContext): boolean | null {
  if (rows.length === 0) return sub.all;
  sub.left.forEach((cell, i) => {
    cell.value = operand[i] ?? null;
  });
  if (sub.kind === "in" && sub.domain !== null && rows.length >= inHashRowsMin) {
    const value = operand[0] ?? null;
    if (value === null) return null;
    const index = inIndexOf(rows, sub.domain);
    const key = hashKey(value, sub.domain);
    for (const candidate of key === null ? [] : index.buckets.get(key) ?? []) {
      sub.right[0]!.value = candidate;
      if (isTrue(evaluate(sub.test!, ctx), ctx.warn) === true) return true;
    }
    return index.hasNull ? null : false;
  }
  let sawNull = false;
  for (const row of rows) {
    sub.right.forEach((cell, i) => {
      cell.value = row[i] ?? null;
    });
    const truth = isTrue(evaluate(sub.test!, ctx), ctx.warn);
    if (truth === null) sawNull = true;
    else if (sub.all && !truth) return false;
    else if (!sub.all && truth) return true;
  }
  return sawNull ? null : sub.all;
}

/**
 * `base` reading `row`: a context inheriting everything else from `base` (one small
 * object per row instead of a copy of every field).
 */
export function withRow(base: EvalContext, row: readonly Value[]): EvalContext {
  const ctx = Object.create(base) as { row: readonly Value[] };
  ctx.row = row;
  return ctx as EvalContext;
}

/** Evaluates `c` on `row` (with `base` as the statement's context). */
export async function evalCompiled(c: Compiled, row: readonly Value[], base: EvalContext):
  Promise<Value> {
  const ctx = withRow(base, row);
  for (const sub of c.subs) sub.cell.value = await runSub(sub, ctx);
  return evaluate(c.expr, ctx);
}

/** Whether `c` is true on `row`. */
export async function holds(c: Compiled, row: readonly Value[], base: EvalContext):
  Promise<boolean> {
  const v = c.subs.length === 0 ? evaluate(c.expr, withRow(base, row))
    : await evalCompiled(c, row, base);
  return isTrue(v, base.warn) === true;
}
