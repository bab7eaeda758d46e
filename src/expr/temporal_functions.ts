/**
 * Casts to the temporal types and the current-date functions: CAST(x AS DATE), CAST(x AS
 * DATETIME[(fsp)]), CAST(x AS TIME[(fsp)]) (also DATE(x)), CURDATE() / CURRENT_DATE and
 * CURTIME() / CURRENT_TIME. A value that is not a date or time is NULL with MySQL's 1292
 * warning. TIME values are their text (`-12:34:56.5`) with the TIME type code, tagged
 * `time` so that they compare as durations, as TIME columns keep them. The functions of
 * the session's time zone are in temporal_zone_functions.ts.
 */
import type { Expr } from "./expr.ts";
import type { Builtin } from "./functions.ts";
import { formatTime, toDateTimeColumn, toTimeColumn } from "./temporal.ts";
import { zoneBuiltins } from "./temporal_zone_functions.ts";
import { type FieldType, TypeCode, dateTimeType, stringType } from "./types.ts";
import { toText } from "./value.ts";

/** The type of a DATE result. */
export function dateType(nullable: boolean): FieldType {
  return { ...dateTimeType(0, { nullable }), code: TypeCode.Date, length: 10 };
}

/** The type of a TIME(fsp) result. */
export function timeType(fsp: number, nullable: boolean): FieldType {
  return { ...stringType(0, { nullable }), code: TypeCode.Time,
    length: fsp > 0 ? 11 + fsp : 10, decimals: fsp };
}

/** The fsp argument of a cast (a constant the builder adds), 0 when absent. */
function fspOf(args: readonly Expr[]): number {
  const arg = args[1];
  if (arg === undefined || arg.kind !== "constant" || arg.value === null ||
    arg.value.kind !== "int") return 0;
  return Number(arg.value.value);
}

function temporalCast(kind: "date" | "datetime" | "time"): Builtin {
  return {
    minArgs: 1, maxArgs: 2,
    infer: (args) => kind === "date" ? dateType(true)
      : kind === "datetime" ? dateTimeType(fspOf(args), { nullable: true })
        : timeType(fspOf(args), true),
    run: (call, state) => {
      const value = state.ev(call.args[0]!);
      if (value === null) return null;
      const fsp = call.type.decimals;
      const result = kind === "time" ? toTimeColumn(value, fsp)
        : toDateTimeColumn(value, kind, fsp);
      if (result.ok) return result.value;
      // MySQL 8's 1292 for a value that is not a date: "Incorrect datetime value: '…'".
      state.ctx.warn({ kind: "incorrectTemporal", typeName: kind === "time" ? "time"
        : "datetime", value: toText(value) ?? "" });
      return null;
    },
  };
}

const curdate: Builtin = {
  minArgs: 0, maxArgs: 0,
  infer: () => dateType(false),
  run: (_call, state) => ({ kind: "datetime", fsp: 0, date: true,
    value: { ...state.ctx.statementTime, hour: 0, minute: 0, second: 0, microsecond: 0 } }),
};

const curtime: Builtin = {
  minArgs: 0, maxArgs: 1,
  infer: (args) => {
    const arg = args[0];
    const fsp = arg === undefined ? 0 : arg.kind === "constant" && arg.value !== null &&
      (arg.value.kind === "int" || arg.value.kind === "uint") ? Number(arg.value.value) : -1;
    if (fsp < 0 || fsp > 6) {
      return { kind: "unsupported", what: "CURTIME() with a precision other than 0..6" };
    }
    return timeType(fsp, false);
  },
  run: (call, state) => {
    const t = state.ctx.statementTime;
    const fsp = call.type.decimals;
    const unit = 10 ** (6 - fsp);
    const micros = ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 +
      Math.floor(t.microsecond / unit) * unit;
    return { kind: "string", value: formatTime(micros, fsp), tag: { kind: "time" } };
  },
};

/** The temporal built-ins, by lower-case name. */
export const temporalBuiltins: readonly (readonly [string, Builtin])[] = [
  ["cast_date", temporalCast("date")],
  ["cast_datetime", temporalCast("datetime")],
  ["cast_time", temporalCast("time")],
  ["date", { ...temporalCast("date"), maxArgs: 1 }],
  ["curdate", curdate],
  ["curtime", curtime],
  ...zoneBuiltins,
];

/** Other spellings of the temporal built-ins. */
export const temporalAliases: readonly (readonly [string, string])[] = [
  ["current_date", "curdate"],
  ["current_time", "curtime"],
];
