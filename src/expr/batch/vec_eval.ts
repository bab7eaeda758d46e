/**
 * Vectorized expression evaluation for the batch coprocessor executor ([T9]): evaluates
 * an `Expr` over the selected rows of a `Chunk` one node at a time, each node a loop over
 * a column (TiKV's `RpnExpression::eval`), instead of walking the tree once per row.
 *
 * Kernels for the common nodes — column references, constants, comparisons, AND / OR /
 * XOR / NOT with MySQL's three-valued logic, IS NULL / IS TRUE / IS FALSE, BETWEEN, IN,
 * integer and DOUBLE `+ - *` — work on the typed arrays of `Column` when both operands
 * are numbers there; any other row, and every other node, runs the built-in's own `run`
 * with its arguments read from the argument columns, so values are always exactly what
 * `evaluate` computes (the same `compareValues`, the same collation, the same coercions).
 * AND and OR evaluate their right side only on rows the left side does not decide, as
 * the row evaluator short-circuits.
 *
 * Exactness of warnings and errors: the context passed in must throw `VecAbort` from its
 * `warn`. Any warning or error (an ExprError such as 1690, or anything else thrown) thus
 * aborts the evaluation of the whole batch; the caller then reruns that batch row at a
 * time through `evaluate`, which raises them in the row executor's order. Evaluation
 * here is pure apart from warnings, so an aborted batch leaves nothing behind.
 */
import type { EvalContext, Expr } from "../expr.ts";
import { type CallExpr, type EvalState, builtins } from "../functions.ts";
import { sessionValue } from "../temporal_tz.ts";
import { type Value, isTrue } from "../value.ts";
import { type Chunk, Column, Tag, isSafeNumber } from "./chunk.ts";

/** Thrown by a batch context's `warn`: the batch must run row at a time instead. */
export class VecAbort extends Error {
  constructor() {
    super("vectorized evaluation aborted: the batch runs row at a time");
  }
}

/** A warning sink that aborts vectorized evaluation. */
export function abortOnWarning(): never {
  throw new VecAbort();
}

/**
 * What vectorized evaluation reads: the chunk and a context whose `warn` throws
 * `VecAbort` and whose `row` is the chunk's row `current` (built-ins that read a
 * column's stored value, such as CONVERT_TZ, read it there).
 */
export interface VecEnv {
  readonly ctx: EvalContext;
  chunk: Chunk;
  /** The physical row a per-row built-in call is evaluating. */
  current: number;
}

/** Truth of one row: 1 true, 0 false, -1 NULL. */
type Truth = 1 | 0 | -1;

/** `isTrue` of column `c` at `row`, as -1/0/1. */
export function truthAt(c: Column, row: number, env: VecEnv): Truth {
  const tag = c.tags[row];
  if (tag === Tag.null) return -1;
  if (tag !== Tag.other) return c.nums[row] !== 0 ? 1 : 0;
  const t = isTrue(c.others[row] as Value, env.ctx.warn);
  return t === null ? -1 : t ? 1 : 0;
}

function setTruth(out: Column, row: number, t: Truth): void {
  if (t < 0) out.setNull(row);
  else out.setNumber(row, Tag.int, t);
}

function isNumberTag(tag: number): boolean {
  return tag === Tag.int || tag === Tag.uint || tag === Tag.double;
}

/** Runs `call`'s built-in for one row, its arguments read from `args` at `row`. */
function runRow(call: CallExpr, args: readonly Column[], row: number, env: VecEnv): Value {
  const builtin = builtins.get(call.fn);
  if (builtin === undefined) throw new VecAbort();
  env.current = row;
  const state: EvalState = {
    ctx: env.ctx,
    ev: (e: Expr): Value => {
      const j = call.args.indexOf(e);
      if (j < 0) throw new VecAbort();
      return args[j]!.valueAt(row);
    },
  };
  return builtin.run(call, state);
}

/**
 * Every node the generic way: arguments vectorized, the built-in per row. When one
 * argument alone varies (the others are constants, as in `s LIKE 'a%'` or `UPPER(s)`),
 * the built-in runs once per distinct plain string of that argument in the batch: a
 * built-in is a pure function of its arguments, so equal arguments give equal results.
 */
function evalGeneric(call: CallExpr, sel: Int32Array, count: number, env: VecEnv): Column {
  const args = call.args.map((a) => evalVec(a, sel, count, env));
  const out = new Column(env.chunk.rowCount);
  const varying = call.args.filter((a) => a.kind !== "constant");
  const only = varying.length === 1 ? args[call.args.indexOf(varying[0]!)]! : null;
  const memo = only === null ? null : new Map<string, Value>();
  for (let k = 0; k < count; k++) {
    const row = sel[k]!;
    const v = only !== null && only.tags[row] === Tag.other ? only.others[row] as Value : null;
    if (memo !== null && v !== null && v.kind === "string" && v.tag === undefined) {
      let result = memo.get(v.value);
      if (result === undefined) {
        result = runRow(call, args, row, env);
        memo.set(v.value, result);
      }
      out.set(row, result);
    } else {
      out.set(row, runRow(call, args, row, env));
    }
  }
  return out;
}

/** Rows of `sel` whose truth in `c` is not `decided` (the right side of AND / OR). */
function undecided(c: Column, decided: Truth, sel: Int32Array, count: number, env: VecEnv,
  truths: Int8Array): { sel: Int32Array; count: number } {
  const out = new Int32Array(count);
  let n = 0;
  for (let k = 0; k < count; k++) {
    const row = sel[k]!;
    const t = truthAt(c, row, env);
    truths[row] = t;
    if (t !== decided) out[n++] = row;
  }
  return { sel: out, count: n };
}

function evalLogic(call: CallExpr, sel: Int32Array, count: number, env: VecEnv): Column {
  const rows = env.chunk.rowCount;
  const out = new Column(rows);
  const left = evalVec(call.args[0]!, sel, count, env);
  const lt = new Int8Array(rows);
  if (call.fn === "and" || call.fn === "or") {
    const decided: Truth = call.fn === "and" ? 0 : 1;
    const rest = undecided(left, decided, sel, count, env, lt);
    const right = evalVec(call.args[1]!, rest.sel, rest.count, env);
    for (let k = 0; k < count; k++) {
      const row = sel[k]!;
      const a = lt[row] as Truth;
      if (a === decided) {
        setTruth(out, row, decided);
        continue;
      }
      const b = truthAt(right, row, env);
      setTruth(out, row, b === decided ? decided : a < 0 || b < 0 ? -1
        : (1 - decided) as Truth);
    }
    return out;
  }
  // xor, not, istrue, isfalse
  const right = call.fn === "xor" ? evalVec(call.args[1]!, sel, count, env) : null;
  for (let k = 0; k < count; k++) {
    const row = sel[k]!;
    const a = truthAt(left, row, env);
    switch (call.fn) {
      case "xor": {
        const b = truthAt(right!, row, env);
        setTruth(out, row, a < 0 || b < 0 ? -1 : a !== b ? 1 : 0);
        break;
      }
      case "not":
        setTruth(out, row, a < 0 ? -1 : a === 1 ? 0 : 1);
        break;
      case "istrue":
        setTruth(out, row, a === 1 ? 1 : 0);
        break;
      default:
        setTruth(out, row, a === 0 ? 1 : 0);
        break;
    }
  }
  return out;
}

function cmpNumbers(x: number, y: number): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

const comparisons: ReadonlyMap<string, (c: number) => boolean> = new Map([
  ["=", (c: number) => c === 0],
  ["<>", (c: number) => c !== 0],
  ["<", (c: number) => c < 0],
  ["<=", (c: number) => c <= 0],
  [">", (c: number) => c > 0],
  [">=", (c: number) => c >= 0],
]);

function evalCompare(call: CallExpr, sel: Int32Array, count: number, env: VecEnv): Column {
  const a = evalVec(call.args[0]!, sel, count, env);
  const b = evalVec(call.args[1]!, sel, count, env);
  const out = new Column(env.chunk.rowCount);
  const test = comparisons.get(call.fn);
  const args = [a, b];
  for (let k = 0; k < count; k++) {
    const row = sel[k]!;
    const ta = a.tags[row]!;
    const tb = b.tags[row]!;
    if (isNumberTag(ta) && isNumberTag(tb)) {
      const c = cmpNumbers(a.nums[row]!, b.nums[row]!);
      out.setNumber(row, Tag.int, test === undefined ? (c === 0 ? 1 : 0) : test(c) ? 1 : 0);
    } else if (ta === Tag.null || tb === Tag.null) {
      if (test === undefined) out.setNumber(row, Tag.int, ta === tb ? 1 : 0);
      else out.setNull(row);
    } else {
      out.set(row, runRow(call, args, row, env));
    }
  }
  return out;
}

function evalIsNull(call: CallExpr, sel: Int32Array, count: number, env: VecEnv): Column {
  const a = evalVec(call.args[0]!, sel, count, env);
  const out = new Column(env.chunk.rowCount);
  for (let k = 0; k < count; k++) {
    const row = sel[k]!;
    out.setNumber(row, Tag.int, a.tags[row] === Tag.null ? 1 : 0);
  }
  return out;
}

function evalBetween(call: CallExpr, sel: Int32Array, count: number, env: VecEnv): Column {
  const args = call.args.map((e) => evalVec(e, sel, count, env));
  const [x, lo, hi] = args as [Column, Column, Column];
  const out = new Column(env.chunk.rowCount);
  for (let k = 0; k < count; k++) {
    const row = sel[k]!;
    const tx = x.tags[row]!;
    const tl = lo.tags[row]!;
    const th = hi.tags[row]!;
    if ((tx === Tag.null || isNumberTag(tx)) && (tl === Tag.null || isNumberTag(tl)) &&
      (th === Tag.null || isNumberTag(th))) {
      const ge = tx === Tag.null || tl === Tag.null ? -1 : x.nums[row]! >= lo.nums[row]! ? 1 : 0;
      const le = tx === Tag.null || th === Tag.null ? -1 : x.nums[row]! <= hi.nums[row]! ? 1 : 0;
      // NaN compares equal in compareValues (neither < nor >): leave it to the built-in.
      if (Number.isNaN(x.nums[row]!) || Number.isNaN(lo.nums[row]!) ||
        Number.isNaN(hi.nums[row]!)) {
        out.set(row, runRow(call, args, row, env));
        continue;
      }
      setTruth(out, row, ge === 0 || le === 0 ? 0 : ge < 0 || le < 0 ? -1 : 1);
    } else {
      out.set(row, runRow(call, args, row, env));
    }
  }
  return out;
}

function evalIn(call: CallExpr, sel: Int32Array, count: number, env: VecEnv): Column {
  const args = call.args.map((e) => evalVec(e, sel, count, env));
  const x = args[0]!;
  const out = new Column(env.chunk.rowCount);
  rows: for (let k = 0; k < count; k++) {
    const row = sel[k]!;
    const tx = x.tags[row]!;
    if (tx === Tag.null) {
      out.setNull(row);
      continue;
    }
    if (isNumberTag(tx) && !Number.isNaN(x.nums[row]!)) {
      const v = x.nums[row]!;
      let sawNull = false;
      let numeric = true;
      for (let j = 1; j < args.length; j++) {
        const t = args[j]!.tags[row]!;
        if (t === Tag.null) {
          sawNull = true;
        } else if (!isNumberTag(t) || Number.isNaN(args[j]!.nums[row]!)) {
          numeric = false;
          break;
        } else if (args[j]!.nums[row] === v) {
          out.setNumber(row, Tag.int, 1);
          continue rows;
        }
      }
      if (numeric) {
        setTruth(out, row, sawNull ? -1 : 0);
        continue;
      }
    }
    out.set(row, runRow(call, args, row, env));
  }
  return out;
}

/** `+ - *` on numbers; an integer result beyond ±2^53 or a non-finite DOUBLE per row. */
function evalArith(call: CallExpr, sel: Int32Array, count: number, env: VecEnv): Column {
  const a = evalVec(call.args[0]!, sel, count, env);
  const b = evalVec(call.args[1]!, sel, count, env);
  const args = [a, b];
  const out = new Column(env.chunk.rowCount);
  const kind = call.type.kind;
  const unsigned = call.type.unsigned;
  const op = call.fn;
  for (let k = 0; k < count; k++) {
    const row = sel[k]!;
    const ta = a.tags[row]!;
    const tb = b.tags[row]!;
    if (ta === Tag.null || tb === Tag.null) {
      out.setNull(row);
      continue;
    }
    const intArgs = (ta === Tag.int || ta === Tag.uint) && (tb === Tag.int || tb === Tag.uint);
    if ((kind === "int" && intArgs) || (kind === "double" && isNumberTag(ta) &&
      isNumberTag(tb))) {
      const x = a.nums[row]!;
      const y = b.nums[row]!;
      const r = op === "+" ? x + y : op === "-" ? x - y : x * y;
      if (kind === "int") {
        if (isSafeNumber(r) && (!unsigned || r >= 0)) {
          out.setNumber(row, unsigned ? Tag.uint : Tag.int, r === 0 ? 0 : r);
          continue;
        }
      } else if (Number.isFinite(r)) {
        out.setNumber(row, Tag.double, r);
        continue;
      }
    }
    out.set(row, runRow(call, args, row, env));
  }
  return out;
}

/** A column reference: the chunk's column, TIMESTAMPs read in the session's time zone. */
function evalColumn(index: number, sel: Int32Array, count: number, env: VecEnv): Column {
  const c = env.chunk.columns[index];
  if (c === undefined) throw new VecAbort();
  let out: Column | null = null;
  for (let k = 0; k < count; k++) {
    const row = sel[k]!;
    if (c.tags[row] !== Tag.other) continue;
    const v = c.others[row] as Value;
    if (v === null || v.kind !== "datetime" || v.utc !== true) continue;
    if (out === null) {
      out = new Column(c.length);
      out.tags.set(c.tags);
      out.nums.set(c.nums);
      c.others.forEach((v, i) => {
        out!.others[i] = v;
      });
    }
    out.others[row] = sessionValue(v, env.ctx);
  }
  return out ?? c;
}

/**
 * The values of `expr` at the rows `sel[0 … count)` of `env.chunk` (other rows of the
 * result are unspecified). Throws `VecAbort` (or whatever evaluation threw) when the
 * batch must run row at a time.
 */
export function evalVec(expr: Expr, sel: Int32Array, count: number, env: VecEnv): Column {
  if (expr.kind === "constant") return Column.constant(expr.value, env.chunk.rowCount);
  if (expr.kind === "column") return evalColumn(expr.index, sel, count, env);
  switch (expr.fn) {
    case "and":
    case "or":
    case "xor":
    case "not":
    case "istrue":
    case "isfalse":
      return evalLogic(expr, sel, count, env);
    case "=":
    case "<>":
    case "<":
    case "<=":
    case ">":
    case ">=":
    case "<=>":
      return evalCompare(expr, sel, count, env);
    case "isnull":
      return evalIsNull(expr, sel, count, env);
    case "between":
      return evalBetween(expr, sel, count, env);
    case "in":
      return evalIn(expr, sel, count, env);
    case "+":
    case "-":
    case "*":
      return evalArith(expr, sel, count, env);
    default:
      return evalGeneric(expr, sel, count, env);
  }
}
