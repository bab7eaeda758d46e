/**
 * The calendar arithmetic and argument reading the date and time built-ins share
 * (date_arith.ts, date_parts.ts, date_format.ts), ported from MySQL 8's `sql_time.cc` /
 * `my_time.cc` so that edge cases agree: day numbers as TO_DAYS counts them
 * (`calc_daynr`, where year 0 has 365 days), week numbers (`calc_week`), weekday numbers,
 * and how a function argument becomes a date, a datetime or a time.
 *
 * An argument that is not a date is NULL with MySQL's warning 1292 "Incorrect datetime
 * value: '…'" (as MySQL does in SELECT). Zero dates and dates with zero parts are
 * accepted only by the functions MySQL lets read them (`fuzzy`: YEAR, MONTH, DAYOFMONTH,
 * DATE_FORMAT …). A TIME argument given to a date function is today's date at that time
 * of day, as in MySQL 8. Pure.
 */
import type { EvalContext, Expr } from "./expr.ts";
import { daysInMonth, parseDateTimeText, parseTimeText, toDateTimeColumn } from "./temporal.ts";
import { type FieldType, TypeCode, dateTimeType, stringType } from "./types.ts";
import { type DateTime, type Value, toText } from "./value.ts";

/** Microseconds in a second and in a day. */
export const microsPerSecond = 1_000_000;
export const microsPerDay = 86_400_000_000;
/** The largest TIME magnitude, 838:59:59, in microseconds. */
export const timeMaxMicros = ((838 * 60 + 59) * 60 + 59) * microsPerSecond;
/** 838:59:59 as the number hhmmss. */
const timeMaxNumber = 8_385_959;
/** TO_DAYS('9999-12-31'): the last day a DATETIME holds. */
export const dayNumberMax = 3_652_424;

/** A date function's reading of its argument: the value and whether it has a date. */
export interface TemporalArg {
  readonly dt: DateTime;
  /** True when the argument is a DATE or a date-only text (`'2024-01-31'`). */
  readonly dateOnly: boolean;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || (year % 400 === 0 && year !== 0);
}

/** Days in `year` as MySQL counts them (year 0 is not a leap year). */
export function daysInYear(year: number): number {
  return isLeapYear(year) ? 366 : 365;
}

/** Days in `month` of `year`, with MySQL's year 0. */
export function monthDays(year: number, month: number): number {
  return month === 2 && year === 0 ? 28 : daysInMonth(year, month);
}

/** MySQL's `calc_daynr`: days since 0000-00-00 (TO_DAYS). */
export function dayNumber(year: number, month: number, day: number): number {
  if (year === 0 && month === 0) return 0;
  let delsum = 365 * year + 31 * (month - 1) + day;
  let y = year;
  if (month <= 2) y--;
  else delsum -= Math.trunc((month * 4 + 23) / 10);
  const temp = Math.trunc(((Math.trunc(y / 100) + 1) * 3) / 4);
  return delsum + Math.trunc(y / 4) - temp;
}

const monthLengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** MySQL's `get_date_from_daynr` (FROM_DAYS): 0000-00-00 outside days 366..3652499. */
export function dateOfDayNumber(daynr: number): { year: number; month: number; day: number } {
  if (daynr <= 365 || daynr >= 3_652_500) return { year: 0, month: 0, day: 0 };
  let year = Math.trunc((daynr * 100) / 36525);
  const temp = Math.trunc(((Math.trunc((year - 1) / 100) + 1) * 3) / 4);
  let dayOfYear = daynr - year * 365 - Math.trunc((year - 1) / 4) + temp;
  let days: number;
  while (dayOfYear > (days = daysInYear(year))) {
    dayOfYear -= days;
    year++;
  }
  let leapDay = 0;
  if (days === 366 && dayOfYear > 31 + 28) {
    dayOfYear--;
    if (dayOfYear === 31 + 28) leapDay = 1;
  }
  let month = 1;
  for (const length of monthLengths) {
    if (dayOfYear <= length) break;
    dayOfYear -= length;
    month++;
  }
  return { year, month, day: dayOfYear + leapDay };
}

/** MySQL's `calc_weekday`: 0 = Monday (or Sunday when `sundayFirst`). */
export function weekdayOf(daynr: number, sundayFirst: boolean): number {
  return (daynr + 5 + (sundayFirst ? 1 : 0)) % 7;
}

/** Bits of MySQL's week behaviour (`WEEK_MONDAY_FIRST`, `WEEK_YEAR`, `WEEK_FIRST_WEEKDAY`). */
export const weekMondayFirst = 1;
export const weekYear = 2;
export const weekFirstWeekday = 4;

/** MySQL's `week_mode`: the behaviour bits of WEEK()'s mode argument. */
export function weekMode(mode: number): number {
  let format = mode & 7;
  if ((format & weekMondayFirst) === 0) format ^= weekFirstWeekday;
  return format;
}

/** MySQL's `calc_week`: the week number and the year it belongs to. */
export function calcWeek(dt: { year: number; month: number; day: number }, behaviour: number):
  { week: number; year: number } {
  const daynr = dayNumber(dt.year, dt.month, dt.day);
  let firstDaynr = dayNumber(dt.year, 1, 1);
  const mondayFirst = (behaviour & weekMondayFirst) !== 0;
  let inWeekYear = (behaviour & weekYear) !== 0;
  const firstWeekday = (behaviour & weekFirstWeekday) !== 0;
  let weekday = weekdayOf(firstDaynr, !mondayFirst);
  let year = dt.year;
  if (dt.month === 1 && dt.day <= 7 - weekday) {
    if (!inWeekYear && ((firstWeekday && weekday !== 0) || (!firstWeekday && weekday >= 4))) {
      return { week: 0, year };
    }
    inWeekYear = true;
    year--;
    const days = daysInYear(year);
    firstDaynr -= days;
    weekday = (weekday + 53 * 7 - days) % 7;
  }
  const days = (firstWeekday && weekday !== 0) || (!firstWeekday && weekday >= 4)
    ? daynr - (firstDaynr + (7 - weekday))
    : daynr - (firstDaynr - weekday);
  if (inWeekYear && days >= 52 * 7) {
    weekday = (weekday + daysInYear(year)) % 7;
    if ((!firstWeekday && weekday < 4) || (firstWeekday && weekday === 0)) {
      return { week: 1, year: year + 1 };
    }
  }
  return { week: Math.trunc(days / 7) + 1, year };
}

/** Microseconds since midnight of `dt`'s time of day. */
export function timeOfDayMicros(dt: DateTime): number {
  return ((dt.hour * 60 + dt.minute) * 60 + dt.second) * microsPerSecond + dt.microsecond;
}

/**
 * `dt` as microseconds since 0000-00-00 (day number × a day + time of day): a bigint, as
 * such counts pass 2^53.
 */
export function totalMicros(dt: DateTime): bigint {
  return BigInt(dayNumber(dt.year, dt.month, dt.day)) * BigInt(microsPerDay) +
    BigInt(timeOfDayMicros(dt));
}

/** The DATETIME `micros` microseconds after 0000-00-00; null outside 0001 … 9999. */
export function dateTimeOfMicros(micros: bigint): DateTime | null {
  const perDay = BigInt(microsPerDay);
  const days = micros >= 0n ? micros / perDay : -((-micros + perDay - 1n) / perDay);
  if (days > BigInt(dayNumberMax) || days < 366n) return null;
  const daynr = Number(days);
  let rest = Number(micros - days * perDay);
  const { year, month, day } = dateOfDayNumber(daynr);
  const microsecond = rest % microsPerSecond;
  rest = (rest - microsecond) / microsPerSecond;
  return { year, month, day, hour: Math.floor(rest / 3600), minute: Math.floor(rest / 60) % 60,
    second: rest % 60, microsecond };
}

/** The DATETIME of a time of day in microseconds on `date`'s day. */
export function atTimeOfDay(date: DateTime, micros: number): DateTime {
  const microsecond = micros % microsPerSecond;
  const seconds = (micros - microsecond) / microsPerSecond;
  return { ...date, hour: Math.floor(seconds / 3600), minute: Math.floor(seconds / 60) % 60,
    second: seconds % 60, microsecond };
}

const laxPattern = new RegExp("^(\\d{1,4})[^\\d](\\d{1,2})[^\\d](\\d{1,2})" +
  "(?:(?:[ T]+|[^\\d])(\\d{1,2})(?:[^\\d](\\d{1,2})(?:[^\\d](\\d{1,2}))?)?)?" +
  "(?:\\.(\\d*))?$");

/**
 * A date text with zero parts (`'2024-00-00'`, `'0000-00-00 10:00:00'`) as the functions
 * that accept them read it; null when it is not one.
 */
function parseZeroPartDate(text: string): DateTime | null {
  const m = laxPattern.exec(text.trim()) ?? /^(\d{4})(\d{2})(\d{2})$/.exec(text.trim());
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) =>
    Number(m[i] ?? 0)) as [number, number, number, number, number, number];
  if (month > 12 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  if (month > 0 && day > monthDays(year, month)) return null;
  const fraction = (m[7] ?? "").padEnd(6, "0").slice(0, 6);
  return { year: m[1]!.length <= 2 ? (year < 70 ? 2000 + year : 1900 + year) : year, month,
    day, hour, minute, second, microsecond: Number(fraction) };
}

const prefixPattern = new RegExp("^\\s*(\\d{1,4}[^\\d]\\d{1,2}[^\\d]\\d{1,2})" +
  "((?:[ T]+\\d{1,2}(?::\\d{1,2}(?::\\d{1,2}(?:\\.\\d*)?)?)?)?)");

/**
 * The date (and time) a text starts with when something else follows it, as MySQL reads
 * `'2024-01-31abc'` (with a "Truncated incorrect" warning); null when it starts with none.
 */
function datePrefix(text: string): TemporalArg | null {
  const m = prefixPattern.exec(text);
  if (m === null || text.slice(m[0].length).trim() === "") return null;
  const dt = parseDateTimeText(m[0], 6);
  return dt === null ? null : { dt, dateOnly: m[2] === "" };
}

/** Whether a text holds a date alone (no time of day). */
function isDateOnlyText(text: string): boolean {
  const t = text.trim();
  return /^\d{1,4}[^\d]\d{1,2}[^\d]\d{1,2}$/.test(t) || /^\d{6}$|^\d{8}$/.test(t);
}

/** Reports 1292 "Incorrect <type> value" for `value`. */
export function warnIncorrect(ctx: EvalContext, value: Value, typeName = "datetime"): void {
  ctx.warn({ kind: "incorrectTemporal", typeName, value: toText(value) ?? "NULL" });
}

function isTimeValue(value: Exclude<Value, null>): boolean {
  return value.kind === "string" && value.tag?.kind === "time";
}

/**
 * `value` as a date function reads it (MySQL's `get_date`), or null with the 1292 warning.
 * `fuzzy` accepts zero dates and zero months or days.
 */
export function dateArg(value: Value, ctx: EvalContext, options: { fuzzy?: boolean } = {}):
  TemporalArg | null {
  if (value === null) return null;
  if (value.kind === "datetime") {
    const dt = value.value;
    if (options.fuzzy !== true && (dt.month === 0 || dt.day === 0)) {
      warnIncorrect(ctx, value);
      return null;
    }
    return { dt, dateOnly: value.date === true };
  }
  if (isTimeValue(value)) {
    const micros = parseTimeText((value as { value: string }).value);
    if (micros === null) {
      warnIncorrect(ctx, value);
      return null;
    }
    const today = dayNumber(ctx.statementTime.year, ctx.statementTime.month,
      ctx.statementTime.day);
    const dt = dateTimeOfMicros(BigInt(today) * BigInt(microsPerDay) + BigInt(micros));
    if (dt === null) warnIncorrect(ctx, value);
    return dt === null ? null : { dt, dateOnly: false };
  }
  if (value.kind === "string") {
    const dt = parseDateTimeText(value.value, 6) ??
      (options.fuzzy === true ? parseZeroPartDate(value.value) : null);
    if (dt !== null) return { dt, dateOnly: isDateOnlyText(value.value) };
    const prefixed = datePrefix(value.value);
    if (prefixed === null) {
      warnIncorrect(ctx, value);
      return null;
    }
    ctx.warn({ kind: "truncatedWrongValue", typeName: prefixed.dateOnly ? "date" : "datetime",
      value: value.value });
    return prefixed;
  }
  const result = toDateTimeColumn(value, "datetime", 6);
  if (!result.ok || result.value === null || result.value.kind !== "datetime") {
    if (options.fuzzy === true && (value.kind === "int" || value.kind === "uint") &&
      value.value === 0n) {
      return { dt: { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, microsecond: 0 },
        dateOnly: true };
    }
    warnIncorrect(ctx, value);
    return null;
  }
  const digits = (toText(value) ?? "").replace(/\..*$/, "").replace(/^-/, "");
  return { dt: result.value.value, dateOnly: digits.length <= 8 };
}

/**
 * MySQL's `str_to_time`: `[-][D ]hh:mm:ss[.f]`, `hh:mm`, digits as `hhmmss`, or a full
 * date and time (its time of day); text after the time is cut off (`truncated`). Null
 * when no digits start it or a minute or second passes 59.
 */
export function parseLaxTime(text: string): { micros: number; truncated: boolean } | null {
  const trimmed = text.trimStart();
  let pos = 0;
  const negative = trimmed[0] === "-";
  if (negative) pos++;
  const body = trimmed.slice(pos);
  if (body.trim().length >= 12 && /^\s*\d+[^\d\s:]\d+[^\d\s:]\d+/.test(body)) {
    const dt = parseDateTimeText(body, 6);
    if (dt !== null) return { micros: timeOfDayMicros(dt), truncated: false };
  }
  const isDigit = (i: number): boolean => i < trimmed.length && /\d/.test(trimmed[i]!);
  const digits = (): number => {
    let value = 0;
    while (isDigit(pos)) value = value * 10 + Number(trimmed[pos++]);
    return value;
  };
  if (!isDigit(pos)) return null;
  const date = [0, 0, 0, 0];
  let value = digits();
  const endOfDays = pos;
  while (pos < trimmed.length && /\s/.test(trimmed[pos]!)) pos++;
  const left = (): number => trimmed.length - pos;
  let state: number;
  if (left() > 1 && pos !== endOfDays && isDigit(pos)) {
    date[0] = value;
    state = 1;
  } else if (left() > 1 && trimmed[pos] === ":" && isDigit(pos + 1)) {
    date[1] = value;
    state = 2;
    pos++;
  } else {
    // One number: hhmmss.
    date[1] = Math.floor(value / 10_000);
    date[2] = Math.floor(value / 100) % 100;
    date[3] = value % 100;
    state = 4;
  }
  while (state < 4) {
    value = digits();
    date[state++] = value;
    if (state === 4 || left() < 2 || trimmed[pos] !== ":" || !isDigit(pos + 1)) break;
    pos++;
  }
  let fraction = 0;
  if (left() >= 2 && trimmed[pos] === "." && isDigit(pos + 1)) {
    pos++;
    const start = pos;
    while (isDigit(pos)) pos++;
    fraction = Number(trimmed.slice(start, Math.min(pos, start + 6)).padEnd(6, "0"));
  }
  const [days, hours, minutes, seconds] = date as [number, number, number, number];
  if (minutes > 59 || seconds > 59) return null;
  const micros = (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * microsPerSecond +
    fraction;
  return { micros: negative ? -micros : micros, truncated: trimmed.slice(pos).trim() !== "" };
}

/**
 * `value` as a time function reads it (MySQL's `get_time`): signed microseconds (a
 * datetime's time of day) within ±838:59:59, or null with the 1292 warning. Text after a
 * time, and a time past the range (clipped), warn "Truncated incorrect time value".
 */
export function timeArg(value: Value, ctx: EvalContext): number | null {
  if (value === null) return null;
  if (value.kind === "datetime") return timeOfDayMicros(value.value);
  const text = value.kind === "double" ? value.value.toFixed(6) : toText(value) ?? "";
  if (value.kind !== "string" && Math.abs(Number(text)) > timeMaxNumber) {
    // A number past 838:59:59 is a date and time (MySQL's `number_to_time`).
    const result = toDateTimeColumn(value, "datetime", 6);
    if (result.ok && result.value !== null && result.value.kind === "datetime") {
      return timeOfDayMicros(result.value.value);
    }
  }
  const parsed = parseLaxTime(text);
  if (parsed === null) {
    warnIncorrect(ctx, value, "time");
    return null;
  }
  const truncated = (): void =>
    ctx.warn({ kind: "truncatedWrongValue", typeName: "time", value: text });
  if (Math.abs(parsed.micros) > timeMaxMicros) {
    truncated();
    return parsed.micros < 0 ? -timeMaxMicros : timeMaxMicros;
  }
  if (parsed.truncated) truncated();
  return parsed.micros;
}

/**
 * How a value of a function with mixed arguments reads: a datetime (has a date part) or a
 * time (MySQL's rule for TIMEDIFF and ADDTIME: a text with a date part is a datetime).
 */
export type DateOrTime =
  | { readonly kind: "datetime"; readonly dt: DateTime }
  | { readonly kind: "time"; readonly micros: number };

export function dateOrTimeArg(value: Value, type: FieldType, ctx: EvalContext):
  DateOrTime | null {
  if (value === null) return null;
  if (value.kind === "datetime") return { kind: "datetime", dt: value.value };
  if (type.code === TypeCode.Time || isTimeValue(value)) {
    const micros = timeArg(value, ctx);
    return micros === null ? null : { kind: "time", micros };
  }
  const text = toText(value) ?? "";
  if (value.kind === "string" && /^\s*\d+[^\d:]\d+[^\d:]\d+/.test(text)) {
    const dt = parseDateTimeText(text, 6);
    if (dt === null) {
      warnIncorrect(ctx, value);
      return null;
    }
    return { kind: "datetime", dt };
  }
  const micros = timeArg(value, ctx);
  return micros === null ? null : { kind: "time", micros };
}

/**
 * Fractional digits of a temporal argument, as MySQL types a result from it: a DATETIME
 * or TIME its fsp, a constant text the digits it has, an integer none, other values 6.
 */
export function argumentFsp(arg: Expr): number {
  if (arg.type.kind === "datetime" || arg.type.code === TypeCode.Time) {
    return Math.min(arg.type.decimals, 6);
  }
  if (arg.type.kind === "int" || arg.type.kind === "null") return 0;
  if (arg.kind === "constant" && arg.value !== null && arg.value.kind === "string") {
    const m = /\.(\d+)\s*$/.exec(arg.value.value);
    return Math.min(m?.[1]?.length ?? 0, 6);
  }
  if (arg.type.kind === "decimal") return Math.min(arg.type.decimals, 6);
  return 6;
}

/** A constant integer argument, undefined when it is not one. */
export function constantInt(expr: Expr | undefined): number | undefined {
  if (expr === undefined || expr.kind !== "constant" || expr.value === null) return undefined;
  const v = expr.value;
  return v.kind === "int" || v.kind === "uint" ? Number(v.value) : undefined;
}

/** A constant string argument, undefined when it is not one. */
export function constantText(expr: Expr | undefined): string | undefined {
  if (expr === undefined || expr.kind !== "constant" || expr.value === null) return undefined;
  return expr.value.kind === "string" ? expr.value.value : undefined;
}

/** A DATETIME(fsp) result value, microseconds cut to `fsp` digits. */
export function dateTimeValue(dt: DateTime, fsp: number): Value {
  const unit = 10 ** (6 - fsp);
  return { kind: "datetime", fsp,
    value: { ...dt, microsecond: Math.floor(dt.microsecond / unit) * unit } };
}

/** A DATE result value. */
export function dateValue(dt: { year: number; month: number; day: number }): Value {
  return { kind: "datetime", fsp: 0, date: true, value: { year: dt.year, month: dt.month,
    day: dt.day, hour: 0, minute: 0, second: 0, microsecond: 0 } };
}

/** Whether `type` is a DATE. */
export function isDateType(type: FieldType): boolean {
  return type.kind === "datetime" && type.code === TypeCode.Date;
}

/** Whether `type` is a TIME. */
export function isTimeType(type: FieldType): boolean {
  return type.code === TypeCode.Time;
}

/** The type of a date-or-datetime text result (`DATE_ADD('2024-01-01', …)`). */
export function dateTextType(nullable: boolean): FieldType {
  return stringType(29, { nullable });
}

export { dateTimeType };
