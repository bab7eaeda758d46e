/**
 * Date and time arithmetic with MySQL 8's semantics: INTERVAL values of every unit
 * (simple and compound: `'1:30' HOUR_MINUTE`, `'1.5' SECOND_MICROSECOND` …) as DATE_ADD,
 * DATE_SUB, ADDDATE, SUBDATE, `d ± INTERVAL n unit` and TIMESTAMPADD use them; month
 * arithmetic clamps to the month's last day; results past 9999-12-31 are NULL with 1441.
 * Also DATEDIFF, TIMEDIFF, TIMESTAMPDIFF, ADDTIME, SUBTIME, TIMESTAMP(), TIME(),
 * MAKEDATE, MAKETIME, SEC_TO_TIME, TIME_TO_SEC, TO_DAYS, FROM_DAYS, TO_SECONDS,
 * PERIOD_ADD, PERIOD_DIFF and SYSDATE (the statement's time, like NOW(): Tessera has no
 * clock inside an evaluation).
 *
 * The result type of interval arithmetic follows MySQL: a DATE plus days, weeks, months
 * or years is a DATE, plus a time unit a DATETIME; a DATETIME stays one (fsp: the larger
 * of the argument's and the interval's, 6 for microsecond units); a TIME plus a time unit
 * is a TIME; a text or number argument gives text (a date when it was a date and the unit
 * has no time part). The SQL layer passes the unit as a string constant argument.
 */
import { ExprError } from "./errors.ts";
import type { Expr } from "./expr.ts";
import type { Builtin, CallExpr, EvalState } from "./functions.ts";
import {
  type DateOrTime,
  argumentFsp,
  constantText,
  dateArg,
  dateOfDayNumber,
  dateOrTimeArg,
  dateTextType,
  dateTimeOfMicros,
  dateTimeValue,
  dateValue,
  dayNumber,
  dayNumberMax,
  isDateType,
  isTimeType,
  microsPerDay,
  microsPerSecond,
  monthDays,
  timeArg,
  timeMaxMicros,
  timeOfDayMicros,
  totalMicros,
} from "./date_core.ts";
import { formatTime } from "./temporal.ts";
import { dateType, timeType } from "./temporal_functions.ts";
import { type FieldType, TypeCode, dateTimeType, intType } from "./types.ts";
import {
  type DateTime,
  type Value,
  formatDateTime,
  stringValue,
  toInteger,
  toScaled,
  toText,
} from "./value.ts";

/** The units of INTERVAL, TIMESTAMPADD, TIMESTAMPDIFF and EXTRACT. */
export type IntervalUnit =
  | "MICROSECOND" | "SECOND" | "MINUTE" | "HOUR" | "DAY" | "WEEK" | "MONTH" | "QUARTER"
  | "YEAR" | "SECOND_MICROSECOND" | "MINUTE_MICROSECOND" | "MINUTE_SECOND"
  | "HOUR_MICROSECOND" | "HOUR_SECOND" | "HOUR_MINUTE" | "DAY_MICROSECOND" | "DAY_SECOND"
  | "DAY_MINUTE" | "DAY_HOUR" | "YEAR_MONTH";

/** Microseconds of one of each part of a compound unit, in the order written. */
const partMicros = {
  DAY: microsPerDay, HOUR: 3_600 * microsPerSecond, MINUTE: 60 * microsPerSecond,
  SECOND: microsPerSecond, MICROSECOND: 1,
} as const;

const compoundParts: Readonly<Record<string, readonly (keyof typeof partMicros | "YEAR" |
  "MONTH")[]>> = {
  YEAR_MONTH: ["YEAR", "MONTH"],
  DAY_HOUR: ["DAY", "HOUR"],
  DAY_MINUTE: ["DAY", "HOUR", "MINUTE"],
  DAY_SECOND: ["DAY", "HOUR", "MINUTE", "SECOND"],
  DAY_MICROSECOND: ["DAY", "HOUR", "MINUTE", "SECOND", "MICROSECOND"],
  HOUR_MINUTE: ["HOUR", "MINUTE"],
  HOUR_SECOND: ["HOUR", "MINUTE", "SECOND"],
  HOUR_MICROSECOND: ["HOUR", "MINUTE", "SECOND", "MICROSECOND"],
  MINUTE_SECOND: ["MINUTE", "SECOND"],
  MINUTE_MICROSECOND: ["MINUTE", "SECOND", "MICROSECOND"],
  SECOND_MICROSECOND: ["SECOND", "MICROSECOND"],
};

const allUnits: ReadonlySet<string> = new Set(["MICROSECOND", "SECOND", "MINUTE", "HOUR",
  "DAY", "WEEK", "MONTH", "QUARTER", "YEAR", ...Object.keys(compoundParts)]);

/** Whether `text` names an interval unit. */
export function isIntervalUnit(text: string): text is IntervalUnit {
  return allUnits.has(text);
}

/** Units that move a date by whole days or months (a DATE plus one stays a DATE). */
const dateUnits: ReadonlySet<string> = new Set(["DAY", "WEEK", "MONTH", "QUARTER", "YEAR",
  "YEAR_MONTH"]);

/** An interval: whole months (YEAR, QUARTER, MONTH, YEAR_MONTH) or microseconds. */
export type Interval =
  | { readonly kind: "months"; readonly months: number }
  | { readonly kind: "micros"; readonly micros: number };

/**
 * MySQL's `get_interval_info`: the digit groups of a compound interval text, right-aligned
 * when fewer are given; the last group of a microsecond unit is scaled to six digits.
 * Null when the text has something after its last group.
 */
function intervalGroups(text: string, count: number, microsLast: boolean):
  { values: number[]; negative: boolean } | null {
  let i = 0;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  const negative = text[i] === "-";
  if (negative) i++;
  while (i < text.length && !/\d/.test(text[i]!)) i++;
  const values: number[] = [];
  let lastDigits = 0;
  for (let k = 0; k < count; k++) {
    const start = i;
    let value = 0;
    while (i < text.length && /\d/.test(text[i]!)) value = value * 10 + Number(text[i++]);
    lastDigits = i - start;
    values.push(value);
    while (i < text.length && !/\d/.test(text[i]!)) i++;
    if (i === text.length && k !== count - 1) break;
  }
  while (values.length < count) values.unshift(0);
  if (microsLast && lastDigits < 6) values[count - 1] = values[count - 1]! * 10 ** (6 - lastDigits);
  return i === text.length ? { values, negative } : null;
}

/** The interval `value unit`, null when the value is NULL or not an interval of the unit. */
export function intervalOf(value: Value, unit: IntervalUnit, state: EvalState):
  Interval | null {
  if (value === null) return null;
  const warn = state.ctx.warn;
  const parts = compoundParts[unit];
  if (parts !== undefined) {
    const groups = intervalGroups(toText(value) ?? "", parts.length,
      parts[parts.length - 1] === "MICROSECOND");
    if (groups === null) {
      warn({ kind: "datetimeOverflow", functionName: "date_add_interval" });
      return null;
    }
    const sign = groups.negative ? -1 : 1;
    if (unit === "YEAR_MONTH") {
      return { kind: "months", months: sign * (groups.values[0]! * 12 + groups.values[1]!) };
    }
    let micros = 0;
    parts.forEach((part, k) => {
      micros += groups.values[k]! * partMicros[part as keyof typeof partMicros];
    });
    return { kind: "micros", micros: sign * micros };
  }
  if (unit === "SECOND" && value.kind !== "int" && value.kind !== "uint") {
    // A fractional number of seconds keeps its fraction (MySQL reads it as a DECIMAL).
    const scaled = toScaled(value, warn);
    if (scaled === null || scaled === undefined) return null;
    const micros = scaled.scale <= 6
      ? scaled.unscaled * 10n ** BigInt(6 - scaled.scale)
      : scaled.unscaled / 10n ** BigInt(scaled.scale - 6);
    return { kind: "micros", micros: Number(micros) };
  }
  const n = Number(toInteger(value, warn) ?? 0n);
  switch (unit) {
    case "YEAR":
      return { kind: "months", months: n * 12 };
    case "QUARTER":
      return { kind: "months", months: n * 3 };
    case "MONTH":
      return { kind: "months", months: n };
    case "WEEK":
      return { kind: "micros", micros: n * 7 * microsPerDay };
    default:
      return { kind: "micros", micros: n * partMicros[unit as keyof typeof partMicros] };
  }
}

/**
 * `dt` moved by `interval` (MySQL's `date_add_interval`), null when the result leaves
 * 0001-01-01 … 9999-12-31.
 */
export function addInterval(dt: DateTime, interval: Interval): DateTime | null {
  if (interval.kind === "micros") {
    return dateTimeOfMicros(totalMicros(dt) + BigInt(interval.micros));
  }
  const period = dt.year * 12 + dt.month - 1 + interval.months;
  if (period < 0 || period >= 120_000) return null;
  const year = Math.floor(period / 12);
  const month = (period % 12) + 1;
  const day = Math.min(dt.day, monthDays(year, month));
  if (year === 0) return null;
  return { ...dt, year, month, day };
}

/**
 * The fractional digits an interval adds to a result: 6 for microsecond units, a SECOND
 * count's own digits (6 for a text or DOUBLE, whose digits are not fixed).
 */
function intervalFsp(unit: string, value: Expr): number {
  if (unit.endsWith("MICROSECOND")) return 6;
  if (unit !== "SECOND" || value.type.kind === "int" || value.type.kind === "null") return 0;
  return value.type.kind === "decimal" ? Math.min(value.type.decimals, 6) : 6;
}

type ResultShape = "date" | "datetime" | "time" | "text";

/** MySQL's `Item_date_add_interval::resolve_type`. */
function resultShape(arg: FieldType, unit: string): ResultShape {
  if (isDateType(arg)) return dateUnits.has(unit) ? "date" : "datetime";
  if (arg.kind === "datetime") return "datetime";
  if (isTimeType(arg)) return "time";
  return "text";
}

function unitOf(call: CallExpr, index: number): IntervalUnit {
  const unit = constantText(call.args[index]) ?? "";
  return isIntervalUnit(unit) ? unit : "DAY";
}

/** The type of `d ± INTERVAL value unit` (args: d, value, unit). */
function intervalResultType(args: readonly Expr[]): FieldType {
  const [arg, value, unitArg] = args as [Expr, Expr, Expr];
  const unit = constantText(unitArg) ?? "DAY";
  const fsp = Math.max(argumentFsp(arg), intervalFsp(unit, value));
  switch (resultShape(arg.type, unit)) {
    case "date":
      return dateType(true);
    case "datetime":
      return dateTimeType(isDateType(arg.type) ? intervalFsp(unit, value) : fsp,
        { nullable: true });
    case "time":
      return timeType(Math.max(arg.type.decimals, intervalFsp(unit, value)), true);
    case "text":
      return dateTextType(true);
  }
}

function overflow(state: EvalState, what = "datetime"): Value {
  state.ctx.warn({ kind: "datetimeOverflow", functionName: what });
  return null;
}

/** Evaluates `args[0] + sign × INTERVAL args[1] args[2]`. */
function runInterval(call: CallExpr, state: EvalState, sign: 1 | -1, fnArgs?: {
  readonly date: Expr; readonly value: Expr; readonly unit: IntervalUnit }): Value {
  const dateExpr = fnArgs?.date ?? call.args[0]!;
  const unit = fnArgs?.unit ?? unitOf(call, 2);
  const raw = state.ev(dateExpr);
  if (raw === null) return null;
  const found = intervalOf(state.ev(fnArgs?.value ?? call.args[1]!), unit, state);
  if (found === null) return null;
  const interval: Interval = found.kind === "months"
    ? { kind: "months", months: sign * found.months }
    : { kind: "micros", micros: sign * found.micros };
  const type = call.type;
  if (type.code === TypeCode.Time) {
    const micros = timeArg(raw, state.ctx);
    if (micros === null) return null;
    if (interval.kind !== "micros") return overflow(state, "time");
    const sum = micros + interval.micros;
    if (Math.abs(sum) > timeMaxMicros) return overflow(state, "time");
    return timeValue(sum, type.decimals);
  }
  const arg = dateArg(raw, state.ctx);
  if (arg === null) return null;
  const result = addInterval(arg.dt, interval);
  if (result === null) return overflow(state);
  if (type.kind === "datetime") {
    return type.code === TypeCode.Date ? dateValue(result) : dateTimeValue(result, type.decimals);
  }
  if (arg.dateOnly && dateUnits.has(unit)) return stringValue(formatDateTime(result, 0)
    .slice(0, 10));
  // Six fractional digits when there is a fraction, none otherwise, as MySQL prints it.
  return stringValue(formatDateTime(result, result.microsecond === 0 ? 0 : 6));
}

function timeValue(micros: number, fsp: number): Value {
  const unit = 10 ** (6 - fsp);
  const sign = micros < 0 ? -1 : 1;
  const cut = sign * Math.floor(Math.abs(micros) / unit) * unit;
  return { kind: "string", value: formatTime(cut, fsp), tag: { kind: "time" } };
}

function intervalBuiltin(sign: 1 | -1): Builtin {
  return {
    minArgs: 3, maxArgs: 3,
    infer: (args) => intervalResultType(args),
    run: (call, state) => runInterval(call, state, sign),
  };
}

/** TIMESTAMPADD(unit, n, d): args unit (a string constant), n, d. */
const timestampAdd: Builtin = {
  minArgs: 3, maxArgs: 3,
  infer: (args) => intervalResultType([args[2]!, args[1]!, args[0]!]),
  run: (call, state) => runInterval(call, state, 1,
    { date: call.args[2]!, value: call.args[1]!, unit: unitOf(call, 0) }),
};

// ---- differences -------------------------------------------------------------------------

const datediff: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: () => intType({ length: 11, nullable: true }),
  run: (call, state) => {
    const a = dateArg(state.ev(call.args[0]!), state.ctx);
    if (a === null) return null;
    const b = dateArg(state.ev(call.args[1]!), state.ctx);
    if (b === null) return null;
    return { kind: "int", value: BigInt(dayNumber(a.dt.year, a.dt.month, a.dt.day) -
      dayNumber(b.dt.year, b.dt.month, b.dt.day)) };
  },
};

/** MySQL's month difference of TIMESTAMPDIFF: whole months from `a` to `b`. */
function monthsBetween(a: DateTime, b: DateTime): number {
  const negative = totalMicros(b) < totalMicros(a);
  const [beg, end] = negative ? [b, a] : [a, b];
  const secBeg = timeOfDayMicros(beg);
  const secEnd = timeOfDayMicros(end);
  let years = end.year - beg.year;
  const before = end.month < beg.month || (end.month === beg.month && end.day < beg.day);
  if (before) years--;
  let months = 12 * years;
  months += before ? 12 - (beg.month - end.month) : end.month - beg.month;
  if (end.day < beg.day) months--;
  else if (end.day === beg.day && secEnd < secBeg) months--;
  return negative ? -months : months;
}

const timestampdiff: Builtin = {
  minArgs: 3, maxArgs: 3,
  infer: () => intType({ length: 21, nullable: true }),
  run: (call, state) => {
    const unit = unitOf(call, 0);
    const a = dateArg(state.ev(call.args[1]!), state.ctx);
    if (a === null) return null;
    const b = dateArg(state.ev(call.args[2]!), state.ctx);
    if (b === null) return null;
    if (unit === "MONTH" || unit === "QUARTER" || unit === "YEAR") {
      const months = monthsBetween(a.dt, b.dt);
      const result = Math.trunc(months / (unit === "MONTH" ? 1 : unit === "QUARTER" ? 3 : 12));
      return { kind: "int", value: BigInt(result) };
    }
    const micros = totalMicros(b.dt) - totalMicros(a.dt);
    const per = unit === "WEEK" ? 7 * microsPerDay
      : partMicros[unit as keyof typeof partMicros] ?? 1;
    // bigint division truncates toward zero, as MySQL's.
    return { kind: "int", value: micros / BigInt(per) };
  },
};

function fspOf(args: readonly Expr[]): number {
  return Math.max(...args.map(argumentFsp));
}

/** `micros` clipped to the TIME range with MySQL's warning (quoting `shown`, if given). */
function clippedTimeValue(micros: number, fsp: number, state: EvalState, shown?: string):
  Value {
  if (Math.abs(micros) > timeMaxMicros) {
    const clipped = micros < 0 ? -timeMaxMicros : timeMaxMicros;
    state.ctx.warn({ kind: "truncatedWrongValue", typeName: "time",
      value: shown ?? formatTime(micros, fsp) });
    return timeValue(clipped, fsp);
  }
  return timeValue(micros, fsp);
}

const timediff: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: (args) => timeType(fspOf(args), true),
  run: (call, state) => {
    const a = dateOrTimeArg(state.ev(call.args[0]!), call.args[0]!.type, state.ctx);
    if (a === null) return null;
    const b = dateOrTimeArg(state.ev(call.args[1]!), call.args[1]!.type, state.ctx);
    if (b === null || a.kind !== b.kind) return null;
    const micros = a.kind === "time" ? a.micros - (b as { micros: number }).micros
      : Number(totalMicros(a.dt) - totalMicros((b as { dt: DateTime }).dt));
    return clippedTimeValue(micros, call.type.decimals, state);
  },
};

/** ADDTIME / SUBTIME: a datetime or a time plus a time. */
function addTime(sign: 1 | -1): Builtin {
  return {
    minArgs: 2, maxArgs: 2,
    infer: (args) => {
      const [a] = args as [Expr, Expr];
      const fsp = fspOf(args);
      if (a.type.kind === "datetime") return dateTimeType(fsp, { nullable: true });
      if (isTimeType(a.type)) return timeType(fsp, true);
      return dateTextType(true);
    },
    run: (call, state) => {
      const first: DateOrTime | null = call.type.kind === "datetime"
        ? ((): DateOrTime | null => {
          const d = dateArg(state.ev(call.args[0]!), state.ctx);
          return d === null ? null : { kind: "datetime", dt: d.dt };
        })()
        : dateOrTimeArg(state.ev(call.args[0]!), call.args[0]!.type, state.ctx);
      if (first === null) return null;
      const secondValue = state.ev(call.args[1]!);
      if (secondValue === null) return null;
      const second = dateOrTimeArg(secondValue, call.args[1]!.type, state.ctx);
      if (second === null || second.kind !== "time") return null;
      const delta = sign * second.micros;
      const isText = call.type.kind === "string";
      if (first.kind === "datetime") {
        const dt = dateTimeOfMicros(totalMicros(first.dt) + BigInt(delta));
        if (dt === null) return null;
        // A text result has six fractional digits when it has a fraction, as MySQL's.
        return isText ? stringValue(formatDateTime(dt, dt.microsecond === 0 ? 0 : 6))
          : dateTimeValue(dt, call.type.decimals);
      }
      if (call.type.kind === "datetime") return null;
      const sum = first.micros + delta;
      const v = clippedTimeValue(sum, isText ? (sum % 1_000_000 === 0 ? 0 : 6)
        : call.type.decimals, state);
      return call.type.kind === "string" && v !== null && v.kind === "string"
        ? stringValue(v.value) : v;
    },
  };
}

/** TIMESTAMP(expr) and TIMESTAMP(expr, time). */
const timestampFunction: Builtin = {
  minArgs: 1, maxArgs: 2,
  infer: (args) => dateTimeType(fspOf(args), { nullable: true }),
  run: (call, state) => {
    const d = dateArg(state.ev(call.args[0]!), state.ctx);
    if (d === null) return null;
    if (call.args[1] === undefined) return dateTimeValue(d.dt, call.type.decimals);
    const t = timeArg(state.ev(call.args[1]), state.ctx);
    if (t === null) return null;
    const dt = dateTimeOfMicros(totalMicros(d.dt) + BigInt(t));
    return dt === null ? overflow(state) : dateTimeValue(dt, call.type.decimals);
  },
};

/** TIME(expr): the time part. */
const timeFunction: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => timeType(fspOf(args), true),
  run: (call, state) => {
    const micros = timeArg(state.ev(call.args[0]!), state.ctx);
    return micros === null ? null : clippedTimeValue(micros, call.type.decimals, state);
  },
};

// ---- constructors and conversions --------------------------------------------------------

function intArgOf(call: CallExpr, state: EvalState, index: number): number | null {
  const v = toInteger(state.ev(call.args[index]!), state.ctx.warn);
  return v === null ? null : Number(v);
}

const makedate: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: () => dateType(true),
  run: (call, state) => {
    let year = intArgOf(call, state, 0);
    const dayOfYear = intArgOf(call, state, 1);
    if (year === null || dayOfYear === null || dayOfYear <= 0 || year < 0 || year > 9999) {
      return null;
    }
    if (year < 100) year = year < 70 ? year + 2000 : year + 1900;
    const daynr = dayNumber(year, 1, 1) + dayOfYear - 1;
    if (daynr > dayNumberMax) return null;
    return dateValue(dateOfDayNumber(daynr));
  },
};

const maketime: Builtin = {
  minArgs: 3, maxArgs: 3,
  infer: (args) => timeType(argumentFsp(args[2]!), true),
  run: (call, state) => {
    const hour = intArgOf(call, state, 0);
    const minute = intArgOf(call, state, 1);
    const secondValue = state.ev(call.args[2]!);
    if (hour === null || minute === null || secondValue === null) return null;
    const scaled = toScaled(secondValue, state.ctx.warn);
    if (scaled === null || scaled === undefined) return null;
    const secondMicros = Number(scaled.scale <= 6
      ? scaled.unscaled * 10n ** BigInt(6 - scaled.scale)
      : scaled.unscaled / 10n ** BigInt(scaled.scale - 6));
    if (minute < 0 || minute > 59 || secondMicros < 0 || secondMicros >= 60 * microsPerSecond) {
      return null;
    }
    const magnitude = (Math.abs(hour) * 3600 + minute * 60) * microsPerSecond + secondMicros;
    return clippedTimeValue(hour < 0 ? -magnitude : magnitude, call.type.decimals, state);
  },
};

const secToTime: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => timeType(Math.min(args[0]!.type.kind === "int" ? 0
    : args[0]!.type.kind === "decimal" ? args[0]!.type.decimals : 6, 6), true),
  run: (call, state) => {
    const v = state.ev(call.args[0]!);
    if (v === null) return null;
    const scaled = toScaled(v, state.ctx.warn);
    if (scaled === null || scaled === undefined) return null;
    const micros = Number(scaled.scale <= 6
      ? scaled.unscaled * 10n ** BigInt(6 - scaled.scale)
      : scaled.unscaled / 10n ** BigInt(scaled.scale - 6));
    return clippedTimeValue(micros, call.type.decimals, state, toText(v) ?? "");
  },
};

const timeToSec: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: () => intType({ length: 10, nullable: true }),
  run: (call, state) => {
    const micros = timeArg(state.ev(call.args[0]!), state.ctx);
    if (micros === null) return null;
    return { kind: "int", value: BigInt(Math.trunc(micros / microsPerSecond)) };
  },
};

const toDays: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: () => intType({ length: 8, nullable: true }),
  run: (call, state) => {
    const d = dateArg(state.ev(call.args[0]!), state.ctx);
    return d === null ? null
      : { kind: "int", value: BigInt(dayNumber(d.dt.year, d.dt.month, d.dt.day)) };
  },
};

const toSeconds: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: () => intType({ length: 21, nullable: true }),
  run: (call, state) => {
    const d = dateArg(state.ev(call.args[0]!), state.ctx);
    if (d === null) return null;
    return { kind: "int", value: totalMicros(d.dt) / BigInt(microsPerSecond) };
  },
};

const fromDays: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: () => dateType(true),
  run: (call, state) => {
    const n = intArgOf(call, state, 0);
    if (n === null) return null;
    return dateValue(dateOfDayNumber(n));
  },
};

/** A YYMM or YYYYMM period as a month count (MySQL's `convert_period_to_month`). */
function periodMonths(period: number): number {
  if (period === 0) return 0;
  let year = Math.trunc(period / 100);
  if (year < 100) year += year < 70 ? 2000 : 1900;
  return year * 12 + (period % 100) - 1;
}

/** A month count as YYYYMM (MySQL's `convert_month_to_period`). */
function monthsPeriod(months: number): number {
  if (months === 0) return 0;
  let year = Math.trunc(months / 12);
  if (year < 100) year += year < 70 ? 2000 : 1900;
  return year * 100 + (months % 12) + 1;
}

/** MySQL's `valid_period`: a positive YYMM or YYYYMM with a month 1–12. */
function checkPeriod(period: number, functionName: string): void {
  if (period <= 0 || period % 100 === 0 || period % 100 > 12) {
    throw new ExprError({ kind: "wrongArguments", functionName });
  }
}

const periodAdd: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: () => intType({ length: 6, nullable: true }),
  run: (call, state) => {
    const period = intArgOf(call, state, 0);
    const months = intArgOf(call, state, 1);
    if (period === null || months === null) return null;
    checkPeriod(period, "period_add");
    return { kind: "int", value: BigInt(monthsPeriod(periodMonths(period) + months)) };
  },
};

const periodDiff: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: () => intType({ length: 6, nullable: true }),
  run: (call, state) => {
    const a = intArgOf(call, state, 0);
    const b = intArgOf(call, state, 1);
    if (a === null || b === null) return null;
    checkPeriod(a, "period_diff");
    checkPeriod(b, "period_diff");
    return { kind: "int", value: BigInt(periodMonths(a) - periodMonths(b)) };
  },
};

/** Date arithmetic built-ins by lower-case name. */
export const dateArithBuiltins: readonly (readonly [string, Builtin])[] = [
  ["date_add_interval", intervalBuiltin(1)],
  ["date_sub_interval", intervalBuiltin(-1)],
  ["timestampadd", timestampAdd],
  ["timestampdiff", timestampdiff],
  ["datediff", datediff],
  ["timediff", timediff],
  ["addtime", addTime(1)],
  ["subtime", addTime(-1)],
  ["timestamp", timestampFunction],
  ["time", timeFunction],
  ["makedate", makedate],
  ["maketime", maketime],
  ["sec_to_time", secToTime],
  ["time_to_sec", timeToSec],
  ["to_days", toDays],
  ["to_seconds", toSeconds],
  ["from_days", fromDays],
  ["period_add", periodAdd],
  ["period_diff", periodDiff],
];
