/**
 * Storing values into the column types with their own value rules — DATE, DATETIME,
 * TIMESTAMP, TIME, YEAR, BIT, ENUM, SET and JSON — as INSERT and UPDATE do in strict
 * mode: an invalid date or time is 1292 (`Incorrect datetime value: 'x' for column 'c'
 * at row n`), a value outside the type's range 1264 (BIT: 1406), a YEAR that is not a
 * number 1366, an ENUM or SET value naming no member 1265, invalid JSON 3140.
 * `storeValue` (table.ts) calls this; non-strict statements turn the errors into
 * warnings (src/sql/exec/write_convert.ts). Also: ON UPDATE CURRENT_TIMESTAMP. Pure.
 */
import { type DateTime, type TemporalResult, type Value, normalizeJsonText, toDateTimeColumn,
  toText, toTimeColumn, toYearColumn } from "../../expr/mod.ts";
import type { ColumnInfo } from "../catalog/schema.ts";
import { ER, MySqlError, formatMySqlMessage, mysqlError } from "../mysql_errors.ts";
import { toEnumMember, toSetMembers } from "./enum_set.ts";


/** Column kinds whose values this file converts. */
export const typedKinds: ReadonlySet<string> = new Set(["date", "datetime", "timestamp", "time",
  "year", "enum", "set", "json", "bit"]);

/**
 * A value as BIT bits: integers as they are (negative ones as 64-bit two's complement),
 * other numbers rounded, a string's bytes big-endian (`'a'` is 0x61); null when negative
 * after rounding or longer than 8 bytes.
 */
function toBitValue(value: Exclude<Value, null>): bigint | null {
  switch (value.kind) {
    case "int":
    case "uint":
      return BigInt.asUintN(64, value.value);
    case "string": {
      const bytes = new TextEncoder().encode(value.value);
      if (bytes.length > 8) return null;
      return bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n);
    }
    default: {
      const text = toText(value) ?? "";
      const n = Math.round(Number(text));
      return Number.isFinite(n) && n >= 0 ? BigInt(n) : null;
    }
  }
}

/** MySQL's 1292 for a column: `Incorrect date value: 'x' for column 'c' at row n`. */
export function incorrectValueError(typeName: string, value: Value, column: string,
  row: number): MySqlError {
  return new MySqlError(ER.TRUNCATED_WRONG_VALUE, formatMySqlMessage(
    ER.TRUNCATED_WRONG_VALUE_FOR_FIELD, [typeName, toText(value) ?? "NULL", column, row]));
}

/** `value` (not NULL) stored into `column`, whose kind is one of `typedKinds`. */
export function storeTypedValue(value: Exclude<Value, null>, column: ColumnInfo,
  row: number): Value {
  const t = column.type;
  const temporal = (result: TemporalResult, typeName: string): Value => {
    if (result.ok) return result.value;
    if (result.problem === "range") throw mysqlError(ER.WARN_DATA_OUT_OF_RANGE, [column.name, row]);
    throw incorrectValueError(typeName, value, column.name, row);
  };
  switch (t.kind) {
    case "date":
      return temporal(toDateTimeColumn(value, "date", 0), "date");
    case "datetime":
    case "timestamp":
      return temporal(toDateTimeColumn(value, t.kind, t.scale), "datetime");
    case "time":
      return temporal(toTimeColumn(value, t.scale), "time");
    case "year": {
      const result = toYearColumn(value);
      if (!result.ok && result.problem === "incorrect") {
        throw mysqlError(ER.TRUNCATED_WRONG_VALUE_FOR_FIELD,
          ["integer", toText(value) ?? "", column.name, row]);
      }
      return temporal(result, "year");
    }
    case "enum":
    case "set": {
      const members = t.members ?? [];
      const text = t.kind === "enum" ? toEnumMember(value, members)
        : toSetMembers(value, members);
      if (text === null) throw mysqlError(ER.WARN_DATA_TRUNCATED, [column.name, row]);
      return { kind: "string", value: text };
    }
    case "bit": {
      const bits = toBitValue(value);
      if (bits === null || bits >= 1n << BigInt(t.length ?? 1)) {
        throw mysqlError(ER.DATA_TOO_LONG, [column.name, row]);
      }
      return { kind: "uint", value: bits };
    }
    case "json": {
      const normalized = normalizeJsonText(toText(value) ?? "");
      if (!normalized.ok) {
        throw mysqlError(ER.INVALID_JSON_TEXT,
          [normalized.error.message, normalized.error.position, column.name]);
      }
      return { kind: "string", value: normalized.text };
    }
    default:
      throw new Error(`storeTypedValue: column kind ${t.kind}`);
  }
}

/**
 * Sets the `ON UPDATE CURRENT_TIMESTAMP` columns of a row an UPDATE changed to `now`
 * (the statement time, cut to each column's fsp), except those the UPDATE assigns.
 */
export function touchOnUpdateColumns(columns: readonly ColumnInfo[], values: Value[],
  assigned: ReadonlySet<number>, now: DateTime): void {
  for (const column of columns) {
    if (column.onUpdateNow !== true || assigned.has(column.offset)) continue;
    const unit = 10 ** (6 - column.type.scale);
    values[column.offset] = { kind: "datetime", fsp: column.type.scale,
      value: { ...now, microsecond: Math.floor(now.microsecond / unit) * unit } };
  }
}

/** True when `a` and `b` are the same stored value (NULL equals NULL). */
function sameStored(a: Value, b: Value): boolean {
  if (a === null || b === null) return a === b;
  return a.kind === b.kind && toText(a) === toText(b);
}

/**
 * `touchOnUpdateColumns` for a row `values` that an assignment list produced from `old`,
 * when any value differs (ON DUPLICATE KEY UPDATE).
 */
export function touchIfChanged(columns: readonly ColumnInfo[], old: readonly Value[],
  values: Value[], assigned: ReadonlySet<number>, now: DateTime): void {
  if (values.every((v, k) => sameStored(v, old[k] ?? null))) return;
  touchOnUpdateColumns(columns, values, assigned, now);
}
