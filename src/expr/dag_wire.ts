/**
 * Byte primitives of the coprocessor DAG codec (`dag.ts`): a growable writer and a
 * bounds-checked reader of bytes, unsigned LEB128 varints (up to 2^53), 64-bit integers,
 * doubles and UTF-8 strings. The reader throws `Codec:Corrupt` with the field being read
 * for anything truncated or out of range, and refuses a count larger than the bytes left
 * (every element takes at least one byte), so a malformed message can never make the
 * decoder allocate more than the message itself. Pure: no I/O.
 */
import { ErrorCode, TesseraError } from "../base/mod.ts";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The error every malformed DAG message raises. */
export function malformedDag(what: string, why: string): TesseraError {
  return new TesseraError(ErrorCode.CodecCorrupt, `malformed DAG ${what}: ${why}`);
}

/** Appends bytes to a buffer that grows as needed. */
export class DagWriter {
  private bytes = new Uint8Array(256);
  private length = 0;
  private view = new DataView(this.bytes.buffer);

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  byte(b: number): void {
    this.reserve(1);
    this.bytes[this.length++] = b;
  }

  bool(b: boolean): void {
    this.byte(b ? 1 : 0);
  }

  /** A non-negative safe integer as an unsigned LEB128 varint. */
  varint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new TesseraError(ErrorCode.CodecOutOfRange, `DAG varint ${n} is not a count`);
    }
    let v = n;
    while (v >= 0x80) {
      this.byte((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    this.byte(v);
  }

  int64(n: bigint): void {
    this.reserve(8);
    this.view.setBigInt64(this.length, BigInt.asIntN(64, n));
    this.length += 8;
  }

  uint64(n: bigint): void {
    this.reserve(8);
    this.view.setBigUint64(this.length, BigInt.asUintN(64, n));
    this.length += 8;
  }

  float64(n: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, n);
    this.length += 8;
  }

  raw(data: Uint8Array): void {
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  /** Length-prefixed bytes. */
  blob(data: Uint8Array): void {
    this.varint(data.length);
    this.raw(data);
  }

  /** Length-prefixed UTF-8. */
  string(s: string): void {
    this.blob(utf8.encode(s));
  }

  finish(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

/** Reads what `DagWriter` wrote; `what` names the message in errors. */
export class DagReader {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private offset = 0;
  readonly what: string;

  constructor(bytes: Uint8Array, what: string) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.what = what;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  fail(why: string): never {
    throw malformedDag(this.what, `${why} (at byte ${this.offset})`);
  }

  private need(n: number, field: string): number {
    if (this.offset + n > this.bytes.length) this.fail(`${field} is truncated`);
    const at = this.offset;
    this.offset += n;
    return at;
  }

  byte(field: string): number {
    return this.bytes[this.need(1, field)]!;
  }

  bool(field: string): boolean {
    const b = this.byte(field);
    if (b > 1) this.fail(`${field} is not a boolean`);
    return b === 1;
  }

  varint(field: string): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte(field);
      n += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(n)) this.fail(`${field} is out of range`);
        return n;
      }
      scale *= 128;
    }
    return this.fail(`${field} varint is too long`);
  }

  /** A varint at most `max`. */
  bounded(field: string, max: number): number {
    const n = this.varint(field);
    if (n > max) this.fail(`${field} ${n} is over ${max}`);
    return n;
  }

  /** A count of elements that each take at least one byte, capped by `max` too. */
  count(field: string, max: number): number {
    const n = this.bounded(field, max);
    if (n > this.remaining) this.fail(`${field} ${n} is more than the bytes left`);
    return n;
  }

  int64(field: string): bigint {
    return this.view.getBigInt64(this.need(8, field));
  }

  uint64(field: string): bigint {
    return this.view.getBigUint64(this.need(8, field));
  }

  float64(field: string): number {
    return this.view.getFloat64(this.need(8, field));
  }

  blob(field: string): Uint8Array {
    const n = this.varint(field);
    const at = this.need(n, field);
    // A copy, as a plain Uint8Array (a Buffer's slice would be a view of the whole reply).
    return new Uint8Array(this.bytes.subarray(at, at + n));
  }

  string(field: string): string {
    const n = this.varint(field);
    const at = this.need(n, field);
    try {
      return fromUtf8.decode(this.bytes.subarray(at, at + n));
    } catch {
      return this.fail(`${field} is not UTF-8`);
    }
  }

  /** Fails unless every byte was read. */
  end(): void {
    if (this.remaining !== 0) this.fail(`${this.remaining} bytes after the end`);
  }
}
