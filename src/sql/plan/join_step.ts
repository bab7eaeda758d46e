/**
 * The pieces of a join step shared by the FROM planner (`from.ts`) and its cost-based
 * joins (`join_exec.ts`): a group's leaves and analyzed conjuncts, full-width rows
 * (`widen`, `mergeRows`), conjunct checks, range reads of a leaf, and one join step —
 * a hash join on the equalities whose sides hash in one domain (`hash.ts`), a nested
 * loop otherwise — with its memory charged and its work bounded (1104).
 */
import { type EvalContext, type Expr, type Value, evaluate, isTrue } from "../../expr/mod.ts";
import type { Expr as AstExpr } from "../parser/ast.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import type { Access } from "./index_access.ts";
import { type Compiled, holds, withRow } from "./compile.ts";
import { type HashDomain, hashDomain, hashKey } from "./hash.ts";
import { type MemoryAccount, keyBytes, rowBytes } from "./memory_tracker.ts";
import { pairFilter } from "./vec_filter.ts";
import type { Source, SourceRows } from "./from.ts";

/** Rows produced by one step of a join, at most. */
export const joinRowsMax = 2_000_000;
/** Row pairs a nested-loop join step may examine, at most. */
export const joinPairsMax = 50_000_000;

export interface Leaf {
  readonly source: Source;
  readonly offset: number;
  readonly width: number;
}

export interface Conjunct {
  /** The conjunct as written (for estimates and EXPLAIN). */
  readonly ast: AstExpr;
  readonly compiled: Compiled;
  /** Leaves it reads (bit i = leaf i). */
  readonly mask: bigint;
  /** For `a = b` with sides on disjoint leaves: the sides, their masks, whether hashable. */
  readonly eq: { readonly sides: readonly [Expr, Expr]; readonly masks: readonly [bigint, bigint] }
    | null;
}

/** The rows of `ranges` (in one index, or of row keys), merged in handle order. */
export async function readRanges(source: Source, access: Extract<Access, { kind: "range" }>):
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

export function widen(row: readonly Value[], offset: number, width: number): Value[] {
  const out: Value[] = new Array<Value>(width).fill(null);
  for (let k = 0; k < row.length; k++) out[offset + k] = row[k]!;
  return out;
}

/** `allHold` of conjuncts without subqueries. */
export function allHoldNow(conjuncts: readonly Conjunct[], row: readonly Value[],
  ctx: EvalContext): boolean {
  if (conjuncts.length === 0) return true;
  const rowCtx = withRow(ctx, row);
  for (const c of conjuncts) {
    if (isTrue(evaluate(c.compiled.expr, rowCtx), ctx.warn) !== true) return false;
  }
  return true;
}

export async function allHold(conjuncts: readonly Conjunct[], row: readonly Value[],
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
export function eqSides(c: Conjunct, currentMask: bigint, nextMask: bigint):
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

export function compositeKey(exprs: readonly { e: Expr; domain: HashDomain }[],
  row: readonly Value[], ctx: EvalContext): string | null {
  const rctx = withRow(ctx, row);
  let key = "";
  for (const { e, domain } of exprs) {
    const k = hashKey(evaluate(e, rctx), domain);
    if (k === null) return null;
    key += `${k}\u0001`;
  }
  return key;
}

export function mergeRows(a: readonly Value[], b: readonly Value[], leaves: readonly Leaf[],
  mask: bigint): Value[] {
  const out = [...a];
  leaves.forEach((leaf, i) => {
    if ((mask & (1n << BigInt(i))) === 0n) return;
    for (let k = leaf.offset; k < leaf.offset + leaf.width; k++) out[k] = b[k]!;
  });
  return out;
}

export async function joinStep(current: Value[][], next: Value[][], nextMask: bigint,
  leaves: readonly Leaf[], eqs: readonly { cur: Expr; next: Expr; domain: HashDomain }[],
  filters: readonly Conjunct[], ctx: EvalContext, mem: MemoryAccount): Promise<Value[][]> {
  const out: Value[][] = [];
  const accept = (merged: Value[]): void => {
    if (out.length >= joinRowsMax) throw mysqlError(ER.TOO_BIG_SELECT);
    mem.consume(rowBytes(merged));
    out.push(merged);
  };
  // The filters a batch of pairs at a time where they can (vec_filter.ts); probe keys that
  // read a column only, so nothing of the probe is seen between a batch's pairs.
  const batched = eqs.every((q) => q.cur.kind === "column") ? pairFilter(filters, ctx, accept)
    : null;
  const emit = async (merged: Value[]): Promise<void> => {
    if (batched !== null) batched.push(merged);
    else if (await allHold(filters, merged, ctx)) accept(merged);
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
      if (pairs > joinPairsMax) {
        batched?.flush();
        throw mysqlError(ER.TOO_BIG_SELECT);
      }
      for (const match of bucket) await emit(mergeRows(row, match, leaves, nextMask));
    }
    batched?.flush();
    mem.release(tableBytes);
    return out;
  }
  if (current.length * next.length > joinPairsMax) throw mysqlError(ER.TOO_BIG_SELECT);
  for (const row of current) {
    for (const match of next) await emit(mergeRows(row, match, leaves, nextMask));
  }
  batched?.flush();
  return out;
}

/** The integer keys of `rows` by `key`, if every one is an integer and they never descend. */
function ascendingKeys(rows: readonly Value[][], key: Expr, ctx: EvalContext):
  bigint[] | null {
  const out: bigint[] = [];
  for (const row of rows) {
    const v = evaluate(key, withRow(ctx, row));
    if (v === null || (v.kind !== "int" && v.kind !== "uint")) return null;
    if (out.length > 0 && v.value < out[out.length - 1]!) return null;
    out.push(v.value);
  }
  return out;
}

/**
 * A merge join of two sides already in the order of their integer keys `curKey` and
 * `nextKey` (clustered handles read in handle order): one pass over both, no hash table.
 * Null when a side turns out not to be in key order (the caller hash-joins instead).
 */
export async function mergeJoinStep(current: Value[][], next: Value[][], nextMask: bigint,
  leaves: readonly Leaf[], curKey: Expr, nextKey: Expr, filters: readonly Conjunct[],
  ctx: EvalContext, mem: MemoryAccount): Promise<Value[][] | null> {
  const a = ascendingKeys(current, curKey, ctx);
  const b = a === null ? null : ascendingKeys(next, nextKey, ctx);
  if (a === null || b === null) return null;
  const out: Value[][] = [];
  const accept = (merged: Value[]): void => {
    if (out.length >= joinRowsMax) throw mysqlError(ER.TOO_BIG_SELECT);
    mem.consume(rowBytes(merged));
    out.push(merged);
  };
  // The filters a batch of pairs at a time where they can (vec_filter.ts).
  const batched = pairFilter(filters, ctx, accept);
  let pairs = 0;
  let j = 0;
  for (let i = 0; i < current.length; i++) {
    while (j < next.length && b[j]! < a[i]!) j++;
    for (let k = j; k < next.length && b[k] === a[i]; k++) {
      if (++pairs > joinPairsMax) {
        batched?.flush();
        throw mysqlError(ER.TOO_BIG_SELECT);
      }
      const merged = mergeRows(current[i]!, next[k]!, leaves, nextMask);
      if (batched !== null) batched.push(merged);
      else if (await allHold(filters, merged, ctx)) accept(merged);
    }
  }
  batched?.flush();
  return out;
}
