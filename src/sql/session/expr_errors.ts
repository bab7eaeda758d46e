/**
 * The MySQL error of a failed expression evaluation (`ExprError`): 1690 for a value out
 * of range, 3141 for a JSON function's invalid JSON argument, 3143 for an invalid JSON
 * path.
 */
import type { ExprError } from "../../expr/mod.ts";
import { ER, type MySqlError, mysqlError } from "../mysql_errors.ts";

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
  }
}
