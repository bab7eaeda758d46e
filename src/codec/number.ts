/**
 * Fixed-width memcomparable numbers, as in TiDB's `util/codec/number.go` and `float.go`:
 * each value becomes 8 big-endian bytes whose unsigned byte order is the numeric order.
 *
 * - uint64: the value itself.
 * - int64: the two's-complement bits with the sign bit flipped, so negatives sort first.
 * - float64: for x ≥ 0 the IEEE bits with the sign bit set, for x < 0 all bits inverted;
 *   -0 takes the `x ≥ 0` branch, so -0 and +0 encode identically (they are equal in SQL)
 *   and decode as +0. NaN is not a SQL value and is refused; ±Infinity order at the ends.
 *
 * These carry no flag byte: `key.ts` adds one per datum, and table keys use the bare
 * int64 form for table ids, index ids and handles.
 */
import { ErrorCode, TesseraError } from "../base/mod.ts";
import type { ByteReader, ByteWriter } from "./bytes.ts";
import { corrupt } from "./bytes.ts";

const signBit = 1n << 63n;
/** Smallest int64. */
export const int64Min = -(1n << 63n);
/** Largest int64. */
export const int64Max = (1n << 63n) - 1n;
/** Largest uint64. */
export const uint64Max = (1n << 64n) - 1n;

/** Throws `Codec:OutOfRange` unless `value` is an int64. */
export function checkInt64(value: bigint, what: string): void {
  if (value < int64Min || value > int64Max) {
    throw new TesseraError(ErrorCode.CodecOutOfRange, `${what} ${value} is outside int64`, {
      details: { value: value.toString() },
    });
  }
}

/** Appends `value` (an int64) as 8 comparable bytes. */
export function writeComparableInt64(out: ByteWriter, value: bigint): void {
  checkInt64(value, "int");
  out.pushUint64(BigInt.asUintN(64, value) ^ signBit);
}

/** Reads 8 comparable bytes back into an int64. */
export function readComparableInt64(input: ByteReader): bigint {
  return BigInt.asIntN(64, input.readUint64() ^ signBit);
}

/** Appends `value` (a uint64) as 8 comparable bytes. */
export function writeComparableUint64(out: ByteWriter, value: bigint): void {
  if (value < 0n || value > uint64Max) {
    throw new TesseraError(ErrorCode.CodecOutOfRange, `uint ${value} is outside uint64`, {
      details: { value: value.toString() },
    });
  }
  out.pushUint64(value);
}

/** Reads 8 comparable bytes back into a uint64. */
export function readComparableUint64(input: ByteReader): bigint {
  return input.readUint64();
}

const floatView = new DataView(new ArrayBuffer(8));

/** Appends `value` as 8 comparable bytes; NaN is refused with `Codec:Unsupported`. */
export function writeComparableFloat64(out: ByteWriter, value: number): void {
  if (Number.isNaN(value)) {
    throw new TesseraError(ErrorCode.CodecUnsupported, "NaN cannot be encoded in a key");
  }
  floatView.setFloat64(0, value);
  const bits = floatView.getBigUint64(0);
  // `value >= 0` is true for -0, which therefore gets the same bytes as +0.
  out.pushUint64(value >= 0 ? bits | signBit : bits ^ uint64Max);
}

/**
 * Reads 8 comparable bytes back into a float64. Byte patterns the encoder never writes
 * (a NaN, or the inverted form of -0) are corrupt: every key has one encoding.
 */
export function readComparableFloat64(input: ByteReader): number {
  const start = input.offset;
  const encoded = input.readUint64();
  const bits = (encoded & signBit) !== 0n ? encoded ^ signBit : encoded ^ uint64Max;
  floatView.setBigUint64(0, bits);
  const value = floatView.getFloat64(0);
  if (Number.isNaN(value)) corrupt("NaN float", start);
  if (Object.is(value, -0)) corrupt("non-canonical negative zero", start);
  return value;
}
