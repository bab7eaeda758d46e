/**
 * Formatting and parsing dates with MySQL 8's format specifiers: DATE_FORMAT and
 * TIME_FORMAT (`make_date_time`: every specifier from %a to %y, `%%`, and any other
 * `%c` as `c`), STR_TO_DATE (`extract_date_time`: the inverse, including %j day-of-year
 * and %U/%u/%V/%v week numbers with a weekday, %r, %T and the %. %@ %# classes) and
 * GET_FORMAT. STR_TO_DATE's result is a DATE, TIME or DATETIME (fsp 6 with %f) after the
 * parts its constant format names (DATETIME(6) for a format that is not a constant); a
 * text that does not match, or a date with zero parts (MySQL 8's default NO_ZERO_DATE /
 * NO_ZERO_IN_DATE), is NULL with MySQL's 1411 warning. English names only (the
 * `lc_time_names` default).
 */
import type { Expr } from "./expr.ts";
import type { Builtin } from "./functions.ts";
import {
  calcWeek,
  constantText,
  dateArg,
  dateOfDayNumber,
  dateTimeValue,
  dateValue,
  dayNumber,
  dayNumberMax,
  monthDays,
  timeArg,
  weekFirstWeekday,
  weekMondayFirst,
  weekYear,
  weekdayOf,
} from "./date_core.ts";
import { dayNames, monthNames } from "./date_parts.ts";
import { formatTime } from "./temporal.ts";
import { dateType, timeType } from "./temporal_functions.ts";
import { type FieldType, dateTimeType, stringType } from "./types.ts";
import { type DateTime, stringValue, toText } from "./value.ts";

/** What `make_date_time` formats: a date and time, or a (signed) time. */
interface FormatInput {
  readonly dt: DateTime;
  /** True for TIME_FORMAT / a time: date specifiers are NULL, hours may pass 23. */
  readonly isTime: boolean;
  readonly negative: boolean;
}

const pad = (n: number, width: number): string => String(n).padStart(width, "0");

function daySuffix(day: number): string {
  if (day >= 10 && day <= 19) return "th";
  switch (day % 10) {
    case 1: return "st";
    case 2: return "nd";
    case 3: return "rd";
    default: return "th";
  }
}

/** MySQL's `make_date_time`: `format` applied to `input`; null where MySQL gives NULL. */
export function formatDate(input: FormatInput, format: string): string | null {
  const { dt, isTime } = input;
  let out = input.negative ? "-" : "";
  const daynr = (): number => dayNumber(dt.year, dt.month, dt.day);
  const hours12 = (dt.hour % 24 + 11) % 12 + 1;
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!;
    if (ch !== "%" || i + 1 === format.length) {
      out += ch;
      continue;
    }
    const spec = format[++i]!;
    switch (spec) {
      case "M":
        if (isTime || dt.month === 0) return null;
        out += monthNames[dt.month - 1]!;
        break;
      case "b":
        if (isTime || dt.month === 0) return null;
        out += monthNames[dt.month - 1]!.slice(0, 3);
        break;
      case "W":
      case "a": {
        if (isTime || (dt.month === 0 && dt.year === 0)) return null;
        const name = dayNames[weekdayOf(daynr(), false)]!;
        out += spec === "W" ? name : name.slice(0, 3);
        break;
      }
      case "D":
        if (isTime) return null;
        out += String(dt.day) + daySuffix(dt.day);
        break;
      case "Y":
        out += pad(dt.year, 4);
        break;
      case "y":
        out += pad(dt.year % 100, 2);
        break;
      case "m":
        out += pad(dt.month, 2);
        break;
      case "c":
        out += String(dt.month);
        break;
      case "d":
        out += pad(dt.day, 2);
        break;
      case "e":
        out += String(dt.day);
        break;
      case "f":
        out += pad(dt.microsecond, 6);
        break;
      case "H":
        out += pad(dt.hour, 2);
        break;
      case "h":
      case "I":
        out += pad(hours12, 2);
        break;
      case "i":
        out += pad(dt.minute, 2);
        break;
      case "j":
        if (isTime) return null;
        out += pad(daynr() - dayNumber(dt.year, 1, 1) + 1, 3);
        break;
      case "k":
        out += String(dt.hour);
        break;
      case "l":
        out += String(hours12);
        break;
      case "p":
        out += dt.hour % 24 < 12 ? "AM" : "PM";
        break;
      case "r":
        out += `${pad((dt.hour + 11) % 12 + 1, 2)}:${pad(dt.minute, 2)}:${pad(dt.second, 2)} ` +
          (dt.hour % 24 < 12 ? "AM" : "PM");
        break;
      case "S":
      case "s":
        out += pad(dt.second, 2);
        break;
      case "T":
        out += `${pad(dt.hour, 2)}:${pad(dt.minute, 2)}:${pad(dt.second, 2)}`;
        break;
      case "U":
      case "u":
        if (isTime) return null;
        out += pad(calcWeek(dt, spec === "U" ? weekFirstWeekday : weekMondayFirst).week, 2);
        break;
      case "V":
      case "v":
        if (isTime) return null;
        out += pad(calcWeek(dt, spec === "V" ? weekYear | weekFirstWeekday
          : weekYear | weekMondayFirst).week, 2);
        break;
      case "X":
      case "x":
        if (isTime) return null;
        out += pad(calcWeek(dt, spec === "X" ? weekYear | weekFirstWeekday
          : weekYear | weekMondayFirst).year, 4);
        break;
      case "w":
        if (isTime || (dt.month === 0 && dt.year === 0)) return null;
        out += String(weekdayOf(daynr(), true));
        break;
      default:
        out += spec;
    }
  }
  return out;
}

/** MySQL's `format_length`: the longest text a format yields, in characters. */
function formatLength(format: string): number {
  let size = 0;
  for (let i = 0; i < format.length; i++) {
    if (format[i] !== "%" || i + 1 === format.length) {
      size++;
      continue;
    }
    const spec = format[++i]!;
    if ("MW".includes(spec)) size += 64;
    else if ("DYxX".includes(spec)) size += 4;
    else if ("ab".includes(spec)) size += 32;
    else if (spec === "j") size += 3;
    else if ("UuVvymdhIilpSsce".includes(spec)) size += 2;
    else if ("kH".includes(spec)) size += 7;
    else if (spec === "r") size += 11;
    else if (spec === "T") size += 8;
    else if (spec === "f") size += 6;
    else size++;
  }
  return size;
}

function formatResultType(args: readonly Expr[]): FieldType {
  const format = constantText(args[1]);
  const chars = format !== undefined ? formatLength(format)
    : Math.min(args[1]!.type.length / 4 * 10, 65_535);
  return stringType(Math.max(chars, 1), { nullable: true });
}

const dateFormat: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: formatResultType,
  run: (call, state) => {
    const value = state.ev(call.args[0]!);
    const format = toText(state.ev(call.args[1]!));
    if (value === null || format === null) return null;
    const arg = dateArg(value, state.ctx, { fuzzy: true });
    if (arg === null) return null;
    const text = formatDate({ dt: arg.dt, isTime: false, negative: false }, format);
    return text === null ? null : stringValue(text);
  },
};

const timeFormat: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: formatResultType,
  run: (call, state) => {
    const micros = timeArg(state.ev(call.args[0]!), state.ctx);
    const format = toText(state.ev(call.args[1]!));
    if (micros === null || format === null) return null;
    const abs = Math.abs(micros);
    const us = abs % 1_000_000;
    const seconds = (abs - us) / 1_000_000;
    const dt: DateTime = { year: 0, month: 0, day: 0, hour: Math.floor(seconds / 3600),
      minute: Math.floor(seconds / 60) % 60, second: seconds % 60, microsecond: us };
    const text = formatDate({ dt, isTime: true, negative: micros < 0 }, format);
    return text === null ? null : stringValue(text);
  },
};

// ---- STR_TO_DATE -------------------------------------------------------------------------

/** What a format's specifiers produce. */
type ParsedShape = "date" | "time" | "datetime";

/**
 * MySQL's `Item_func_str_to_date::fix_from_format`: the result type a constant format
 * gives (the day specifiers %d %D %e belong to every type and decide nothing).
 */
function formatShape(format: string): { shape: ParsedShape; fsp: number } {
  let date = false;
  let time = false;
  let fsp = 0;
  for (let i = 0; i + 1 < format.length; i++) {
    if (format[i] !== "%") continue;
    const spec = format[++i]!;
    if (spec === "f") {
      time = true;
      fsp = 6;
    } else if ("HISThiklrs".includes(spec)) {
      time = true;
    } else if ("MVUXYWabcjmvuxyw".includes(spec)) {
      date = true;
    }
  }
  const shape = date && time ? "datetime" : time ? "time" : "date";
  return { shape, fsp: shape === "date" ? 0 : fsp };
}

interface Parsed {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
}

/** A name of `names` the letters at `text[pos]` spell (a unique prefix will do), 1-based. */
function matchWord(names: readonly string[], text: string, pos: number):
  { index: number; end: number } | null {
  let end = pos;
  while (end < text.length && /[A-Za-z]/.test(text[end]!)) end++;
  const word = text.slice(pos, end).toLowerCase();
  if (word === "") return null;
  const exact = names.findIndex((n) => n.toLowerCase() === word);
  if (exact >= 0) return { index: exact + 1, end };
  const prefixed = names.map((n, k) => [n, k] as const)
    .filter(([n]) => n.toLowerCase().startsWith(word));
  return prefixed.length === 1 ? { index: prefixed[0]![1] + 1, end } : null;
}

const abbreviated = (names: readonly string[]): string[] => names.map((n) => n.slice(0, 3));

/** Two-digit years 00–69 are 2000–2069, 70–99 are 1970–1999. */
function year2000(year: number): number {
  return year < 70 ? year + 2000 : year < 100 ? year + 1900 : year;
}

/**
 * MySQL's `extract_date_time`: `text` read with `format` into `into`; the position after
 * the text consumed, or null when it does not match.
 */
function extractDateTime(text: string, start: number, format: string, into: Parsed):
  number | null {
  let pos = start;
  let usaTime = false;
  let dayPart = 0;
  let weekday = 0;
  let yearday = -1;
  let weekNumber = -1;
  let sundayFirstWeek = false;
  let strictWeek = false;
  let strictWeekYear = -1;
  let strictWeekYearSundayFirst = false;
  const digits = (max: number): number | null => {
    let end = pos;
    while (end < text.length && end - pos < max && /\d/.test(text[end]!)) end++;
    if (end === pos) return null;
    const n = Number(text.slice(pos, end));
    pos = end;
    return n;
  };
  for (let f = 0; f < format.length && pos < text.length; f++) {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
    if (pos >= text.length) break;
    const ch = format[f]!;
    if (ch !== "%" || f + 1 === format.length) {
      if (!/\s/.test(ch)) {
        if (text[pos] !== ch) return null;
        pos++;
      }
      continue;
    }
    const spec = format[++f]!;
    let n: number | null = 0;
    switch (spec) {
      case "Y": {
        const before = pos;
        n = digits(4);
        if (n !== null) into.year = pos - before <= 2 ? year2000(n) : n;
        break;
      }
      case "y":
        n = digits(2);
        if (n !== null) into.year = year2000(n);
        break;
      case "m":
      case "c":
        n = digits(2);
        if (n !== null) into.month = n;
        break;
      case "M":
      case "b": {
        const word = matchWord(spec === "M" ? monthNames : abbreviated(monthNames), text, pos);
        if (word === null) return null;
        into.month = word.index;
        pos = word.end;
        break;
      }
      case "d":
      case "e":
        n = digits(2);
        if (n !== null) into.day = n;
        break;
      case "D":
        n = digits(2);
        if (n !== null) into.day = n;
        pos = Math.min(pos + 2, text.length);
        break;
      case "h":
      case "I":
      case "l":
        usaTime = true;
        n = digits(2);
        if (n !== null) into.hour = n;
        break;
      case "k":
      case "H":
        n = digits(2);
        if (n !== null) into.hour = n;
        break;
      case "i":
        n = digits(2);
        if (n !== null) into.minute = n;
        break;
      case "s":
      case "S":
        n = digits(2);
        if (n !== null) into.second = n;
        break;
      case "f": {
        const before = pos;
        n = digits(6);
        if (n !== null) into.microsecond = n * 10 ** (6 - (pos - before));
        break;
      }
      case "p": {
        if (text.length - pos < 2 || !usaTime) return null;
        const word = text.slice(pos, pos + 2).toUpperCase();
        if (word === "PM") dayPart = 12;
        else if (word !== "AM") return null;
        pos += 2;
        break;
      }
      case "W":
      case "a": {
        const word = matchWord(spec === "W" ? dayNames : abbreviated(dayNames), text, pos);
        if (word === null) return null;
        weekday = word.index;
        pos = word.end;
        break;
      }
      case "w":
        n = digits(1);
        if (n !== null) {
          if (n >= 7) return null;
          weekday = n === 0 ? 7 : n;
        }
        break;
      case "j":
        n = digits(3);
        if (n !== null) yearday = n;
        break;
      case "V":
      case "U":
      case "v":
      case "u":
        sundayFirstWeek = spec === "U" || spec === "V";
        strictWeek = spec === "V" || spec === "v";
        n = digits(2);
        if (n !== null) {
          if ((strictWeek && n === 0) || n > 53) return null;
          weekNumber = n;
        }
        break;
      case "X":
      case "x":
        strictWeekYearSundayFirst = spec === "X";
        n = digits(4);
        if (n !== null) strictWeekYear = n;
        break;
      case "r":
      case "T": {
        const end = extractDateTime(text, pos, spec === "r" ? "%I:%i:%S %p" : "%H:%i:%S", into);
        if (end === null) return null;
        pos = end;
        break;
      }
      case ".":
        while (pos < text.length && /[!-/:-@[-`{-~]/.test(text[pos]!)) pos++;
        break;
      case "@":
        while (pos < text.length && /[A-Za-z]/.test(text[pos]!)) pos++;
        break;
      case "#":
        while (pos < text.length && /\d/.test(text[pos]!)) pos++;
        break;
      default:
        return null;
    }
    if (n === null) return null;
  }
  if (usaTime) {
    if (into.hour > 12 || into.hour < 1) return null;
    into.hour = into.hour % 12 + dayPart;
  }
  if (yearday > 0) {
    const days = dayNumber(into.year, 1, 1) + yearday - 1;
    if (days <= 0 || days > dayNumberMax) return null;
    Object.assign(into, dateOfDayNumber(days));
  }
  if (weekNumber >= 0 && weekday !== 0) {
    if ((strictWeek && (strictWeekYear < 0 || strictWeekYearSundayFirst !== sundayFirstWeek)) ||
      (!strictWeek && strictWeekYear >= 0)) return null;
    let days = dayNumber(strictWeek ? strictWeekYear : into.year, 1, 1);
    const weekdayB = weekdayOf(days, sundayFirstWeek);
    days += sundayFirstWeek
      ? (weekdayB === 0 ? 0 : 7) - weekdayB + (weekNumber - 1) * 7 + (weekday % 7)
      : (weekdayB <= 3 ? 0 : 7) - weekdayB + (weekNumber - 1) * 7 + (weekday - 1);
    if (days <= 0 || days > dayNumberMax) return null;
    Object.assign(into, dateOfDayNumber(days));
  }
  if (into.month > 12 || into.day > 31 || into.hour > 23 || into.minute > 59 ||
    into.second > 59) return null;
  return pos;
}

const strToDate: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: (args) => {
    const format = constantText(args[1]);
    if (format === undefined) return dateTimeType(6, { nullable: true });
    const { shape, fsp } = formatShape(format);
    return shape === "date" ? dateType(true) : shape === "time" ? timeType(fsp, true)
      : dateTimeType(fsp, { nullable: true });
  },
  run: (call, state) => {
    const text = toText(state.ev(call.args[0]!));
    const format = toText(state.ev(call.args[1]!));
    if (text === null || format === null) return null;
    const type = call.type;
    const shape: ParsedShape = type.code === 0x0a ? "date" : type.code === 0x0b ? "time"
      : "datetime";
    const parsed: Parsed = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0,
      microsecond: 0 };
    const end = extractDateTime(text, 0, format, parsed);
    if (end === null) {
      state.ctx.warn({ kind: "wrongValueForFunction", typeName: "datetime", value: text,
        functionName: "str_to_date" });
      return null;
    }
    if (text.slice(end).trim() !== "") {
      state.ctx.warn({ kind: "truncatedWrongValue", typeName: shape, value: text });
    }
    if (shape === "time") {
      // A day part adds its hours (`STR_TO_DATE('1 10', '%d %H')` is 34:00:00).
      const hours = parsed.hour + parsed.day * 24;
      const micros = ((hours * 60 + parsed.minute) * 60 + parsed.second) * 1_000_000 +
        parsed.microsecond;
      const unit = 10 ** (6 - type.decimals);
      return { kind: "string", value: formatTime(Math.floor(micros / unit) * unit,
        type.decimals), tag: { kind: "time" } };
    }
    // NO_ZERO_DATE and NO_ZERO_IN_DATE (MySQL 8's default): every date part must be there.
    if (parsed.year === 0 || parsed.month === 0 || parsed.day === 0 ||
      parsed.day > monthDays(parsed.year, parsed.month)) {
      state.ctx.warn({ kind: "wrongValueForFunction", typeName: "datetime", value: text,
        functionName: "str_to_date" });
      return null;
    }
    return shape === "date" ? dateValue(parsed) : dateTimeValue(parsed, type.decimals);
  },
};

/** GET_FORMAT's formats by type and standard. */
const formats: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  DATE: { USA: "%m.%d.%Y", JIS: "%Y-%m-%d", ISO: "%Y-%m-%d", EUR: "%d.%m.%Y",
    INTERNAL: "%Y%m%d" },
  DATETIME: { USA: "%Y-%m-%d %H.%i.%s", JIS: "%Y-%m-%d %H:%i:%s", ISO: "%Y-%m-%d %H:%i:%s",
    EUR: "%Y-%m-%d %H.%i.%s", INTERNAL: "%Y%m%d%H%i%s" },
  TIME: { USA: "%h:%i:%s %p", JIS: "%H:%i:%s", ISO: "%H:%i:%s", EUR: "%H.%i.%s",
    INTERNAL: "%H%i%s" },
};

/** GET_FORMAT(DATE|TIME|DATETIME|TIMESTAMP, standard): the type as a string constant. */
const getFormat: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: () => stringType(17, { nullable: true }),
  run: (call, state) => {
    const kind = (toText(state.ev(call.args[0]!)) ?? "").toUpperCase();
    const standard = toText(state.ev(call.args[1]!));
    if (standard === null) return null;
    const table = formats[kind === "TIMESTAMP" ? "DATETIME" : kind];
    const format = table?.[standard.toUpperCase()];
    return format === undefined ? null : stringValue(format);
  },
};

/** Formatting built-ins by lower-case name. */
export const dateFormatBuiltins: readonly (readonly [string, Builtin])[] = [
  ["date_format", dateFormat],
  ["time_format", timeFormat],
  ["str_to_date", strToDate],
  ["get_format", getFormat],
];

