/**
 * Unit tests of the SQL node's vectorized filters and select list (vec_filter.ts): over
 * seeded random rows spanning several batches (INT, BIGINT UNSIGNED, DOUBLE, DECIMAL,
 * strings, NULLs), `holdMask` and `batchProjection` under a marked context give exactly
 * the row path's results, warnings (in order) and errors, for conjuncts that never warn,
 * warn in one batch only (a truncated string), or overflow (1690); an unmarked context
 * and an impure expression (a user variable assignment) run row at a time, and so do
 * expressions the kernels would run per row (strings); batches run vectorized and
 * aborted ones are counted. `pairFilter` (a join's pairs) accepts the same rows in the
 * same order as filtering then accepting pair by pair, up to an accept that throws.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type EvalContext, type Expr, type ExprWarning, type FieldType, type Value,
  buildCall, columnRef, decimalLiteral, decimalType, doubleType, evaluate, integerLiteral,
  intType, isTrue, stringLiteral, stringType } from "../../expr/mod.ts";
import type { Compiled } from "./compile.ts";
import { batchProjection, holdMask, isVectorized, kernelExpr, markVectorized, pairFilter,
  pureExpr, vecFilterStats } from "./vec_filter.ts";

const opts = { timeout: 30_000 };

function context(warnings: ExprWarning[]): EvalContext {
  return {
    warn: (w) => warnings.push(w),
    statementTime: { year: 2024, month: 1, day: 1, hour: 0, minute: 0, second: 0,
      microsecond: 0 },
    database: null, user: "u", currentUser: "u", connectionId: 1, version: "v",
    lastInsertId: 0n, setLastInsertId: () => undefined, setUserVariable: () => undefined,
  };
}

/** Columns: a INT, u BIGINT UNSIGNED, f DOUBLE, n DECIMAL(8,2), s VARCHAR. */
const types: readonly FieldType[] = [intType({ length: 11 }),
  intType({ length: 20, unsigned: true }), doubleType(), decimalType(8, { scale: 2 }),
  stringType(20)];
const names = ["a", "u", "f", "n", "s"];
const col = (i: number): Expr => columnRef(i, names[i]!, types[i]!);

function call(name: string, ...args: Expr[]): Expr {
  const built = buildCall(name, args);
  if (built.kind !== "ok") throw new Error(`cannot build ${name}`);
  return built.expr;
}

/** A small seeded generator (mulberry32). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` rows; row `badAt` (if any) has a non-numeric string in `s`. */
function rowsOf(seed: number, count: number, badAt: number): Value[][] {
  const next = random(seed);
  const pick = (k: number): number => Math.floor(next() * k);
  const out: Value[][] = [];
  for (let i = 0; i < count; i++) {
    const nullish = (v: Value): Value => (pick(10) === 0 ? null : v);
    out.push([
      nullish({ kind: "int", value: BigInt(pick(200) - 100) }),
      nullish({ kind: "uint", value: BigInt(pick(50)) }),
      nullish({ kind: "double", value: (pick(2000) - 1000) / 8 }),
      nullish({ kind: "decimal", unscaled: BigInt(pick(20000) - 10000), scale: 2 }),
      nullish({ kind: "string", value: i === badAt ? "x1" : String(pick(100)) }),
    ]);
  }
  return out;
}

interface Outcome {
  readonly result: unknown;
  readonly warnings: readonly ExprWarning[];
}

function outcome(vectorized: boolean, body: (ctx: EvalContext) => unknown): Outcome {
  const warnings: ExprWarning[] = [];
  const ctx = context(warnings);
  if (vectorized) markVectorized(ctx);
  try {
    return { result: body(ctx), warnings };
  } catch (error: unknown) {
    return { result: { error: String(error) }, warnings };
  }
}

function mask(exprs: readonly Expr[], rows: readonly Value[][]) {
  return (ctx: EvalContext): boolean[] => {
    const keep: boolean[] = [];
    holdMask(exprs, rows, ctx, keep);
    return keep;
  };
}

function projected(exprs: readonly Expr[], rows: readonly Value[][], limit: bigint | null) {
  return (ctx: EvalContext): Value[][] => {
    const fields: Compiled[] = exprs.map((expr) => ({ expr, subs: [] }));
    const vec = batchProjection(fields, rows, limit, ctx);
    const out: Value[][] = [];
    const count = limit === null ? rows.length : Math.min(rows.length, Number(limit));
    for (let r = 0; r < count; r++) {
      const batched = vec?.row(r);
      const rowCtx = Object.create(ctx, { row: { value: rows[r] } }) as EvalContext;
      out.push(exprs.map((e, j) => batched?.[j] ?? evaluate(e, rowCtx)));
    }
    return out;
  };
}

const lit = (n: number): Expr => integerLiteral(String(n));
const filters: readonly (readonly Expr[])[] = [
  [call(">", col(0), lit(10))],
  [call(">", col(0), lit(-50)), call("<", call("*", col(0), col(2)), lit(100))],
  [call("or", call("isnull", col(1)), call("between", col(3), decimalLiteral("-10.5"),
    decimalLiteral("20.25")))],
  [call("in", col(1), lit(1), lit(3), lit(5), lit(7)), call("not", call("isnull", col(4)))],
  // Strings compared with numbers: the one bad row warns (1292) in one batch only.
  [call(">", col(4), lit(50))],
  [call("<=>", col(4), stringLiteral("42"))],
  // An unsigned result below 0: 1690 on the first row that has one.
  [call(">", call("-", col(1), lit(25)), lit(3))],
  // Guarded by the first conjunct: the overflow never happens on the rows it keeps.
  [call(">=", col(1), lit(25)), call(">", call("-", col(1), lit(25)), lit(3))],
  [call("xor", call(">", col(2), lit(0)), call("<", col(3), lit(0)))],
  // A vectorized lead, then conjuncts checked per row (a string that warns, a DECIMAL).
  [call(">", col(0), lit(0)), call(">", col(4), lit(50))],
  [call(">", col(1), lit(10)), call(">", call("*", col(3), lit(2)), lit(5)),
    call("<", col(0), lit(50))],
  [call("<", col(0), lit(90)), call(">", col(4), lit(20)),
    call(">", call("-", col(1), lit(25)), lit(3))],
];

describe("vec_filter", () => {
  test("holdMask equals the row path: rows, warnings and errors", opts, () => {
    let warned = 0;
    let failed = 0;
    for (const seed of [1, 2, 3, 4]) {
      const rows = rowsOf(seed, 2600, seed === 1 ? -1 : 1500 + seed);
      for (const exprs of filters) {
        const want = outcome(false, mask(exprs, rows));
        const got = outcome(true, mask(exprs, rows));
        assert.deepEqual(got, want, `seed ${seed}, ${exprs.length} conjuncts`);
        if (want.warnings.length > 0) warned++;
        if (!Array.isArray(want.result)) failed++;
      }
    }
    assert.ok(warned >= 3 && failed >= 4, `${warned} warned, ${failed} failed`);
  });

  test("batchProjection equals the row path, with LIMIT", opts, () => {
    const exprs = [call("+", col(0), col(1)), call("*", col(3), col(2)),
      call("concat", col(4), stringLiteral("!")), call("-", col(1), lit(10)),
      call("+", col(4), lit(1)), call("*", col(0), lit(3))];
    let warned = 0;
    let failed = 0;
    for (const seed of [5, 6]) {
      const rows = rowsOf(seed, 2300, 2100);
      for (const some of [[0, 1, 2], [0, 5], [4, 2], [3], [1, 3]]) {
        for (const limit of [null, 7n, 1500n]) {
          const list = some.map((i) => exprs[i]!);
          const want = outcome(false, projected(list, rows, limit));
          const got = outcome(true, projected(list, rows, limit));
          assert.deepEqual(got, want, `seed ${seed}, fields ${some.join(",")}, ${limit}`);
          if (want.warnings.length > 0) warned++;
          if (!Array.isArray(want.result)) failed++;
        }
      }
    }
    assert.ok(warned >= 2 && failed >= 2, `${warned} warned, ${failed} failed`);
  });

  test("pairFilter: a join's pairs filtered and accepted as the row path does", opts, () => {
    const conjuncts = (exprs: readonly Expr[]) =>
      exprs.map((expr) => ({ compiled: { expr, subs: [] } as Compiled }));
    // Accepts rows until `cap` (then throws, as a join past its memory quota).
    const run = (exprs: readonly Expr[], rows: Value[][], cap: number) =>
      (ctx: EvalContext): Value[][] => {
        const out: Value[][] = [];
        const accept = (row: Value[]): void => {
          if (out.length >= cap) throw new Error(`cap ${cap}`);
          out.push(row);
        };
        const batched = pairFilter(conjuncts(exprs), ctx, accept);
        for (const row of rows) {
          if (batched !== null) {
            batched.push(row);
            continue;
          }
          const rowCtx = Object.create(ctx, { row: { value: row } }) as EvalContext;
          if (exprs.every((e) => isTrue(evaluate(e, rowCtx), ctx.warn) === true)) accept(row);
        }
        batched?.flush();
        return out;
      };
    const rows = rowsOf(12, 2500, -1);
    for (const exprs of filters.filter((f) => f.every(kernelExpr))) {
      for (const cap of [5, 700, 5000]) {
        const want = outcome(false, run(exprs, rows, cap));
        const got = outcome(true, run(exprs, rows, cap));
        assert.deepEqual(got, want, `${exprs.length} conjuncts, cap ${cap}`);
      }
    }
    const marked = context([]);
    markVectorized(marked);
    assert.equal(pairFilter(conjuncts([call(">", col(4), lit(1))]), marked, () => {}), null);
    assert.notEqual(pairFilter(conjuncts([call(">", col(0), lit(1))]), marked, () => {}), null);
  });

  test("unmarked contexts and impure expressions run row at a time", opts, () => {
    const rows = rowsOf(9, 3000, -1);
    const ctx = context([]);
    assert.equal(isVectorized(ctx), false);
    markVectorized(ctx);
    assert.equal(isVectorized(Object.create(ctx) as EvalContext), true);
    const setvar = call("setvar", stringLiteral("v"), col(0));
    assert.equal(pureExpr(setvar), false);
    assert.equal(pureExpr(call(">", col(0), lit(1))), true);
    const before = { ...vecFilterStats };
    holdMask([call(">", setvar, lit(1))], rows, ctx, []);
    assert.deepEqual(vecFilterStats, before);
    assert.equal(batchProjection([{ expr: setvar, subs: [] }], rows, null, ctx), null);
    holdMask([call(">", col(0), lit(1))], rows, ctx, []);
    assert.equal(vecFilterStats.vectorized, before.vectorized + 3);
    // Strings are left to the row path (the kernels would run them per row).
    assert.equal(kernelExpr(call(">", col(4), lit(1))), false);
    assert.equal(kernelExpr(call("and", call("isnull", col(4)), call("<", col(2), lit(1)))),
      true);
    // A batch that fails (1690) runs again row at a time, and fails there.
    const overflow = call(">", call("-", col(1), lit(25)), lit(3));
    assert.throws(() => holdMask([overflow], rows, ctx, []), /BIGINT UNSIGNED value/);
    assert.equal(vecFilterStats.rowBatches, before.rowBatches + 1);
  });
});
