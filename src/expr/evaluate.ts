/**
 * `evaluate`: computes an expression's value for one row under an `EvalContext`.
 *
 * Pure and synchronous: everything outside the tree comes from the context. A failure
 * that ends the statement (a value out of range) throws `ExprError`; `tryEvaluate` turns
 * it into a returned result for callers that prefer one. Recursion depth is bounded by
 * the tree's height, which the parser limits (`limits.sqlAstHeightMax`).
 */
import { assert } from "../base/mod.ts";
import { ExprError, type ExprErrorReason } from "./errors.ts";
import type { EvalContext, Expr } from "./expr.ts";
import { type EvalState, builtins } from "./functions.ts";
import type { Value } from "./value.ts";
import { sessionValue } from "./temporal_tz.ts";

/** The value of `expr`; throws `ExprError` when evaluation fails. */
export function evaluate(expr: Expr, ctx: EvalContext): Value {
  const state: EvalState = {
    ctx,
    ev: (e: Expr): Value => evaluateIn(e, state),
  };
  return evaluateIn(expr, state);
}

function evaluateIn(expr: Expr, state: EvalState): Value {
  if (expr.kind === "constant") return expr.value;
  if (expr.kind === "column") return sessionValue(state.ctx.row?.[expr.index] ?? null, state.ctx);
  const builtin = builtins.get(expr.fn);
  assert(builtin !== undefined, `no built-in ${expr.fn}`);
  return builtin.run(expr, state);
}

/** Like `evaluate`, but returns a failure instead of throwing it. */
export function tryEvaluate(
  expr: Expr,
  ctx: EvalContext,
): { readonly kind: "ok"; readonly value: Value } |
  { readonly kind: "error"; readonly reason: ExprErrorReason } {
  try {
    return { kind: "ok", value: evaluate(expr, ctx) };
  } catch (error: unknown) {
    if (error instanceof ExprError) return { kind: "error", reason: error.reason };
    throw error;
  }
}
