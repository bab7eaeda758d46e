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
  | { readonly kind: "outOfRange"; readonly column: string }
  /** MySQL 1292 "Incorrect <typeName> value: '<value>'" (a date function's bad argument). */
  | { readonly kind: "incorrectTemporal"; readonly typeName: string; readonly value: string }
  /** MySQL 1411 "Incorrect <typeName> value: '<value>' for function <functionName>". */
  | { readonly kind: "wrongValueForFunction"; readonly typeName: string;
    readonly value: string; readonly functionName: string }
  /** MySQL 1441 "Datetime function: <functionName> field overflow". */
  | { readonly kind: "datetimeOverflow"; readonly functionName: string }
  /** MySQL 3020 "Invalid argument for logarithm" (LN, LOG, LOG2, LOG10 of x <= 0). */
  | { readonly kind: "invalidLogarithmArgument" }
  /** MySQL 1583 "Incorrect parameters in the call to native function '<functionName>'". */
  | { readonly kind: "wrongParametersToFunction"; readonly functionName: string }
  /** MySQL 1301 "Result of <functionName>() was larger than max_allowed_packet (<n>) …". */
  | { readonly kind: "packetOverflow"; readonly functionName: string;
    readonly maxAllowedPacket: number };

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
  | { readonly kind: "invalidJsonPath"; readonly position: number }
  /**
   * The JSON functions' other errors: 3149 (a wildcard or range where a path must name one
   * value), 3153 (`$` where it may not be), 3154 (not 'one' or 'all'), 3165 (not a path to
   * an array cell), 3146 (a number where a JSON document is required).
   */
  | { readonly kind: "jsonPathWildcard" }
  | { readonly kind: "jsonVacuousPath" }
  | { readonly kind: "jsonOneOrAll"; readonly functionName: string }
  | { readonly kind: "jsonPathArrayCell" }
  | { readonly kind: "jsonInvalidType"; readonly argument: number;
    readonly functionName: string }
  /** One of MySQL's regular expression errors (3685–3697, regexp_functions.ts). */
  | { readonly kind: "regexp"; readonly error: RegexpError;
    /** Where a `ruleSyntax` error is (1-based line and character). */
    readonly line?: number; readonly column?: number }
  /** MySQL 1210 "Incorrect arguments to <functionName>". */
  | { readonly kind: "wrongArguments"; readonly functionName: string }
  /** A result Tessera cannot represent yet (MySQL 1235), e.g. bytes that are not UTF-8. */
  | { readonly kind: "unsupported"; readonly what: string };

/**
 * MySQL's regular expression errors, by the suffix of their name (`ER_REGEXP_…`):
 * `illegalArgument` 3685, `indexOutOfBounds` 3686, `ruleSyntax` 3688, `badEscapeSequence`
 * 3689, `unimplemented` 3690, `mismatchedParen` 3691, `badInterval` 3692, `maxLtMin` 3693,
 * `invalidBackRef` 3694, `missingCloseBracket` 3696, `invalidRange` 3697, `invalidFlag` 3900.
 */
export type RegexpError =
  | "illegalArgument" | "indexOutOfBounds" | "ruleSyntax" | "badEscapeSequence"
  | "unimplemented" | "mismatchedParen" | "badInterval" | "maxLtMin" | "invalidBackRef"
  | "missingCloseBracket" | "invalidRange" | "invalidFlag";

/** Thrown by `evaluate` for a failed evaluation; an expected outcome, not a bug. */
export class ExprError extends Error {
  override readonly name = "ExprError";
  readonly reason: ExprErrorReason;

  constructor(reason: ExprErrorReason) {
    super(reason.kind === "outOfRange"
      ? `${reason.typeName} value is out of range in '${reason.exprText}'`
      : reason.kind === "invalidJsonText"
        ? `Invalid JSON text in argument ${reason.argument} to function ${reason.functionName}`
        : reason.kind === "invalidJsonPath" ? "Invalid JSON path expression"
          : `${reason.kind} error in a function`);
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
  | { readonly kind: "unsupported"; readonly what: string }
  /** MySQL 1267 / 1270 / 1271 "Illegal mix of collations …" (collation_derivation.ts). */
  | { readonly kind: "collationMix"; readonly items: readonly (readonly [string, string])[];
    readonly operation: string };
