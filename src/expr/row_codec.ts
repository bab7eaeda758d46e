/**
 * The row value codec: a table row (one `Value` per column) ↔ the bytes stored under its
 * row key. Self-describing, so a row decodes without its schema and a column added later
 * reads as its default:
 *
 *     0x01                                  format version
 *     varint count                          columns stored
 *     count × ( varint columnId, tag, body )
 *
 *     tag 0 NULL      (no body)
 *     tag 1 int       8 bytes big-endian two's complement
 *     tag 2 uint      8 bytes big-endian
 *     tag 3 double    8 bytes IEEE 754 big-endian
 *     tag 4 decimal   1 byte scale, varint length, ASCII digits of the unscaled value
 *     tag 5 string    varint length, UTF-8 bytes
 *     tag 6 datetime  u16 year, u8 month, day, hour, minute, second, u32 microsecond, u8 fsp
 *
 * Varints are unsigned LEB128. Decoding rejects anything the encoder cannot produce with
 * a thrown `Error("corrupt row …")` — a corrupt row is a bug or a disk fault, not a user
 * error. Pure: no I/O.
 */
import type { DateTime, Value } from "./value.ts";

const version = 0x01;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

class Writer {
  private bytes = new Uint8Array(64);
  private length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  byte(b: number): void {
    this.reserve(1);
    this.bytes[this.length++] = b;
  }

  varint(n: number): void {
    let v = n;
    while (v >= 0x80) {
      this.byte((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    this.byte(v);
  }

  raw(data: Uint8Array): void {
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  fixed(n: number, write: (view: DataView) => void): void {
    this.reserve(n);
    write(new DataView(this.bytes.buffer, this.length, n));
    this.length += n;
  }

  finish(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

class Reader {
  private readonly bytes: Uint8Array;
  private offset = 0;
  /** One view over the row for its fixed-size fields, made on first use. */
  private dataView: DataView | undefined;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  get done(): boolean {
    return this.offset === this.bytes.length;
  }

  byte(): number {
    if (this.offset >= this.bytes.length) throw corrupt("truncated");
    return this.bytes[this.offset++]!;
  }

  varint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return n;
      scale *= 128;
    }
    throw corrupt("varint too long");
  }

  take(n: number): Uint8Array {
    if (this.offset + n > this.bytes.length) throw corrupt("truncated");
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** Skips `n` bytes; returns where they start. */
  skip(n: number): number {
    if (this.offset + n > this.bytes.length) throw corrupt("truncated");
    const at = this.offset;
    this.offset += n;
    return at;
  }

  /** The 4 bytes at `at`, big-endian, as an unsigned 32-bit number. */
  private u32At(at: number): number {
    const b = this.bytes;
    return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  }

  /** 8 bytes big-endian: two's complement (`signed`) or unsigned. */
  int64(signed: boolean): bigint {
    const at = this.skip(8);
    const high = this.u32At(at);
    const low = this.u32At(at + 4);
    const hi = signed ? high | 0 : high;
    // Within ±2^53 a double holds it exactly: one BigInt instead of three.
    if (hi >= -0x20_0000 && hi < 0x20_0000) return BigInt(hi * 0x1_0000_0000 + low);
    return (BigInt(hi) << 32n) + BigInt(low);
  }

  float64(): number {
    const at = this.skip(8);
    this.dataView ??= new DataView(this.bytes.buffer, this.bytes.byteOffset,
      this.bytes.byteLength);
    return this.dataView.getFloat64(at);
  }

  /** The 12-byte datetime body. */
  dateTime(): { fsp: number; value: DateTime } {
    const at = this.skip(12);
    const b = this.bytes;
    return { fsp: b[at + 11]!, value: { year: (b[at]! << 8) | b[at + 1]!, month: b[at + 2]!,
      day: b[at + 3]!, hour: b[at + 4]!, minute: b[at + 5]!, second: b[at + 6]!,
      microsecond: this.u32At(at + 7) } };
  }
}

function corrupt(why: string): Error {
  return new Error(`corrupt row: ${why}`);
}

/** Encodes `values` (column ids parallel to them). */
export function encodeRow(columnIds: readonly number[], values: readonly Value[]): Uint8Array {
  const w = new Writer();
  w.byte(version);
  w.varint(values.length);
  values.forEach((value, i) => {
    w.varint(columnIds[i]!);
    if (value === null) {
      w.byte(0);
      return;
    }
    switch (value.kind) {
      case "int":
        w.byte(1);
        w.fixed(8, (v) => v.setBigInt64(0, value.value));
        break;
      case "uint":
        w.byte(2);
        w.fixed(8, (v) => v.setBigUint64(0, value.value));
        break;
      case "double":
        w.byte(3);
        w.fixed(8, (v) => v.setFloat64(0, value.value));
        break;
      case "decimal": {
        w.byte(4);
        w.byte(value.scale);
        const digits = utf8.encode(value.unscaled.toString());
        w.varint(digits.length);
        w.raw(digits);
        break;
      }
      case "string": {
        w.byte(5);
        const text = utf8.encode(value.value);
        w.varint(text.length);
        w.raw(text);
        break;
      }
      case "datetime": {
        w.byte(6);
        const d = value.value;
        w.fixed(12, (v) => {
          v.setUint16(0, d.year);
          v.setUint8(2, d.month);
          v.setUint8(3, d.day);
          v.setUint8(4, d.hour);
          v.setUint8(5, d.minute);
          v.setUint8(6, d.second);
          v.setUint32(7, d.microsecond);
          v.setUint8(11, value.fsp);
        });
        break;
      }
    }
  });
  return w.finish();
}

/** Decodes a row into a map from column id to value. */
export function decodeRow(bytes: Uint8Array): Map<number, Value> {
  const out = new Map<number, Value>();
  decodeRowWith(bytes, (id, value) => out.set(id, value));
  return out;
}

/**
 * Decodes a row into `out`: the value of column id `id` goes to `out[slots.get(id)]`;
 * columns without a slot (dropped since) are checked and skipped. Slots of columns the
 * row lacks are left as they were.
 */
export function decodeRowInto(bytes: Uint8Array, slots: ReadonlyMap<number, number>,
  out: (Value | undefined)[]): void {
  decodeRowWith(bytes, (id, value) => {
    const slot = slots.get(id);
    if (slot !== undefined) out[slot] = value;
  });
}

function decodeRowWith(bytes: Uint8Array, put: (id: number, value: Value) => void): void {
  const r = new Reader(bytes);
  if (r.byte() !== version) throw corrupt("unknown version");
  const count = r.varint();
  for (let i = 0; i < count; i++) {
    const id = r.varint();
    const tag = r.byte();
    let value: Value;
    switch (tag) {
      case 0:
        value = null;
        break;
      case 1:
        value = { kind: "int", value: r.int64(true) };
        break;
      case 2:
        value = { kind: "uint", value: r.int64(false) };
        break;
      case 3:
        value = { kind: "double", value: r.float64() };
        break;
      case 4: {
        const scale = r.byte();
        const digits = fromUtf8.decode(r.take(r.varint()));
        if (!/^-?\d+$/.test(digits)) throw corrupt("bad decimal");
        value = { kind: "decimal", unscaled: BigInt(digits), scale };
        break;
      }
      case 5:
        value = { kind: "string", value: fromUtf8.decode(r.take(r.varint())) };
        break;
      case 6: {
        const { fsp, value: d } = r.dateTime();
        value = { kind: "datetime", fsp, value: d };
        break;
      }
      default:
        throw corrupt(`unknown tag ${tag}`);
    }
    put(id, value);
  }
  if (!r.done) throw corrupt("bytes after the last column");
}
