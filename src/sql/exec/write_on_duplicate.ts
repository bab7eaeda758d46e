/**
 * The assignments of `INSERT … ON DUPLICATE KEY UPDATE` as a function from (existing
 * row, row that collided) to the existing row's new values. A column name is the
 * existing row's value (as updated by earlier assignments of the list, left to right as
 * MySQL does); `VALUES(col)` and the MySQL 8 row alias (`INSERT … AS new … UPDATE
 * a = new.a`) are the value the INSERT tried to write. Expressions see one wide row: the
 * existing row's columns, then the inserted row's.
 */
import {
  type EvalContext,
  type Value,
  columnRef,
  evaluate,
} from "../../expr/mod.ts";
import type { TableInfo } from "../catalog/schema.ts";
import { fieldTypeOf } from "../catalog/schema.ts";
import type { Assignment, Expr as AstExpr } from "../parser/ast.ts";
import { ER, type MySqlError, mysqlError } from "../mysql_errors.ts";
import { type TranslateScope, translate } from "../session/to_expr.ts";
import { storeValueFor } from "./write_convert.ts";
import { touchIfChanged } from "../table/typed_store.ts";
import type { OnDuplicate } from "./write_statements.ts";

/** The qualifier `VALUES(col)` is rewritten to (no identifier can contain NUL). */
const insertedQualifier = "\u0000inserted";

/** `node` with every `VALUES(col)` call turned into a reference to the inserted row. */
function rewriteValuesCalls(node: AstExpr): AstExpr {
  const walk = (n: unknown): unknown => {
    if (Array.isArray(n)) return n.map(walk);
    if (n === null || typeof n !== "object") return n;
    const e = n as AstExpr;
    if (e.kind === "func" && e.name.toLowerCase() === "values" && e.args.length === 1) {
      const arg = e.args[0]!;
      if (arg.kind === "column") {
        return { kind: "column", db: null, table: insertedQualifier, column: arg.column };
      }
    }
    return Object.fromEntries(Object.entries(n).map(([k, v]) => [k, walk(v)]));
  };
  return walk(node) as AstExpr;
}

/** What `onDuplicateUpdater` needs from the statement and session. */
export interface OnDuplicateContext {
  readonly table: TableInfo;
  /** The MySQL 8 row alias (`AS new`) and its column aliases, if the INSERT had one. */
  readonly rowAlias: { readonly name: string; readonly columns: readonly string[] | null } | null;
  /** Offsets of the INSERT's target columns, which the alias's column names rename. */
  readonly targets: readonly number[];
  /** IGNORE: conversion errors are warnings. */
  readonly strict: boolean;
  scope(clause: string): TranslateScope;
  evalContext(): EvalContext;
  warn(warning: MySqlError): void;
  /** The column's DEFAULT (for `col = DEFAULT`). */
  defaultOf(offset: number, rowNumber: number): Value;
}

/** The updater of an ON DUPLICATE KEY UPDATE list (translated once per statement). */
export function onDuplicateUpdater(ctx: OnDuplicateContext, assignments: readonly Assignment[]):
  OnDuplicate {
  const { table, rowAlias } = ctx;
  const width = table.columns.length;
  // Columns an online DDL is adding or dropping are not the statement's to name.
  const find = (name: string) => table.columns.find((c) => (c.state ?? "public") === "public" &&
    c.name.toLowerCase() === name.toLowerCase());
  const scope: TranslateScope = {
    ...ctx.scope("field list"),
    column: (name, qualifier) => {
      const lower = qualifier?.toLowerCase() ?? null;
      if (qualifier === insertedQualifier ||
        (rowAlias !== null && lower === rowAlias.name.toLowerCase())) {
        let column = find(name);
        if (rowAlias?.columns != null && qualifier !== insertedQualifier) {
          const k = rowAlias.columns.findIndex((c) => c.toLowerCase() === name.toLowerCase());
          const offset = ctx.targets[k];
          column = offset === undefined ? undefined : table.columns[offset];
        }
        return column === undefined ? undefined
          : columnRef(width + column.offset, column.name, fieldTypeOf(column));
      }
      if (lower !== null && lower !== table.name.toLowerCase()) return undefined;
      const column = find(name);
      if (column !== undefined) return columnRef(column.offset, column.name, fieldTypeOf(column));
      // An alias's own column names (`AS new (m, n)`) may be used unqualified.
      const k = lower !== null || rowAlias?.columns == null ? -1
        : rowAlias.columns.findIndex((c) => c.toLowerCase() === name.toLowerCase());
      const aliased = table.columns[ctx.targets[k] ?? -1];
      return aliased === undefined ? undefined
        : columnRef(width + aliased.offset, aliased.name, fieldTypeOf(aliased));
    },
  };
  const sets = assignments.map((a) => {
    const column = find(a.column.column);
    if (column === undefined ||
      (a.column.table !== null && a.column.table.toLowerCase() !== table.name.toLowerCase())) {
      const name = a.column.table === null ? a.column.column
        : `${a.column.table}.${a.column.column}`;
      throw mysqlError(ER.BAD_FIELD_ERROR, [name, "field list"]);
    }
    return { column, expr: a.value.kind === "default" ? null
      : translate(rewriteValuesCalls(a.value), scope) };
  });
  const assigned = new Set(sets.map((set) => set.column.offset));
  return (old, inserted, rowNumber) => {
    const values = [...old.values];
    for (const set of sets) {
      const evalCtx = ctx.evalContext();
      const value = set.expr === null ? ctx.defaultOf(set.column.offset, rowNumber)
        : evaluate(set.expr, { ...evalCtx, row: [...values, ...inserted.values] });
      values[set.column.offset] = storeValueFor(value, { column: set.column, row: rowNumber },
        { ctx: evalCtx, strict: ctx.strict, warn: (w) => ctx.warn(w) });
    }
    touchIfChanged(table.columns, old.values, values, assigned,
      ctx.evalContext());
    return values;
  };
}
