/**
 * Storing values into the column types with their own value rules — DATE, DATETIME,
 * TIMESTAMP, TIME, YEAR, BIT, ENUM, SET and JSON — as INSERT and UPDATE do in strict
 * mode: an invalid date or time is 1292 (`Incorrect datetime value: 'x' for column 'c'
 * at row n`), a value outside the type's range 1264 (BIT: 1406), a YEAR that is not a
 * number 1366, an ENUM or SET value naming no member 1265, invalid JSON 3140.
 * `storeValue` (table.ts) calls this; non-strict statements turn the errors into
 * warnings (src/sql/exec/write_convert.ts). Also: ON UPDATE CURRENT_TIMESTAMP. Pure.
 */
import { type DagColumnType, type DateTime, type TemporalResult, type TimeZone, type Value,
  normalizeJsonText, readStoredDagValue, toDateTimeColumn, toText, toTimeColumn,
  toYearColumn, utcTimeZone, zoneToUtc } from "../../expr/mod.ts";
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

/** The earliest and latest TIMESTAMP, in UTC. */
const timestampMin: DateTime = { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 1,
  microsecond: 0 };
const timestampMax: DateTime = { year: 2038, month: 1, day: 19, hour: 3, minute: 14,
  second: 7, microsecond: 999_999 };

function dateTimeOrder(a: DateTime, b: DateTime): number {
  const keys = ["year", "month", "day", "hour", "minute", "second", "microsecond"] as const;
  for (const k of keys) if (a[k] !== b[k]) return a[k] - b[k];
  return 0;
}

/**
 * A TIMESTAMP value written in `zone` as the column holds it: in UTC (`utc` set), within
 * '1970-01-01 00:00:01' … '2038-01-19 03:14:07' UTC; a local time that a daylight-saving
 * change skips is incorrect, as in MySQL.
 */
function timestampResult(local: TemporalResult, zone: TimeZone): TemporalResult {
  if (!local.ok || local.value === null || local.value.kind !== "datetime") return local;
  const instant = zoneToUtc(local.value.value, zone);
  if (instant.kind === "gap") return { ok: false, problem: "incorrect" };
  const utc = instant.utc;
  if (dateTimeOrder(utc, timestampMin) < 0 || dateTimeOrder(utc, timestampMax) > 0) {
    return { ok: false, problem: "incorrect" };
  }
  return { ok: true, value: { kind: "datetime", fsp: local.value.fsp, value: utc, utc: true } };
}

/**
 * `value` (not NULL) stored into `column`, whose kind is one of `typedKinds`; a TIMESTAMP
 * is read in `zone` (the session's `time_zone`).
 */
export function storeTypedValue(value: Exclude<Value, null>, column: ColumnInfo,
  row: number, zone: TimeZone = utcTimeZone): Value {
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
      return temporal(toDateTimeColumn(value, t.kind, t.scale), "datetime");
    case "timestamp": {
      // A value already in UTC (a stored TIMESTAMP copied by a cascade) is not converted.
      const from = value.kind === "datetime" && value.utc === true ? utcTimeZone : zone;
      return temporal(timestampResult(toDateTimeColumn(value, "datetime", t.scale), from),
        "datetime");
    }
    case "time":
      return readStoredValue(column, temporal(toTimeColumn(value, t.scale), "time"));
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
      return readStoredValue(column, { kind: "string", value: text });
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
      return { kind: "string", value: normalized.text, tag: { kind: "json" } };
    }
    default:
      throw new Error(`storeTypedValue: column kind ${t.kind}`);
  }
}

/** The statement time as ON UPDATE CURRENT_TIMESTAMP reads it. */
export interface StatementClock {
  /** NOW() in the session's zone. */
  readonly statementTime: DateTime;
  /** The session's `time_zone` (absent: UTC). */
  readonly timeZone?: TimeZone;
}

/**
 * Sets the `ON UPDATE CURRENT_TIMESTAMP` columns of a row an UPDATE changed to the
 * statement time (cut to each column's fsp; a TIMESTAMP in UTC), except those the UPDATE
 * assigns.
 */
export function touchOnUpdateColumns(columns: readonly ColumnInfo[], values: Value[],
  assigned: ReadonlySet<number>, clock: StatementClock): void {
  for (const column of columns) {
    if (column.onUpdateNow !== true || assigned.has(column.offset)) continue;
    const unit = 10 ** (6 - column.type.scale);
    const now = clock.statementTime;
    const local: Value = { kind: "datetime", fsp: column.type.scale,
      value: { ...now, microsecond: Math.floor(now.microsecond / unit) * unit } };
    const stored = column.type.kind === "timestamp"
      ? timestampResult({ ok: true, value: local }, clock.timeZone ?? utcTimeZone) : null;
    values[column.offset] = stored?.ok === true ? stored.value : local;
  }
}

/** How `column`'s values are represented in rows and on KV (the coprocessor's column type). */
export function dagColumnType(column: ColumnInfo): DagColumnType {
  const t = column.type;
  switch (t.kind) {
    case "int":
      return { kind: "int", unsigned: t.unsigned };
    case "year":
      return { kind: "int", unsigned: false };
    case "bit":
      return { kind: "int", unsigned: true };
    case "decimal":
      return { kind: "decimal", scale: t.scale };
    case "double":
      return { kind: "double" };
    case "string":
    case "bytes":
      return { kind: "string" };
    case "date":
      return { kind: "date" };
    case "datetime":
      return { kind: "datetime", fsp: t.scale };
    case "timestamp":
      return { kind: "timestamp", fsp: t.scale };
    case "time":
      return { kind: "time" };
    case "json":
      return { kind: "json" };
    case "enum":
      return { kind: "enum", members: t.members ?? [] };
    case "set":
      return { kind: "set", members: t.members ?? [] };
    default:
      return t.kind satisfies never;
  }
}

/** `dagColumnType` per column object (columns are immutable within a schema version). */
const storedTypes = new WeakMap<ColumnInfo, DagColumnType>();

/**
 * A stored value of `column` as rows hold it in memory: a TIMESTAMP marked as UTC, the
 * text of an ENUM, SET, TIME or JSON with its tag (its index, bits, or kind), so that
 * expressions compare and sort it as MySQL does. Other values as they are. The one
 * conversion the coprocessor applies too (`readStoredDagValue`).
 */
export function readStoredValue(column: ColumnInfo, value: Value): Value {
  if (value === null || (value.kind !== "datetime" && value.kind !== "string")) return value;
  let type = storedTypes.get(column);
  if (type === undefined) {
    type = dagColumnType(column);
    storedTypes.set(column, type);
  }
  return readStoredDagValue(type, value);
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
  values: Value[], assigned: ReadonlySet<number>, clock: StatementClock): void {
  if (values.every((v, k) => sameStored(v, old[k] ?? null))) return;
  touchOnUpdateColumns(columns, values, assigned, clock);
}
