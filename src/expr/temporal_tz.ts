/**
 * Time zones as MySQL's `time_zone` names them, and converting DATETIMEs between UTC and
 * a zone: what TIMESTAMP columns (stored in UTC, read and written in the session's zone),
 * NOW(), UNIX_TIMESTAMP(), FROM_UNIXTIME() and CONVERT_TZ() need.
 *
 * A zone is `SYSTEM` (the node's `system_time_zone`, which is UTC), a fixed offset
 * `+HH:MM` / `-HH:MM` within MySQL 8's '-13:59' … '+14:00', or a named zone
 * (`Europe/Berlin`, `UTC`) whose rules come from the ICU time zone data Node carries
 * (`Intl.DateTimeFormat`), in place of MySQL's time zone tables. A local time in a
 * daylight-saving gap does not exist (MySQL rejects it for a TIMESTAMP column with 1292;
 * UNIX_TIMESTAMP() takes the instant the gap ends); a local time in an overlap is the
 * earlier of its two instants, as in MySQL. Pure: no clock is read.
 */
import type { DateTime, Value } from "./value.ts";

/** A resolved `time_zone` value. */
export interface TimeZone {
  /** The value as `@@time_zone` shows it: `SYSTEM`, `+08:00`, `Europe/Berlin`. */
  readonly name: string;
  /** Seconds east of UTC for a fixed-offset zone; null for a zone with rules. */
  readonly fixedOffsetSeconds: number | null;
  /** The IANA name Intl knows the zone by (zones with rules only). */
  readonly iana: string | null;
}

/** UTC, as `SYSTEM` is on every node (`system_time_zone` is UTC). */
export const utcTimeZone: TimeZone = { name: "SYSTEM", fixedOffsetSeconds: 0, iana: null };

const msPerDay = 86_400_000;

/** Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The civil date of a day count since 1970-01-01. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
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

/** Whole milliseconds of `dt` read as if it were UTC (microseconds below 1 ms dropped). */
export function msOfDateTime(dt: DateTime): number {
  return daysFromCivil(dt.year, dt.month, dt.day) * msPerDay +
    ((dt.hour * 60 + dt.minute) * 60 + dt.second) * 1000 + Math.floor(dt.microsecond / 1000);
}

/** The DATETIME of `ms` (read as UTC), with sub-millisecond digits `microsBelowMs`. */
export function dateTimeOfMs(ms: number, microsBelowMs = 0): DateTime {
  const days = Math.floor(ms / msPerDay);
  const inDay = ms - days * msPerDay;
  return {
    ...civilFromDays(days),
    hour: Math.floor(inDay / 3_600_000),
    minute: Math.floor(inDay / 60_000) % 60,
    second: Math.floor(inDay / 1000) % 60,
    microsecond: (inDay % 1000) * 1000 + microsBelowMs,
  };
}

function isZeroDate(dt: DateTime): boolean {
  return dt.year === 0 && dt.month === 0 && dt.day === 0;
}

/** `dt` moved by `seconds` (keeps its microseconds). */
function shifted(dt: DateTime, seconds: number): DateTime {
  if (seconds === 0) return dt;
  return dateTimeOfMs(msOfDateTime(dt) + seconds * 1000, dt.microsecond % 1000);
}

// ---- resolving names ---------------------------------------------------------------------

/** Named zones' formatters, by IANA name (bounded: cleared when full). */
const formatters = new Map<string, Intl.DateTimeFormat>();
const formattersMax = 256;

function formatterOf(iana: string): Intl.DateTimeFormat {
  let f = formatters.get(iana);
  if (f === undefined) {
    if (formatters.size >= formattersMax) formatters.clear();
    f = new Intl.DateTimeFormat("en-US", { timeZone: iana, hourCycle: "h23", year: "numeric",
      month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric",
      era: "short" });
    formatters.set(iana, f);
  }
  return f;
}

/**
 * The offset in seconds of a `[+-]H[H]:MM` zone, or undefined when `text` is not one or is
 * outside MySQL 8's range '-13:59' … '+14:00'.
 */
export function parseOffsetZone(text: string): number | undefined {
  const m = /^\s*([+-])(\d{1,2}):(\d{2})\s*$/.exec(text);
  if (m === null) return undefined;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  if (Number(m[3]) > 59) return undefined;
  if (m[1] === "+" ? minutes > 14 * 60 : minutes > 13 * 60 + 59) return undefined;
  return (m[1] === "-" ? -minutes : minutes) * 60;
}

/** `+HH:MM` of an offset in seconds (whole minutes shown). */
function offsetName(seconds: number): string {
  const minutes = Math.trunc(Math.abs(seconds) / 60);
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${seconds < 0 ? "-" : "+"}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/**
 * The zone a `time_zone` value names, or undefined when it names none (MySQL's 1298
 * "Unknown or incorrect time zone").
 */
export function resolveTimeZone(text: string): TimeZone | undefined {
  const trimmed = text.trim();
  if (trimmed.toUpperCase() === "SYSTEM") return utcTimeZone;
  if (/^[+-]/.test(trimmed)) {
    const offset = parseOffsetZone(trimmed);
    return offset === undefined ? undefined
      : { name: offsetName(offset), fixedOffsetSeconds: offset, iana: null };
  }
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(trimmed) || trimmed.length > 64) return undefined;
  try {
    const iana = formatterOf(trimmed).resolvedOptions().timeZone;
    return { name: trimmed, fixedOffsetSeconds: null, iana };
  } catch {
    // Intl throws RangeError for a name it does not know.
    return undefined;
  }
}

// ---- offsets and conversions -------------------------------------------------------------

/** Seconds east of UTC that `zone` is at the instant `utcMs`. */
export function offsetAt(zone: TimeZone, utcMs: number): number {
  if (zone.fixedOffsetSeconds !== null) return zone.fixedOffsetSeconds;
  const whole = Math.floor(utcMs / 1000) * 1000;
  const parts = formatterOf(zone.iana ?? "UTC").formatToParts(whole);
  const field = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  const era = parts.find((p) => p.type === "era")?.value ?? "AD";
  const year = era.startsWith("B") ? 1 - field("year") : field("year");
  const local = daysFromCivil(year, field("month"), field("day")) * msPerDay +
    ((field("hour") * 60 + field("minute")) * 60 + field("second")) * 1000;
  return Math.round((local - whole) / 1000);
}

/** The civil time in `zone` of the UTC DATETIME `utc`; zero dates stay as they are. */
export function utcToZone(utc: DateTime, zone: TimeZone): DateTime {
  if (isZeroDate(utc)) return utc;
  return shifted(utc, offsetAt(zone, msOfDateTime(utc)));
}

/** The civil time in `zone` of `epochMs` (fractional milliseconds allowed). */
export function epochToZone(epochMs: number, zone: TimeZone): DateTime {
  const micros = Math.floor(epochMs * 1000);
  const ms = Math.floor(micros / 1000);
  return shifted(dateTimeOfMs(ms, micros - ms * 1000), offsetAt(zone, ms));
}

/** Where a local time falls: one instant, or the gap a clock change skips. */
export type LocalInstant =
  | { readonly kind: "ok"; readonly utc: DateTime }
  | { readonly kind: "gap"; readonly gapEnd: DateTime };

/**
 * The UTC DATETIME of the civil time `local` in `zone`: the earlier instant when it
 * occurs twice, `gap` (with the instant the gap ends) when it never occurs.
 */
export function zoneToUtc(local: DateTime, zone: TimeZone): LocalInstant {
  if (isZeroDate(local)) return { kind: "ok", utc: local };
  if (zone.fixedOffsetSeconds !== null) {
    return { kind: "ok", utc: shifted(local, -zone.fixedOffsetSeconds) };
  }
  const localMs = msOfDateTime(local);
  // The offsets in force a day either side cover any transition near `local`.
  const before = offsetAt(zone, localMs - msPerDay);
  const after = offsetAt(zone, localMs + msPerDay);
  const candidates = [...new Set([before, after, offsetAt(zone, localMs)])]
    .map((offset) => localMs - offset * 1000)
    .filter((utcMs) => offsetAt(zone, utcMs) * 1000 === localMs - utcMs)
    .sort((a, b) => a - b);
  const keep = local.microsecond % 1000;
  if (candidates.length > 0) return { kind: "ok", utc: dateTimeOfMs(candidates[0]!, keep) };
  // In a gap: the transition lies between the two readings; find its second.
  let lo = localMs - Math.max(before, after) * 1000;
  let hi = localMs - Math.min(before, after) * 1000;
  const offsetLo = offsetAt(zone, lo);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetAt(zone, mid) === offsetLo) lo = mid;
    else hi = mid;
  }
  return { kind: "gap", gapEnd: dateTimeOfMs(hi) };
}

/** Milliseconds since the epoch of the civil time `local` in `zone` (a gap: its end). */
export function zoneToEpochMs(local: DateTime, zone: TimeZone): number {
  const r = zoneToUtc(local, zone);
  return msOfDateTime(r.kind === "ok" ? r.utc : r.gapEnd);
}

/**
 * CONVERT_TZ's conversion of `dt` from zone `from` to zone `to` (MySQL returns the value
 * unchanged when it is outside the TIMESTAMP range in `from`).
 */
export function convertZone(dt: DateTime, from: TimeZone, to: TimeZone): DateTime {
  if (from.name === to.name) return dt;
  const r = zoneToUtc(dt, from);
  return utcToZone(r.kind === "ok" ? r.utc : r.gapEnd, to);
}

/**
 * A column's value as an expression reads it: a TIMESTAMP (held in UTC, `utc` set)
 * in the session's zone; any other value as it is.
 */
export function sessionValue(value: Value, ctx: { readonly timeZone?: TimeZone }): Value {
  if (value === null || value.kind !== "datetime" || value.utc !== true) return value;
  return { kind: "datetime", fsp: value.fsp,
    value: utcToZone(value.value, ctx.timeZone ?? utcTimeZone) };
}
