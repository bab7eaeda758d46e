/**
 * Byte-level building blocks shared by the key codecs: a growable output buffer, the
 * bytewise comparison that defines key order everywhere in Tessera, and the error every
 * decoder throws on input it cannot parse.
 *
 * A `ByteWriter` owns its buffer until `toBytes()` copies the written prefix out, so the
 * returned array is never aliased by later writes. Keys are compared as unsigned bytes,
 * shorter-is-smaller on a common prefix: the order of the KV engine and of shard ranges.
 */
import { ErrorCode, TesseraError, limits } from "../base/mod.ts";

/**
 * Compares two byte strings as unsigned bytes; a proper prefix sorts first.
 * Returns a negative number, zero or a positive number.
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * The smallest key greater than every key that starts with `prefix` (TiKV's
 * `PrefixNext`): the exclusive end of a prefix scan. Returns an empty array when no such
 * key exists (the prefix is all 0xFF), which callers read as "unbounded".
 */
export function prefixNext(prefix: Uint8Array): Uint8Array {
  const out = prefix.slice();
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] !== 0xff) {
      out[i]! += 1;
      return out.subarray(0, i + 1).slice();
    }
  }
  return new Uint8Array(0);
}

/** Throws the error every decoder reports for input it cannot parse. */
export function corrupt(message: string, offset: number): never {
  throw new TesseraError(ErrorCode.CodecCorrupt, `corrupt key: ${message} at byte ${offset}`, {
    details: { offset },
  });
}

const initialCapacity = 32;

/**
 * An append-only byte buffer. Its length is bounded by `limits.keyBytesMax`: every key
 * built here must fit in one KV key, and a longer one is refused with `Codec:KeyTooLarge`
 * before it is built rather than after the engine rejects it.
 */
export class ByteWriter {
  private buffer = new Uint8Array(initialCapacity);
  private view = new DataView(this.buffer.buffer);
  private used = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.used;
  }

  /** Appends one byte (0..255). */
  pushByte(value: number): void {
    this.reserve(1);
    this.buffer[this.used++] = value;
  }

  /** Appends `bytes` verbatim. */
  pushBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.used);
    this.used += bytes.length;
  }

  /** Appends `value` (0 ≤ value < 2^64) as 8 bytes, big-endian. */
  pushUint64(value: bigint): void {
    this.reserve(8);
    this.view.setBigUint64(this.used, value);
    this.used += 8;
  }

  /** Complements every byte written from `start` on (descending order for that span). */
  invertFrom(start: number): void {
    for (let i = start; i < this.used; i++) this.buffer[i] = ~this.buffer[i]! & 0xff;
  }

  /** A copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return this.buffer.slice(0, this.used);
  }

  private reserve(extra: number): void {
    const needed = this.used + extra;
    if (needed > limits.keyBytesMax) {
      throw new TesseraError(
        ErrorCode.CodecKeyTooLarge,
        `encoded key would be ${needed} bytes, over the ${limits.keyBytesMax}-byte limit`,
        { details: { bytes: needed, limit: limits.keyBytesMax } },
      );
    }
    if (needed <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.used));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }
}

/**
 * A cursor over encoded bytes for decoders. Every read checks bounds and throws
 * `Codec:Corrupt` on truncated input, so a decoder built on it cannot read past the end.
 * While `mask` is 0xff each byte is complemented as it is read: that is how descending
 * columns, whose bytes were inverted on write, are decoded with the ascending logic.
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  /** Index of the next byte to read. */
  offset: number;
  /** XORed into every byte read: 0x00 for ascending spans, 0xff for descending ones. */
  mask = 0;

  private readonly view: DataView;

  constructor(bytes: Uint8Array, offset = 0) {
    this.bytes = bytes;
    this.offset = offset;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  /** Reads one byte, or throws `Codec:Corrupt` at the end of input. */
  readByte(): number {
    if (this.offset >= this.bytes.length) corrupt("unexpected end of input", this.offset);
    return this.bytes[this.offset++]! ^ this.mask;
  }

  /** Reads 8 bytes as a big-endian unsigned 64-bit integer. */
  readUint64(): bigint {
    if (this.remaining < 8) corrupt("truncated 8-byte value", this.offset);
    const value = this.view.getBigUint64(this.offset);
    this.offset += 8;
    return this.mask === 0 ? value : value ^ 0xffff_ffff_ffff_ffffn;
  }
}
