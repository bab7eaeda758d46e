/**
 * What evaluating an expression can report besides a value: warnings (the statement
 * goes on, MySQL adds a row to SHOW WARNINGS) and errors (the statement fails). Both are
 * plain data with the pieces of MySQL's message; the SQL layer turns them into MySQL
 * error numbers and texts from its one catalogue, so `expr` spells no error number.
 */

/** A warning raised while evaluating. */
export type ExprWarning =
  /** MySQL 1365 "Division by 0". */
  | { readonly kind: "divisionByZero" }
  /** MySQL 1292 "Truncated incorrect <typeName> value: '<value>'". */
  | { readonly kind: "truncatedWrongValue"; readonly typeName: string; readonly value: string }
  /** MySQL 1264 "Out of range value for column '<column>' at row 1" (CAST clamping). */
  | { readonly kind: "outOfRange"; readonly column: string };

/** Why an evaluation failed. */
export type ExprErrorReason =
  /** MySQL 1690 "<typeName> value is out of range in '<exprText>'". */
  | {
    readonly kind: "outOfRange";
    readonly typeName: "BIGINT" | "BIGINT UNSIGNED" | "DECIMAL" | "DOUBLE";
    readonly exprText: string;
  }
  /** MySQL 3141 "Invalid JSON text in argument <n> to function <name>: …". */
  | {
    readonly kind: "invalidJsonText";
    readonly argument: number;
    readonly functionName: string;
    readonly message: string;
    readonly position: number;
  }
  /** MySQL 3143 "Invalid JSON path expression. The error is around character position <n>." */
  | { readonly kind: "invalidJsonPath"; readonly position: number };

/** Thrown by `evaluate` for a failed evaluation; an expected outcome, not a bug. */
export class ExprError extends Error {
  override readonly name = "ExprError";
  readonly reason: ExprErrorReason;

  constructor(reason: ExprErrorReason) {
    super(reason.kind === "outOfRange"
      ? `${reason.typeName} value is out of range in '${reason.exprText}'`
      : reason.kind === "invalidJsonText"
        ? `Invalid JSON text in argument ${reason.argument} to function ${reason.functionName}`
        : "Invalid JSON path expression");
    this.reason = reason;
  }
}

/** Why an expression could not be built. */
export type BuildErrorReason =
  /** No such function (MySQL 1305 for stored functions; the SQL layer decides). */
  | { readonly kind: "unknownFunction"; readonly name: string }
  /** MySQL 1582 "Incorrect parameter count in the call to native function '<name>'". */
  | { readonly kind: "argumentCount"; readonly name: string }
  /** A valid construct Tessera does not evaluate yet (MySQL 1235). */
  | { readonly kind: "unsupported"; readonly what: string };
