/**
 * Unit tests of the column batch (chunk.ts) and vectorized evaluation (vec_eval.ts):
 * a `Column` keeps numbers typed and gives back equal `Value`s (integers past 2^53 and
 * other kinds as values), a `Chunk` filters through its selection vector; each kernel
 * (column, constant, comparisons, <=>, AND / OR / XOR / NOT with NULLs, IS NULL / TRUE /
 * FALSE, BETWEEN, IN, LIKE, + - * on integers, DOUBLEs and DECIMALs, generic built-ins)
 * returns exactly `evaluate`'s value on every row, and anything that warns (a truncated
 * string) or fails (1690 overflow, an unsigned result below 0) aborts the batch with
 * `VecAbort` or the error — except on rows AND / OR never evaluate, as the row
 * evaluator short-circuits.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { buildCall } from "../build.ts";
import { ExprError, type ExprWarning } from "../errors.ts";
import { evaluate } from "../evaluate.ts";
import { type EvalContext, type Expr, columnRef, decimalLiteral, doubleLiteral,
  integerLiteral, nullLiteral, stringLiteral } from "../expr.ts";
import { resolveTimeZone } from "../temporal_tz.ts";
import { type FieldType, TypeCode, dateTimeType, decimalType, doubleType, intType,
  stringType } from "../types.ts";
import type { Value } from "../value.ts";
import { Chunk, Column, Tag } from "./chunk.ts";
import { VecAbort, type VecEnv, abortOnWarning, evalVec } from "./vec_eval.ts";

const opts = { timeout: 30_000 };

const I = (v: number | bigint): Value => ({ kind: "int", value: BigInt(v) });
const U = (v: number | bigint): Value => ({ kind: "uint", value: BigInt(v) });
const D = (v: number): Value => ({ kind: "double", value: v });
const S = (v: string): Value => ({ kind: "string", value: v });
const N = (unscaled: bigint, scale: number): Value => ({ kind: "decimal", unscaled, scale });

const zone = resolveTimeZone("+02:00")!;

function context(warn: (w: ExprWarning) => void, row: () => readonly Value[]): EvalContext {
  return {
    warn, timeZone: zone,
    get row(): readonly Value[] {
      return row();
    },
    statementTime: { year: 2024, month: 1, day: 1, hour: 0, minute: 0, second: 0,
      microsecond: 0 },
    database: null, user: "u", currentUser: "u", connectionId: 1, version: "v",
    lastInsertId: 0n, setLastInsertId: () => undefined, setUserVariable: () => undefined,
  };
}

/** Columns: a INT, b BIGINT UNSIGNED, d DOUBLE, n DECIMAL(8,2), s VARCHAR, ts TIMESTAMP. */
const types: readonly FieldType[] = [intType({ length: 20 }),
  intType({ length: 20, unsigned: true }), doubleType(), decimalType(8, { scale: 2 }),
  stringType(20), { ...dateTimeType(0), code: TypeCode.Timestamp }];
const names = ["a", "b", "d", "n", "s", "ts"];
const col = (i: number): Expr => columnRef(i, names[i]!, types[i]!);

function call(name: string, ...args: Expr[]): Expr {
  const built = buildCall(name, args);
  if (built.kind !== "ok") throw new Error(`cannot build ${name}`);
  return built.expr;
}

const rows: readonly (readonly Value[])[] = [
  [I(1), U(2), D(1.5), N(150n, 2), S("1.5"), null],
  [I(-3), U(0), D(-0), N(-1n, 2), S("abc"), { kind: "datetime", fsp: 0, utc: true,
    value: { year: 2024, month: 5, day: 6, hour: 23, minute: 0, second: 0, microsecond: 0 } }],
  [null, null, null, null, null, null],
  [I(2n ** 60n), U(2n ** 64n - 1n), D(1e300), N(99_999_999n, 2), S("A"), null],
  [I(0), U(7), D(0), N(0n, 2), S("a"), null],
];

function chunkOf(data: readonly (readonly Value[])[]): Chunk {
  const width = data[0]?.length ?? 0;
  const columns: Column[] = [];
  for (let c = 0; c < width; c++) {
    const column = new Column(data.length);
    data.forEach((r, i) => column.set(i, r[c]!));
    columns.push(column);
  }
  return new Chunk(columns, data.length);
}

function envOf(chunk: Chunk): VecEnv {
  const env: VecEnv = {
    ctx: context(abortOnWarning, () => chunk.rowAt(env.current)), chunk, current: 0,
  };
  return env;
}

/** What `evaluate` gives on `row`: its value, or the warning / error it raised. */
function reference(expr: Expr, row: readonly Value[]): Value | "warns" | "fails" {
  const warnings: ExprWarning[] = [];
  try {
    const v = evaluate(expr, context((w) => warnings.push(w), () => row));
    return warnings.length > 0 ? "warns" : v;
  } catch (error: unknown) {
    if (error instanceof ExprError) return "fails";
    throw error;
  }
}

/**
 * Checks `expr` over `data`: equal to `evaluate` on every row when no row warns or fails,
 * else the batch aborts.
 */
function check(expr: Expr, data: readonly (readonly Value[])[] = rows): void {
  const want = data.map((r) => reference(expr, r));
  const chunk = chunkOf(data);
  const env = envOf(chunk);
  if (want.some((w) => w === "warns" || w === "fails")) {
    assert.throws(() => evalVec(expr, chunk.sel, chunk.selCount, env),
      (e: unknown) => e instanceof VecAbort || e instanceof ExprError);
    return;
  }
  const got = evalVec(expr, chunk.sel, chunk.selCount, env);
  data.forEach((_, i) => assert.deepStrictEqual(got.valueAt(i), want[i], `row ${i}`));
}

describe("Column and Chunk", () => {
  test("numbers are typed, other values kept, all read back equal", opts, () => {
    const values: Value[] = [null, I(5), U(3), D(-0), D(2.5), I(2n ** 53n), I(-(2n ** 53n)),
      U(2n ** 64n - 1n), N(5n, 1), S("x"), { kind: "datetime", fsp: 0, date: true,
        value: { year: 2000, month: 1, day: 2, hour: 0, minute: 0, second: 0,
          microsecond: 0 } }];
    const c = new Column(values.length);
    values.forEach((v, i) => c.set(i, v));
    assert.deepEqual([...c.tags], [Tag.null, Tag.int, Tag.uint, Tag.double, Tag.double,
      Tag.other, Tag.other, Tag.other, Tag.other, Tag.other, Tag.other]);
    values.forEach((v, i) => assert.deepStrictEqual(c.valueAt(i), v));
    assert.ok(Object.is(c.nums[3], -0));
    const sel = new Int32Array([1, 2, 4]);
    assert.equal(c.allNumeric(sel, 3), true);
    assert.equal(c.allNumeric(new Int32Array([1, 8]), 2), false);
  });

  test("a constant column repeats its value", opts, () => {
    const c = Column.constant(S("k"), 3);
    assert.deepStrictEqual([c.valueAt(0), c.valueAt(2)], [S("k"), S("k")]);
    assert.equal(Column.constant(null, 2).isNull(1), true);
  });

  test("filter narrows the selection vector in order; rowAt rebuilds a row", opts, () => {
    const chunk = chunkOf(rows);
    chunk.filter((r) => r % 2 === 0);
    assert.deepEqual([...chunk.sel.subarray(0, chunk.selCount)], [0, 2, 4]);
    chunk.filter((r) => r !== 2);
    assert.deepEqual([...chunk.sel.subarray(0, chunk.selCount)], [0, 4]);
    assert.deepStrictEqual(chunk.rowAt(3), [...rows[3]!]);
  });
});

describe("vectorized evaluation equals evaluate", () => {
  test("columns and constants (TIMESTAMP read in the session zone)", opts, () => {
    for (let i = 0; i < names.length; i++) check(col(i));
    check(integerLiteral("42"));
    check(nullLiteral());
    check(stringLiteral("z"));
    check(decimalLiteral("1.25"));
  });

  test("comparisons and <=> with NULLs, across kinds", opts, () => {
    for (const op of ["=", "<>", "<", "<=", ">", ">=", "<=>"]) {
      check(call(op, col(0), integerLiteral("0")));
      check(call(op, col(0), col(1)));
      check(call(op, col(2), col(0)));
      check(call(op, col(3), decimalLiteral("0.01")));
      check(call(op, col(0), nullLiteral()));
      check(call(op, col(4), stringLiteral("a")));
    }
  });

  test("a string compared with a number warns: the batch aborts", opts, () => {
    check(call("=", col(4), integerLiteral("1")));
    const chunk = chunkOf(rows);
    assert.throws(() => evalVec(call("=", col(4), integerLiteral("1")), chunk.sel,
      chunk.selCount, envOf(chunk)), VecAbort);
  });

  test("AND / OR / XOR / NOT follow three-valued logic", opts, () => {
    const p = call(">", col(0), integerLiteral("0"));
    const q = call("<", col(2), integerLiteral("1"));
    for (const op of ["and", "or", "xor"]) {
      check(call(op, p, q));
      check(call(op, q, nullLiteral()));
      check(call(op, nullLiteral(), p));
    }
    check(call("not", p));
    check(call("not", col(3)));
    check(call("istrue", col(0)));
    check(call("isfalse", col(2)));
  });

  test("AND / OR do not evaluate what the left side decided", opts, () => {
    // Row 1 alone has s = 'abc', whose number reading warns; a <= 0 there, so with
    // `a > 0 AND …` the warning never happens for it (nor on row 3, where a is big).
    const data = [rows[0]!, rows[1]!, rows[4]!];
    const warnsOnRow1 = call("=", col(4), integerLiteral("0"));
    check(call("and", call(">", col(0), integerLiteral("0")), warnsOnRow1), data);
    check(call("or", call("<=", col(0), integerLiteral("0")), warnsOnRow1),
      [rows[1]!, rows[4]!]);
    const chunk = chunkOf(data);
    const got = evalVec(call("and", call(">", col(0), integerLiteral("0")), warnsOnRow1),
      chunk.sel, chunk.selCount, envOf(chunk));
    assert.deepStrictEqual(got.valueAt(1), I(0));
  });

  test("IS NULL, BETWEEN and IN with NULLs", opts, () => {
    check(call("isnull", col(0)));
    check(call("isnull", col(4)));
    check(call("between", col(0), integerLiteral("-5"), integerLiteral("1")));
    check(call("between", col(2), nullLiteral(), integerLiteral("1")));
    check(call("between", col(3), decimalLiteral("-0.01"), decimalLiteral("1.50")));
    check(call("in", col(0), integerLiteral("1"), integerLiteral("0")));
    check(call("in", col(0), integerLiteral("5"), nullLiteral()));
    check(call("in", col(2), doubleLiteral("1.5"), integerLiteral("0")));
    check(call("in", col(3), decimalLiteral("1.50")));
  });

  test("LIKE with a constant pattern, case-insensitive", opts, () => {
    check(call("like", col(4), stringLiteral("a%")));
    check(call("like", col(4), stringLiteral("_")));
    check(call("like", col(4), nullLiteral()));
  });

  test("+ - * on integers, DOUBLEs and DECIMALs", opts, () => {
    const small = rows.filter((_, i) => i !== 3);
    for (const op of ["+", "-", "*"]) {
      check(call(op, col(0), integerLiteral("3")), small);
      check(call(op, col(2), col(0)), small);
      check(call(op, col(3), col(0)), small);
      check(call(op, col(3), decimalLiteral("0.5")));
    }
    // Integers past 2^53 compute exactly (BigInt per row).
    check(call("+", col(0), integerLiteral("1")));
    check(call("*", col(0), integerLiteral("4")));
  });

  test("overflow (1690) and an unsigned result below zero abort the batch", opts, () => {
    const big = [rows[3]!];
    check(call("*", col(0), integerLiteral("100")), big);
    check(call("*", col(2), col(2)), big);
    check(call("-", col(1), integerLiteral("3")), [rows[0]!]);
    const chunk = chunkOf(big);
    assert.throws(() => evalVec(call("*", col(0), integerLiteral("100")), chunk.sel,
      chunk.selCount, envOf(chunk)), ExprError);
  });

  test("other built-ins run per row on vectorized arguments", opts, () => {
    check(call("concat", col(4), col(0)));
    check(call("if", call(">", col(0), integerLiteral("0")), col(3), col(0)));
    check(call("coalesce", col(0), col(1)));
    check(call("abs", col(0)));
    check(call("length", col(4)));
  });

  test("only the selected rows are evaluated", opts, () => {
    const chunk = chunkOf(rows);
    chunk.filter((r) => r === 0 || r === 2);
    // s = 'abc', 'A', 'a' (rows 1, 3, 4) would warn; they are not selected.
    const got = evalVec(call("=", col(4), integerLiteral("1")), chunk.sel, chunk.selCount,
      envOf(chunk));
    assert.deepStrictEqual(got.valueAt(0), I(0));
    assert.deepStrictEqual(got.valueAt(2), null);
  });
});
