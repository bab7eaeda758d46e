/**
 * Values an expression evaluates to, and MySQL's conversions between them.
 *
 * A `Value` is `null` (SQL NULL) or a tagged object: `int` (signed BIGINT), `uint`
 * (BIGINT UNSIGNED), `decimal` (an exact `unscaled × 10^-scale` with a fixed scale, so
 * `1.50` keeps its two digits as MySQL prints them), `double`, `string` (utf8mb4 text) or
 * `datetime`. Conversions follow MySQL: a string read as a number takes its longest
 * numeric prefix and reports a truncation warning when that is not the whole string; a
 * DECIMAL rounds half away from zero; a DOUBLE prints its shortest round-trip digits.
 * Warnings go to the `WarningSink` the caller passes; nothing here throws for bad data.
 */
import { type Decimal, parseDecimal } from "../codec/mod.ts";
import type { ExprWarning } from "./errors.ts";
import { decimalPrecisionMax, decimalScaleMax } from "./types.ts";

/** A calendar date and time of day (DATETIME), without a time zone. */
export interface DateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly microsecond: number;
}

/** One evaluated value. */
export type Value =
  | null
  | { readonly kind: "int"; readonly value: bigint }
  | { readonly kind: "uint"; readonly value: bigint }
  | { readonly kind: "decimal"; readonly unscaled: bigint; readonly scale: number }
  | { readonly kind: "double"; readonly value: number }
  | { readonly kind: "string"; readonly value: string;
    /** The text of an ENUM, SET, TIME or JSON value: how it compares (compare.ts). */
    readonly tag?: StringTag }
  | { readonly kind: "datetime"; readonly value: DateTime; readonly fsp: number;
    /** A DATE: the time of day is midnight and text shows only the date. */
    readonly date?: boolean;
    /** A TIMESTAMP as stored, in UTC: reading the column converts it (temporal_tz.ts). */
    readonly utc?: boolean };

/**
 * What a string value holds besides its text, when it comes from a column (or function)
 * of a type MySQL compares by value: an ENUM's 1-based member index (0 for the empty
 * error value), a SET's member bits, a TIME (compared as a duration), JSON.
 */
export type StringTag =
  | { readonly kind: "enum"; readonly index: number }
  | { readonly kind: "set"; readonly bits: bigint }
  | { readonly kind: "time" }
  | { readonly kind: "json" };

/** Where conversions report warnings (the statement's warning list). */
export type WarningSink = (warning: ExprWarning) => void;

export const int64Min = -(2n ** 63n);
export const int64Max = 2n ** 63n - 1n;
export const uint64Max = 2n ** 64n - 1n;

export function intValue(value: bigint): Value {
  return { kind: "int", value };
}

export function uintValue(value: bigint): Value {
  return { kind: "uint", value };
}

export function doubleValue(value: number): Value {
  return { kind: "double", value };
}

export function stringValue(value: string): Value {
  return { kind: "string", value };
}

export function decimalValue(unscaled: bigint, scale: number): Value {
  return { kind: "decimal", unscaled, scale };
}

/** 1 or 0 as a signed BIGINT: the result of comparisons and logical operators. */
export function boolValue(value: boolean): Value {
  return { kind: "int", value: value ? 1n : 0n };
}

export function pow10(exponent: number): bigint {
  return 10n ** BigInt(exponent);
}

/** `unscaled` rescaled from `from` to `to` digits, rounding half away from zero. */
export function rescale(unscaled: bigint, from: number, to: number): bigint {
  if (to >= from) return unscaled * pow10(to - from);
  return divideRounded(unscaled, pow10(from - to));
}

/** `a / b` rounded half away from zero (`b` non-zero). */
export function divideRounded(a: bigint, b: bigint): bigint {
  const negative = (a < 0n) !== (b < 0n);
  const absA = a < 0n ? -a : a;
  const absB = b < 0n ? -b : b;
  const quotient = (absA * 2n + absB) / (absB * 2n);
  return negative ? -quotient : quotient;
}

/** Number of digits of `|unscaled|` before the point at `scale` (0 for pure fractions). */
export function integerDigits(unscaled: bigint, scale: number): number {
  const digits = (unscaled < 0n ? -unscaled : unscaled).toString().length;
  return Math.max(digits - scale, 0);
}

/** True when `unscaled × 10^-scale` fits DECIMAL(65, 30) (scale ≤ 30 assumed). */
export function decimalFits(unscaled: bigint, scale: number): boolean {
  return integerDigits(unscaled, scale) + scale <= decimalPrecisionMax;
}

/** Formats a decimal with exactly `scale` digits after the point: `-0.50`, `12`. */
export function formatScaled(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const text = scale > 0 ? `${whole}.${digits.slice(digits.length - scale)}` : whole;
  return negative ? `-${text}` : text;
}

/** The codec's normalized `Decimal` as `{ unscaled, scale }` (scale ≥ 0). */
export function fromCodecDecimal(value: Decimal): { unscaled: bigint; scale: number } {
  const magnitude = BigInt(value.coefficient);
  const signed = value.negative ? -magnitude : magnitude;
  if (value.exponent >= 0) return { unscaled: signed * pow10(value.exponent), scale: 0 };
  return { unscaled: signed, scale: -value.exponent };
}

/** A decimal value as the codec's exact `Decimal` (for keys and storage). */
export function toCodecDecimal(unscaled: bigint, scale: number): Decimal {
  return parseDecimal(formatScaled(unscaled, scale));
}

/** A DOUBLE as MySQL prints it: shortest round-trip digits, exponent without `+`. */
export function formatDouble(value: number): string {
  if (Object.is(value, -0)) return "-0";
  return String(value).replace("e+", "e");
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

/** `YYYY-MM-DD hh:mm:ss[.ffffff]` with `fsp` fractional digits. */
export function formatDateTime(value: DateTime, fsp: number): string {
  const date = `${pad(value.year, 4)}-${pad(value.month, 2)}-${pad(value.day, 2)}`;
  const time = `${pad(value.hour, 2)}:${pad(value.minute, 2)}:${pad(value.second, 2)}`;
  const fraction = fsp > 0 ? `.${pad(value.microsecond, 6).slice(0, fsp)}` : "";
  return `${date} ${time}${fraction}`;
}

/** The value as text, as CONCAT and CAST(… AS CHAR) see it; null for NULL. */
export function toText(value: Value): string | null {
  if (value === null) return null;
  switch (value.kind) {
    case "int":
    case "uint":
      return value.value.toString();
    case "decimal":
      return formatScaled(value.unscaled, value.scale);
    case "double":
      return formatDouble(value.value);
    case "string":
      return value.value;
    case "datetime":
      return value.date === true ? formatDateTime(value.value, 0).slice(0, 10)
        : formatDateTime(value.value, value.fsp);
  }
}

const numericPrefix = /^[ \t\n\r]*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)/;

/**
 * The numeric prefix of `text` and whether it was the whole string (trailing blanks
 * allowed). MySQL reads `'12abc'` as 12 with a warning, `'abc'` as 0 with a warning.
 */
function numericPrefixOf(text: string): { readonly digits: string; readonly whole: boolean } {
  const match = numericPrefix.exec(text);
  if (match === null) return { digits: "0", whole: false };
  const rest = text.slice(match[0].length);
  return { digits: match[1]!, whole: rest.trim() === "" };
}

/** Reports MySQL's 1292 for a string that is not entirely a number of `typeName`. */
function truncated(warn: WarningSink, typeName: string, text: string): void {
  warn({ kind: "truncatedWrongValue", typeName, value: text });
}

/** A string as a DOUBLE (MySQL's `my_strntod` on the longest numeric prefix). */
export function stringToDouble(text: string, warn: WarningSink): number {
  const { digits, whole } = numericPrefixOf(text);
  if (!whole) truncated(warn, "DOUBLE", text);
  const value = Number(digits);
  return Number.isFinite(value) ? value : value > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
}

/**
 * The number a tagged string is in numeric context, as MySQL reads it: an ENUM its
 * index, a SET its bits, a TIME `[-]hhmmss[.ffffff]`; undefined for other strings.
 */
export function taggedNumber(value: { readonly value: string; readonly tag?: StringTag }):
  { unscaled: bigint; scale: number } | undefined {
  const tag = value.tag;
  if (tag === undefined) return undefined;
  switch (tag.kind) {
    case "enum":
      return { unscaled: BigInt(tag.index), scale: 0 };
    case "set":
      return { unscaled: tag.bits, scale: 0 };
    case "time": {
      const m = /^(-?)(\d+):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(value.value);
      if (m === null) return undefined;
      const fraction = m[5] ?? "";
      return { unscaled: BigInt(`${m[1]}${m[2]}${m[3]}${m[4]}${fraction}`),
        scale: fraction.length };
    }
    case "json":
      return undefined;
  }
}

/** The value as a DOUBLE; null for NULL. */
export function toDouble(value: Value, warn: WarningSink): number | null {
  if (value === null) return null;
  switch (value.kind) {
    case "int":
    case "uint":
      return Number(value.value);
    case "decimal":
      return Number(formatScaled(value.unscaled, value.scale));
    case "double":
      return value.value;
    case "string": {
      const tagged = taggedNumber(value);
      if (tagged !== undefined) return Number(formatScaled(tagged.unscaled, tagged.scale));
      return stringToDouble(value.value, warn);
    }
    case "datetime": {
      const n = temporalNumber(value);
      return Number(formatScaled(n.unscaled, n.scale));
    }
  }
}

/**
 * A DATE, DATETIME or TIMESTAMP as its number in numeric context: `YYYYMMDD` for a date,
 * `YYYYMMDDhhmmss` with the fractional seconds its fsp keeps (scale = fsp) otherwise.
 */
function temporalNumber(value: Extract<Value, { kind: "datetime" }>):
  { unscaled: bigint; scale: number } {
  const t = value.value;
  const date = BigInt(t.year) * 10_000n + BigInt(t.month) * 100n + BigInt(t.day);
  if (value.date === true) return { unscaled: date, scale: 0 };
  const whole = date * 1_000_000n + BigInt(t.hour * 10_000 + t.minute * 100 + t.second);
  const fsp = Math.max(0, Math.min(6, value.fsp));
  if (fsp === 0) return { unscaled: whole, scale: 0 };
  const fraction = BigInt(Math.trunc(t.microsecond / 10 ** (6 - fsp)));
  return { unscaled: whole * 10n ** BigInt(fsp) + fraction, scale: fsp };
}

/** An exact decimal read from a string's numeric prefix, or undefined past DECIMAL(65,30). */
function stringToScaled(text: string, warn: WarningSink):
  { unscaled: bigint; scale: number } | undefined {
  const { digits, whole } = numericPrefixOf(text);
  if (!whole) truncated(warn, "DECIMAL", text);
  try {
    const parsed = fromCodecDecimal(parseDecimal(digits));
    if (parsed.scale > decimalScaleMax) {
      return { unscaled: rescale(parsed.unscaled, parsed.scale, decimalScaleMax),
        scale: decimalScaleMax };
    }
    return parsed;
  } catch {
    // Beyond DECIMAL(65, 30): the caller reports the range error it knows the context of.
    return undefined;
  }
}

/**
 * The value as an exact decimal `{ unscaled, scale }`; null for NULL, undefined when it
 * does not fit DECIMAL(65, 30) (an infinite or huge DOUBLE, a huge numeric string).
 */
export function toScaled(value: Value, warn: WarningSink):
  { unscaled: bigint; scale: number } | null | undefined {
  if (value === null) return null;
  switch (value.kind) {
    case "int":
    case "uint":
      return { unscaled: value.value, scale: 0 };
    case "decimal":
      return { unscaled: value.unscaled, scale: value.scale };
    case "double": {
      if (!Number.isFinite(value.value)) return undefined;
      // Shortest round-trip digits, as MySQL converts a DOUBLE to DECIMAL.
      return stringToScaled(formatDouble(value.value), warn);
    }
    case "string":
      return taggedNumber(value) ?? stringToScaled(value.value, warn);
    case "datetime":
      return temporalNumber(value);
  }
}

/**
 * The value as a 64-bit integer, rounding decimals and doubles half away from zero (as
 * MySQL's CAST … AS SIGNED); strings take their integer prefix with a 1292 warning when
 * more follows. The result is not range-checked; the caller decides what overflow means.
 * Null for NULL.
 */
export function toInteger(value: Value, warn: WarningSink): bigint | null {
  if (value === null) return null;
  switch (value.kind) {
    case "int":
    case "uint":
      return value.value;
    case "decimal":
      return rescale(value.unscaled, value.scale, 0);
    case "double": {
      if (!Number.isFinite(value.value)) return value.value > 0 ? uint64Max : int64Min;
      const rounded = Math.round(Math.abs(value.value)) * Math.sign(value.value);
      return BigInt(rounded);
    }
    case "string": {
      const tagged = taggedNumber(value);
      if (tagged !== undefined) return rescale(tagged.unscaled, tagged.scale, 0);
      const match = /^[ \t\n\r]*([+-]?\d+)/.exec(value.value);
      const rest = match === null ? value.value : value.value.slice(match[0].length);
      if (match === null || rest.trim() !== "") truncated(warn, "INTEGER", value.value);
      return match === null ? 0n : BigInt(match[1]!);
    }
    case "datetime": {
      const n = temporalNumber(value);
      return rescale(n.unscaled, n.scale, 0);
    }
  }
}

/**
 * MySQL truthiness (AND, OR, NOT, IF, WHERE): a number is true when non-zero, a string
 * as its DOUBLE value. Null for NULL.
 */
export function isTrue(value: Value, warn: WarningSink): boolean | null {
  if (value === null) return null;
  switch (value.kind) {
    case "int":
    case "uint":
      return value.value !== 0n;
    case "decimal":
      return value.unscaled !== 0n;
    case "double":
      return value.value !== 0;
    case "string": {
      const tagged = taggedNumber(value);
      if (tagged !== undefined) return tagged.unscaled !== 0n;
      return stringToDouble(value.value, warn) !== 0;
    }
    case "datetime":
      return true;
  }
}
