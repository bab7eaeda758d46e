/**
 * Constant folding of WHERE conjuncts (`optimizer_switch` flag `constant_folding`): a
 * conjunct that reads no column, variable or subquery and calls nothing volatile is
 * evaluated once when the query is planned. A TRUE one is dropped; a FALSE or NULL one
 * makes the SELECT's FROM read nothing (EXPLAIN shows `TableDual rows:0`), as TiDB and
 * MySQL do for `WHERE 1 = 0`. A conjunct whose evaluation warns or fails is left to run
 * per row, so its warnings and errors stay where they were.
 */
import { type EvalContext, type Expr, evaluate, isTrue } from "../../expr/mod.ts";
import type { Expr as AstExpr } from "../parser/ast.ts";
import { isAggregateCall } from "./aggregate.ts";
import { type CompileHost, compile } from "./compile.ts";
import { Frame, Scope, noColumns } from "./scope.ts";
import { isWindowCall } from "./window.ts";

/** Functions whose value may change between calls of one statement, or that act. */
const volatileFunctions = new Set(["rand", "uuid", "uuid_short", "sleep", "sysdate",
  "get_lock", "release_lock", "release_all_locks", "is_free_lock", "is_used_lock",
  "last_insert_id", "found_rows", "row_count", "benchmark", "values", "nextval", "lastval",
  "setval", "grouping", "random_bytes", "master_pos_wait"]);

const impure = new Set(["column", "star", "userVar", "sysVar", "assign", "subquery",
  "exists", "inSubquery", "compareSubquery", "default", "groupConcat"]);

/** Whether `node` is a constant expression by its form (see the file comment). */
function constantForm(node: unknown): boolean {
  if (node === null || typeof node !== "object") return true;
  if (Array.isArray(node)) return node.every(constantForm);
  const e = node as AstExpr;
  if (typeof e.kind === "string") {
    if (impure.has(e.kind) || isAggregateCall(e) || isWindowCall(e)) return false;
    if (e.kind === "func" && volatileFunctions.has(e.name.toLowerCase())) return false;
  }
  return Object.values(node).every(constantForm);
}

/**
 * The truth of constant conjunct `ast` (true, or false for FALSE and NULL), or undefined
 * when it is not constant or must run per row.
 */
export function constantTruth(ast: AstExpr, host: CompileHost): boolean | undefined {
  if (!constantForm(ast)) return undefined;
  let warned = false;
  try {
    const compiled = compile(ast, new Scope(noColumns, "where clause", new Frame(null)), host);
    if (compiled.subs.length > 0 || !constantExpr(compiled.expr)) return undefined;
    const base = host.evalContext();
    const ctx = Object.create(base) as { warn: EvalContext["warn"] };
    ctx.warn = () => {
      warned = true;
    };
    const truth = isTrue(evaluate(compiled.expr, ctx as EvalContext), ctx.warn);
    return warned ? undefined : truth === true;
  } catch {
    return undefined;
  }
}

/** Whether an evaluator tree reads no row (every leaf a constant). */
function constantExpr(e: Expr): boolean {
  if (e.kind === "column") return false;
  if (e.kind === "call") return e.args.every(constantExpr);
  return true;
}
