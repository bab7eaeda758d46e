/**
 * The date and time part functions with MySQL 8's semantics: YEAR, MONTH, DAYOFMONTH,
 * QUARTER (which read dates with zero parts, `MONTH('2024-00-00')` is 0), HOUR, MINUTE,
 * SECOND, MICROSECOND (which read times, `HOUR('838:00:00')` is 838), DAYOFWEEK, WEEKDAY,
 * DAYOFYEAR, WEEK(d[, mode]) with modes 0–7, WEEKOFYEAR, YEARWEEK, DAYNAME, MONTHNAME,
 * LAST_DAY and EXTRACT(unit FROM d) (the SQL layer passes the unit as a string constant).
 * Display lengths are MySQL 8.0's (one more than the digits, for a sign); the type is
 * BIGINT, as MySQL 8.0 types integer functions.
 *
 * WEEK(d) and EXTRACT(WEEK FROM d) get the session's `default_week_format` as their
 * mode from the SQL layer (src/sql/session/to_expr_dates.ts); without one, mode 0.
 */
import type { Expr } from "./expr.ts";
import type { Builtin, CallExpr, EvalState } from "./functions.ts";
import {
  type TemporalArg,
  calcWeek,
  constantText,
  dateArg,
  dateValue,
  dayNumber,
  monthDays,
  timeArg,
  timeOfDayMicros,
  warnIncorrect,
  weekMode,
  weekYear,
  weekdayOf,
} from "./date_core.ts";
import { dateType } from "./temporal_functions.ts";
import { type FieldType, intType, stringType } from "./types.ts";
import { type Value, stringValue, toInteger } from "./value.ts";

export const monthNames = ["January", "February", "March", "April", "May", "June", "July",
  "August", "September", "October", "November", "December"];
export const dayNames = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
  "Sunday"];

function intOf(n: number): Value {
  return { kind: "int", value: BigInt(n) };
}

/** A part of a date argument; `fuzzy` lets zero dates and zero parts through. */
function datePart(length: number, part: (arg: TemporalArg, call: CallExpr, state: EvalState)
  => Value, options: { fuzzy: boolean; maxArgs?: number }): Builtin {
  return {
    minArgs: 1, maxArgs: options.maxArgs ?? 1,
    infer: () => intType({ length, nullable: true }),
    run: (call, state) => {
      const arg = dateArg(state.ev(call.args[0]!), state.ctx, { fuzzy: options.fuzzy });
      return arg === null ? null : part(arg, call, state);
    },
  };
}

/** A part of a time argument (hours may pass 23). */
function timePart(length: number, part: (micros: number) => number): Builtin {
  return {
    minArgs: 1, maxArgs: 1,
    infer: () => intType({ length, nullable: true }),
    run: (call, state) => {
      const micros = timeArg(state.ev(call.args[0]!), state.ctx);
      return micros === null ? null : intOf(part(Math.abs(micros)));
    },
  };
}

function daynrOf(arg: TemporalArg): number {
  return dayNumber(arg.dt.year, arg.dt.month, arg.dt.day);
}

/** The constant or evaluated mode argument of WEEK / YEARWEEK; 0 when absent. */
function modeOf(call: CallExpr, state: EvalState): number | null {
  const arg = call.args[1];
  if (arg === undefined) return 0;
  const v = toInteger(state.ev(arg), state.ctx.warn);
  return v === null ? null : Number(BigInt.asUintN(32, v));
}

const week = datePart(3, (arg, call, state) => {
  const mode = modeOf(call, state);
  return mode === null ? null : intOf(calcWeek(arg.dt, weekMode(mode)).week);
}, { fuzzy: false, maxArgs: 2 });

const yearweek = datePart(7, (arg, call, state) => {
  const mode = modeOf(call, state);
  if (mode === null) return null;
  const { week: w, year } = calcWeek(arg.dt, weekMode(mode) | weekYear);
  return intOf(year * 100 + w);
}, { fuzzy: false, maxArgs: 2 });

function nameFunction(name: (arg: TemporalArg) => string | null): Builtin {
  return {
    minArgs: 1, maxArgs: 1,
    infer: () => stringType(9, { nullable: true }),
    run: (call, state) => {
      const arg = dateArg(state.ev(call.args[0]!), state.ctx, { fuzzy: true });
      if (arg === null) return null;
      const text = name(arg);
      return text === null ? null : stringValue(text);
    },
  };
}

const lastDay: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: () => dateType(true),
  run: (call, state) => {
    const value = state.ev(call.args[0]!);
    const arg = dateArg(value, state.ctx, { fuzzy: true });
    if (arg === null) return null;
    if (arg.dt.month === 0) {
      warnIncorrect(state.ctx, dateValue(arg.dt));
      return null;
    }
    return dateValue({ ...arg.dt, day: monthDays(arg.dt.year, arg.dt.month) });
  },
};

/** Display lengths of EXTRACT's results, by unit (MySQL's `Item_extract`). */
const extractLengths: Readonly<Record<string, number>> = {
  YEAR: 4, YEAR_MONTH: 6, QUARTER: 2, MONTH: 2, WEEK: 2, DAY: 2, DAY_HOUR: 9, DAY_MINUTE: 11,
  DAY_SECOND: 13, HOUR: 2, HOUR_MINUTE: 4, HOUR_SECOND: 6, MINUTE: 2, MINUTE_SECOND: 4,
  SECOND: 2, MICROSECOND: 2, DAY_MICROSECOND: 20, HOUR_MICROSECOND: 13,
  MINUTE_MICROSECOND: 11, SECOND_MICROSECOND: 9,
};

const extractDateUnits: ReadonlySet<string> = new Set(["YEAR", "YEAR_MONTH", "QUARTER",
  "MONTH", "WEEK", "DAY"]);

/** EXTRACT(unit FROM d[, week mode]): args unit (a string constant), d, WEEK's mode. */
const extract: Builtin = {
  minArgs: 2, maxArgs: 3,
  infer: (args: readonly Expr[]): FieldType =>
    intType({ length: extractLengths[constantText(args[0]) ?? ""] ?? 21, nullable: true }),
  run: (call, state) => {
    const unit = constantText(call.args[0]) ?? "";
    const value = state.ev(call.args[1]!);
    if (value === null) return null;
    if (extractDateUnits.has(unit)) {
      const arg = dateArg(value, state.ctx, { fuzzy: true });
      if (arg === null) return null;
      const { year, month, day } = arg.dt;
      switch (unit) {
        case "YEAR": return intOf(year);
        case "YEAR_MONTH": return intOf(year * 100 + month);
        case "QUARTER": return intOf(Math.floor((month + 2) / 3));
        case "MONTH": return intOf(month);
        case "WEEK": {
          const mode = modeOf({ ...call, args: [call.args[1]!, ...call.args.slice(2)] }, state);
          return mode === null ? null : intOf(calcWeek(arg.dt, weekMode(mode)).week);
        }
        default: return intOf(day);
      }
    }
    // Time units: a datetime keeps its day; a TIME has none (its hours may pass 23).
    let day = 0;
    let micros: number | null;
    if (value.kind === "datetime" || (value.kind === "string" && value.tag?.kind !== "time" &&
      /^\s*\d+[^\d:]\d+[^\d:]\d+/.test(value.value))) {
      const arg = dateArg(value, state.ctx, { fuzzy: true });
      if (arg === null) return null;
      day = arg.dt.day;
      micros = timeOfDayMicros(arg.dt);
    } else {
      micros = timeArg(value, state.ctx);
    }
    if (micros === null) return null;
    const sign = micros < 0 ? -1 : 1;
    const abs = Math.abs(micros);
    const us = abs % 1_000_000;
    const totalSeconds = (abs - us) / 1_000_000;
    const s = totalSeconds % 60;
    const m = Math.floor(totalSeconds / 60) % 60;
    const h = Math.floor(totalSeconds / 3600);
    const hms = h * 10_000 + m * 100 + s;
    const results: Readonly<Record<string, number>> = {
      DAY_HOUR: day * 100 + h, DAY_MINUTE: day * 10_000 + h * 100 + m,
      DAY_SECOND: day * 1_000_000 + hms, HOUR: h, HOUR_MINUTE: h * 100 + m, HOUR_SECOND: hms,
      MINUTE: m, MINUTE_SECOND: m * 100 + s, SECOND: s, MICROSECOND: us,
      DAY_MICROSECOND: (day * 1_000_000 + hms) * 1_000_000 + us,
      HOUR_MICROSECOND: hms * 1_000_000 + us, MINUTE_MICROSECOND: (m * 100 + s) * 1_000_000 + us,
      SECOND_MICROSECOND: s * 1_000_000 + us,
    };
    return intOf(sign * (results[unit] ?? 0));
  },
};

/** Date and time part built-ins by lower-case name. */
export const datePartBuiltins: readonly (readonly [string, Builtin])[] = [
  ["year", datePart(5, (a) => intOf(a.dt.year), { fuzzy: true })],
  ["month", datePart(3, (a) => intOf(a.dt.month), { fuzzy: true })],
  ["dayofmonth", datePart(3, (a) => intOf(a.dt.day), { fuzzy: true })],
  ["quarter", datePart(2, (a) => intOf(Math.floor((a.dt.month + 2) / 3)), { fuzzy: true })],
  ["dayofweek", datePart(2, (a) => intOf(weekdayOf(daynrOf(a), true) + 1), { fuzzy: false })],
  ["weekday", datePart(2, (a) => intOf(weekdayOf(daynrOf(a), false)), { fuzzy: false })],
  ["dayofyear", datePart(4, (a) => intOf(daynrOf(a) - dayNumber(a.dt.year, 1, 1) + 1),
    { fuzzy: false })],
  ["week", week],
  ["weekofyear", datePart(3, (a) => intOf(calcWeek(a.dt, weekMode(3)).week),
    { fuzzy: false })],
  ["yearweek", yearweek],
  ["hour", timePart(4, (t) => Math.floor(t / 3_600_000_000))],
  ["minute", timePart(3, (t) => Math.floor(t / 60_000_000) % 60)],
  ["second", timePart(3, (t) => Math.floor(t / 1_000_000) % 60)],
  ["microsecond", timePart(7, (t) => t % 1_000_000)],
  ["dayname", nameFunction((a) => a.dt.month === 0 || a.dt.day === 0 ? null
    : dayNames[weekdayOf(daynrOf(a), false)]!)],
  ["monthname", nameFunction((a) => a.dt.month === 0 ? null : monthNames[a.dt.month - 1]!)],
  ["last_day", lastDay],
  ["extract", extract],
];

/** Other spellings. */
export const datePartAliases: readonly (readonly [string, string])[] = [
  ["day", "dayofmonth"],
];
