/**
 * The MySQL error of a failed expression evaluation (`ExprError`): 1690 for a value out
 * of range, 3141 for a JSON function's invalid JSON argument, 3143 for an invalid JSON
 * path (3146, 3149, 3153, 3154, 3165 for the JSON functions' other errors), MySQL's
 * regular expression errors (3685–3900), 1210 and 1235.
 */
import type { ExprError, RegexpError } from "../../expr/mod.ts";
import { ER, type MySqlError, type MySqlErrorSpec, mysqlError } from "../mysql_errors.ts";

export function exprErrorOf(error: ExprError): MySqlError {
  const reason = error.reason;
  switch (reason.kind) {
    case "outOfRange":
      return mysqlError(ER.DATA_OUT_OF_RANGE, [reason.typeName, reason.exprText]);
    case "invalidJsonText":
      return mysqlError(ER.INVALID_JSON_TEXT_IN_PARAM,
        [reason.argument, reason.functionName, reason.message, reason.position]);
    case "invalidJsonPath":
      return mysqlError(ER.INVALID_JSON_PATH, [reason.position]);
    case "jsonPathWildcard":
      return mysqlError(ER.INVALID_JSON_PATH_WILDCARD);
    case "jsonVacuousPath":
      return mysqlError(ER.JSON_VACUOUS_PATH);
    case "jsonOneOrAll":
      return mysqlError(ER.JSON_BAD_ONE_OR_ALL_ARG, [reason.functionName]);
    case "jsonPathArrayCell":
      return mysqlError(ER.INVALID_JSON_PATH_ARRAY_CELL);
    case "jsonInvalidType":
      return mysqlError(ER.INVALID_TYPE_FOR_JSON, [reason.argument, reason.functionName]);
    case "regexp":
      return reason.error === "ruleSyntax"
        ? mysqlError(ER.REGEXP_RULE_SYNTAX, [reason.line ?? 1, reason.column ?? 1])
        : mysqlError(regexpErrors[reason.error]);
    case "wrongArguments":
      return mysqlError(ER.WRONG_ARGUMENTS, [reason.functionName]);
    case "unsupported":
      return mysqlError(ER.NOT_SUPPORTED_YET, [reason.what]);
  }
}

/** MySQL's error for each regular expression failure (src/expr/regexp_functions.ts). */
const regexpErrors: Record<Exclude<RegexpError, "ruleSyntax">, MySqlErrorSpec> = {
  illegalArgument: ER.REGEXP_ILLEGAL_ARGUMENT,
  indexOutOfBounds: ER.REGEXP_INDEX_OUTOFBOUNDS_ERROR,
  badEscapeSequence: ER.REGEXP_BAD_ESCAPE_SEQUENCE,
  unimplemented: ER.REGEXP_UNIMPLEMENTED,
  mismatchedParen: ER.REGEXP_MISMATCHED_PAREN,
  badInterval: ER.REGEXP_BAD_INTERVAL,
  maxLtMin: ER.REGEXP_MAX_LT_MIN,
  invalidBackRef: ER.REGEXP_INVALID_BACK_REF,
  missingCloseBracket: ER.REGEXP_MISSING_CLOSE_BRACKET,
  invalidRange: ER.REGEXP_INVALID_RANGE,
  invalidFlag: ER.REGEXP_INVALID_FLAG,
};
