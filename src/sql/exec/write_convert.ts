/**
 * Storing a value into a column when conversion errors are warnings (INSERT IGNORE,
 * UPDATE IGNORE, and any write when sql_mode is not strict): what MySQL stores instead
 * and the warning it raises. NULL into NOT NULL is the type's implicit default (1048),
 * an out-of-range number is clipped to the column's range (1264), a string that is not a
 * number keeps its numeric prefix or is 0 (1366), a too-long string is cut (1265), an
 * invalid date is the zero date (1366).
 * Strict conversion is `storeValue` (src/sql/table/table.ts); this wraps it. Pure.
 */
import { type EvalContext, type Value, clippedTime, typedImplicitDefault }
  from "../../expr/mod.ts";
import { type ColumnInfo, intRange } from "../catalog/schema.ts";
import { ER, MySqlError, mysqlError } from "../mysql_errors.ts";
import { type StoreTarget, storeValue } from "../table/table.ts";

/** The value MySQL stores for a column given no usable value: 0, '', the zero date. */
export function implicitDefault(column: ColumnInfo): Value {
  const t = column.type;
  switch (t.kind) {
    case "int":
      return t.unsigned ? { kind: "uint", value: 0n } : { kind: "int", value: 0n };
    case "decimal":
      return { kind: "decimal", unscaled: 0n, scale: t.scale };
    case "double":
      return { kind: "double", value: 0 };
    case "string":
    case "bytes":
      return { kind: "string", value: "" };
    case "datetime":
    case "date":
    case "timestamp":
      return { kind: "datetime", fsp: t.kind === "date" ? 0 : t.scale,
        ...(t.kind === "date" ? { date: true } : {}),
        value: { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, microsecond: 0 } };
    default:
      return typedImplicitDefault(t);
  }
}

/** The largest magnitude a column holds, with the sign of `negative`. */
function clipped(column: ColumnInfo, negative: boolean): Value {
  const t = column.type;
  switch (t.kind) {
    case "int": {
      const range = intRange(t);
      const n = negative ? range.min : range.max;
      return t.unsigned ? { kind: "uint", value: n } : { kind: "int", value: n };
    }
    case "decimal": {
      const precision = t.length ?? 10;
      const max = 10n ** BigInt(precision) - 1n;
      if (t.unsigned && negative) return { kind: "decimal", unscaled: 0n, scale: t.scale };
      return { kind: "decimal", unscaled: negative ? -max : max, scale: t.scale };
    }
    case "double":
      return { kind: "double", value: negative ? -Number.MAX_VALUE : Number.MAX_VALUE };
    case "time":
      return clippedTime(negative, t.scale);
    default:
      return implicitDefault(column);
  }
}

function isNegative(value: Value): boolean {
  if (value === null) return false;
  switch (value.kind) {
    case "int":
    case "uint":
      return value.value < 0n;
    case "decimal":
      return value.unscaled < 0n;
    case "double":
      return value.value < 0;
    case "string":
      return value.value.trim().startsWith("-");
    default:
      return false;
  }
}

const numericPrefix = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/;

/**
 * `base` for evaluating a value an INSERT or UPDATE writes: with `divisionByZeroIsError`
 * (strict sql_mode with ERROR_FOR_DIVISION_BY_ZERO, no IGNORE) division by zero fails the
 * statement with 1365 instead of warning, as MySQL does.
 */
export function writeEvalContext(base: EvalContext, divisionByZeroIsError: boolean):
  EvalContext {
  if (!divisionByZeroIsError) return base;
  return { ...base, warn: (warning) => {
    if (warning.kind === "divisionByZero") throw mysqlError(ER.DIVISION_BY_ZERO);
    base.warn(warning);
  } };
}

/** `prefix` (a number) stored into `target.column`, clipped to its range. */
function numberOf(prefix: string, target: StoreTarget, ctx: EvalContext): Value {
  const numeric: Value = { kind: "string", value: prefix };
  try {
    return storeValue(numeric, target, ctx);
  } catch (inner: unknown) {
    if (inner instanceof MySqlError && inner.errno === ER.WARN_DATA_OUT_OF_RANGE.errno) {
      return clipped(target.column, isNegative(numeric));
    }
    return implicitDefault(target.column);
  }
}

/** The number a string stored into a numeric column starts with, if any. */
function numericPrefixOf(value: Value, column: ColumnInfo): string | undefined {
  const kind = column.type.kind;
  if (value === null || value.kind !== "string") return undefined;
  if (kind !== "int" && kind !== "decimal" && kind !== "double") return undefined;
  return numericPrefix.exec(value.value)?.[0].trim();
}

/**
 * `value` stored into `target.column`; with `strict` false (IGNORE, or an sql_mode
 * without STRICT_TRANS_TABLES / STRICT_ALL_TABLES), conversion errors become warnings
 * passed to `warn` and the value MySQL would store is returned. `nullIsError` keeps NULL
 * into NOT NULL an error (1048) even then: a single-row INSERT in non-strict mode.
 */
export function storeValueFor(value: Value, target: StoreTarget, options: {
  readonly ctx: EvalContext;
  readonly strict: boolean;
  readonly warn: (warning: MySqlError) => void;
  readonly nullIsError?: boolean;
}): Value {
  const { ctx, strict, warn } = options;
  try {
    return storeValue(value, target, ctx);
  } catch (caught: unknown) {
    if (!(caught instanceof MySqlError)) throw caught;
    const { column, row } = target;
    // A number with trailing garbage ('12abc') is 1265, as MySQL's Field_num has it; 1366
    // is for text with no number at its start.
    const prefix = numericPrefixOf(value, column);
    const error = caught.errno === ER.TRUNCATED_WRONG_VALUE_FOR_FIELD.errno &&
      prefix !== undefined ? mysqlError(ER.WARN_DATA_TRUNCATED, [column.name, row]) : caught;
    if (strict) throw error;
    if (error.errno === ER.BAD_NULL_ERROR.errno && options.nullIsError === true) throw error;
    switch (error.errno) {
      case ER.BAD_NULL_ERROR.errno:
      case ER.TRUNCATED_WRONG_VALUE.errno:
        // NULL into NOT NULL, an invalid date or time.
        warn(error);
        return implicitDefault(column);
      case ER.WARN_DATA_TRUNCATED.errno:
        warn(error);
        // A number with trailing garbage keeps the number (clipped to the column's range);
        // a value no ENUM or SET member names is the empty string (ENUM's error value).
        return prefix !== undefined ? numberOf(prefix, target, ctx)
          : { kind: "string", value: "" };
      case ER.WARN_DATA_OUT_OF_RANGE.errno:
        warn(error);
        return clipped(column, isNegative(value));
      case ER.DATA_TOO_LONG.errno: {
        if (column.type.kind === "bit") {
          // A BIT value too wide for the column: all of its bits set, as MySQL stores it.
          warn(error);
          return { kind: "uint", value: (1n << BigInt(column.type.length ?? 1)) - 1n };
        }
        warn(mysqlError(ER.WARN_DATA_TRUNCATED, [column.name, row]));
        const text = value === null || value.kind !== "string" ? "" : value.value;
        return { kind: "string", value: [...text].slice(0, column.type.length ?? 0).join("") };
      }
      case ER.TRUNCATED_WRONG_VALUE_FOR_FIELD.errno:
        // Text that is not a number (or an invalid value of another type): 0, '', zero date.
        warn(error);
        return implicitDefault(column);
      default:
        throw error;
    }
  }
}
