/**
 * A tiny binary writer and reader for MVCC records (locks and commit records).
 *
 * Records are stored in the engine, so the format is part of the on-disk layout: a tag byte
 * per field family, timestamps as 8 bytes big-endian, byte strings and lists as a 32-bit
 * big-endian length then the payload. Readers fail with `Codec:Corrupt` on truncated input
 * instead of reading past the end; writers own their growing buffer until `finish()`.
 */
import { ErrorCode, TesseraError, type Timestamp } from "../../base/mod.ts";
import { compareBytes } from "../../codec/mod.ts";

/** Appends fields to a growing buffer. */
export class ByteWriter {
  private buffer = new Uint8Array(64);
  private length = 0;

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }

  /** One byte, 0..255. */
  u8(value: number): this {
    this.reserve(1);
    this.buffer[this.length++] = value & 0xff;
    return this;
  }

  /** An unsigned 32-bit integer, big-endian. */
  u32(value: number): this {
    this.reserve(4);
    new DataView(this.buffer.buffer).setUint32(this.length, value >>> 0);
    this.length += 4;
    return this;
  }

  /** A timestamp (unsigned 64-bit), big-endian. */
  ts(value: Timestamp): this {
    this.reserve(8);
    new DataView(this.buffer.buffer).setBigUint64(this.length, value);
    this.length += 8;
    return this;
  }

  /** A length-prefixed byte string. */
  bytes(value: Uint8Array): this {
    this.u32(value.length);
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  /** The written bytes (a copy sized exactly). */
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/** Reads fields written by `ByteWriter`, in the same order. */
export class ByteReader {
  private offset = 0;
  private readonly data: Uint8Array;
  private readonly what: string;

  constructor(data: Uint8Array, what: string) {
    this.data = data;
    this.what = what;
  }

  private need(count: number): void {
    if (this.offset + count > this.data.length) {
      throw new TesseraError(ErrorCode.CodecCorrupt, `truncated ${this.what} record`, {
        details: { length: this.data.length, offset: this.offset, need: count },
      });
    }
  }

  /** True when every byte has been read. */
  get done(): boolean {
    return this.offset >= this.data.length;
  }

  u8(): number {
    this.need(1);
    return this.data[this.offset++] ?? 0;
  }

  u32(): number {
    this.need(4);
    const view = new DataView(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    const value = view.getUint32(this.offset);
    this.offset += 4;
    return value;
  }

  ts(): Timestamp {
    this.need(8);
    const view = new DataView(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    const value = view.getBigUint64(this.offset) as Timestamp;
    this.offset += 8;
    return value;
  }

  bytes(): Uint8Array {
    const length = this.u32();
    this.need(length);
    const value = this.data.slice(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** `bytes`, as a view into the record (for records nobody changes, read from the engine). */
  bytesView(): Uint8Array {
    const length = this.u32();
    this.need(length);
    const value = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** Fails unless the whole record was consumed. */
  end(): void {
    if (!this.done) {
      throw new TesseraError(ErrorCode.CodecCorrupt, `trailing bytes in ${this.what} record`);
    }
  }
}

/** Bytewise comparison, the engine's key order (the codec's, re-exported for MVCC). */
export { compareBytes };

/** True when the two byte strings are equal. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return compareBytes(a, b) === 0;
}

/** Concatenates byte strings. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
