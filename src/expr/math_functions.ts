/**
 * MySQL's mathematical functions beyond ABS, ROUND, FLOOR and CEIL (functions.ts): SQRT,
 * POW/POWER, EXP, LN, LOG, LOG2, LOG10, SIGN, PI, the trigonometric functions, DEGREES,
 * RADIANS, TRUNCATE, RAND and BIT_COUNT.
 *
 * They compute in DOUBLE, as MySQL does, and follow its edge cases: a logarithm of a
 * non-positive number is NULL with warning 3020 (LOG with base 1: 1365, division by 0),
 * SQRT of a negative and ASIN/ACOS outside [-1, 1] are NULL without a warning, and a
 * result that is not a finite DOUBLE (EXP(1000), POW(10, 400), POW(-8, 1/3), COT(0)) is
 * the 1690 error. TRUNCATE keeps ROUND's typing (integers stay integers, a DECIMAL keeps
 * at most its scale). RAND() draws from the session's generator (`EvalContext
 * .functions`); RAND(n) restarts MySQL's own generator from n, so its sequence is MySQL's.
 */
import {
  anyNullable,
  bigintArg,
  constantInteger,
  doubleArg,
  doubleOf,
  doubleResult,
  int,
  intOf,
  intResult,
  outOfRange,
} from "./builtin_support.ts";
import type { Builtin, CallExpr, EvalState } from "./functions.ts";
import { MySqlRandom } from "./session_functions.ts";
import { decimalType, doubleType, intType } from "./types.ts";
import { type Value, decimalFits, pow10, toDouble, toInteger, toScaled } from "./value.ts";

/** A DOUBLE function of one argument; `f` returning null gives NULL (no warning). */
function unary(f: (x: number, state: EvalState) => number | null, nullable = false): Builtin {
  return {
    minArgs: 1, maxArgs: 1,
    infer: (args) => doubleOf(args, nullable || anyNullable(args)),
    run: (call, state) => {
      const x = doubleArg(state, call.args[0]!);
      if (x === null) return null;
      const r = f(x, state);
      return r === null ? null : doubleResult(r, call);
    },
  };
}

/** A DOUBLE function of two arguments. */
function binary(f: (x: number, y: number) => number): Builtin {
  return {
    minArgs: 2, maxArgs: 2,
    infer: (args) => doubleOf(args),
    run: (call, state) => {
      const x = doubleArg(state, call.args[0]!);
      const y = doubleArg(state, call.args[1]!);
      if (x === null || y === null) return null;
      return doubleResult(f(x, y), call);
    },
  };
}

/** The logarithm `f` of x > 0; otherwise NULL with MySQL's 3020. */
function logarithm(f: (x: number) => number): Builtin {
  return unary((x, state) => {
    if (x <= 0) {
      state.ctx.warn({ kind: "invalidLogarithmArgument" });
      return null;
    }
    return f(x);
  }, true);
}

/** LOG(x) is LN(x); LOG(b, x) is the logarithm of x in base b. */
const log: Builtin = {
  minArgs: 1, maxArgs: 2,
  infer: (args) => doubleOf(args, true),
  run: (call, state) => {
    const a = doubleArg(state, call.args[0]!);
    const b = call.args[1] === undefined ? undefined : doubleArg(state, call.args[1]);
    if (a === null || b === null) return null;
    if (b === undefined) {
      if (a <= 0) {
        state.ctx.warn({ kind: "invalidLogarithmArgument" });
        return null;
      }
      return doubleResult(Math.log(a), call);
    }
    if (a <= 0 || b <= 0) {
      state.ctx.warn({ kind: "invalidLogarithmArgument" });
      return null;
    }
    if (a === 1) {
      state.ctx.warn({ kind: "divisionByZero" });
      return null;
    }
    return doubleResult(Math.log(b) / Math.log(a), call);
  },
};

/** ATAN(x) or ATAN(y, x) (= ATAN2). */
const atan: Builtin = {
  minArgs: 1, maxArgs: 2,
  infer: (args) => doubleOf(args),
  run: (call, state) => {
    const y = doubleArg(state, call.args[0]!);
    const x = call.args[1] === undefined ? undefined : doubleArg(state, call.args[1]);
    if (y === null || x === null) return null;
    return doubleResult(x === undefined ? Math.atan(y) : Math.atan2(y, x), call);
  },
};

const sign: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => intOf(2, args),
  run: (call, state) => {
    const v = state.ev(call.args[0]!);
    if (v === null) return null;
    if (v.kind === "int" || v.kind === "uint") {
      return int(v.value > 0n ? 1n : v.value < 0n ? -1n : 0n);
    }
    if (v.kind === "decimal") {
      return int(v.unscaled > 0n ? 1n : v.unscaled < 0n ? -1n : 0n);
    }
    const x = toDouble(v, state.ctx.warn) ?? 0;
    return int(x > 0 ? 1n : x < 0 ? -1n : 0n);
  },
};

/** PI(): shown with 6 decimals, as MySQL's type says; the value is the full DOUBLE. */
const pi: Builtin = {
  minArgs: 0, maxArgs: 0,
  infer: () => doubleType({ length: 8, decimals: 6, nullable: false }),
  run: () => ({ kind: "double", value: Math.PI }),
};

/** The digits argument of TRUNCATE as a number clamped to ±100. */
function digitsOf(d: bigint): number {
  return Number(d > 100n ? 100n : d < -100n ? -100n : d);
}

/** TRUNCATE(X, D): X cut (toward zero) to D decimals; ROUND's result typing. */
const truncate: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: (args) => {
    const t = args[0]!.type;
    const nullable = anyNullable(args);
    const d = constantInteger(args[1]);
    if (t.kind === "int") return intType({ length: t.length, unsigned: t.unsigned, nullable });
    if (t.kind === "decimal") {
      const scale = d === undefined ? t.decimals : Math.min(Math.max(digitsOf(d), 0), t.decimals);
      return decimalType(t.precision - t.decimals + scale, { scale, nullable });
    }
    return doubleType({ nullable, decimals: d !== undefined && d >= 0n && d < 31n ? Number(d)
      : 31 });
  },
  run: (call, state) => {
    const v = state.ev(call.args[0]!);
    const d = bigintArg(state, call.args[1]!);
    if (v === null || d === null) return null;
    const digits = digitsOf(d);
    const warn = state.ctx.warn;
    switch (call.type.kind) {
      case "int": {
        const n = toInteger(v, warn) ?? 0n;
        if (digits >= 0) return intResult(n, call);
        const m = pow10(-digits);
        return intResult((n / m) * m, call);
      }
      case "decimal": {
        const s = toScaled(v, warn) ?? { unscaled: 0n, scale: 0 };
        const scale = call.type.decimals;
        // Cut toward zero at `digits`, then written at the result's scale.
        const cut = digits >= s.scale
          ? (scale >= s.scale ? s.unscaled * pow10(scale - s.scale)
            : s.unscaled / pow10(s.scale - scale))
          : (s.unscaled / pow10(s.scale - digits)) * pow10(scale - digits);
        if (!decimalFits(cut, scale)) outOfRange("DECIMAL", call);
        return { kind: "decimal", unscaled: cut, scale };
      }
      default: {
        const x = toDouble(v, warn) ?? 0;
        const f = 10 ** Math.abs(digits);
        const scaled = digits >= 0 ? x * f : x / f;
        if (!Number.isFinite(scaled)) return doubleResult(x, call);
        const cut = Math.trunc(scaled);
        return doubleResult(digits >= 0 ? cut / f : cut * f, call);
      }
    }
  },
};

/** The generator a RAND without functions in the context uses (a fixed start). */
function fallbackRandom(): MySqlRandom {
  return MySqlRandom.fromSeed(0n);
}

/**
 * RAND() and RAND(seed). A constant seed starts the generator once per statement and
 * continues it row after row; a seed read from a column restarts it on every row.
 */
const rand: Builtin = {
  minArgs: 0, maxArgs: 1,
  infer: () => doubleType({ nullable: false }),
  run: (call: CallExpr, state: EvalState): Value => {
    const functions = state.ctx.functions;
    const seedArg = call.args[0];
    if (seedArg === undefined) {
      return { kind: "double", value: functions?.random() ?? fallbackRandom().next() };
    }
    const seed = toInteger(state.ev(seedArg), state.ctx.warn) ?? 0n;
    const constantSeed = seedArg.kind === "constant";
    const generator = constantSeed && functions !== undefined ? functions.seeded(call, seed)
      : MySqlRandom.fromSeed(seed);
    return { kind: "double", value: generator.next() };
  },
};

/** BIT_COUNT(N): the set bits of N as an unsigned 64-bit integer. */
const bitCount: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => intOf(2, args),
  run: (call, state) => {
    const n = bigintArg(state, call.args[0]!);
    if (n === null) return null;
    let bits = BigInt.asUintN(64, n);
    let count = 0n;
    while (bits > 0n) {
      count += bits & 1n;
      bits >>= 1n;
    }
    return int(count);
  },
};

/** The math built-ins by name. */
export const mathBuiltins: ReadonlyArray<readonly [string, Builtin]> = [
  ["sqrt", unary((x) => (x < 0 ? null : Math.sqrt(x)), true)],
  ["pow", binary((x, y) => x ** y)],
  ["exp", unary((x) => Math.exp(x))],
  ["ln", logarithm(Math.log)],
  ["log", log],
  ["log2", logarithm(Math.log2)],
  ["log10", logarithm(Math.log10)],
  ["sign", sign],
  ["pi", pi],
  ["sin", unary(Math.sin)],
  ["cos", unary(Math.cos)],
  ["tan", unary(Math.tan)],
  ["cot", unary((x) => 1 / Math.tan(x))],
  ["asin", unary((x) => (x < -1 || x > 1 ? null : Math.asin(x)), true)],
  ["acos", unary((x) => (x < -1 || x > 1 ? null : Math.acos(x)), true)],
  ["atan", atan],
  ["atan2", { ...binary(Math.atan2) }],
  ["degrees", unary((x) => x * (180 / Math.PI))],
  ["radians", unary((x) => x * (Math.PI / 180))],
  ["truncate", truncate],
  ["rand", rand],
  ["bit_count", bitCount],
];

/** Other names of math built-ins. */
export const mathAliases: ReadonlyArray<readonly [string, string]> = [
  ["power", "pow"],
];
