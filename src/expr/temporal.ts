/**
 * Converting values to the temporal types as INSERT, UPDATE and CAST do, with
 * MySQL 8's rules: DATE, DATETIME[(fsp)] and TIMESTAMP[(fsp)] accept `YYYY-MM-DD
 * hh:mm:ss[.f]` with any punctuation, the digit-only forms (`20240229`, `240229123456`)
 * and numbers; two-digit years 00–69 are 2000–2069, 70–99 are 1970–1999; fractional
 * seconds round half up to the column's fsp (carrying into the next second, day …).
 * TIME[(fsp)] accepts `[-][D ]hh:mm:ss[.f]`, `hh:mm`, `hhmmss` and numbers, within
 * ±838:59:59. YEAR accepts 1901–2155 and 0 with MySQL's two-digit rules.
 *
 * A value that is not a date is `IncorrectTemporal` (MySQL's 1292), one outside the
 * type's range is `OutOfRange` (1264); the caller turns them into errors or warnings.
 * TIMESTAMP is checked here against its UTC range as if the session time zone were UTC;
 * TIMESTAMP columns convert from the session's zone first (src/sql/table/typed_store.ts,
 * temporal_tz.ts). TIME values are tagged `time` (they compare as durations). Pure.
 */
import { type DateTime, type Value, toText } from "./value.ts";

/** Why a value could not be stored. */
export type TemporalProblem = "incorrect" | "range";

/** A stored value, or why there is none. */
export type TemporalResult =
  | { readonly ok: true; readonly value: Value }
  | { readonly ok: false; readonly problem: TemporalProblem };

const fail = (problem: TemporalProblem): TemporalResult => ({ ok: false, problem });
const ok = (value: Value): TemporalResult => ({ ok: true, value });

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Days in `month` of `year` (1-based month). */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeap(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function twoDigitYear(year: number): number {
  return year < 70 ? 2000 + year : 1900 + year;
}

/** Fraction digits as microseconds, rounded to `fsp` digits; may be 1_000_000 (carry). */
function roundedMicros(fraction: string, fsp: number): number {
  const digits = fraction.padEnd(7, "0");
  const micros = Number(digits.slice(0, 6));
  const roundUp = Number(digits[6]) >= 5;
  let value = micros + (roundUp ? 1 : 0);
  const unit = 10 ** (6 - fsp);
  value = Math.floor((value + unit / 2) / unit) * unit;
  return value;
}

/** `dt` plus one second (for rounding carries). */
function nextSecond(dt: DateTime): DateTime {
  let { year, month, day, hour, minute, second } = dt;
  second++;
  if (second === 60) {
    second = 0;
    minute++;
  }
  if (minute === 60) {
    minute = 0;
    hour++;
  }
  if (hour === 24) {
    hour = 0;
    day++;
  }
  if (day > daysInMonth(year, month)) {
    day = 1;
    month++;
  }
  if (month === 13) {
    month = 1;
    year++;
  }
  return { year, month, day, hour, minute, second, microsecond: 0 };
}

const delimitedPattern = new RegExp("^(\\d{1,4})[^\\d](\\d{1,2})[^\\d](\\d{1,2})" +
  "(?:(?:[ T]+|[^\\d])(\\d{1,2})(?:[^\\d](\\d{1,2})(?:[^\\d](\\d{1,2}))?)?)?" +
  "(?:\\.(\\d*))?$");

/**
 * A date-and-time text as MySQL reads it, fractional seconds rounded to `fsp`; null when
 * it is not a valid date (zero dates and zero months or days are invalid, as under
 * MySQL 8's default NO_ZERO_DATE / NO_ZERO_IN_DATE strict mode).
 */
export function parseDateTimeText(text: string, fsp: number): DateTime | null {
  const trimmed = text.trim();
  let parts: string[];
  let fraction: string;
  const m = delimitedPattern.exec(trimmed);
  if (m !== null) {
    parts = [m[1]!, m[2]!, m[3]!, m[4] ?? "0", m[5] ?? "0", m[6] ?? "0"];
    fraction = m[7] ?? "";
    if (m[1]!.length <= 2) parts[0] = String(twoDigitYear(Number(m[1])));
  } else {
    const d = /^(\d+)(?:\.(\d*))?$/.exec(trimmed);
    if (d === null) return null;
    const digits = d[1]!;
    fraction = d[2] ?? "";
    let year: string;
    let rest: string;
    if (digits.length === 8 || digits.length === 14) {
      year = digits.slice(0, 4);
      rest = digits.slice(4);
    } else if (digits.length === 6 || digits.length === 12) {
      year = String(twoDigitYear(Number(digits.slice(0, 2))));
      rest = digits.slice(2);
    } else {
      return null;
    }
    parts = [year, rest.slice(0, 2), rest.slice(2, 4), rest.slice(4, 6) || "0",
      rest.slice(6, 8) || "0", rest.slice(8, 10) || "0"];
  }
  const [year, month, day, hour, minute, second] = parts.map(Number) as
    [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const micros = roundedMicros(fraction, fsp);
  const dt: DateTime = { year, month, day, hour, minute, second, microsecond: micros };
  return micros === 1_000_000 ? nextSecond(dt) : dt;
}

/** `dt` with its microseconds rounded to `fsp` digits. */
function roundDateTime(dt: DateTime, fsp: number): DateTime {
  const micros = roundedMicros(String(dt.microsecond).padStart(6, "0"), fsp);
  return micros === 1_000_000 ? nextSecond(dt) : { ...dt, microsecond: micros };
}

/** The text a number is read as for a temporal column (`20240229`, `123456.5`). */
function numberText(value: Value): string | null {
  if (value === null) return null;
  switch (value.kind) {
    case "int":
    case "uint":
    case "decimal":
      return toText(value);
    case "double":
      return Number.isFinite(value.value) ? value.value.toFixed(6).replace(/\.?0+$/, "") : null;
    default:
      return null;
  }
}

const timestampMin: DateTime = { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 1,
  microsecond: 0 };
const timestampMax: DateTime = { year: 2038, month: 1, day: 19, hour: 3, minute: 14,
  second: 7, microsecond: 999_999 };

function compareDateTime(a: DateTime, b: DateTime): number {
  const keys = ["year", "month", "day", "hour", "minute", "second", "microsecond"] as const;
  for (const k of keys) if (a[k] !== b[k]) return a[k] - b[k];
  return 0;
}

/** `value` as a DATE, DATETIME(fsp) or TIMESTAMP(fsp) column stores it. */
export function toDateTimeColumn(value: Value, kind: "date" | "datetime" | "timestamp",
  fsp: number): TemporalResult {
  if (value === null) return ok(null);
  let dt: DateTime | null;
  if (value.kind === "datetime") {
    dt = roundDateTime(value.value, kind === "date" ? 0 : fsp);
    if (dt.year === 0 && dt.month === 0 && dt.day === 0) return fail("incorrect");
  } else if (value.kind === "string") {
    dt = parseDateTimeText(value.value, kind === "date" ? 0 : fsp);
  } else {
    const text = numberText(value);
    if (text === null) return fail("incorrect");
    // A number is a date whose leading zeros were lost: 240229 is 2024-02-29.
    const [whole, fraction] = text.replace(/^-/, "").split(".") as [string, string?];
    const digits = whole.length <= 6 ? whole.padStart(6, "0")
      : whole.length <= 8 ? whole.padStart(8, "0")
        : whole.length <= 12 ? whole.padStart(12, "0") : whole.padStart(14, "0");
    dt = text.startsWith("-") ? null
      : parseDateTimeText(fraction === undefined ? digits : `${digits}.${fraction}`, fsp);
  }
  if (dt === null) return fail("incorrect");
  if (kind === "date") {
    return ok({ kind: "datetime", fsp: 0, date: true,
      value: { ...dt, hour: 0, minute: 0, second: 0, microsecond: 0 } });
  }
  if (kind === "timestamp" &&
    (compareDateTime(dt, timestampMin) < 0 || compareDateTime(dt, timestampMax) > 0)) {
    return fail("incorrect");
  }
  return ok({ kind: "datetime", fsp, value: dt });
}

/** The largest TIME magnitude, 838:59:59, in microseconds. */
const timeMaxMicros = ((838 * 60 + 59) * 60 + 59) * 1_000_000;

/** A TIME of `micros` (signed microseconds) as MySQL prints it with `fsp` digits. */
export function formatTime(micros: number, fsp: number): string {
  const negative = micros < 0;
  let rest = Math.abs(micros);
  const fraction = rest % 1_000_000;
  rest = (rest - fraction) / 1_000_000;
  const seconds = rest % 60;
  const minutes = Math.floor(rest / 60) % 60;
  const hours = Math.floor(rest / 3600);
  const pad = (n: number): string => String(n).padStart(2, "0");
  const frac = fsp > 0 ? "." + String(fraction).padStart(6, "0").slice(0, fsp) : "";
  return `${negative ? "-" : ""}${pad(hours)}:${pad(minutes)}:${pad(seconds)}${frac}`;
}

/** A TIME text (`-12:34:56.5`) as signed microseconds; null when it is not one. */
export function parseTimeText(text: string): number | null {
  const trimmed = text.trim();
  const m = /^([-+]?)(?:(\d+)\s+)?(\d+)(?::(\d{1,2})(?::(\d{1,2}))?)?(?:\.(\d*))?$/
    .exec(trimmed);
  if (m === null) {
    // A full date and time: its time of day.
    const dt = parseDateTimeText(trimmed, 6);
    if (dt === null || !/[ T]/.test(trimmed)) return null;
    return ((dt.hour * 60 + dt.minute) * 60 + dt.second) * 1_000_000 + dt.microsecond;
  }
  let hours: number;
  let minutes: number;
  let seconds: number;
  if (m[4] === undefined && m[2] === undefined) {
    // Digits only: hhmmss, mmss or ss, read from the right.
    const digits = m[3]!.padStart(6, "0");
    hours = Number(digits.slice(0, -4));
    minutes = Number(digits.slice(-4, -2));
    seconds = Number(digits.slice(-2));
  } else {
    hours = Number(m[3]) + Number(m[2] ?? 0) * 24;
    minutes = Number(m[4] ?? 0);
    seconds = Number(m[5] ?? 0);
  }
  if (minutes > 59 || seconds > 59) return null;
  const fraction = (m[6] ?? "").padEnd(6, "0").slice(0, 6);
  const micros = ((hours * 60 + minutes) * 60 + seconds) * 1_000_000 + Number(fraction);
  return m[1] === "-" ? -micros : micros;
}

/** `value` as a TIME(fsp) column stores it: the normalized text. */
export function toTimeColumn(value: Value, fsp: number): TemporalResult {
  if (value === null) return ok(null);
  let micros: number | null;
  if (value.kind === "datetime") {
    const d = value.value;
    micros = ((d.hour * 60 + d.minute) * 60 + d.second) * 1_000_000 + d.microsecond;
  } else if (value.kind === "string") {
    micros = parseTimeText(value.value);
  } else {
    const text = numberText(value);
    micros = text === null ? null : parseTimeText(text);
  }
  if (micros === null) return fail("incorrect");
  const unit = 10 ** (6 - fsp);
  const sign = micros < 0 ? -1 : 1;
  micros = sign * Math.floor((Math.abs(micros) + unit / 2) / unit) * unit;
  if (Math.abs(micros) > timeMaxMicros) return fail("range");
  return ok({ kind: "string", value: formatTime(micros, fsp), tag: { kind: "time" } });
}

/** The TIME a column holds when a value is clipped to its range: ±838:59:59. */
export function clippedTime(negative: boolean, fsp: number): Value {
  return { kind: "string", value: formatTime(negative ? -timeMaxMicros : timeMaxMicros, fsp),
    tag: { kind: "time" } };
}

/** `value` as a YEAR column stores it. */
export function toYearColumn(value: Value): TemporalResult {
  if (value === null) return ok(null);
  let year: number;
  if (value.kind === "string") {
    const text = value.value.trim();
    const m = /^[+-]?\d+(\.\d*)?$/.exec(text);
    if (m === null) return fail("incorrect");
    year = Math.round(Number(text));
    // As a string, '0' and '00' are 2000; digits up to two are a two-digit year.
    if (/^\d{1,2}(\.\d*)?$/.test(text) && year < 100) return toYearNumber(year, true);
    return toYearNumber(year, false);
  }
  if (value.kind === "datetime") return toYearNumber(value.value.year, false);
  const text = numberText(value);
  if (text === null) return fail("range");
  year = Math.round(Number(text));
  return toYearNumber(year, false);
}

function toYearNumber(year: number, fromString: boolean): TemporalResult {
  let y = year;
  if (y === 0 && !fromString) return ok({ kind: "int", value: 0n });
  if (y >= 0 && y < 100) y = y < 70 ? 2000 + y : 1900 + y;
  if (y < 1901 || y > 2155) return fail("range");
  return ok({ kind: "int", value: BigInt(y) });
}

/**
 * What TIME, YEAR, BIT, ENUM, SET and JSON columns hold given no usable value (an ENUM:
 * its first member, as MySQL's implicit default of a NOT NULL ENUM).
 */
export function typedImplicitDefault(type: { readonly kind: string; readonly scale: number;
  readonly members?: readonly string[] }): Value {
  switch (type.kind) {
    case "time":
      return { kind: "string", value: formatTime(0, type.scale), tag: { kind: "time" } };
    case "year":
      return { kind: "int", value: 0n };
    case "bit":
      return { kind: "uint", value: 0n };
    case "json":
      return { kind: "string", value: "null" };
    case "enum":
      return { kind: "string", value: type.members?.[0] ?? "" };
    default:
      return { kind: "string", value: "" };
  }
}
