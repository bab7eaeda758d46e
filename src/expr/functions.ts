/**
 * The built-in functions and operators: for each, its arity, how its result type follows
 * from its arguments' types (MySQL's type inference), and how it evaluates.
 *
 * Evaluation is row-at-a-time over the tree for now; the table is the seam where the
 * vectorized kernels of the shared evaluator will plug in ([T9]), one entry per built-in.
 * Arguments are evaluated through `EvalState.ev`, so operators that short-circuit (AND,
 * OR, CASE, IF, COALESCE) evaluate only what they need. Failures that end the statement
 * throw `ExprError`; recoverable problems (division by zero, truncated strings) are
 * warnings and yield NULL or a converted value, as in MySQL's non-strict SELECT.
 */
import { compareValues, likeMatch } from "./compare.ts";
import { Coercibility, aggregateCollations, callCollation, collationInfoOf, isCollationMix,
  sysconstCollationName, withCollation } from "./collation_derivation.ts";
import { jsonBuiltins } from "./json_functions.ts";
import { dateType, temporalAliases, temporalBuiltins } from "./temporal_functions.ts";
import { dateArithBuiltins } from "./date_arith.ts";
import { dateFormatBuiltins } from "./date_format.ts";
import { datePartAliases, datePartBuiltins } from "./date_parts.ts";
import { compareBuiltins } from "./compare_functions.ts";
import { infoBuiltins } from "./info_functions.ts";
import { mathAliases, mathBuiltins } from "./math_functions.ts";
import { regexpBuiltins } from "./regexp_functions.ts";
import { stringAliases, stringBuiltins } from "./string_functions.ts";
import { type BuildErrorReason, ExprError } from "./errors.ts";
import { type BuildOptions, type EvalContext, type Expr, exprText } from "./expr.ts";
import {
  type FieldType,
  TypeCode,
  charsOf,
  dateTimeType,
  decimalPrecisionMax,
  decimalScaleMax,
  decimalType,
  doubleType,
  intType,
  notFixedDecimals,
  nullType,
  stringType,
  withNullable,
} from "./types.ts";
import {
  type Value,
  boolValue,
  decimalFits,
  divideRounded,
  int64Max,
  int64Min,
  isTrue,
  pow10,
  rescale,
  stringValue,
  toDouble,
  toInteger,
  toScaled,
  toText,
  uint64Max,
} from "./value.ts";

/** A call node. */
export type CallExpr = Extract<Expr, { readonly kind: "call" }>;

/** What a built-in's evaluation sees: the context and a way to evaluate its arguments. */
export interface EvalState {
  readonly ctx: EvalContext;
  ev(expr: Expr): Value;
}

/** One built-in. `maxArgs` may be `Infinity`. */
export interface Builtin {
  readonly minArgs: number;
  readonly maxArgs: number;
  infer(args: readonly Expr[], options: BuildOptions): FieldType | BuildErrorReason;
  run(call: CallExpr, state: EvalState): Value;
}

type Scaled = { readonly unscaled: bigint; readonly scale: number };

function anyNullable(args: readonly Expr[]): boolean {
  return args.some((a) => a.type.nullable);
}

function outOfRange(
  typeName: "BIGINT" | "BIGINT UNSIGNED" | "DECIMAL" | "DOUBLE",
  call: CallExpr,
): never {
  throw new ExprError({ kind: "outOfRange", typeName, exprText: exprText(call) });
}

/** `value` as the call's integer result, or the 1690 error when it does not fit. */
function intResult(value: bigint, call: CallExpr): Value {
  if (call.type.unsigned) {
    if (value < 0n || value > uint64Max) outOfRange("BIGINT UNSIGNED", call);
    return { kind: "uint", value };
  }
  if (value < int64Min || value > int64Max) outOfRange("BIGINT", call);
  return { kind: "int", value };
}

function decimalResult(unscaled: bigint, call: CallExpr): Value {
  const scale = call.type.decimals;
  if (!decimalFits(unscaled, scale)) outOfRange("DECIMAL", call);
  return { kind: "decimal", unscaled, scale };
}

function doubleResult(value: number, call: CallExpr): Value {
  if (!Number.isFinite(value)) outOfRange("DOUBLE", call);
  return { kind: "double", value };
}

/** The numeric kind arithmetic on `types` computes in (MySQL's `Item_num_op`). */
function numericKind(types: readonly FieldType[]): "int" | "decimal" | "double" {
  if (types.some((t) => t.kind !== "int" && t.kind !== "decimal")) return "double";
  return types.some((t) => t.kind === "decimal") ? "decimal" : "int";
}

/** Digits before the point of a numeric type. */
function intDigits(type: FieldType): number {
  if (type.kind === "decimal") return type.precision - type.decimals;
  if (type.kind === "int") return type.length;
  return type.length;
}

function scaleOf(type: FieldType): number {
  return type.kind === "decimal" ? type.decimals : 0;
}

/**
 * Converts `value` to the kind of `type` (the aggregated type of CASE, IF, COALESCE …),
 * so every row of a column has the column's representation: `IF(c, 1, 2.50)` is `1.00`.
 */
export function coerce(value: Value, type: FieldType, ctx: EvalContext): Value {
  if (value === null) return null;
  switch (type.kind) {
    case "null":
      return value;
    case "int":
      if (value.kind === "int" || value.kind === "uint") return value;
      return { kind: type.unsigned ? "uint" : "int", value: toInteger(value, ctx.warn) ?? 0n };
    case "decimal": {
      const scaled = toScaled(value, ctx.warn);
      if (scaled === null || scaled === undefined) return value;
      return { kind: "decimal", unscaled: rescale(scaled.unscaled, scaled.scale, type.decimals),
        scale: type.decimals };
    }
    case "double":
      return value.kind === "double" ? value
        : { kind: "double", value: toDouble(value, ctx.warn) ?? 0 };
    case "string":
      return value.kind === "string" ? value : stringValue(toText(value) ?? "");
    case "datetime":
      return value;
  }
}

/** The common type of the branches of CASE, IF, IFNULL and COALESCE. */
export function aggregateTypes(types: readonly FieldType[], nullable: boolean): FieldType {
  const known = types.filter((t) => t.kind !== "null");
  if (known.length === 0) return nullType;
  const maxLength = Math.max(...known.map((t) => t.length));
  if (known.every((t) => t.kind === "int")) {
    return intType({ length: maxLength, unsigned: known.every((t) => t.unsigned), nullable });
  }
  if (known.every((t) => t.kind === "datetime")) {
    // All DATE: a DATE (its type code makes the wire print the date alone).
    if (known.every((t) => t.code === TypeCode.Date)) return dateType(nullable);
    return dateTimeType(Math.max(...known.map((t) => t.decimals)), { nullable });
  }
  if (known.some((t) => t.kind === "string" || t.kind === "datetime")) {
    // The strings' collation (UNION columns): MySQL's aggregation, the default on a mix.
    const base = stringType(Math.max(...known.map(charsOf)), { nullable });
    const info = aggregateCollations(types.map(collationInfoOf), { operation: "UNION",
      forComparison: false });
    return isCollationMix(info) ? base : withCollation(base, info);
  }
  if (known.some((t) => t.kind === "double")) return doubleType({ nullable });
  const scale = Math.max(...known.map(scaleOf));
  const digits = Math.max(...known.map(intDigits));
  return decimalType(digits + scale, { scale, nullable });
}

// ---- arithmetic ------------------------------------------------------------------------

interface ArithOps {
  int(a: bigint, b: bigint): bigint | null;
  decimal(a: Scaled, b: Scaled, scale: number): bigint | null;
  double(a: number, b: number): number | null;
}

/** Evaluates a binary arithmetic call; an op returning null means division by zero. */
function runArith(call: CallExpr, state: EvalState, ops: ArithOps): Value {
  const a = state.ev(call.args[0]!);
  const b = state.ev(call.args[1]!);
  if (a === null || b === null) return null;
  const warn = state.ctx.warn;
  let result: Value;
  switch (call.type.kind) {
    case "int": {
      const r = ops.int(toInteger(a, warn) ?? 0n, toInteger(b, warn) ?? 0n);
      result = r === null ? null : intResult(r, call);
      break;
    }
    case "decimal": {
      const sa = toScaled(a, warn);
      const sb = toScaled(b, warn);
      if (sa === undefined || sb === undefined) outOfRange("DECIMAL", call);
      if (sa === null || sb === null) return null;
      const r = ops.decimal(sa, sb, call.type.decimals);
      result = r === null ? null : decimalResult(r, call);
      break;
    }
    default: {
      const r = ops.double(toDouble(a, warn) ?? 0, toDouble(b, warn) ?? 0);
      result = r === null ? null : doubleResult(r, call);
    }
  }
  if (result === null) warn({ kind: "divisionByZero" });
  return result;
}

function arithInfer(op: "+" | "-" | "*" | "%"): Builtin["infer"] {
  return (args) => {
    const [a, b] = [args[0]!.type, args[1]!.type];
    const nullable = anyNullable(args) || op === "%";
    const kind = numericKind([a, b]);
    if (kind === "double") return doubleType({ nullable });
    if (kind === "decimal") {
      if (op === "*") {
        const scale = Math.min(scaleOf(a) + scaleOf(b), decimalScaleMax);
        return decimalType(intDigits(a) + intDigits(b) + scale, { scale, nullable });
      }
      const scale = Math.max(scaleOf(a), scaleOf(b));
      const digits = Math.max(intDigits(a), intDigits(b)) + (op === "%" ? 0 : 1);
      return decimalType(digits + scale, { scale, nullable });
    }
    const unsigned = a.unsigned || b.unsigned;
    const length = op === "*" ? a.length + b.length : Math.max(a.length, b.length) + 1;
    return intType({ length: Math.min(length, 21), unsigned: op === "%" ? a.unsigned : unsigned,
      nullable });
  };
}

const plus: Builtin = {
  minArgs: 2, maxArgs: 2, infer: arithInfer("+"),
  run: (call, state) => runArith(call, state, {
    int: (a, b) => a + b,
    decimal: (a, b, s) => rescale(a.unscaled, a.scale, s) + rescale(b.unscaled, b.scale, s),
    double: (a, b) => a + b,
  }),
};

const minus: Builtin = {
  minArgs: 2, maxArgs: 2, infer: arithInfer("-"),
  run: (call, state) => runArith(call, state, {
    int: (a, b) => a - b,
    decimal: (a, b, s) => rescale(a.unscaled, a.scale, s) - rescale(b.unscaled, b.scale, s),
    double: (a, b) => a - b,
  }),
};

const times: Builtin = {
  minArgs: 2, maxArgs: 2, infer: arithInfer("*"),
  run: (call, state) => runArith(call, state, {
    int: (a, b) => a * b,
    decimal: (a, b, s) => rescale(a.unscaled * b.unscaled, a.scale + b.scale, s),
    double: (a, b) => a * b,
  }),
};

/** `a / b` exactly at `scale` digits, rounded half away from zero; null when b is 0. */
function divideScaled(a: Scaled, b: Scaled, scale: number): bigint | null {
  if (b.unscaled === 0n) return null;
  const exponent = scale - a.scale + b.scale;
  return exponent >= 0
    ? divideRounded(a.unscaled * pow10(exponent), b.unscaled)
    : divideRounded(a.unscaled, b.unscaled * pow10(-exponent));
}

const divide: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: (args, options) => {
    const [a, b] = [args[0]!.type, args[1]!.type];
    if (numericKind([a, b]) === "double") return doubleType({ nullable: true });
    const scale = Math.min(scaleOf(a) + options.divPrecisionIncrement, decimalScaleMax);
    return decimalType(intDigits(a) + scaleOf(b) + scale, { scale, nullable: true });
  },
  run: (call, state) => runArith(call, state, {
    int: () => null,
    decimal: divideScaled,
    double: (a, b) => (b === 0 ? null : a / b),
  }),
};

const intDivide: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: (args) => intType({ length: Math.min(args[0]!.type.length, 21),
    unsigned: args[0]!.type.unsigned || args[1]!.type.unsigned, nullable: true }),
  run: (call, state) => {
    const a = state.ev(call.args[0]!);
    const b = state.ev(call.args[1]!);
    if (a === null || b === null) return null;
    const warn = state.ctx.warn;
    const kind = numericKind([call.args[0]!.type, call.args[1]!.type]);
    let quotient: bigint | null;
    if (kind === "double") {
      const [x, y] = [toDouble(a, warn) ?? 0, toDouble(b, warn) ?? 0];
      if (y === 0) quotient = null;
      else {
        const q = Math.trunc(x / y);
        if (!Number.isFinite(q)) outOfRange("BIGINT", call);
        quotient = BigInt(q);
      }
    } else {
      const sa = toScaled(a, warn) ?? { unscaled: 0n, scale: 0 };
      const sb = toScaled(b, warn) ?? { unscaled: 0n, scale: 0 };
      const scale = Math.max(sa.scale, sb.scale);
      const y = rescale(sb.unscaled, sb.scale, scale);
      quotient = y === 0n ? null : rescale(sa.unscaled, sa.scale, scale) / y;
    }
    if (quotient === null) {
      warn({ kind: "divisionByZero" });
      return null;
    }
    return intResult(quotient, call);
  },
};

const modulo: Builtin = {
  minArgs: 2, maxArgs: 2, infer: arithInfer("%"),
  run: (call, state) => runArith(call, state, {
    int: (a, b) => (b === 0n ? null : a % b),
    decimal: (a, b, s) => {
      const y = rescale(b.unscaled, b.scale, s);
      return y === 0n ? null : rescale(a.unscaled, a.scale, s) % y;
    },
    double: (a, b) => (b === 0 ? null : a % b),
  }),
};

const negate: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => {
    const t = args[0]!.type;
    if (t.kind === "int") return intType({ length: t.length + 1, nullable: t.nullable });
    if (t.kind === "decimal") return decimalType(t.precision, { scale: t.decimals,
      nullable: t.nullable });
    return doubleType({ nullable: t.nullable });
  },
  run: (call, state) => {
    const v = state.ev(call.args[0]!);
    if (v === null) return null;
    switch (call.type.kind) {
      case "int":
        return intResult(-(toInteger(v, state.ctx.warn) ?? 0n), call);
      case "decimal": {
        const s = toScaled(v, state.ctx.warn) ?? { unscaled: 0n, scale: call.type.decimals };
        return decimalResult(-rescale(s.unscaled, s.scale, call.type.decimals), call);
      }
      default:
        return doubleResult(-(toDouble(v, state.ctx.warn) ?? 0), call);
    }
  },
};

// ---- bit operators ---------------------------------------------------------------------

/**
 * A value as the unsigned 64-bit integer MySQL's bit operators work on: numbers rounded
 * (a DOUBLE or DECIMAL past the BIGINT range saturates at its bound), strings read as
 * integers (with 1292 for trailing garbage), negatives in two's complement.
 */
function bitOperand(value: Exclude<Value, null>, warn: EvalState["ctx"]["warn"]): bigint {
  const n = toInteger(value, warn) ?? 0n;
  const clamped = n > uint64Max ? uint64Max : n < int64Min ? int64Min : n;
  return BigInt.asUintN(64, clamped);
}

/** `a op b` over unsigned 64-bit integers (`|`, `&`, `^`, `<<`, `>>`); BIGINT UNSIGNED. */
function bitOperator(op: (a: bigint, b: bigint) => bigint): Builtin {
  return {
    minArgs: 2, maxArgs: 2,
    infer: () => intType({ length: 21, unsigned: true, nullable: true }),
    run: (call, state) => {
      const a = state.ev(call.args[0]!);
      const b = state.ev(call.args[1]!);
      if (a === null || b === null) return null;
      const warn = state.ctx.warn;
      return { kind: "uint", value: BigInt.asUintN(64, op(bitOperand(a, warn),
        bitOperand(b, warn))) };
    },
  };
}

/** `~a`: the bits of `a` as an unsigned 64-bit integer, inverted. */
const bitNot: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: () => intType({ length: 21, unsigned: true, nullable: true }),
  run: (call, state) => {
    const a = state.ev(call.args[0]!);
    if (a === null) return null;
    return { kind: "uint", value: BigInt.asUintN(64, ~bitOperand(a, state.ctx.warn)) };
  },
};

// ---- comparison and logic --------------------------------------------------------------

const boolType = (nullable: boolean): FieldType => intType({ length: 1, nullable });

function comparison(test: (c: number) => boolean): Builtin {
  return {
    minArgs: 2, maxArgs: 2,
    infer: (args) => boolType(anyNullable(args)),
    run: (call, state) => {
      const c = compareValues(state.ev(call.args[0]!), state.ev(call.args[1]!),
        { warn: state.ctx.warn, collation: callCollation(call) });
      return c === null ? null : boolValue(test(c));
    },
  };
}

const nullSafeEqual: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: () => boolType(false),
  run: (call, state) => {
    const a = state.ev(call.args[0]!);
    const b = state.ev(call.args[1]!);
    if (a === null || b === null) return boolValue(a === b);
    return boolValue(compareValues(a, b, { warn: state.ctx.warn,
      collation: callCollation(call) }) === 0);
  },
};

function truth(state: EvalState, expr: Expr): boolean | null {
  return isTrue(state.ev(expr), state.ctx.warn);
}

const and: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: (args) => boolType(anyNullable(args)),
  run: (call, state) => {
    const a = truth(state, call.args[0]!);
    if (a === false) return boolValue(false);
    const b = truth(state, call.args[1]!);
    if (b === false) return boolValue(false);
    return a === null || b === null ? null : boolValue(true);
  },
};

const or: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: (args) => boolType(anyNullable(args)),
  run: (call, state) => {
    const a = truth(state, call.args[0]!);
    if (a === true) return boolValue(true);
    const b = truth(state, call.args[1]!);
    if (b === true) return boolValue(true);
    return a === null || b === null ? null : boolValue(false);
  },
};

const xor: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: (args) => boolType(anyNullable(args)),
  run: (call, state) => {
    const a = truth(state, call.args[0]!);
    const b = truth(state, call.args[1]!);
    return a === null || b === null ? null : boolValue(a !== b);
  },
};

const not: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => boolType(anyNullable(args)),
  run: (call, state) => {
    const a = truth(state, call.args[0]!);
    return a === null ? null : boolValue(!a);
  },
};

function isTest(test: (v: Value, state: EvalState) => boolean): Builtin {
  return {
    minArgs: 1, maxArgs: 1,
    infer: () => boolType(false),
    run: (call, state) => boolValue(test(state.ev(call.args[0]!), state)),
  };
}

const between: Builtin = {
  minArgs: 3, maxArgs: 3,
  infer: (args) => boolType(anyNullable(args)),
  run: (call, state) => {
    const x = state.ev(call.args[0]!);
    const options = { warn: state.ctx.warn, collation: callCollation(call) };
    const low = compareValues(x, state.ev(call.args[1]!), options);
    const high = compareValues(x, state.ev(call.args[2]!), options);
    const ge = low === null ? null : low >= 0;
    const le = high === null ? null : high <= 0;
    if (ge === false || le === false) return boolValue(false);
    return ge === null || le === null ? null : boolValue(true);
  },
};

const inList: Builtin = {
  minArgs: 2, maxArgs: Infinity,
  infer: (args) => boolType(anyNullable(args)),
  run: (call, state) => {
    const x = state.ev(call.args[0]!);
    if (x === null) return null;
    let sawNull = false;
    const options = { warn: state.ctx.warn, collation: callCollation(call) };
    for (const item of call.args.slice(1)) {
      const c = compareValues(x, state.ev(item), options);
      if (c === 0) return boolValue(true);
      if (c === null) sawNull = true;
    }
    return sawNull ? null : boolValue(false);
  },
};

const like: Builtin = {
  minArgs: 2, maxArgs: 3,
  infer: (args) => boolType(anyNullable(args)),
  run: (call, state) => {
    const text = toText(state.ev(call.args[0]!));
    const pattern = toText(state.ev(call.args[1]!));
    const escape = call.args[2] === undefined ? "\\" : toText(state.ev(call.args[2]));
    if (text === null || pattern === null || escape === null) return null;
    return boolValue(likeMatch(text, pattern, { escape: [...escape][0] ?? "\\",
      collation: callCollation(call) }));
  },
};

// ---- control flow ----------------------------------------------------------------------

/** Searched CASE: arguments are `when, then` pairs, then the ELSE value if any. */
const caseWhen: Builtin = {
  minArgs: 2, maxArgs: Infinity,
  infer: (args) => {
    const results = args.filter((_, i) => i % 2 === 1 || i === args.length - 1);
    const hasElse = args.length % 2 === 1;
    const types = results.map((a) => a.type);
    return aggregateTypes(types, !hasElse || types.some((t) => t.nullable));
  },
  run: (call, state) => {
    const args = call.args;
    for (let i = 0; i + 1 < args.length; i += 2) {
      if (truth(state, args[i]!) === true) return coerce(state.ev(args[i + 1]!), call.type,
        state.ctx);
    }
    return args.length % 2 === 1 ? coerce(state.ev(args[args.length - 1]!), call.type, state.ctx)
      : null;
  },
};

const ifFunction: Builtin = {
  minArgs: 3, maxArgs: 3,
  infer: (args) => aggregateTypes([args[1]!.type, args[2]!.type],
    args[1]!.type.nullable || args[2]!.type.nullable),
  run: (call, state) => {
    const chosen = truth(state, call.args[0]!) === true ? call.args[1]! : call.args[2]!;
    return coerce(state.ev(chosen), call.type, state.ctx);
  },
};

const coalesce: Builtin = {
  minArgs: 1, maxArgs: Infinity,
  infer: (args) => aggregateTypes(args.map((a) => a.type), args.every((a) => a.type.nullable)),
  run: (call, state) => {
    for (const arg of call.args) {
      const v = state.ev(arg);
      if (v !== null) return coerce(v, call.type, state.ctx);
    }
    return null;
  },
};

const nullIf: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: (args) => withNullable(args[0]!.type, true),
  run: (call, state) => {
    const a = state.ev(call.args[0]!);
    const c = compareValues(a, state.ev(call.args[1]!), { warn: state.ctx.warn,
      collation: callCollation(call) });
    return c === 0 ? null : a;
  },
};

// ---- strings ---------------------------------------------------------------------------

function textArg(state: EvalState, expr: Expr): string | null {
  return toText(state.ev(expr));
}

function intArg(state: EvalState, expr: Expr): number | null {
  const v = toInteger(state.ev(expr), state.ctx.warn);
  if (v === null) return null;
  const clamped = v > 2n ** 40n ? 2n ** 40n : v < -(2n ** 40n) ? -(2n ** 40n) : v;
  return Number(clamped);
}

/** A string function of fixed arity whose result is NULL when any argument is. */
function stringFunction(
  arity: { readonly min: number; readonly max: number },
  length: (args: readonly Expr[]) => number,
  run: (texts: readonly string[], state: EvalState, call: CallExpr) => string | null,
): Builtin {
  return {
    minArgs: arity.min, maxArgs: arity.max,
    infer: (args) => stringType(length(args), { nullable: anyNullable(args) }),
    run: (call, state) => {
      const texts: string[] = [];
      for (const arg of call.args) {
        const t = textArg(state, arg);
        if (t === null) return null;
        texts.push(t);
      }
      const result = run(texts, state, call);
      return result === null ? null : stringValue(result);
    },
  };
}

const firstChars = (args: readonly Expr[]): number => charsOf(args[0]!.type);

/** Upper/lower case one code point at a time (MySQL's simple case mapping: `ß` stays). */
function mapCase(text: string, upper: boolean): string {
  let out = "";
  for (const ch of text) {
    const mapped = upper ? ch.toUpperCase() : ch.toLowerCase();
    out += [...mapped].length === 1 ? mapped : ch;
  }
  return out;
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return bytes;
}

function lengthFunction(measure: (text: string) => number): Builtin {
  return {
    minArgs: 1, maxArgs: 1,
    infer: (args) => intType({ length: 10, nullable: anyNullable(args) }),
    run: (call, state) => {
      const t = textArg(state, call.args[0]!);
      return t === null ? null : { kind: "int", value: BigInt(measure(t)) };
    },
  };
}

const concat = stringFunction({ min: 1, max: Infinity },
  (args) => args.reduce((n, a) => n + charsOf(a.type), 0), (texts) => texts.join(""));

const concatWs: Builtin = {
  minArgs: 2, maxArgs: Infinity,
  infer: (args) => stringType(args.reduce((n, a) => n + charsOf(a.type), 0),
    { nullable: args[0]!.type.nullable }),
  run: (call, state) => {
    const separator = textArg(state, call.args[0]!);
    if (separator === null) return null;
    const parts: string[] = [];
    for (const arg of call.args.slice(1)) {
      const t = textArg(state, arg);
      if (t !== null) parts.push(t);
    }
    return stringValue(parts.join(separator));
  },
};

const substring: Builtin = {
  minArgs: 2, maxArgs: 3,
  infer: (args) => stringType(firstChars(args), { nullable: anyNullable(args) }),
  run: (call, state) => {
    const text = textArg(state, call.args[0]!);
    const pos = intArg(state, call.args[1]!);
    const len = call.args[2] === undefined ? Infinity : intArg(state, call.args[2]);
    if (text === null || pos === null || len === null) return null;
    const chars = [...text];
    if (pos === 0 || len <= 0) return stringValue("");
    const start = pos > 0 ? pos - 1 : chars.length + pos;
    if (start < 0 || start >= chars.length) return stringValue("");
    return stringValue(chars.slice(start, len === Infinity ? undefined : start + len).join(""));
  },
};

function trimFunction(leading: boolean, trailing: boolean): Builtin {
  return stringFunction({ min: 1, max: 2 }, firstChars, (texts) => {
    const text = texts[0]!;
    const remove = texts[1] ?? " ";
    if (remove === "") return text;
    let start = 0;
    let end = text.length;
    if (leading) while (text.startsWith(remove, start) && start < end) start += remove.length;
    if (trailing) {
      while (end - remove.length >= start && text.endsWith(remove, end)) end -= remove.length;
    }
    return text.slice(start, end);
  });
}

function sideFunction(fromLeft: boolean): Builtin {
  return {
    minArgs: 2, maxArgs: 2,
    infer: (args) => stringType(firstChars(args), { nullable: anyNullable(args) }),
    run: (call, state) => {
      const text = textArg(state, call.args[0]!);
      const n = intArg(state, call.args[1]!);
      if (text === null || n === null) return null;
      if (n <= 0) return stringValue("");
      const chars = [...text];
      return stringValue((fromLeft ? chars.slice(0, n) : chars.slice(Math.max(chars.length - n,
        0))).join(""));
    },
  };
}

// ---- numbers ---------------------------------------------------------------------------

/** Rounds half to even, as C's `rint` (MySQL's ROUND of a DOUBLE). */
function rintHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

function constantInt(expr: Expr | undefined): number | undefined {
  if (expr === undefined) return 0;
  if (expr.kind !== "constant" || expr.value === null) return undefined;
  if (expr.value.kind !== "int" && expr.value.kind !== "uint") return undefined;
  const v = expr.value.value;
  return Number(v > 100n ? 100n : v < -100n ? -100n : v);
}

const abs: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => {
    const t = args[0]!.type;
    return t.kind === "int" || t.kind === "decimal" ? t : doubleType({ nullable: t.nullable });
  },
  run: (call, state) => {
    const v = state.ev(call.args[0]!);
    if (v === null) return null;
    switch (call.type.kind) {
      case "int": {
        const n = toInteger(v, state.ctx.warn) ?? 0n;
        return intResult(n < 0n ? -n : n, call);
      }
      case "decimal": {
        const s = toScaled(v, state.ctx.warn) ?? { unscaled: 0n, scale: call.type.decimals };
        const u = rescale(s.unscaled, s.scale, call.type.decimals);
        return decimalResult(u < 0n ? -u : u, call);
      }
      default:
        return doubleResult(Math.abs(toDouble(v, state.ctx.warn) ?? 0), call);
    }
  },
};

const round: Builtin = {
  minArgs: 1, maxArgs: 2,
  infer: (args) => {
    const t = args[0]!.type;
    const digits = constantInt(args[1]);
    const nullable = anyNullable(args);
    if (t.kind === "int") return intType({ length: t.length + 1, unsigned: t.unsigned, nullable });
    if (t.kind === "decimal") {
      const scale = digits === undefined ? t.decimals : Math.min(Math.max(digits, 0), t.decimals);
      return decimalType(t.precision - t.decimals + scale + 1, { scale, nullable });
    }
    return doubleType({ nullable, decimals: digits !== undefined && digits >= 0 ? digits
      : notFixedDecimals });
  },
  run: (call, state) => {
    const v = state.ev(call.args[0]!);
    const d = call.args[1] === undefined ? 0 : intArg(state, call.args[1]);
    if (v === null || d === null) return null;
    const warn = state.ctx.warn;
    switch (call.type.kind) {
      case "int": {
        const n = toInteger(v, warn) ?? 0n;
        if (d >= 0) return intResult(n, call);
        const m = pow10(Math.min(-d, 40));
        return intResult(divideRounded(n, m) * m, call);
      }
      case "decimal": {
        const s = toScaled(v, warn) ?? { unscaled: 0n, scale: 0 };
        const keep = Math.min(d, s.scale);
        let rounded = divideRounded(s.unscaled, pow10(s.scale - keep));
        let scale = keep;
        if (keep < 0) {
          rounded *= pow10(Math.min(-keep, decimalPrecisionMax));
          scale = 0;
        }
        return decimalResult(rescale(rounded, scale, call.type.decimals), call);
      }
      default: {
        const x = toDouble(v, warn) ?? 0;
        if (d >= 0) {
          const f = 10 ** Math.min(d, 308);
          const scaled = x * f;
          return doubleResult(Number.isFinite(scaled) ? rintHalfEven(scaled) / f : x, call);
        }
        const f = 10 ** Math.min(-d, 308);
        return doubleResult(rintHalfEven(x / f) * f, call);
      }
    }
  },
};

function floorCeil(up: boolean): Builtin {
  return {
    minArgs: 1, maxArgs: 1,
    infer: (args) => {
      const t = args[0]!.type;
      if (t.kind === "int") return t;
      if (t.kind === "decimal") {
        const digits = t.precision - t.decimals + 1;
        return digits < 19 ? intType({ length: digits + 1, nullable: t.nullable })
          : decimalType(digits, { scale: 0, nullable: t.nullable });
      }
      return doubleType({ nullable: t.nullable });
    },
    run: (call, state) => {
      const v = state.ev(call.args[0]!);
      if (v === null) return null;
      const warn = state.ctx.warn;
      if (call.type.kind === "double") {
        const x = toDouble(v, warn) ?? 0;
        return doubleResult(up ? Math.ceil(x) : Math.floor(x), call);
      }
      const s = toScaled(v, warn) ?? { unscaled: 0n, scale: 0 };
      const unit = pow10(s.scale);
      let q = s.unscaled / unit;
      const exact = q * unit === s.unscaled;
      if (!exact && up && s.unscaled > 0n) q += 1n;
      if (!exact && !up && s.unscaled < 0n) q -= 1n;
      return call.type.kind === "int" ? intResult(q, call) : decimalResult(q, call);
    },
  };
}

// ---- casts -----------------------------------------------------------------------------

function clampInteger(value: bigint, min: bigint, max: bigint): bigint {
  return value < min ? min : value > max ? max : value;
}

/** CAST(x AS SIGNED). */
export const castSigned: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => intType({ length: 21, nullable: anyNullable(args) }),
  run: (call, state) => {
    const v = state.ev(call.args[0]!);
    if (v === null) return null;
    if (v.kind === "uint") return { kind: "int", value: BigInt.asIntN(64, v.value) };
    const n = toInteger(v, state.ctx.warn) ?? 0n;
    const clamped = clampInteger(n, int64Min, int64Max);
    if (clamped !== n) {
      state.ctx.warn({ kind: "truncatedWrongValue", typeName: "INTEGER", value: toText(v) ?? "" });
    }
    return { kind: "int", value: clamped };
  },
};

/** CAST(x AS UNSIGNED): negative integers wrap around 2^64, as in MySQL. */
export const castUnsigned: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => intType({ length: 20, unsigned: true, nullable: anyNullable(args) }),
  run: (call, state) => {
    const v = state.ev(call.args[0]!);
    if (v === null) return null;
    const n = toInteger(v, state.ctx.warn) ?? 0n;
    if (n >= int64Min && n <= uint64Max) return { kind: "uint", value: BigInt.asUintN(64, n) };
    state.ctx.warn({ kind: "truncatedWrongValue", typeName: "INTEGER", value: toText(v) ?? "" });
    return { kind: "uint", value: n < 0n ? 0n : uint64Max };
  },
};

/** CAST(x AS DECIMAL(p, s)): the type holds p and s; out-of-range values clamp. */
export const castDecimal: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: () => decimalType(10, { scale: 0 }),
  run: (call, state) => {
    const v = state.ev(call.args[0]!);
    if (v === null) return null;
    const { precision, decimals } = call.type;
    const max = pow10(precision) - 1n;
    const s = toScaled(v, state.ctx.warn);
    let unscaled = s === undefined || s === null
      ? (toDouble(v, state.ctx.warn) ?? 0) < 0 ? -max : max
      : rescale(s.unscaled, s.scale, decimals);
    if (unscaled > max || unscaled < -max || s === undefined) {
      unscaled = unscaled > 0n ? max : -max;
      state.ctx.warn({ kind: "outOfRange", column: exprText(call) });
    }
    return { kind: "decimal", unscaled, scale: decimals };
  },
};

/** CAST(x AS CHAR[(n)]): the optional second argument is n; longer text is cut. */
export const castChar: Builtin = {
  minArgs: 1, maxArgs: 2,
  infer: (args) => {
    const n = constantInt(args[1]);
    return stringType(args[1] !== undefined && n !== undefined ? n : Math.max(charsOf(
      args[0]!.type), 1), { nullable: anyNullable(args) });
  },
  run: (call, state) => {
    const text = textArg(state, call.args[0]!);
    if (text === null) return null;
    if (call.args[1] === undefined) return stringValue(text);
    const n = intArg(state, call.args[1]) ?? 0;
    const chars = [...text];
    if (chars.length <= n) return stringValue(text);
    state.ctx.warn({ kind: "truncatedWrongValue", typeName: `CHAR(${n})`, value: text });
    return stringValue(chars.slice(0, n).join(""));
  },
};

/** CAST(x AS DOUBLE). */
export const castDouble: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => doubleType({ nullable: anyNullable(args) }),
  run: (call, state) => {
    const v = state.ev(call.args[0]!);
    return v === null ? null : { kind: "double", value: toDouble(v, state.ctx.warn) ?? 0 };
  },
};

// ---- session context -------------------------------------------------------------------

function contextString(read: (ctx: EvalContext) => string | null, nullable: boolean): Builtin {
  return {
    minArgs: 0, maxArgs: 0,
    // USER(), DATABASE(), VERSION() are system constants in utf8mb3, as in MySQL.
    infer: () => ({ ...stringType(nullable ? 64 : 288, { nullable }),
      collation: sysconstCollationName, coercibility: Coercibility.SysConst }),
    run: (_call, state) => {
      const text = read(state.ctx);
      return text === null ? null : stringValue(text);
    },
  };
}

const connectionId: Builtin = {
  minArgs: 0, maxArgs: 0,
  infer: () => intType({ length: 10, unsigned: true, nullable: false }),
  run: (_call, state) => ({ kind: "uint", value: BigInt(state.ctx.connectionId) }),
};

const now: Builtin = {
  minArgs: 0, maxArgs: 1,
  infer: (args) => {
    const fsp = constantInt(args[0]);
    if (fsp === undefined || fsp < 0 || fsp > 6) {
      return { kind: "unsupported", what: "NOW() with a precision other than a constant 0..6" };
    }
    return dateTimeType(fsp, { nullable: false });
  },
  run: (call, state) => {
    const fsp = call.type.decimals;
    const time = state.ctx.statementTime;
    const unit = 10 ** (6 - fsp);
    return { kind: "datetime", value: { ...time,
      microsecond: Math.floor(time.microsecond / unit) * unit }, fsp };
  },
};

const lastInsertId: Builtin = {
  minArgs: 0, maxArgs: 1,
  infer: () => intType({ length: 20, unsigned: true, nullable: false }),
  run: (call, state) => {
    if (call.args[0] === undefined) return { kind: "uint", value: state.ctx.lastInsertId };
    const v = toInteger(state.ev(call.args[0]), state.ctx.warn);
    const id = v === null ? 0n : BigInt.asUintN(64, v);
    state.ctx.setLastInsertId(id);
    return { kind: "uint", value: id };
  },
};

/** `@name := value`: the first argument is the name as a string constant. */
const setUserVariable: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: (args) => args[1]!.type,
  run: (call, state) => {
    const name = call.args[0]!;
    const value = state.ev(call.args[1]!);
    if (name.kind === "constant" && name.value !== null && name.value.kind === "string") {
      state.ctx.setUserVariable(name.value.value, value, call.args[1]!.type);
    }
    return value;
  },
};

/** Every built-in by its canonical name. */
export const builtins: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  ["+", plus],
  ["-", minus],
  ["*", times],
  ["/", divide],
  ["div", intDivide],
  ["%", modulo],
  ["neg", negate],
  ["|", bitOperator((a, b) => a | b)],
  ["&", bitOperator((a, b) => a & b)],
  ["^", bitOperator((a, b) => a ^ b)],
  // A shift by 64 or more (a negative count is a huge unsigned one) leaves no bits.
  ["<<", bitOperator((a, b) => (b < 64n ? a << b : 0n))],
  [">>", bitOperator((a, b) => (b < 64n ? a >> b : 0n))],
  ["~", bitNot],
  ["=", comparison((c) => c === 0)],
  ["<>", comparison((c) => c !== 0)],
  ["<", comparison((c) => c < 0)],
  ["<=", comparison((c) => c <= 0)],
  [">", comparison((c) => c > 0)],
  [">=", comparison((c) => c >= 0)],
  ["<=>", nullSafeEqual],
  ["and", and],
  ["or", or],
  ["xor", xor],
  ["not", not],
  ["isnull", isTest((v) => v === null)],
  ["istrue", isTest((v, s) => isTrue(v, s.ctx.warn) === true)],
  ["isfalse", isTest((v, s) => isTrue(v, s.ctx.warn) === false)],
  ["between", between],
  ["in", inList],
  ["like", like],
  ["case", caseWhen],
  ["if", ifFunction],
  ["ifnull", { ...coalesce, minArgs: 2, maxArgs: 2 }],
  ["coalesce", coalesce],
  ["nullif", nullIf],
  ["concat", concat],
  ["concat_ws", concatWs],
  ["length", lengthFunction(utf8Length)],
  ["char_length", lengthFunction((t) => [...t].length)],
  // A binary string has no letters: UPPER and LOWER leave it as it is, as in MySQL.
  ["upper", stringFunction({ min: 1, max: 1 }, firstChars, ([t], _state, call) =>
    (call.type.collation === "binary" ? t! : mapCase(t!, true)))],
  ["lower", stringFunction({ min: 1, max: 1 }, firstChars, ([t], _state, call) =>
    (call.type.collation === "binary" ? t! : mapCase(t!, false)))],
  ["substring", substring],
  ["trim", trimFunction(true, true)],
  ["trim_leading", trimFunction(true, false)],
  ["trim_trailing", trimFunction(false, true)],
  ["ltrim", { ...trimFunction(true, false), maxArgs: 1 }],
  ["rtrim", { ...trimFunction(false, true), maxArgs: 1 }],
  ["replace", stringFunction({ min: 3, max: 3 }, firstChars,
    ([t, from, to]) => (from === "" ? t! : t!.split(from!).join(to!)))],
  ["left", sideFunction(true)],
  ["right", sideFunction(false)],
  ["abs", abs],
  ["round", round],
  ["floor", floorCeil(false)],
  ["ceil", floorCeil(true)],
  ["cast_signed", castSigned],
  ["cast_unsigned", castUnsigned],
  ["cast_decimal", castDecimal],
  ["cast_char", castChar],
  ["cast_double", castDouble],
  ["version", contextString((ctx) => ctx.version, false)],
  ["database", contextString((ctx) => ctx.database, true)],
  ["user", contextString((ctx) => ctx.user, false)],
  ["current_user", contextString((ctx) => ctx.currentUser, false)],
  ["connection_id", connectionId],
  ["now", now],
  ["last_insert_id", lastInsertId],
  ["setvar", setUserVariable],
  ...jsonBuiltins,
  ...temporalBuiltins,
  ...dateArithBuiltins,
  ...datePartBuiltins,
  ...dateFormatBuiltins,
  ...compareBuiltins,
  ...stringBuiltins,
  ...regexpBuiltins,
  ...mathBuiltins,
  ...infoBuiltins,
]);

/** Other spellings of built-ins, as MySQL accepts them. */
export const builtinAliases: ReadonlyMap<string, string> = new Map([
  ["mod", "%"],
  ["ucase", "upper"],
  ["lcase", "lower"],
  ["substr", "substring"],
  ["mid", "substring"],
  ["ceiling", "ceil"],
  ["character_length", "char_length"],
  ["octet_length", "length"],
  ["schema", "database"],
  ["session_user", "user"],
  ["system_user", "user"],
  ["current_timestamp", "now"],
  ["localtime", "now"],
  ["localtimestamp", "now"],
  ...temporalAliases,
  ...datePartAliases,
  // SYSDATE() is the statement's time too: an evaluation reads no clock.
  ["sysdate", "now"],
  ...stringAliases,
  ...mathAliases,
]);
