/**
 * Window functions (MySQL 8): ROW_NUMBER, RANK, DENSE_RANK, PERCENT_RANK, CUME_DIST, NTILE,
 * LAG, LEAD, FIRST_VALUE, LAST_VALUE, NTH_VALUE, and the aggregates OVER a window, with
 * PARTITION BY, ORDER BY, ROWS / RANGE frames and named windows (`WINDOW w AS (…)`).
 *
 * Three layers. Resolving (`resolveWindowSpec`) merges a window with the named windows it
 * references and checks MySQL's rules (3579–3595). Planning (`planWindowCall`) compiles a
 * call's arguments, partition and order keys against the query's records (so aggregates
 * may appear inside: `SUM(SUM(x)) OVER ()`). Evaluating is pure: `evaluateWindow` takes
 * each record's partition, order and argument values, sorts them (stable: partition keys,
 * then order keys, NULLs first ascending as MySQL sorts), and returns each record's
 * value. `computeWindows` glues the two over a query's records and leaves them in the
 * last window's order, as MySQL returns them without ORDER BY.
 *
 * Frames: without ORDER BY the frame is the whole partition; with ORDER BY and no frame
 * clause it is RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW (the current row's peers
 * included). Ranking functions, NTILE, LAG and LEAD ignore frames. An aggregate over a
 * frame is computed incrementally while the frame's start stays put and recomputed when
 * it slides; the work is bounded (`windowAddsMax`, then 1104).
 */
import { type EvalContext, type FieldType, type Value, aggregateTypes, compareForSort,
  doubleType, intType, toDouble, typeCollation } from "../../expr/mod.ts";
import type { Collation } from "../../codec/mod.ts";
import type { Expr as AstExpr, FrameBound, NamedWindow, WindowSpec } from "../parser/ast.ts";
import { formatExpr } from "../parser/format.ts";
import { ER, type MySqlError, mysqlError } from "../mysql_errors.ts";
import { Accumulator, type AggSpec, aggregateNames, planAggregate } from "./aggregate.ts";
import { type Compiled, evalCompiled } from "./compile.ts";
import { type MemoryAccount, noMemoryAccount, rowBytes, rowsBytes } from "./memory_tracker.ts";

/** Frame rows an aggregate window may add up in one statement before failing with 1104. */
const windowAddsMax = 50_000_000;

/** The window functions that are not aggregates. */
export const windowFunctionNames: ReadonlySet<string> = new Set(["row_number", "rank",
  "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value",
  "last_value", "nth_value"]);

/** Whether `e` is a window function call (`… OVER …`). */
export function isWindowCall(e: AstExpr): boolean {
  return e.kind === "func" && e.over !== null;
}

/** The first window function call in `node` (not inside its subqueries), or undefined. */
export function findWindowCall(node: unknown): AstExpr | undefined {
  if (node === null || typeof node !== "object") return undefined;
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = findWindowCall(item);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const e = node as AstExpr;
  if (typeof e.kind === "string" && isWindowCall(e)) return e;
  // A subquery's windows are its own.
  if (e.kind === "subquery" || e.kind === "exists") return undefined;
  if (e.kind === "inSubquery" || e.kind === "compareSubquery") return findWindowCall(e.operand);
  return findWindowCall(Object.values(node));
}

function nested(node: unknown): boolean {
  return findWindowCall(node) !== undefined;
}

/** MySQL's name for a window in messages. */
function printable(name: string | null): string {
  return name ?? "<unnamed window>";
}

/**
 * `spec` merged with the named windows it references: partitioning from the root,
 * ORDER BY from whichever defines it, the frame from `spec`. Also checks every named
 * window (duplicates, unknown references, cycles) as MySQL does even for unused ones.
 */
export function resolveWindowSpec(spec: WindowSpec, named: readonly NamedWindow[]):
  WindowSpec {
  const byName = new Map<string, NamedWindow>();
  for (const w of named) {
    const key = w.name.toLowerCase();
    if (byName.has(key)) throw mysqlError(ER.WINDOW_DUPLICATE_NAME, [w.name]);
    byName.set(key, w);
  }
  const resolve = (s: WindowSpec, name: string | null, path: readonly string[]): WindowSpec => {
    if (s.ref === null) return s;
    const base = byName.get(s.ref.toLowerCase());
    if (base === undefined) throw mysqlError(ER.WINDOW_NO_SUCH_WINDOW, [s.ref]);
    const key = base.name.toLowerCase();
    if (path.includes(key)) throw mysqlError(ER.WINDOW_CIRCULARITY_IN_WINDOW_GRAPH);
    const parent = resolve(base.spec, base.name, [...path, key]);
    // `OVER w` (and `OVER (w)`, which parses the same) is window w itself, frame included.
    if (s.partitionBy.length === 0 && s.orderBy.length === 0 && s.frame === null) return parent;
    if (s.partitionBy.length > 0) throw mysqlError(ER.WINDOW_NO_CHILD_PARTITIONING);
    if (base.spec.frame !== null) throw mysqlError(ER.WINDOW_NO_INHERIT_FRAME, [base.name]);
    if (s.orderBy.length > 0 && parent.orderBy.length > 0) {
      throw mysqlError(ER.WINDOW_NO_REDEFINE_ORDER_BY, [printable(name), base.name]);
    }
    return { ref: null, partitionBy: parent.partitionBy,
      orderBy: s.orderBy.length > 0 ? s.orderBy : parent.orderBy, frame: s.frame };
  };
  for (const w of named) resolve(w.spec, w.name, [w.name.toLowerCase()]);
  return resolve(spec, null, []);
}

// ---- evaluation (pure) ---------------------------------------------------------------------

/** A frame bound with its offset evaluated (null for UNBOUNDED and CURRENT ROW). */
export interface Bound {
  readonly type: FrameBound["type"];
  readonly offset: Value;
}

/** A resolved frame. */
export interface Frame {
  readonly unit: "ROWS" | "RANGE";
  readonly start: Bound;
  readonly end: Bound;
}

/** One window function call, ready to evaluate. */
export interface WindowCall {
  /** Lower-case function name (`row_number`, `sum` …). */
  readonly name: string;
  /** For aggregates: the aggregate. */
  readonly agg: AggSpec | null;
  /** Directions of the window's ORDER BY keys. */
  readonly orderDesc: readonly boolean[];
  readonly frame: Frame;
  /** NTILE's bucket count, LAG / LEAD's offset, NTH_VALUE's N (1 otherwise). */
  readonly param: number;
  /** The collations of the PARTITION BY and ORDER BY keys; absent: the default. */
  readonly partitionCollations?: readonly Collation[];
  readonly orderCollations?: readonly Collation[];
}

/** One record's inputs to a window call. */
export interface WindowRow {
  readonly partition: readonly Value[];
  readonly order: readonly Value[];
  readonly args: readonly Value[];
}

/** `a` before (negative) or after `b` in the window's order: NULL first, DESC reversed. */
function orderCompare(a: readonly Value[], b: readonly Value[], desc: readonly boolean[],
  ctx: EvalContext, collations?: readonly Collation[]): number {
  for (let i = 0; i < desc.length; i++) {
    const order = keyCompare(a[i] ?? null, b[i] ?? null, ctx, collations?.[i]);
    if (order !== 0) return desc[i] ? -order : order;
  }
  return 0;
}

/** Strings compare under `collation`, the key's (collation_derivation.ts). */
function keyCompare(a: Value, b: Value, ctx: EvalContext, collation?: Collation): number {
  if (a === null) return b === null ? 0 : -1;
  if (b === null) return 1;
  return compareForSort(a, b, { warn: ctx.warn, collation }) ?? 0;
}

/** `a + sign × b` for numbers: exact for integers and decimals, else DOUBLE. */
function shifted(a: Value, b: Value, sign: 1 | -1, ctx: EvalContext): Value {
  if (a === null || b === null) return null;
  const exact = (v: NonNullable<Value>): { unscaled: bigint; scale: number } | null =>
    v.kind === "int" || v.kind === "uint" ? { unscaled: v.value, scale: 0 }
      : v.kind === "decimal" ? { unscaled: v.unscaled, scale: v.scale } : null;
  const x = exact(a);
  const y = exact(b);
  if (x === null || y === null) {
    return { kind: "double", value: (toDouble(a, ctx.warn) ?? 0) +
      sign * (toDouble(b, ctx.warn) ?? 0) };
  }
  const scale = Math.max(x.scale, y.scale);
  const unscaled = x.unscaled * 10n ** BigInt(scale - x.scale) +
    BigInt(sign) * y.unscaled * 10n ** BigInt(scale - y.scale);
  return { kind: "decimal", unscaled, scale };
}

/** The first index in [lo, hi) where `pred` holds (`pred` false then true), or hi. */
function firstTrue(lo: number, hi: number, pred: (i: number) => boolean): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Per-statement work of aggregate windows, shared by the calls of one query. */
export interface WindowBudget {
  adds: number;
}

/**
 * The values of `call` for `rows`: `values[i]` belongs to `rows[i]`; `permutation` lists
 * the rows in the window's order (partition, then ORDER BY keys, stable).
 */
export function evaluateWindow(call: WindowCall, rows: readonly WindowRow[], ctx: EvalContext,
  options: { readonly budget?: WindowBudget; readonly warn?: (w: MySqlError) => void } = {}):
  { permutation: number[]; values: Value[] } {
  const permutation = rows.map((_, i) => i);
  const partitionCollations = call.partitionCollations ?? [];
  const orderCollations = call.orderCollations;
  const partitionCompare = (a: number, b: number): number => {
    const pa = rows[a]!.partition;
    const pb = rows[b]!.partition;
    for (let i = 0; i < pa.length; i++) {
      const order = keyCompare(pa[i] ?? null, pb[i] ?? null, ctx, partitionCollations[i]);
      if (order !== 0) return order;
    }
    return 0;
  };
  permutation.sort((a, b) => partitionCompare(a, b) ||
    orderCompare(rows[a]!.order, rows[b]!.order, call.orderDesc, ctx, orderCollations));
  const values = new Array<Value>(rows.length).fill(null);
  const budget = options.budget ?? { adds: 0 };
  let start = 0;
  while (start < permutation.length) {
    let end = start + 1;
    while (end < permutation.length &&
      partitionCompare(permutation[start]!, permutation[end]!) === 0) end++;
    const part = permutation.slice(start, end);
    const out = evaluatePartition(call, part.map((i) => rows[i]!), ctx, budget, options.warn);
    part.forEach((i, k) => {
      values[i] = out[k]!;
    });
    start = end;
  }
  return { permutation, values };
}

/** The values of `call` over one partition, in its order. */
function evaluatePartition(call: WindowCall, part: readonly WindowRow[], ctx: EvalContext,
  budget: WindowBudget, warn?: (w: MySqlError) => void): Value[] {
  const n = part.length;
  const orderCollations = call.orderCollations;
  const peer = (i: number, j: number): boolean =>
    orderCompare(part[i]!.order, part[j]!.order, call.orderDesc, ctx, orderCollations) === 0;
  // Peer groups: first and last index of each row's group.
  const groupStart = new Array<number>(n);
  const groupEnd = new Array<number>(n);
  for (let i = 0; i < n; i++) groupStart[i] = i > 0 && peer(i - 1, i) ? groupStart[i - 1]! : i;
  for (let i = n - 1; i >= 0; i--) {
    groupEnd[i] = i < n - 1 && peer(i, i + 1) ? groupEnd[i + 1]! : i;
  }
  const arg = (i: number, k = 0): Value => part[i]!.args[k] ?? null;
  const out: Value[] = [];
  const int = (v: number): Value => ({ kind: "uint", value: BigInt(v) });
  switch (call.name) {
    case "row_number":
      for (let i = 0; i < n; i++) out.push(int(i + 1));
      return out;
    case "rank":
      for (let i = 0; i < n; i++) out.push(int(groupStart[i]! + 1));
      return out;
    case "dense_rank": {
      let rank = 0;
      for (let i = 0; i < n; i++) {
        if (groupStart[i] === i) rank++;
        out.push(int(rank));
      }
      return out;
    }
    case "percent_rank":
      for (let i = 0; i < n; i++) {
        out.push({ kind: "double", value: n > 1 ? groupStart[i]! / (n - 1) : 0 });
      }
      return out;
    case "cume_dist":
      for (let i = 0; i < n; i++) out.push({ kind: "double", value: (groupEnd[i]! + 1) / n });
      return out;
    case "ntile": {
      const buckets = call.param;
      const size = Math.floor(n / buckets);
      const extra = n % buckets;
      for (let i = 0; i < n; i++) {
        const big = extra * (size + 1);
        out.push(int(i < big ? Math.floor(i / (size + 1)) + 1
          : extra + Math.floor((i - big) / size) + 1));
      }
      return out;
    }
    case "lag":
    case "lead":
      for (let i = 0; i < n; i++) {
        const j = call.name === "lag" ? i - call.param : i + call.param;
        out.push(j >= 0 && j < n ? arg(j) : arg(i, 1));
      }
      return out;
    default:
      break;
  }
  // Framed functions.
  const bounds = frameBounds(call, part, groupStart, groupEnd, ctx);
  if (call.agg === null) {
    for (let i = 0; i < n; i++) {
      const [s, e] = bounds[i]!;
      if (s > e) {
        out.push(null);
        continue;
      }
      const at = call.name === "first_value" ? s : call.name === "last_value" ? e
        : s + call.param - 1;
      out.push(at <= e ? arg(at) : null);
    }
    return out;
  }
  const spec = call.agg;
  let acc: Accumulator | null = null;
  let accStart = 0;
  let accEnd = -1;
  let last: Value = null;
  for (let i = 0; i < n; i++) {
    const [s, e] = bounds[i]!;
    if (acc !== null && s === accStart && e === accEnd) {
      out.push(last);
      continue;
    }
    if (acc === null || s !== accStart || e < accEnd) {
      acc = new Accumulator(spec);
      accStart = s;
      accEnd = s - 1;
    }
    for (let k = Math.max(accEnd + 1, s); k <= e; k++) {
      if (++budget.adds > windowAddsMax) throw mysqlError(ER.TOO_BIG_SELECT);
      acc.add(part[k]!.args, ctx);
    }
    accEnd = Math.max(accEnd, e);
    last = acc.result(ctx, warn);
    out.push(last);
  }
  return out;
}

/** Each row's frame as [first, last] indexes (first > last: empty). */
function frameBounds(call: WindowCall, part: readonly WindowRow[], groupStart: number[],
  groupEnd: number[], ctx: EvalContext): [number, number][] {
  const n = part.length;
  const frame = call.frame;
  const desc = call.orderDesc[0] ?? false;
  const key = (i: number): Value => part[i]!.order[0] ?? null;
  /** The directed comparison of the order key with `target`: the window's order. */
  const directed = (i: number, target: Value): number => {
    const order = keyCompare(key(i), target, ctx);
    return desc ? -order : order;
  };
  const position = (i: number, bound: Bound, isStart: boolean): number => {
    switch (bound.type) {
      case "UNBOUNDED PRECEDING":
        return 0;
      case "UNBOUNDED FOLLOWING":
        return n - 1;
      case "CURRENT ROW":
        if (frame.unit === "ROWS") return i;
        return isStart ? groupStart[i]! : groupEnd[i]!;
      case "PRECEDING":
      case "FOLLOWING": {
        if (frame.unit === "ROWS") {
          const offset = Number(bound.offset !== null && (bound.offset.kind === "int" ||
            bound.offset.kind === "uint") ? bound.offset.value : 0n);
          return bound.type === "PRECEDING" ? i - offset : i + offset;
        }
        if (key(i) === null) return isStart ? groupStart[i]! : groupEnd[i]!;
        // Moving back (PRECEDING) in the window's order: ASC subtracts, DESC adds.
        const back = bound.type === "PRECEDING";
        const target = shifted(key(i), bound.offset, back !== desc ? -1 : 1, ctx);
        if (isStart) return firstTrue(0, n, (j) => key(j) !== null && directed(j, target) >= 0);
        return firstTrue(0, n, (j) => key(j) !== null && directed(j, target) > 0) - 1;
      }
    }
  };
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const s = Math.max(position(i, frame.start, true), 0);
    const e = Math.min(position(i, frame.end, false), n - 1);
    out.push([s, e]);
  }
  return out;
}

// ---- planning ------------------------------------------------------------------------------

/** A window call planned against a query's records. */
export interface PlannedWindow {
  readonly text: string;
  readonly name: string;
  readonly agg: AggSpec | null;
  readonly args: readonly Compiled[];
  readonly partition: readonly Compiled[];
  readonly order: readonly Compiled[];
  readonly orderDesc: readonly boolean[];
  /** The frame with its offsets still to evaluate (they may be `?` parameters). */
  readonly frameUnit: "ROWS" | "RANGE";
  readonly start: { readonly type: FrameBound["type"]; readonly offset: Compiled | null };
  readonly end: { readonly type: FrameBound["type"]; readonly offset: Compiled | null };
  /** NTILE / LAG / LEAD / NTH_VALUE's constant argument. */
  readonly param: Compiled | null;
  readonly windowName: string;
}

/** The result type of a planned window call. */
export function windowType(w: PlannedWindow): FieldType {
  switch (w.name) {
    case "row_number":
    case "rank":
    case "dense_rank":
    case "ntile":
      return intType({ length: 21, unsigned: true, nullable: false });
    case "percent_rank":
    case "cume_dist":
      return doubleType({ nullable: false });
    case "lag":
    case "lead": {
      const types = w.args.map((a) => a.expr.type);
      return aggregateTypes(types, true);
    }
    case "first_value":
    case "last_value":
    case "nth_value":
      return { ...w.args[0]!.expr.type, nullable: true };
    default:
      return w.agg!.type;
  }
}

const numericKinds = new Set(["int", "decimal", "double"]);

/**
 * Plans window call `ast` (a `func` with `over`): `compileRecord` compiles in the
 * records' scope, `compileConstant` a constant (frame offsets, NTILE's N …).
 */
export function planWindowCall(ast: AstExpr, named: readonly NamedWindow[],
  compileRecord: (e: AstExpr) => Compiled, compileConstant: (e: AstExpr) => Compiled):
  PlannedWindow {
  if (ast.kind !== "func" || ast.over === null) throw new Error("not a window call");
  const name = ast.name;
  const text = formatExpr(ast);
  const spec = resolveWindowSpec(ast.over, named);
  const windowName = printable(ast.over.ref);
  if (nested([spec.partitionBy, spec.orderBy])) {
    throw mysqlError(ER.WINDOW_NESTED_WINDOW_FUNC_USE_IN_WINDOW_SPEC, [windowName]);
  }
  for (const a of ast.args) {
    if (nested(a)) throw mysqlError(ER.WINDOW_INVALID_WINDOW_FUNC_USE, [name]);
  }
  let agg: AggSpec | null = null;
  let args: Compiled[];
  let param: Compiled | null = null;
  const count = (min: number, max: number): void => {
    if (ast.args.length < min || ast.args.length > max) {
      throw mysqlError(ER.WRONG_PARAMCOUNT_TO_NATIVE_FCT, [name]);
    }
  };
  if (aggregateNames.has(name)) {
    if (ast.distinct) {
      throw mysqlError(ER.NOT_SUPPORTED_YET, ["<window function>(DISTINCT ..)"]);
    }
    const planned = planAggregate({ ...ast, over: null }, compileRecord, { maxBytes: 1024,
      text });
    agg = planned.spec;
    args = [...planned.args];
  } else if (windowFunctionNames.has(name)) {
    switch (name) {
      case "ntile":
        count(1, 1);
        args = [];
        param = compileConstant(ast.args[0]!);
        break;
      case "lag":
      case "lead":
        count(1, 3);
        args = [compileRecord(ast.args[0]!)];
        if (ast.args.length > 1) param = compileConstant(ast.args[1]!);
        if (ast.args.length > 2) args.push(compileRecord(ast.args[2]!));
        break;
      case "first_value":
      case "last_value":
        count(1, 1);
        args = [compileRecord(ast.args[0]!)];
        break;
      case "nth_value":
        count(2, 2);
        args = [compileRecord(ast.args[0]!)];
        param = compileConstant(ast.args[1]!);
        break;
      default:
        count(0, 0);
        args = [];
    }
  } else {
    throw mysqlError(ER.NOT_SUPPORTED_YET, [`${name}() OVER a window`]);
  }
  const order = spec.orderBy.map((o) => compileRecord(o.expr));
  const frame = spec.frame;
  if (frame !== null && frame.unit === "GROUPS") {
    throw mysqlError(ER.NOT_SUPPORTED_YET, ["GROUPS frames"]);
  }
  const startAst: FrameBound = frame?.start ?? { type: "UNBOUNDED PRECEDING", value: null };
  const endAst: FrameBound = frame === null
    ? { type: spec.orderBy.length > 0 ? "CURRENT ROW" : "UNBOUNDED FOLLOWING", value: null }
    : frame.end ?? { type: "CURRENT ROW", value: null };
  if (startAst.type === "UNBOUNDED FOLLOWING") {
    throw mysqlError(ER.WINDOW_FRAME_START_ILLEGAL, [windowName]);
  }
  if (endAst.type === "UNBOUNDED PRECEDING") {
    throw mysqlError(ER.WINDOW_FRAME_END_ILLEGAL, [windowName]);
  }
  const unit = frame === null ? "RANGE" : frame.unit as "ROWS" | "RANGE";
  const offsetOf = (b: FrameBound): Compiled | null => {
    if (b.value === null) return null;
    if (unit === "RANGE" && (order.length !== 1 ||
      !numericKinds.has(order[0]!.expr.type.kind))) {
      throw mysqlError(ER.WINDOW_RANGE_FRAME_ORDER_TYPE, [windowName]);
    }
    if (b.value.kind === "interval") throw mysqlError(ER.NOT_SUPPORTED_YET, ["INTERVAL frames"]);
    return compileConstant(b.value);
  };
  return {
    text, name, agg, args, order, windowName, param, frameUnit: unit,
    partition: spec.partitionBy.map((e) => compileRecord(e)),
    orderDesc: spec.orderBy.map((o) => o.desc),
    start: { type: startAst.type, offset: offsetOf(startAst) },
    end: { type: endAst.type, offset: offsetOf(endAst) },
  };
}

/** A window call's constant argument as a count, or 1210 / 3586 when it is not one. */
async function constantCount(c: Compiled, ctx: EvalContext, min: number, error: MySqlError):
  Promise<number> {
  const v = await evalCompiled(c, [], ctx);
  const n = v !== null && (v.kind === "int" || v.kind === "uint") ? v.value
    : v !== null && v.kind === "decimal" && v.scale === 0 ? v.unscaled : null;
  if (n === null || n < BigInt(min) || n > 2n ** 53n) throw error;
  return Number(n);
}

/**
 * Adds the values of `windows` to `records` (each record gets one value per window, in
 * order) and returns the records in the last window's order.
 */
export async function computeWindows(records: readonly Value[][],
  windows: readonly PlannedWindow[], ctx: EvalContext, warn?: (w: MySqlError) => void,
  mem: MemoryAccount = noMemoryAccount): Promise<Value[][]> {
  let current = records.map((r) => [...r]);
  // The partitions: every record copied with its window values (held by the caller's run).
  mem.consume(rowsBytes(current) + current.length * windows.length * 24);
  const budget: WindowBudget = { adds: 0 };
  for (const w of windows) {
    const frameError = mysqlError(ER.WINDOW_FRAME_ILLEGAL, [w.windowName]);
    const bound = async (b: PlannedWindow["start"]): Promise<Bound> => {
      if (b.offset === null) return { type: b.type, offset: null };
      if (w.frameUnit === "ROWS") {
        const n = await constantCount(b.offset, ctx, 0, frameError);
        return { type: b.type, offset: { kind: "int", value: BigInt(n) } };
      }
      const v = await evalCompiled(b.offset, [], ctx);
      if (v === null || (toDouble(v, ctx.warn) ?? -1) < 0) throw frameError;
      return { type: b.type, offset: v };
    };
    const wrong = mysqlError(ER.WRONG_ARGUMENTS, [w.name]);
    const param = w.param === null ? 1 : await constantCount(w.param, ctx,
      w.name === "lag" || w.name === "lead" ? 0 : 1, wrong);
    const call: WindowCall = { name: w.name, agg: w.agg, orderDesc: w.orderDesc, param,
      frame: { unit: w.frameUnit, start: await bound(w.start), end: await bound(w.end) },
      partitionCollations: w.partition.map((c) => typeCollation(c.expr.type)),
      orderCollations: w.order.map((c) => typeCollation(c.expr.type)) };
    const inputs: WindowRow[] = [];
    let inputBytes = 0;
    for (const record of current) {
      const partition: Value[] = [];
      for (const p of w.partition) partition.push(await evalCompiled(p, record, ctx));
      const order: Value[] = [];
      for (const o of w.order) order.push(await evalCompiled(o, record, ctx));
      const args: Value[] = [];
      for (const a of w.args) args.push(await evalCompiled(a, record, ctx));
      inputs.push({ partition, order, args });
      const bytes = rowBytes(partition) + rowBytes(order) + rowBytes(args);
      mem.consume(bytes);
      inputBytes += bytes;
    }
    const { permutation, values } = evaluateWindow(call, inputs, ctx, { budget,
      ...(warn === undefined ? {} : { warn }) });
    mem.release(inputBytes);
    current.forEach((record, i) => record.push(values[i]!));
    current = permutation.map((i) => current[i]!);
  }
  return current;
}
