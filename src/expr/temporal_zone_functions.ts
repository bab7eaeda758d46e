/**
 * The functions that depend on the session's `time_zone`: UNIX_TIMESTAMP([dt]),
 * FROM_UNIXTIME(n), CONVERT_TZ(dt, from, to), UTC_TIMESTAMP([fsp]), UTC_DATE() and
 * UTC_TIME([fsp]), with MySQL 8.0.28+'s 64-bit range (instants up to
 * '3001-01-18 23:59:59.999999' UTC). The zone and the statement's instant come from the
 * `EvalContext`; zones resolve through temporal_tz.ts.
 */
import type { EvalContext, Expr } from "./expr.ts";
import type { Builtin } from "./functions.ts";
import { formatTime, toDateTimeColumn } from "./temporal.ts";
import { type TimeZone, convertZone, dateTimeOfMs, epochToZone, msOfDateTime,
  resolveTimeZone, utcTimeZone, zoneToEpochMs, zoneToUtc } from "./temporal_tz.ts";
import { type FieldType, TypeCode, dateTimeType, decimalType, intType, stringType }
  from "./types.ts";
import { type DateTime, type Value, formatScaled, toScaled, toText } from "./value.ts";

/** Seconds since the epoch of the last instant FROM_UNIXTIME and UNIX_TIMESTAMP accept. */
const epochSecondsMax = 32_536_771_199;

function zoneOf(ctx: EvalContext): TimeZone {
  return ctx.timeZone ?? utcTimeZone;
}

/** The statement's instant in ms since the epoch. */
function statementMs(ctx: EvalContext): number {
  return ctx.statementEpochMs ?? zoneToEpochMs(ctx.statementTime, zoneOf(ctx));
}

/**
 * Fractional digits of a temporal argument, as MySQL types the result: a DATETIME its
 * fsp, a constant string the digits it has, an integer none, anything else 6.
 */
function argumentFsp(arg: Expr): number {
  if (arg.type.kind === "datetime") return arg.type.decimals;
  if (arg.type.kind === "int") return 0;
  if (arg.kind === "constant" && arg.value !== null && arg.value.kind === "string") {
    const m = /\.(\d+)\s*$/.exec(arg.value.value);
    return Math.min(m?.[1]?.length ?? 0, 6);
  }
  if (arg.type.kind === "decimal") return Math.min(arg.type.decimals, 6);
  return 6;
}

/** A constant fsp argument 0..6, 0 when absent, -1 when it is not one. */
function fspArgument(arg: Expr | undefined): number {
  if (arg === undefined) return 0;
  if (arg.kind !== "constant" || arg.value === null ||
    (arg.value.kind !== "int" && arg.value.kind !== "uint")) return -1;
  const n = Number(arg.value.value);
  return n >= 0 && n <= 6 ? n : -1;
}

function truncated(dt: DateTime, fsp: number): DateTime {
  const unit = 10 ** (6 - fsp);
  return { ...dt, microsecond: Math.floor(dt.microsecond / unit) * unit };
}

/** `value` as a DATETIME, or null with MySQL's 1292 warning. */
function dateTimeArg(value: Exclude<Value, null>, ctx: EvalContext): DateTime | null {
  const result = toDateTimeColumn(value, "datetime", 6);
  if (result.ok && result.value !== null && result.value.kind === "datetime") {
    return result.value.value;
  }
  ctx.warn({ kind: "truncatedWrongValue", typeName: "datetime", value: toText(value) ?? "" });
  return null;
}

const unixTimestamp: Builtin = {
  minArgs: 0, maxArgs: 1,
  infer: (args) => {
    const arg = args[0];
    if (arg === undefined) return intType({ length: 11, nullable: false });
    const fsp = argumentFsp(arg);
    return fsp === 0 ? intType({ length: 11, nullable: true })
      : decimalType(11 + fsp, { scale: fsp, nullable: true });
  },
  run: (call, state) => {
    const ctx = state.ctx;
    const fsp = call.type.kind === "decimal" ? call.type.decimals : 0;
    let ms: number;
    let micros: number;
    if (call.args[0] === undefined) {
      ms = Math.floor(statementMs(ctx));
      micros = 0;
    } else {
      const arg = call.args[0];
      // A TIMESTAMP column is read as stored, in UTC: a local time in an overlap hour
      // names two instants, and the column knows which (as MySQL, which returns the
      // internal value).
      const stored = arg.kind === "column" ? ctx.row?.[arg.index] ?? null : null;
      if (stored !== null && stored.kind === "datetime" && stored.utc === true) {
        ms = msOfDateTime(stored.value);
        micros = stored.value.microsecond;
      } else {
        const value = state.ev(arg);
        if (value === null) return null;
        const dt = dateTimeArg(value, ctx);
        if (dt === null) return null;
        const instant = zoneToUtc(dt, zoneOf(ctx));
        ms = msOfDateTime(instant.kind === "ok" ? instant.utc : instant.gapEnd);
        micros = instant.kind === "ok" ? dt.microsecond : 0;
      }
    }
    const seconds = Math.floor(ms / 1000);
    const unscaled = seconds < 0 || seconds > epochSecondsMax ? 0n
      : BigInt(seconds) * 10n ** BigInt(fsp) + BigInt(Math.floor(micros / 10 ** (6 - fsp)));
    return fsp === 0 ? { kind: "int", value: unscaled }
      : { kind: "decimal", unscaled, scale: fsp };
  },
};

const fromUnixtime: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => dateTimeType(args[0]!.type.kind === "int" ? 0
    : args[0]!.type.kind === "decimal" ? Math.min(args[0]!.type.decimals, 6) : 6,
  { nullable: true }),
  run: (call, state) => {
    const value = state.ev(call.args[0]!);
    const scaled = toScaled(value, state.ctx.warn);
    if (scaled === null || scaled === undefined) return null;
    const fsp = call.type.decimals;
    // Microseconds since the epoch, exactly, truncated to the result's digits.
    const text = formatScaled(scaled.unscaled, scaled.scale);
    const [whole = "0", fraction = ""] = text.split(".");
    if (whole.startsWith("-")) return null;
    const seconds = Number(whole);
    if (seconds > epochSecondsMax) return null;
    const micros = Number(fraction.padEnd(6, "0").slice(0, 6));
    const local = epochToZone(seconds * 1000 + Math.floor(micros / 1000), zoneOf(state.ctx));
    return { kind: "datetime", fsp,
      value: truncated({ ...local, microsecond: local.microsecond + micros % 1000 }, fsp) };
  },
};

/** The earliest and latest UTC instants CONVERT_TZ converts (others pass unchanged). */
const convertMinMs = 1000;
const convertMaxMs = epochSecondsMax * 1000 + 999;

const convertTz: Builtin = {
  minArgs: 3, maxArgs: 3,
  infer: (args) => dateTimeType(argumentFsp(args[0]!), { nullable: true }),
  run: (call, state) => {
    const value = state.ev(call.args[0]!);
    const fromText = toText(state.ev(call.args[1]!));
    const toText_ = toText(state.ev(call.args[2]!));
    if (value === null || fromText === null || toText_ === null) return null;
    const from = resolveTimeZone(fromText);
    const to = resolveTimeZone(toText_);
    if (from === undefined || to === undefined) return null;
    const dt = dateTimeArg(value, state.ctx);
    if (dt === null) return null;
    const fsp = call.type.decimals;
    const instant = zoneToUtc(dt, from);
    const utcMs = msOfDateTime(instant.kind === "ok" ? instant.utc : instant.gapEnd);
    const converted = utcMs < convertMinMs || utcMs > convertMaxMs ? dt
      : convertZone(dt, from, to);
    return { kind: "datetime", fsp, value: truncated(converted, fsp) };
  },
};

function utcNow(ctx: EvalContext): DateTime {
  const ms = statementMs(ctx);
  const micros = Math.floor(ms * 1000);
  return dateTimeOfMs(Math.floor(micros / 1000), micros % 1000);
}

function precisionType(args: readonly Expr[], name: string, type: (fsp: number) => FieldType):
  FieldType | { readonly kind: "unsupported"; readonly what: string } {
  const fsp = fspArgument(args[0]);
  return fsp < 0 ? { kind: "unsupported", what: `${name}() with a precision other than 0..6` }
    : type(fsp);
}

const utcTimestamp: Builtin = {
  minArgs: 0, maxArgs: 1,
  infer: (args) => precisionType(args, "UTC_TIMESTAMP",
    (fsp) => dateTimeType(fsp, { nullable: false })),
  run: (call, state) => ({ kind: "datetime", fsp: call.type.decimals,
    value: truncated(utcNow(state.ctx), call.type.decimals) }),
};

const utcDate: Builtin = {
  minArgs: 0, maxArgs: 0,
  infer: () => ({ ...dateTimeType(0, { nullable: false }), code: TypeCode.Date, length: 10 }),
  run: (_call, state) => ({ kind: "datetime", fsp: 0, date: true,
    value: { ...utcNow(state.ctx), hour: 0, minute: 0, second: 0, microsecond: 0 } }),
};

const utcTime: Builtin = {
  minArgs: 0, maxArgs: 1,
  infer: (args) => precisionType(args, "UTC_TIME", (fsp) => ({
    ...stringType(0, { nullable: false }), code: TypeCode.Time,
    length: fsp > 0 ? 11 + fsp : 10, decimals: fsp })),
  run: (call, state) => {
    const t = truncated(utcNow(state.ctx), call.type.decimals);
    const micros = ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond;
    return { kind: "string", value: formatTime(micros, call.type.decimals),
      tag: { kind: "time" } };
  },
};

/** The zone-dependent built-ins, by lower-case name. */
export const zoneBuiltins: readonly (readonly [string, Builtin])[] = [
  ["unix_timestamp", unixTimestamp],
  ["from_unixtime", fromUnixtime],
  ["convert_tz", convertTz],
  ["utc_timestamp", utcTimestamp],
  ["utc_date", utcDate],
  ["utc_time", utcTime],
];
