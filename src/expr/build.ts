/**
 * Building call nodes: looks a built-in up by name (or alias), checks its arity, infers
 * its result type, and folds the few constant forms MySQL itself folds while parsing
 * (`-9223372036854775808` is a BIGINT, `-18446744073709551615` a DECIMAL). Building never
 * evaluates anything else: constant folding of whole trees is the planner's business.
 */
import type { BuildErrorReason } from "./errors.ts";
import { type BuildOptions, type Expr, constant, defaultBuildOptions } from "./expr.ts";
import { builtinAliases, builtins } from "./functions.ts";
import { type FieldType, decimalType, intType, stringType } from "./types.ts";
import { compareCollationOf, fixedResultCollation, isCollationMix, resultCollationOf,
  withCollation } from "./collation_derivation.ts";
import { int64Min } from "./value.ts";

/** A built node, or why it could not be built. */
export type BuildResult =
  | { readonly kind: "ok"; readonly expr: Expr }
  | { readonly kind: "error"; readonly reason: BuildErrorReason };

/** Target types of CAST / CONVERT that the evaluator supports. */
export type CastTarget =
  | { readonly kind: "signed" }
  | { readonly kind: "unsigned" }
  | { readonly kind: "decimal"; readonly precision: number; readonly scale: number }
  | { readonly kind: "char"; readonly length: number | null }
  | { readonly kind: "double" }
  | { readonly kind: "date" }
  | { readonly kind: "datetime" | "time"; readonly fsp: number }
  | { readonly kind: "json" };

/** The canonical name of a built-in (`ucase` → `upper`), or undefined if there is none. */
export function builtinName(name: string): string | undefined {
  const lower = name.toLowerCase();
  const canonical = builtinAliases.get(lower) ?? lower;
  return builtins.has(canonical) ? canonical : undefined;
}

/** Builds a call of the built-in `name` (an operator or a function, any case) on `args`. */
export function buildCall(
  name: string,
  args: readonly Expr[],
  options: BuildOptions = defaultBuildOptions,
): BuildResult {
  const fn = builtinName(name);
  const builtin = fn === undefined ? undefined : builtins.get(fn);
  if (fn === undefined || builtin === undefined) {
    return { kind: "error", reason: { kind: "unknownFunction", name } };
  }
  if (args.length < builtin.minArgs || args.length > builtin.maxArgs) {
    return { kind: "error", reason: { kind: "argumentCount", name } };
  }
  if (fn === "neg") {
    const folded = foldNegation(args[0]!);
    if (folded !== undefined) return { kind: "ok", expr: folded };
  }
  const type = builtin.infer(args, options);
  if ("kind" in type && (type.kind === "unknownFunction" || type.kind === "argumentCount" ||
    type.kind === "unsupported" || type.kind === "collationMix")) {
    return { kind: "error", reason: type };
  }
  return withCollations(fn, args, type);
}

/**
 * The call node of `fn` with its result collation derived from `args` (MySQL's rules,
 * collation_derivation.ts), or the illegal mix of collations its arguments are.
 */
function withCollations(fn: string, args: readonly Expr[], type: FieldType): BuildResult {
  const compared = compareCollationOf(fn, args);
  if (compared !== undefined && isCollationMix(compared)) {
    return { kind: "error", reason: compared };
  }
  const result = resultCollationOf(fn, args, type);
  if (result !== undefined && isCollationMix(result)) return { kind: "error", reason: result };
  const fixed = type.kind === "string" ? fixedResultCollation(fn) : undefined;
  const derived = result ?? fixed;
  const typed = derived === undefined ? type : withCollation(type, derived);
  return { kind: "ok", expr: { kind: "call", fn, args, type: typed } };
}

/** `-literal` for an unsigned literal: BIGINT at -2^63, DECIMAL below (as MySQL's lexer). */
function foldNegation(arg: Expr): Expr | undefined {
  if (arg.kind !== "constant" || arg.value === null || arg.value.kind !== "uint") return undefined;
  const negated = -arg.value.value;
  const length = negated.toString().length;
  if (negated === int64Min) {
    return constant({ kind: "int", value: negated }, intType({ length, nullable: false }));
  }
  return constant({ kind: "decimal", unscaled: negated, scale: 0 },
    decimalType(length - 1, { scale: 0, nullable: false }));
}

/** Builds `CAST(arg AS target)`. */
export function buildCast(arg: Expr, target: CastTarget): BuildResult {
  const nullable = arg.type.nullable;
  switch (target.kind) {
    case "signed":
    case "unsigned":
    case "double":
      return buildCall(`cast_${target.kind}`, [arg]);
    case "decimal": {
      if (target.scale > target.precision || target.precision > 65 || target.scale > 30) {
        return { kind: "error", reason: { kind: "unsupported",
          what: `DECIMAL(${target.precision},${target.scale})` } };
      }
      const type = decimalType(target.precision, { scale: target.scale, nullable });
      return { kind: "ok", expr: { kind: "call", fn: "cast_decimal", args: [arg], type } };
    }
    case "date":
      return buildCall("cast_date", [arg]);
    case "json":
      return buildCall("cast_json", [arg]);
    case "datetime":
    case "time": {
      const fsp = constant({ kind: "int", value: BigInt(target.fsp) },
        intType({ length: 1, nullable: false }));
      return buildCall(`cast_${target.kind}`, [arg, fsp]);
    }
    case "char": {
      if (target.length === null) return buildCall("cast_char", [arg]);
      const length = constant({ kind: "int", value: BigInt(target.length) },
        intType({ length: String(target.length).length, nullable: false }));
      return withCollations("cast_char", [arg, length], stringType(target.length, { nullable }));
    }
  }
}
