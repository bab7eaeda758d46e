/**
 * The collation parts of translating expressions (to_expr.ts): `expr COLLATE name`,
 * `BINARY expr` / `CAST(expr AS BINARY)`, binary literals (`_binary'…'`, `X'…'`), the
 * collation of string literals (`collation_connection`), of variables, and MySQL's errors
 * for them: 1273 unknown collation, 1253 a collation of another character set, 1267 /
 * 1270 / 1271 an illegal mix of collations. The rules themselves are in
 * expr/collation_derivation.ts; this file only applies them to translated nodes.
 */
import {
  Coercibility,
  type CollationInfo,
  type Expr,
  type FieldType,
  charsetOfType,
  collationInfoOf,
  resolveCollate,
  stringType,
  withCollation,
} from "../../expr/mod.ts";
import { ER, type MySqlError, mysqlError } from "../mysql_errors.ts";

/** The MySQL error of an illegal mix of collations (by how many items there are). */
export function collationMixError(reason: { readonly items: readonly (readonly [string,
  string])[]; readonly operation: string }): MySqlError {
  const items = reason.items;
  if (items.length === 2) {
    return mysqlError(ER.CANT_AGGREGATE_2COLLATIONS, [items[0]![0], items[0]![1],
      items[1]![0], items[1]![1], reason.operation]);
  }
  if (items.length === 3) {
    return mysqlError(ER.CANT_AGGREGATE_3COLLATIONS, [...items.flatMap((i) => [i[0], i[1]]),
      reason.operation]);
  }
  return mysqlError(ER.CANT_AGGREGATE_NCOLLATIONS, [reason.operation]);
}

/** `expr` with its type replaced (a column node keeps reading its row slot). */
function retyped(expr: Expr, type: FieldType): Expr {
  return { ...expr, type };
}

/** A string version of a non-string type (numbers and dates under COLLATE or BINARY). */
function asStringType(type: FieldType): FieldType {
  if (type.kind === "string") return type;
  return { ...stringType(Math.max(type.length, 1), { nullable: type.nullable }) };
}

/** `expr COLLATE name`: EXPLICIT; 1273 for an unknown name, 1253 for another charset's. */
export function collateExpr(expr: Expr, name: string): Expr {
  const charset = expr.type.kind === "string" ? charsetOfType(expr.type) : "utf8mb4";
  const resolved = resolveCollate(name, charset);
  if (typeof resolved !== "string") {
    if (resolved.kind === "unknownCollation") {
      throw mysqlError(ER.UNKNOWN_COLLATION, [resolved.name]);
    }
    throw mysqlError(ER.COLLATION_CHARSET_MISMATCH, [resolved.name, resolved.charset]);
  }
  const info: CollationInfo = { name: resolved, coercibility: Coercibility.Explicit };
  if (expr.type.kind === "null") return retyped(expr, { ...expr.type, collation: resolved });
  return retyped(expr, withCollation(asStringType(expr.type), info));
}

/**
 * `BINARY expr` and `CAST(expr AS BINARY)` given `cast`, the expression cast to CHAR:
 * the binary collation, IMPLICIT (MySQL's cast derivation). NULL stays NULL.
 */
export function binaryExpr(cast: Expr): Expr {
  if (cast.type.kind === "null") return cast;
  return retyped(cast, withCollation(cast.type, { name: "binary",
    coercibility: Coercibility.Implicit }));
}

/** A binary-string literal (`_binary'…'`, `X'…'`): binary, COERCIBLE. */
export function binaryLiteral(literal: Expr): Expr {
  if (literal.type.kind !== "string") return literal;
  return retyped(literal, withCollation(literal.type, { name: "binary",
    coercibility: Coercibility.Coercible }));
}

/**
 * A string literal in `collation_connection` (`name`; the default when it is one Tessera
 * does not implement or is of another character set).
 */
export function connectionLiteral(literal: Expr, name: string | null): Expr {
  if (literal.type.kind !== "string" || name === null) return literal;
  const resolved = resolveCollate(name, "utf8mb4");
  if (typeof resolved !== "string" || resolved === collationInfoOf(literal.type).name) {
    return literal;
  }
  return retyped(literal, withCollation(literal.type, { name: resolved,
    coercibility: Coercibility.Coercible }));
}

/** A user variable's string value: IMPLICIT, as MySQL's. */
export function userVariableExpr(expr: Expr): Expr {
  if (expr.type.kind !== "string") return expr;
  return retyped(expr, withCollation(expr.type, { ...collationInfoOf(expr.type),
    coercibility: Coercibility.Implicit }));
}

/** A system variable's string value: `utf8mb3_general_ci`, SYSCONST, as MySQL's. */
export function systemVariableExpr(expr: Expr): Expr {
  if (expr.type.kind !== "string" || expr.kind !== "constant") return expr;
  return retyped(expr, withCollation(expr.type, { name: "utf8mb3_general_ci",
    coercibility: Coercibility.SysConst }));
}

/** `CONVERT(expr USING utf8mb4)`: the character set's default collation, IMPLICIT. */
export function convertedExpr(expr: Expr): Expr {
  if (expr.type.kind !== "string") return expr;
  return retyped(expr, withCollation(expr.type, { name: "utf8mb4_general_ci",
    coercibility: Coercibility.Implicit }));
}
