/**
 * Exact DECIMAL values and their memcomparable key encoding.
 *
 * A `Decimal` is always normalized: `±coefficient × 10^exponent` where the coefficient's
 * digits have no leading and no trailing zeros, and zero is `{ negative: false,
 * coefficient: "0", exponent: 0 }`. So `1.0`, `1.00` and `01.000` are one value with one
 * representation, and `-0.0` is zero. Values are bounded as MySQL's `DECIMAL(65, 30)`:
 * at most `limits.decimalScaleMax` digits after the point and `limits.decimalDigitsMax`
 * digits in all, counted on the normalized value (`1.000…0` with 40 zeros is `1`). The
 * codec refuses, rather than rounds, anything beyond: rounding is the SQL layer's job.
 *
 * Key layout (after the datum flag), chosen so equal values give equal bytes — unlike
 * TiDB's, which writes the column's precision and scale and so is only comparable within
 * one column type:
 *
 *     zero      0x01
 *     positive  0x02, adjusted exponent + 128, digit pairs, 0x00
 *     negative  0x00, then the positive form of |x| after the sign byte, every byte inverted
 *
 * The adjusted exponent `a` writes the value as `0.d1d2…dn × 10^a` with `d1 ≠ 0`; it is in
 * [1 - scaleMax, digitsMax], so one byte holds it. Digits are packed two per byte as
 * `1 + 10·d1 + d2` (1..100; an odd count is padded with a 0 digit, which does not change
 * the value), then a 0x00 terminator that sorts below every pair, so a shorter digit string
 * (a smaller magnitude at the same exponent) sorts first. Inverting the magnitude bytes
 * for negatives reverses their order, terminator included.
 */
import type { Brand } from "../base/mod.ts";
import { ErrorCode, TesseraError, assert, limits } from "../base/mod.ts";
import type { ByteReader, ByteWriter } from "./bytes.ts";
import { corrupt } from "./bytes.ts";

/** The parts of a normalized decimal: `(negative ? -1 : 1) × coefficient × 10^exponent`. */
export interface DecimalParts {
  /** True for values below zero; zero is never negative. */
  readonly negative: boolean;
  /** Significant digits, no leading or trailing zeros; `"0"` only for zero. */
  readonly coefficient: string;
  /** Power of ten the coefficient is multiplied by; 0 for zero. */
  readonly exponent: number;
}

/** An exact decimal, normalized and within `DECIMAL(65, 30)`. Made by `parseDecimal`. */
export type Decimal = Brand<DecimalParts, "Decimal">;

/** The decimal zero. */
export const decimalZero = { negative: false, coefficient: "0", exponent: 0 } as Decimal;

const syntax = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
/** Longest exponent text we convert exactly; anything longer is out of range anyway. */
const exponentDigitsMax = 9;

/**
 * Parses a decimal literal: an optional sign, digits with an optional point, and an
 * optional exponent (`-12.3400`, `.5`, `1e3`). Throws `Codec:DecimalSyntax` for anything
 * else and `Codec:OutOfRange` for a value beyond `DECIMAL(65, 30)`.
 */
export function parseDecimal(text: string): Decimal {
  const match = syntax.exec(text);
  const intDigits = match?.[2] ?? "";
  const fracDigits = match?.[3] ?? "";
  if (match === null || intDigits.length + fracDigits.length === 0) {
    throw new TesseraError(ErrorCode.CodecDecimalSyntax, `not a decimal number: "${text}"`, {
      details: { text },
    });
  }
  const digits = stripLeadingZeros(intDigits + fracDigits);
  if (digits === "") return decimalZero;
  const exponentText = match[4] ?? "0";
  const exponentDigits = exponentText.replace(/^[+-]?0*/, "");
  if (exponentDigits.length > exponentDigitsMax) throw outOfRange(text);
  return normalize(match[1] === "-", digits, Number(exponentText) - fracDigits.length, text);
}

/**
 * The decimal `unscaled × 10^-scale` (`decimalFromBigInt(-1234n, { scale: 2 })` is
 * `-12.34`). Throws `Codec:OutOfRange` beyond `DECIMAL(65, 30)`.
 */
export function decimalFromBigInt(unscaled: bigint, options: { scale?: number } = {}): Decimal {
  const scale = options.scale ?? 0;
  assert(Number.isSafeInteger(scale), `decimal scale must be an integer, got ${scale}`);
  if (unscaled === 0n) return decimalZero;
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString();
  return normalize(negative, digits, -scale, `${unscaled}e-${scale}`);
}

/** Formats a decimal in plain notation with no redundant zeros: `-12.34`, `0.005`, `1200`. */
export function formatDecimal(value: Decimal): string {
  const { coefficient, exponent } = value;
  const sign = value.negative ? "-" : "";
  if (exponent >= 0) return sign + coefficient + "0".repeat(exponent);
  const intLength = coefficient.length + exponent;
  if (intLength > 0) {
    return `${sign}${coefficient.slice(0, intLength)}.${coefficient.slice(intLength)}`;
  }
  return `${sign}0.${"0".repeat(-intLength)}${coefficient}`;
}

/** Compares two decimals as numbers: negative, zero or positive like `a - b`. */
export function compareDecimals(a: Decimal, b: Decimal): number {
  const signA = signOf(a);
  const signB = signOf(b);
  if (signA !== signB) return signA - signB;
  if (signA === 0) return 0;
  const magnitude = compareMagnitudes(a, b);
  return a.negative ? -magnitude : magnitude;
}

function signOf(value: Decimal): number {
  if (value.coefficient === "0") return 0;
  return value.negative ? -1 : 1;
}

function compareMagnitudes(a: Decimal, b: Decimal): number {
  const adjustedA = a.coefficient.length + a.exponent;
  const adjustedB = b.coefficient.length + b.exponent;
  if (adjustedA !== adjustedB) return adjustedA - adjustedB;
  // Same magnitude order: the digit strings compare as fractions 0.d1d2…, and without
  // trailing zeros a proper prefix is the smaller one, which is string order.
  if (a.coefficient === b.coefficient) return 0;
  return a.coefficient < b.coefficient ? -1 : 1;
}

function stripLeadingZeros(digits: string): string {
  let i = 0;
  while (i < digits.length && digits.charCodeAt(i) === 0x30) i++;
  return digits.slice(i);
}

/** `digits` has no leading zeros and is not empty. */
function normalize(negative: boolean, digits: string, exponent: number, text: string): Decimal {
  let end = digits.length;
  while (digits.charCodeAt(end - 1) === 0x30) end--;
  const coefficient = digits.slice(0, end);
  const value = { negative, coefficient, exponent: exponent + digits.length - end } as Decimal;
  if (!withinLimits(value)) throw outOfRange(text);
  return value;
}

/** True when the normalized `value` fits `DECIMAL(decimalDigitsMax, decimalScaleMax)`. */
function withinLimits(value: DecimalParts): boolean {
  const scale = Math.max(0, -value.exponent);
  const intDigits = Math.max(0, value.coefficient.length + value.exponent);
  return scale <= limits.decimalScaleMax && intDigits + scale <= limits.decimalDigitsMax;
}

function outOfRange(text: string): TesseraError {
  return new TesseraError(
    ErrorCode.CodecOutOfRange,
    `decimal ${text} does not fit DECIMAL(${limits.decimalDigitsMax}, ${limits.decimalScaleMax})`,
    { details: { text } },
  );
}

const signNegative = 0x00;
const signZero = 0x01;
const signPositive = 0x02;
const exponentBias = 128;
const adjustedExponentMin = 1 - limits.decimalScaleMax;
const adjustedExponentMax = limits.decimalDigitsMax;
const terminator = 0x00;

/** Appends the key encoding of `value` (without the datum flag). */
export function writeKeyDecimal(out: ByteWriter, value: Decimal): void {
  if (value.coefficient === "0") {
    out.pushByte(signZero);
    return;
  }
  out.pushByte(value.negative ? signNegative : signPositive);
  const start = out.length;
  out.pushByte(value.coefficient.length + value.exponent + exponentBias);
  const digits = value.coefficient;
  for (let i = 0; i < digits.length; i += 2) {
    const high = digits.charCodeAt(i) - 0x30;
    const low = i + 1 < digits.length ? digits.charCodeAt(i + 1) - 0x30 : 0;
    out.pushByte(1 + high * 10 + low);
  }
  out.pushByte(terminator);
  if (value.negative) out.invertFrom(start);
}

/** Reads a decimal written by `writeKeyDecimal`, accepting only its canonical bytes. */
export function readKeyDecimal(input: ByteReader): Decimal {
  const start = input.offset;
  const sign = input.readByte();
  if (sign === signZero) return decimalZero;
  if (sign !== signNegative && sign !== signPositive) corrupt(`bad decimal sign ${sign}`, start);
  const negative = sign === signNegative;
  const outerMask = input.mask;
  if (negative) input.mask ^= 0xff;
  try {
    const adjusted = input.readByte() - exponentBias;
    if (adjusted < adjustedExponentMin || adjusted > adjustedExponentMax) {
      corrupt(`decimal exponent ${adjusted} out of range`, start + 1);
    }
    let digits = "";
    for (;;) {
      const at = input.offset;
      const pair = input.readByte();
      if (pair === terminator) break;
      if (pair > 100) corrupt(`bad decimal digit pair ${pair}`, at);
      if (digits.length >= limits.decimalDigitsMax) corrupt("too many decimal digits", at);
      const value = pair - 1;
      digits += String.fromCharCode(0x30 + Math.floor(value / 10), 0x30 + (value % 10));
    }
    // Undo the padding of an odd digit count; what is left must be canonical.
    if (digits.endsWith("0")) digits = digits.slice(0, -1);
    if (digits === "" || digits.startsWith("0") || digits.endsWith("0")) {
      corrupt("non-canonical decimal digits", start);
    }
    const value = { negative, coefficient: digits, exponent: adjusted - digits.length };
    if (!withinLimits(value)) corrupt("decimal beyond DECIMAL(65, 30)", start);
    return value as Decimal;
  } finally {
    input.mask = outerMask;
  }
}
