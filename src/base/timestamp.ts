/**
 * Hybrid timestamps from the PD timestamp oracle.
 *
 * A `Timestamp` is a 64-bit unsigned `bigint`: `physicalMs << 18 | logical`, where
 * `physicalMs` is milliseconds since the Unix epoch and `logical` (18 bits, 0..262143)
 * orders timestamps handed out within one millisecond. Comparing two timestamps as
 * bigints compares them in time. `0n` is the zero timestamp, below every real one.
 */
import type { Brand } from "./ids.ts";

/** A TSO timestamp: `physicalMs << 18 | logical`, as an unsigned 64-bit bigint. */
export type Timestamp = Brand<bigint, "Timestamp">;

/** Bits of a timestamp given to the logical counter. */
export const logicalBits = 18;
/** Largest logical value within one physical millisecond. */
export const logicalMax = (1 << logicalBits) - 1;
/** Largest physical millisecond that fits in 64 - 18 bits. */
export const physicalMsMax = 2 ** (64 - logicalBits) - 1;

/** The zero timestamp, below every timestamp the oracle hands out. */
export const zeroTimestamp = 0n as Timestamp;
/** The largest timestamp: reads at it see every committed version. */
export const maxTimestamp = 0xffff_ffff_ffff_ffffn as Timestamp;

/** Builds a timestamp from its parts; throws `RangeError` if either is out of range. */
export function composeTimestamp(physicalMs: number, logical: number): Timestamp {
  if (!Number.isSafeInteger(physicalMs) || physicalMs < 0 || physicalMs > physicalMsMax) {
    throw new RangeError(`timestamp physical part out of range: ${physicalMs}`);
  }
  if (!Number.isInteger(logical) || logical < 0 || logical > logicalMax) {
    throw new RangeError(`timestamp logical part out of range: ${logical}`);
  }
  return ((BigInt(physicalMs) << BigInt(logicalBits)) | BigInt(logical)) as Timestamp;
}

/** Splits a timestamp into its physical milliseconds and logical counter. */
export function decomposeTimestamp(ts: Timestamp): { physicalMs: number; logical: number } {
  return {
    physicalMs: Number(ts >> BigInt(logicalBits)),
    logical: Number(ts & BigInt(logicalMax)),
  };
}

/** Checks that `value` is a valid 64-bit unsigned timestamp and brands it. */
export function asTimestamp(value: bigint): Timestamp {
  if (value < 0n || value > maxTimestamp) {
    throw new RangeError(`timestamp out of 64-bit unsigned range: ${value}`);
  }
  return value as Timestamp;
}

/**
 * Formats a timestamp for people: `2026-11-25T16:28:00.123Z (logical 7)`, the way
 * `tessera ctl tso decode` prints it.
 */
export function formatTimestamp(ts: Timestamp): string {
  const { physicalMs, logical } = decomposeTimestamp(ts);
  return `${new Date(physicalMs).toISOString()} (logical ${logical})`;
}

/** The later of two timestamps. */
export function maxOfTimestamps(a: Timestamp, b: Timestamp): Timestamp {
  return a > b ? a : b;
}
