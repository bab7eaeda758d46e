/**
 * Byte-string helpers and input checks shared by every engine, so that the memory and the
 * LMDB engine accept and refuse exactly the same keys, values and ranges.
 *
 * Checks throw `TesseraError`s: a bad key is the caller's input, not a Tessera bug. They
 * run on a whole batch before any of it is applied, so a refused batch leaves no trace.
 */
import { ErrorCode, TesseraError, limits } from "../../base/mod.ts";
import { compareBytes } from "../../codec/mod.ts";
import type { WriteOp } from "./engine.ts";

/** Bytewise order: negative, zero or positive like `Array.prototype.sort` wants. */
export { compareBytes };

/** Refuses an empty or over-long key. */
export function checkKey(key: Uint8Array): void {
  if (key.length === 0) {
    throw new TesseraError(ErrorCode.KvEngineKeyEmpty, "engine keys must not be empty");
  }
  if (key.length > limits.engineKeyBytesMax) {
    throw new TesseraError(
      ErrorCode.KvEngineKeyTooLarge,
      `key of ${key.length} bytes exceeds the engine maximum of ` +
        `${limits.engineKeyBytesMax} bytes`,
      { details: { keyBytes: key.length, limit: limits.engineKeyBytesMax } },
    );
  }
}

/** Refuses an over-long value. Empty values are allowed. */
export function checkValue(value: Uint8Array): void {
  if (value.length > limits.engineValueBytesMax) {
    throw new TesseraError(
      ErrorCode.KvEngineValueTooLarge,
      `value of ${value.length} bytes exceeds the engine maximum of ` +
        `${limits.engineValueBytesMax} bytes`,
      { details: { valueBytes: value.length, limit: limits.engineValueBytesMax } },
    );
  }
}

/** Checks every op of a batch; throws on the first bad one. */
export function checkWriteOps(ops: readonly WriteOp[]): void {
  for (const op of ops) {
    switch (op.kind) {
      case "put":
        checkKey(op.key);
        checkValue(op.value);
        break;
      case "delete":
        checkKey(op.key);
        break;
      case "deleteRange":
        checkBound(op.start);
        checkBound(op.end);
        if (compareBytes(op.start, op.end) > 0) {
          throw new TesseraError(
            ErrorCode.KvEngineBadRange,
            "deleteRange start is after its end",
          );
        }
        break;
    }
  }
}

/**
 * Refuses an over-long range bound. Unlike a key a bound may be empty: an empty start is
 * the beginning of the key space, an empty end bounds an empty range.
 */
export function checkBound(bound: Uint8Array): void {
  if (bound.length > 0) checkKey(bound);
}

/** Checks scan bounds and that a limit is a whole number. */
export function checkScanBounds(start?: Uint8Array, end?: Uint8Array, limit?: number): void {
  if (start !== undefined) checkBound(start);
  if (end !== undefined) checkBound(end);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new TesseraError(ErrorCode.KvEngineBadRange, `scan limit ${limit} is not >= 0`);
  }
}

/** A copy that owns its own memory (a plain `Uint8Array`, not a pooled `Buffer` view). */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
