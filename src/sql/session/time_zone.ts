/**
 * The session's `time_zone`: the zone NOW() and TIMESTAMP columns use, and calendar time
 * for NOW() — wall-clock milliseconds turned into a DATETIME in that zone, without `Date`
 * (the SQL layer reads time only through the clock it is given). `SYSTEM` is the node's
 * `system_time_zone`, which is UTC; `+HH:MM` offsets and named zones (`Europe/Berlin`)
 * resolve through src/expr/temporal_tz.ts. Setting a zone that resolves to none is
 * MySQL's 1298.
 */
import { type DateTime, type TimeZone, epochToZone, resolveTimeZone, utcTimeZone }
  from "../../expr/mod.ts";
import { ER, type MySqlError, mysqlError } from "../mysql_errors.ts";

/** `wallMs` (ms since the epoch, fractional allowed) as a DATETIME at `offsetMinutes`. */
export function civilTime(wallMs: number, offsetMinutes: number): DateTime {
  return epochToZone(wallMs + offsetMinutes * 60_000, utcTimeZone);
}

/** The zone of a `time_zone` value as stored (it was checked when set; UTC otherwise). */
export function sessionTimeZone(value: string): TimeZone {
  return resolveTimeZone(value) ?? utcTimeZone;
}

/** 1298 when `value` names no time zone (`SET time_zone = 'x'`), else undefined. */
export function checkTimeZone(value: string): MySqlError | undefined {
  return resolveTimeZone(value) === undefined
    ? mysqlError(ER.UNKNOWN_TIME_ZONE, [value]) : undefined;
}
