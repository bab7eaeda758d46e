/**
 * Comparison functions: GREATEST, LEAST, INTERVAL and STRCMP, with MySQL 8.0's typing.
 *
 * GREATEST and LEAST compare in the aggregated type of their arguments and return it: all
 * integers as integers, all temporal as DATETIME, any string (or a temporal value mixed
 * with a number) as strings under the collation, else any DOUBLE as DOUBLE, else
 * DECIMAL. So `GREATEST(2, '10')` is the string `'2'`, as in MySQL 8 (MariaDB compares
 * mixed strings and numbers as DOUBLEs and says 10). Any NULL argument gives NULL.
 * INTERVAL(N, N1, N2, …) counts the Ni not greater than N, assuming them sorted; -1 for
 * a NULL N. STRCMP compares two strings under the collation.
 */
import { anyNullable, int } from "./builtin_support.ts";
import { compareStrings, compareValues } from "./compare.ts";
import { callCollation } from "./collation_derivation.ts";
import type { Expr } from "./expr.ts";
import type { Builtin, CallExpr, EvalState } from "./functions.ts";
import { dateType } from "./temporal_functions.ts";
import {
  type FieldType,
  TypeCode,
  charsOf,
  dateTimeType,
  decimalType,
  doubleType,
  intType,
  nullType,
  stringType,
} from "./types.ts";
import {
  type Value,
  rescale,
  toDouble,
  toInteger,
  toScaled,
  toText,
} from "./value.ts";

/** The type GREATEST and LEAST compare in and return (MySQL's `aggregate_type`). */
function minMaxType(args: readonly Expr[]): FieldType {
  const nullable = anyNullable(args);
  const known = args.map((a) => a.type).filter((t) => t.kind !== "null");
  if (known.length < args.length) return nullType;
  if (known.every((t) => t.kind === "int")) {
    const unsigned = known.every((t) => t.unsigned);
    if (unsigned || known.every((t) => !t.unsigned)) {
      return intType({ length: Math.max(...known.map((t) => t.length)), unsigned, nullable });
    }
    return decimalType(20, { scale: 0, nullable });
  }
  if (known.every((t) => t.kind === "datetime")) {
    if (known.every((t) => t.code === TypeCode.Date)) return dateType(nullable);
    return dateTimeType(Math.max(...known.map((t) => t.decimals)), { nullable });
  }
  if (known.some((t) => t.kind === "string" || t.kind === "datetime")) {
    return stringType(Math.max(...known.map(charsOf)), { nullable });
  }
  if (known.some((t) => t.kind === "double")) return doubleType({ nullable });
  const scale = Math.max(...known.map((t) => t.kind === "decimal" ? t.decimals : 0));
  const digits = Math.max(...known.map((t) => t.kind === "decimal" ? t.precision - t.decimals
    : t.length));
  return decimalType(digits + scale, { scale, nullable });
}

/** `value` in the representation of `type` (the comparison type of GREATEST/LEAST). */
function asType(value: Exclude<Value, null>, type: FieldType, state: EvalState): Value {
  const warn = state.ctx.warn;
  switch (type.kind) {
    case "int":
      return value.kind === "int" || value.kind === "uint" ? value
        : int(toInteger(value, warn) ?? 0n);
    case "decimal": {
      const scaled = toScaled(value, warn) ?? { unscaled: 0n, scale: 0 };
      return { kind: "decimal", unscaled: rescale(scaled.unscaled, scaled.scale, type.decimals),
        scale: type.decimals };
    }
    case "double":
      return { kind: "double", value: toDouble(value, warn) ?? 0 };
    case "string":
      // A tagged value (ENUM, TIME, JSON …) compares by its text here.
      return { kind: "string", value: toText(value) ?? "" };
    case "datetime":
    case "null":
      return value;
  }
}

function minMax(wantGreater: boolean): Builtin {
  return {
    minArgs: 2, maxArgs: Infinity,
    infer: minMaxType,
    run: (call: CallExpr, state: EvalState) => {
      let best: Value = null;
      for (const arg of call.args) {
        const v = state.ev(arg);
        if (v === null) return null;
        const value = asType(v, call.type, state);
        if (best === null) {
          best = value;
          continue;
        }
        const c = compareValues(value, best, { warn: state.ctx.warn,
          collation: callCollation(call) }) ?? 0;
        if (wantGreater ? c > 0 : c < 0) best = value;
      }
      return best;
    },
  };
}

/** INTERVAL(N, N1, N2, …): the index of the last Ni <= N; -1 for a NULL N. */
const interval: Builtin = {
  minArgs: 2, maxArgs: Infinity,
  infer: () => intType({ length: 2, nullable: false }),
  run: (call, state) => {
    const numeric = (v: Exclude<Value, null>): Value =>
      v.kind === "int" || v.kind === "uint" || v.kind === "decimal" ? v
        : { kind: "double", value: toDouble(v, state.ctx.warn) ?? 0 };
    const n = state.ev(call.args[0]!);
    if (n === null) return int(-1n);
    const x = numeric(n);
    for (let i = 1; i < call.args.length; i++) {
      const v = state.ev(call.args[i]!);
      if (v === null) continue;
      if ((compareValues(numeric(v), x, { warn: state.ctx.warn }) ?? 0) > 0) {
        return int(BigInt(i - 1));
      }
    }
    return int(BigInt(call.args.length - 1));
  },
};

/** STRCMP(a, b): -1, 0 or 1 under the collation. */
const strcmp: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: (args) => intType({ length: 2, nullable: anyNullable(args) }),
  run: (call, state) => {
    const a = toText(state.ev(call.args[0]!));
    const b = toText(state.ev(call.args[1]!));
    if (a === null || b === null) return null;
    return int(BigInt(compareStrings(a, b, callCollation(call))));
  },
};

/** The comparison built-ins by name. */
export const compareBuiltins: ReadonlyArray<readonly [string, Builtin]> = [
  ["greatest", minMax(true)],
  ["least", minMax(false)],
  ["interval", interval],
  ["strcmp", strcmp],
];
