/**
 * The value of a LIMIT or OFFSET: a non-negative integer, else 1210 "Incorrect arguments
 * to LIMIT". A literal is always an integer; a prepared statement's `?` may arrive as a
 * DOUBLE (mysql2 sends every JavaScript number as one) or a string (its advice for MySQL
 * 8.0.22+, which refuses the DOUBLE), so a whole non-negative DOUBLE, DECIMAL or digit
 * string is taken too, as MariaDB does. One rule for SELECT, UPDATE/DELETE … LIMIT and
 * the session's own table-less SELECT.
 */
import type { Value } from "../../expr/mod.ts";
import { ER, mysqlError } from "../mysql_errors.ts";

/** `value` as a row count; 1210 when it is not a whole non-negative number. */
export function limitCount(value: Value): bigint {
  const n = wholeNumber(value);
  if (n === undefined || n < 0n) throw mysqlError(ER.WRONG_ARGUMENTS, ["LIMIT"]);
  return n;
}

function wholeNumber(value: Value): bigint | undefined {
  if (value === null) return undefined;
  switch (value.kind) {
    case "int":
    case "uint":
      return value.value;
    case "double":
      return Number.isSafeInteger(value.value) ? BigInt(value.value) : undefined;
    case "decimal": {
      const unit = 10n ** BigInt(value.scale);
      return value.unscaled % unit === 0n ? value.unscaled / unit : undefined;
    }
    case "string":
      return value.tag === undefined && /^\s*\d{1,20}\s*$/.test(value.value)
        ? BigInt(value.value.trim()) : undefined;
    default:
      return undefined;
  }
}
