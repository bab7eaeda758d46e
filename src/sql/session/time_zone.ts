/**
 * Calendar time for NOW(): wall-clock milliseconds turned into a DATETIME in the
 * session's time zone, without `Date` (the SQL layer reads time only through the
 * clock it is given). Time zones are UTC offsets: `SYSTEM` is the node's
 * `system_time_zone`, which is UTC; named zones need the time zone tables, not loaded yet.
 */
import type { DateTime } from "../../expr/mod.ts";

const msPerDay = 86_400_000;

/** The civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm). */
function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) -
    Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** `wallMs` (ms since the epoch, fractional allowed) as a DATETIME at `offsetMinutes`. */
export function civilTime(wallMs: number, offsetMinutes: number): DateTime {
  const micros = Math.floor((wallMs + offsetMinutes * 60_000) * 1000);
  const ms = Math.floor(micros / 1000);
  const days = Math.floor(ms / msPerDay);
  const inDay = ms - days * msPerDay;
  const date = civilFromDays(days);
  return {
    ...date,
    hour: Math.floor(inDay / 3_600_000),
    minute: Math.floor(inDay / 60_000) % 60,
    second: Math.floor(inDay / 1000) % 60,
    microsecond: micros - Math.floor(micros / 1_000_000) * 1_000_000,
  };
}

/**
 * The offset in minutes of a `time_zone` value: `SYSTEM` and `UTC` are 0, `+HH:MM` /
 * `-HH:MM` as written; undefined for a named zone.
 */
export function parseTimeZoneOffset(zone: string): number | undefined {
  const upper = zone.toUpperCase();
  if (upper === "SYSTEM" || upper === "UTC" || upper === "+00:00") return 0;
  const match = /^([+-])(\d{1,2}):(\d{2})$/.exec(zone);
  if (match === null) return undefined;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  if (minutes > 14 * 60 || Number(match[3]) > 59) return undefined;
  return match[1] === "-" ? -minutes : minutes;
}
