/**
 * Vectorized evaluation on the SQL node ([T9] "Executor: vectorized", TiDB's
 * `VectorizedFilter` and `VecEvalXxx` over chunks): the node's own filters (a FROM leaf's
 * WHERE / ON conjuncts, HAVING) and its select list evaluated a batch of rows at a time
 * with the coprocessor's kernels (src/expr/batch/vec_eval.ts) instead of walking each
 * expression once per row.
 *
 * A batch is up to `vecBatchRows` rows put column by column into a `Chunk` (only the
 * columns the expressions read). Filters narrow the chunk's selection vector conjunct by
 * conjunct, so a conjunct runs only on the rows the earlier ones kept, as the row path
 * stops at the first conjunct that fails. The select list's expressions are evaluated
 * over the batch before its rows are built.
 *
 * Exactness: the result is the row path's, with its warnings and errors in its order.
 * The batch context's `warn` aborts (`VecAbort`), and any error aborts too; an aborted
 * batch is run again row at a time through `evaluate`, which raises them as the row path
 * does. A batch's vectorized work is pure, so an aborted one leaves nothing behind.
 *
 * Which expressions: those the kernels run on typed arrays throughout (`kernelExpr`:
 * comparisons, logic, IS NULL, BETWEEN, IN and + - * over INT and DOUBLE columns and
 * constants), which read nothing but their arguments (no subqueries, user variables,
 * randomness or session state: `pureExpr`). Anything else (strings, DECIMAL, dates,
 * other functions) would run its built-in per row inside the batch, slower than the row
 * path, so it stays there: a filter vectorizes its leading such conjuncts and checks the
 * rest per row on the rows they keep; a select list vectorizes such fields only. A call
 * whose batches keep aborting stops trying (as the coprocessor's batch executor does).
 *
 * The session variable `tidb_enable_vectorized_expression` (default ON, as TiDB's)
 * switches it: the planner marks its statement's evaluation context (`markVectorized`),
 * and everything here runs the row path for an unmarked one.
 */
import {
  Chunk,
  Column,
  Tag,
  type EvalContext,
  type Expr,
  type Value,
  type VecEnv,
  abortOnWarning,
  evalVec,
  evaluate,
  isTrue,
  truthAt,
} from "../../expr/mod.ts";
import { type Compiled, holds, withRow } from "./compile.ts";

/** Rows of one batch, at most (TiDB's default chunk size). */
export const vecBatchRows = 1024;

/** Statement contexts whose evaluation may be vectorized. */
const vectorizedContexts = new WeakSet<EvalContext>();

/** Lets evaluation under `ctx` (and contexts inheriting from it) be vectorized. */
export function markVectorized(ctx: EvalContext): void {
  vectorizedContexts.add(ctx);
}

/** Whether `ctx`, or a context it inherits from (`withRow`), was marked. */
export function isVectorized(ctx: EvalContext): boolean {
  let c: object | null = ctx;
  for (let depth = 0; c !== null && depth < 4; depth++) {
    if (vectorizedContexts.has(c as EvalContext)) return true;
    c = Object.getPrototypeOf(c) as object | null;
  }
  return false;
}

/**
 * The value of `tidb_enable_vectorized_expression` as `read` gives it: off only for a
 * zero; on when the session has no such variable (unit tests' environments).
 */
export function vectorizedSwitch(read: () => Value): boolean {
  try {
    const v = read();
    return !(v !== null && (v.kind === "int" || v.kind === "uint") && v.value === 0n);
  } catch {
    return true;
  }
}

/**
 * Built-ins that read more than their arguments (the session, variables, randomness,
 * locks, the clock of the moment) or have side effects: an expression using one is not
 * vectorized, since its calls must happen in the row path's order.
 */
const impureBuiltins: ReadonlySet<string> = new Set([
  "now", "sysdate", "curdate", "curtime", "utc_timestamp", "utc_date", "utc_time",
  "unix_timestamp", "version", "database", "schema", "user", "current_user", "session_user",
  "system_user", "current_role", "connection_id", "last_insert_id", "row_count", "found_rows",
  "tidb_version", "ps_current_thread_id", "grouping", "values", "default", "setvar", "getvar",
  "get_lock", "release_lock", "release_all_locks", "is_free_lock", "is_used_lock", "sleep",
  "benchmark", "rand", "uuid", "uuid_short", "random_bytes", "nextval", "lastval", "setval",
  "load_file",
]);

const pureMemo = new WeakMap<Expr, boolean>();

/** Whether `expr` calls only built-ins that depend on nothing but their arguments. */
export function pureExpr(expr: Expr): boolean {
  if (expr.kind !== "call") return true;
  let known = pureMemo.get(expr);
  if (known === undefined) {
    known = !impureBuiltins.has(expr.fn) && expr.args.every(pureExpr);
    pureMemo.set(expr, known);
  }
  return known;
}

/** Built-ins vec_eval.ts runs on the typed arrays (others run per row there). */
const kernelFns: ReadonlySet<string> = new Set(["and", "or", "xor", "not", "istrue", "isfalse",
  "=", "<>", "<", "<=", ">", ">=", "<=>", "between", "in", "+", "-", "*"]);

const kernelMemo = new WeakMap<Expr, boolean>();

function numericType(e: Expr): boolean {
  return e.type.kind === "int" || e.type.kind === "double" || e.type.kind === "null";
}

/**
 * Whether the kernels evaluate `expr` on typed arrays throughout: calls of `kernelFns`
 * over INT / DOUBLE columns and constants (and IS NULL of any column). Anything else
 * would run its built-in per row inside the batch, slower than the row path itself, so
 * it is left to the row path (TiDB likewise vectorizes an expression only when every
 * function of it has a vectorized form).
 */
export function kernelExpr(expr: Expr): boolean {
  if (expr.kind !== "call") return numericType(expr);
  let known = kernelMemo.get(expr);
  if (known === undefined) {
    known = expr.fn === "isnull" ? expr.args[0]!.kind === "column" || kernelExpr(expr.args[0]!)
      : kernelFns.has(expr.fn) && expr.args.every(kernelExpr);
    kernelMemo.set(expr, known);
  }
  return known;
}

/** The column indexes `exprs` read, ascending. */
function columnsRead(exprs: readonly Expr[]): number[] {
  const seen = new Set<number>();
  const stack: Expr[] = [...exprs];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e.kind === "column") seen.add(e.index);
    else if (e.kind === "call") stack.push(...e.args);
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * The batches of one call over `rows`: each batch, rows `[start, end)`, as a chunk of the
 * columns `read` (the others all NULL, never read; the columns are reused from batch to
 * batch), and the environment the kernels run in, whose context aborts on a warning; a
 * built-in that reads its row's stored values (`ctx.row`) reads the original row.
 */
class Batches {
  readonly env: VecEnv;
  private readonly rows: readonly (readonly Value[])[];
  private readonly read: readonly number[];
  private readonly columns: Column[];
  private start = 0;

  constructor(rows: readonly (readonly Value[])[], read: readonly number[], base: EvalContext) {
    this.rows = rows;
    this.read = read;
    const size = Math.min(rows.length, vecBatchRows);
    const width = read.length === 0 ? 0 : read[read.length - 1]! + 1;
    this.columns = new Array<Column>(width).fill(new Column(size));
    for (const c of read) this.columns[c] = new Column(size);
    const env: { ctx: EvalContext; chunk: Chunk; current: number } =
      { ctx: base, chunk: new Chunk([], 0), current: 0 };
    env.ctx = Object.create(base, {
      warn: { value: abortOnWarning },
      row: { get: (): readonly Value[] => rows[this.start + env.current]! },
    }) as EvalContext;
    this.env = env;
  }

  /** Makes rows `[start, end)` the batch (`env.chunk`, every row selected). */
  load(start: number, end: number): Chunk {
    this.start = start;
    for (const c of this.read) fillColumn(this.columns[c]!, this.rows, start, end - start, c);
    const chunk = new Chunk(this.columns, end - start);
    this.env.chunk = chunk;
    return chunk;
  }
}

/** Column `c` of rows `[start, start + n)` into `col`, as `Column.set` stores each value. */
function fillColumn(col: Column, rows: readonly (readonly Value[])[], start: number, n: number,
  c: number): void {
  const tags = col.tags;
  const nums = col.nums;
  for (let i = 0; i < n; i++) {
    const v = rows[start + i]![c] ?? null;
    if (v === null) {
      tags[i] = Tag.null;
    } else if (v.kind === "double") {
      tags[i] = Tag.double;
      nums[i] = v.value;
    } else if (v.kind === "int" || v.kind === "uint") {
      // Exact below 2^53 in magnitude; beyond, Number() lands at 2^53 or more.
      const num = Number(v.value);
      if (Number.isSafeInteger(num)) {
        tags[i] = v.kind === "int" ? Tag.int : Tag.uint;
        nums[i] = num;
      } else {
        col.set(i, v);
      }
    } else {
      col.set(i, v);
    }
  }
}

/** Whether every one of `exprs` holds on `row`: the row path (`allHoldNow`). */
function holdsNow(exprs: readonly Expr[], row: readonly Value[], ctx: EvalContext): boolean {
  if (exprs.length === 0) return true;
  const rowCtx = withRow(ctx, row);
  for (const e of exprs) {
    if (isTrue(evaluate(e, rowCtx), ctx.warn) !== true) return false;
  }
  return true;
}

/** Tracks a call's batches: once they keep aborting, the rest run row at a time. */
class Attempts {
  private vectorized = 0;
  private aborted = 0;

  get worthTrying(): boolean {
    return this.aborted < 2 || this.aborted <= this.vectorized;
  }

  note(ok: boolean): void {
    if (ok) this.vectorized++;
    else this.aborted++;
  }
}

/** Batches run vectorized and batches rerun row at a time (tests, the benchmark). */
export const vecFilterStats = { vectorized: 0, rowBatches: 0 };

/** The batch filtered by `exprs`, or null when it must run row at a time. */
function selectBatch(exprs: readonly Expr[], batches: Batches, start: number, end: number):
  Chunk | null {
  const env = batches.env;
  try {
    const chunk = batches.load(start, end);
    for (const e of exprs) {
      if (chunk.selCount === 0) break;
      const c = evalVec(e, chunk.sel, chunk.selCount, env);
      chunk.filter((row) => truthAt(c, row, env) === 1);
    }
    return chunk;
  } catch {
    return null;
  }
}

/**
 * Appends to `keep`, for each of `rows`, whether every one of `exprs` (compiled
 * conjuncts without subqueries, in the order the row path checks them) is true on it.
 */
export function holdMask(exprs: readonly Expr[], rows: readonly (readonly Value[])[],
  ctx: EvalContext, keep: boolean[]): void {
  // The leading conjuncts the kernels run well are vectorized; the rest run per row on
  // the rows those keep, in row order: the leading ones are pure and raised nothing, so
  // everything happens as in the row path (and an aborted batch ran none of the rest).
  const firstOther = exprs.findIndex((e) => !kernelExpr(e));
  const lead = !isVectorized(ctx) ? 0 : firstOther < 0 ? exprs.length : firstOther;
  if (lead === 0 || rows.length === 0) {
    for (const row of rows) keep.push(holdsNow(exprs, row, ctx));
    return;
  }
  const vectorized = exprs.slice(0, lead);
  const rest = exprs.slice(lead);
  const batches = new Batches(rows, columnsRead(vectorized), ctx);
  const attempts = new Attempts();
  for (let start = 0; start < rows.length; start += vecBatchRows) {
    const end = Math.min(rows.length, start + vecBatchRows);
    const chunk = attempts.worthTrying ? selectBatch(vectorized, batches, start, end) : null;
    if (chunk !== null) {
      attempts.note(true);
      vecFilterStats.vectorized++;
      const sel = chunk.sel;
      let k = 0;
      for (let i = 0; i < end - start; i++) {
        if (k < chunk.selCount && sel[k] === i) {
          k++;
          keep.push(rest.length === 0 || holdsNow(rest, rows[start + i]!, ctx));
        } else {
          keep.push(false);
        }
      }
      continue;
    }
    if (attempts.worthTrying) attempts.note(false);
    vecFilterStats.rowBatches++;
    for (let i = start; i < end; i++) keep.push(holdsNow(exprs, rows[i]!, ctx));
  }
}

/** The rows of `rows` on which `c` (HAVING) is true, in order. */
export async function rowsHolding(c: Compiled, rows: readonly Value[][], ctx: EvalContext):
  Promise<Value[][]> {
  const kept: Value[][] = [];
  if (c.subs.length > 0) {
    for (const r of rows) if (await holds(c, r, ctx)) kept.push(r);
    return kept;
  }
  const keep: boolean[] = [];
  holdMask([c.expr], rows, ctx, keep);
  for (let k = 0; k < rows.length; k++) if (keep[k] === true) kept.push(rows[k]!);
  return kept;
}

/**
 * The select list over records, a batch at a time: `row(r)` gives record r's values of
 * the fields evaluated here (undefined for the others: subqueries, bare columns,
 * constants, calls the kernels do not run on typed arrays, impure calls), or undefined
 * when r's batch aborted and runs row at a time. Records are asked for in order; only
 * the first `count` are evaluated.
 */
export class BatchProjection {
  private readonly exprs: readonly (Expr | null)[];
  private readonly count: number;
  private readonly batches: Batches;
  private readonly attempts = new Attempts();
  private columns: (Column | null)[] | null = null;
  private start = 0;
  private end = 0;
  private readonly scratch: (Value | undefined)[];

  constructor(exprs: readonly (Expr | null)[], records: readonly (readonly Value[])[],
    count: number, ctx: EvalContext) {
    this.exprs = exprs;
    this.count = count;
    this.batches = new Batches(records, columnsRead(exprs.filter((e) => e !== null)), ctx);
    this.scratch = new Array<Value | undefined>(exprs.length).fill(undefined);
  }

  row(r: number): readonly (Value | undefined)[] | undefined {
    if (r < this.start || r >= this.end) this.load(r);
    const columns = this.columns;
    if (columns === null) return undefined;
    const i = r - this.start;
    for (let j = 0; j < columns.length; j++) this.scratch[j] = columns[j]?.valueAt(i);
    return this.scratch;
  }

  private load(r: number): void {
    this.start = r;
    this.end = Math.min(this.count, r + vecBatchRows);
    this.columns = null;
    if (this.end <= r || !this.attempts.worthTrying) return;
    const env = this.batches.env;
    try {
      const chunk = this.batches.load(r, this.end);
      this.columns = this.exprs.map((e) => (e === null ? null
        : evalVec(e, chunk.sel, chunk.selCount, env)));
      vecFilterStats.vectorized++;
    } catch {
      vecFilterStats.rowBatches++;
    }
    this.attempts.note(this.columns !== null);
  }
}

/**
 * The select list's vectorized evaluation over the first `limit` (all when null) of
 * `records`, or null when the statement runs the row path or no field is worth it.
 */
export function batchProjection(fields: readonly Compiled[],
  records: readonly (readonly Value[])[], limit: bigint | null, ctx: EvalContext):
  BatchProjection | null {
  if (records.length === 0 || !isVectorized(ctx)) return null;
  const exprs = fields.map((f) => (f.subs.length === 0 && f.expr.kind === "call" &&
    pureExpr(f.expr) && kernelExpr(f.expr) ? f.expr : null));
  if (exprs.every((e) => e === null)) return null;
  const count = limit === null || limit >= BigInt(records.length) ? records.length
    : Number(limit);
  return new BatchProjection(exprs, records, count, ctx);
}

/**
 * A join step's filters over its row pairs, a batch at a time: `push` buffers a merged
 * row; each full batch (and `flush`) is filtered and its kept rows handed to `accept` in
 * order. Only when every filter is a kernel expression (`pairFilter`): a batch that
 * passes raised nothing, so evaluating its filters before accepting its rows changes
 * nothing the row path shows; an aborted one runs as the row path, filter then accept
 * per row. Callers flush before anything else the row path would do between pairs.
 */
export class PairFilter {
  private readonly exprs: readonly Expr[];
  private readonly read: readonly number[];
  private readonly ctx: EvalContext;
  private readonly accept: (row: Value[]) => void;
  private readonly attempts = new Attempts();
  private buffer: Value[][] = [];

  constructor(exprs: readonly Expr[], ctx: EvalContext, accept: (row: Value[]) => void) {
    this.exprs = exprs;
    this.read = columnsRead(exprs);
    this.ctx = ctx;
    this.accept = accept;
  }

  push(row: Value[]): void {
    this.buffer.push(row);
    if (this.buffer.length >= vecBatchRows) this.flush();
  }

  flush(): void {
    const rows = this.buffer;
    if (rows.length === 0) return;
    this.buffer = [];
    const chunk = this.attempts.worthTrying
      ? selectBatch(this.exprs, new Batches(rows, this.read, this.ctx), 0, rows.length) : null;
    if (chunk !== null) {
      this.attempts.note(true);
      vecFilterStats.vectorized++;
      for (let k = 0; k < chunk.selCount; k++) this.accept(rows[chunk.sel[k]!]!);
      return;
    }
    if (this.attempts.worthTrying) this.attempts.note(false);
    vecFilterStats.rowBatches++;
    for (const row of rows) if (holdsNow(this.exprs, row, this.ctx)) this.accept(row);
  }
}

/** A `PairFilter` for a join step's `filters`, or null when they run per pair. */
export function pairFilter(filters: readonly { readonly compiled: Compiled }[],
  ctx: EvalContext, accept: (row: Value[]) => void): PairFilter | null {
  if (filters.length === 0 || !isVectorized(ctx) || !filters.every((f) =>
    f.compiled.subs.length === 0 && kernelExpr(f.compiled.expr))) {
    return null;
  }
  return new PairFilter(filters.map((f) => f.compiled.expr), ctx, accept);
}
