/**
 * A TIMESTAMP column's constant DEFAULT is an instant, as in MySQL and TiDB: the DDL
 * statement reads the literal in its session's `time_zone` and the catalog keeps it in UTC
 * (`ColumnInfo.defaultUtc`). A row taking the default holds that instant whatever the
 * inserting session's zone; SHOW CREATE TABLE, SHOW COLUMNS and information_schema show
 * it in the reading session's zone. NULL and CURRENT_TIMESTAMP defaults are no instants
 * and stay as written; a literal outside TIMESTAMP's range is 1067. Pure: no I/O.
 */
import { type TimeZone, type Value, toDateTimeColumn, toText, utcTimeZone, utcToZone }
  from "../../expr/mod.ts";
import type { ColumnInfo, TableInfo } from "../catalog/schema.ts";
import { ER, MySqlError, mysqlError } from "../mysql_errors.ts";
import { storeTypedValue } from "./typed_store.ts";

/** The literal of a DEFAULT's SQL text (a quoted string or an integer), or undefined. */
function literalOf(text: string): Value | undefined {
  const quoted = /^'(.*)'$/s.exec(text);
  if (quoted !== null) {
    return { kind: "string", value: quoted[1]!.replace(/''/g, "'").replace(/\\\\/g, "\\") };
  }
  return /^[0-9]+$/.test(text) ? { kind: "int", value: BigInt(text) } : undefined;
}

const zeroDate = /^'0000-00-00( 00:00:00(\.0*)?)?'$/;

/**
 * `column` with a constant TIMESTAMP DEFAULT read in `zone` and kept in UTC; any other
 * column (and a zero date, which is no instant) as it is. 1067 when out of range.
 */
export function defaultToUtc(column: ColumnInfo, zone: TimeZone): ColumnInfo {
  const text = column.defaultText;
  if (column.type.kind !== "timestamp" || text === null || column.defaultUtc === true ||
    zeroDate.test(text)) return column;
  const literal = literalOf(text);
  if (literal === undefined || literal === null) return column;
  let stored: Value;
  try {
    stored = storeTypedValue(literal, column, 1, zone);
  } catch (error: unknown) {
    // A value the column cannot hold (a data error) is an invalid default.
    if (!(error instanceof MySqlError)) throw error;
    throw mysqlError(ER.INVALID_DEFAULT, [column.name]);
  }
  return { ...column, defaultText: `'${toText(stored) ?? ""}'`, defaultUtc: true };
}

/** The value a row takes for a DEFAULT kept in UTC (marked `utc`), or undefined. */
export function utcDefaultValue(column: ColumnInfo): Value | undefined {
  if (column.defaultUtc !== true || column.defaultText === null) return undefined;
  const literal = literalOf(column.defaultText);
  if (literal === undefined) return undefined;
  const parsed = toDateTimeColumn(literal, "datetime", column.type.scale);
  if (!parsed.ok || parsed.value?.kind !== "datetime") return undefined;
  return { ...parsed.value, utc: true };
}

/** `column` with a DEFAULT kept in UTC shown in `zone` (absent: UTC). */
export function columnInZone(column: ColumnInfo, zone: TimeZone | undefined): ColumnInfo {
  const utc = utcDefaultValue(column);
  if (utc === undefined || utc === null || utc.kind !== "datetime") return column;
  const local: Value = { kind: "datetime", fsp: utc.fsp,
    value: utcToZone(utc.value, zone ?? utcTimeZone) };
  return { ...withoutUtcDefault(column), defaultText: `'${toText(local) ?? ""}'` };
}

/** `column` without the UTC mark (before its DEFAULT is replaced). */
export function withoutUtcDefault(column: ColumnInfo): ColumnInfo {
  const copy: { defaultUtc?: boolean } = { ...column };
  delete copy.defaultUtc;
  return copy as ColumnInfo;
}

/** `table` with its TIMESTAMP defaults shown in `zone` (the same object when it has none). */
export function tableInZone(table: TableInfo, zone: TimeZone | undefined): TableInfo {
  if (!table.columns.some((c) => c.defaultUtc === true)) return table;
  return { ...table, columns: table.columns.map((c) => columnInZone(c, zone)) };
}
