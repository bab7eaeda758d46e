/**
 * Reading and writing MySQL packet payloads: fixed-width little-endian integers,
 * length-encoded integers and strings, NUL-terminated strings.
 *
 * `PayloadReader` never reads past its payload: every read of bytes that are not there
 * throws a `MalformedPacket`, which the connection turns into an error reply, so a hostile
 * packet cannot make the server crash or allocate more than the packet's own size.
 * `PayloadWriter` grows its buffer by doubling; `finish()` hands out a view of the bytes.
 */

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8");

/** A packet was shorter than its structure says, or held an impossible value. */
export class MalformedPacket extends Error {
  override readonly name = "MalformedPacket";
}

/** Sequential reads from one packet payload. */
export class PayloadReader {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private position: number;

  constructor(bytes: Uint8Array, position = 0) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.position = position;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.bytes.length - this.position;
  }

  get offset(): number {
    return this.position;
  }

  private need(length: number): void {
    if (length < 0 || this.position + length > this.bytes.length) {
      throw new MalformedPacket(
        `packet too short: need ${length} bytes at ${this.position} of ${this.bytes.length}`,
      );
    }
  }

  uint8(): number {
    this.need(1);
    return this.bytes[this.position++] ?? 0;
  }

  uint16(): number {
    this.need(2);
    const value = this.view.getUint16(this.position, true);
    this.position += 2;
    return value;
  }

  uint24(): number {
    this.need(3);
    const value = this.view.getUint16(this.position, true) |
      ((this.bytes[this.position + 2] ?? 0) << 16);
    this.position += 3;
    return value;
  }

  uint32(): number {
    this.need(4);
    const value = this.view.getUint32(this.position, true);
    this.position += 4;
    return value;
  }

  int8(): number {
    this.need(1);
    return this.view.getInt8(this.position++);
  }

  int16(): number {
    this.need(2);
    const value = this.view.getInt16(this.position, true);
    this.position += 2;
    return value;
  }

  int32(): number {
    this.need(4);
    const value = this.view.getInt32(this.position, true);
    this.position += 4;
    return value;
  }

  int64(): bigint {
    this.need(8);
    const value = this.view.getBigInt64(this.position, true);
    this.position += 8;
    return value;
  }

  uint64(): bigint {
    this.need(8);
    const value = this.view.getBigUint64(this.position, true);
    this.position += 8;
    return value;
  }

  float32(): number {
    this.need(4);
    const value = this.view.getFloat32(this.position, true);
    this.position += 4;
    return value;
  }

  float64(): number {
    this.need(8);
    const value = this.view.getFloat64(this.position, true);
    this.position += 8;
    return value;
  }

  /** `length` bytes, as a view into the payload. */
  bytesOf(length: number): Uint8Array {
    this.need(length);
    const out = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return out;
  }

  /** Everything not read yet. */
  rest(): Uint8Array {
    return this.bytesOf(this.remaining);
  }

  /**
   * A length-encoded integer. Lengths in one packet are below 2^53, so a number; 0xfb
   * (NULL in a row) and 0xff (an error header) are malformed here.
   */
  lenencInt(): number {
    const first = this.uint8();
    if (first < 0xfb) return first;
    if (first === 0xfc) return this.uint16();
    if (first === 0xfd) return this.uint24();
    if (first === 0xfe) {
      const value = this.uint64();
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new MalformedPacket(`length-encoded integer ${value} too large`);
      }
      return Number(value);
    }
    throw new MalformedPacket(`invalid length-encoded integer prefix 0x${first.toString(16)}`);
  }

  lenencBytes(): Uint8Array {
    return this.bytesOf(this.lenencInt());
  }

  lenencString(): string {
    return utf8Decoder.decode(this.lenencBytes());
  }

  /** Bytes up to a NUL (consumed, not returned); malformed if there is none. */
  nulBytes(): Uint8Array {
    const end = this.bytes.indexOf(0, this.position);
    if (end < 0) throw new MalformedPacket("missing NUL terminator");
    const out = this.bytes.subarray(this.position, end);
    this.position = end + 1;
    return out;
  }

  nulString(): string {
    return utf8Decoder.decode(this.nulBytes());
  }

  /** Everything not read yet, as UTF-8 text. */
  restString(): string {
    return utf8Decoder.decode(this.rest());
  }

  skip(length: number): void {
    this.need(length);
    this.position += length;
  }
}

/** Builds one payload. */
export class PayloadWriter {
  private buffer: Uint8Array;
  private view: DataView;
  private length = 0;

  constructor(capacity = 64) {
    this.buffer = new Uint8Array(capacity);
    this.view = new DataView(this.buffer.buffer);
  }

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }

  get size(): number {
    return this.length;
  }

  /**
   * Empties the writer to build another payload (what `finish` returned before is
   * overwritten); a buffer grown past 64 KiB is let go.
   */
  reset(): this {
    this.length = 0;
    if (this.buffer.length > 65_536) {
      this.buffer = new Uint8Array(4096);
      this.view = new DataView(this.buffer.buffer);
    }
    return this;
  }

  uint8(value: number): this {
    this.reserve(1);
    this.buffer[this.length++] = value & 0xff;
    return this;
  }

  uint16(value: number): this {
    this.reserve(2);
    this.view.setUint16(this.length, value & 0xffff, true);
    this.length += 2;
    return this;
  }

  uint24(value: number): this {
    this.reserve(3);
    this.view.setUint16(this.length, value & 0xffff, true);
    this.buffer[this.length + 2] = (value >>> 16) & 0xff;
    this.length += 3;
    return this;
  }

  uint32(value: number): this {
    this.reserve(4);
    this.view.setUint32(this.length, value >>> 0, true);
    this.length += 4;
    return this;
  }

  int64(value: bigint): this {
    this.reserve(8);
    this.view.setBigInt64(this.length, BigInt.asIntN(64, value), true);
    this.length += 8;
    return this;
  }

  uint64(value: bigint): this {
    this.reserve(8);
    this.view.setBigUint64(this.length, BigInt.asUintN(64, value), true);
    this.length += 8;
    return this;
  }

  float32(value: number): this {
    this.reserve(4);
    this.view.setFloat32(this.length, value, true);
    this.length += 4;
    return this;
  }

  float64(value: number): this {
    this.reserve(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  zeros(count: number): this {
    this.reserve(count);
    this.buffer.fill(0, this.length, this.length + count);
    this.length += count;
    return this;
  }

  string(value: string): this {
    return this.bytes(utf8.encode(value));
  }

  nulString(value: string): this {
    return this.string(value).uint8(0);
  }

  /** A length-encoded integer (`value` ≥ 0). */
  lenencInt(value: number | bigint): this {
    const n = BigInt(value);
    if (n < 0xfbn) return this.uint8(Number(n));
    if (n <= 0xffffn) return this.uint8(0xfc).uint16(Number(n));
    if (n <= 0xffffffn) return this.uint8(0xfd).uint24(Number(n));
    return this.uint8(0xfe).uint64(n);
  }

  lenencBytes(value: Uint8Array): this {
    return this.lenencInt(value.length).bytes(value);
  }

  lenencString(value: string): this {
    return this.lenencBytes(utf8.encode(value));
  }

  /** `lenencString`, encoding the text straight into the payload. */
  lenencUtf8(value: string): this {
    const length = Buffer.byteLength(value, "utf8");
    this.lenencInt(length);
    this.reserve(length);
    utf8.encodeInto(value, this.buffer.subarray(this.length, this.length + length));
    this.length += length;
    return this;
  }

  /** The payload written so far (a view; do not write after taking it). */
  finish(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

/** UTF-8 bytes of `text`. */
export function encodeUtf8(text: string): Uint8Array {
  return utf8.encode(text);
}

/** `bytes` as UTF-8 text (invalid sequences become U+FFFD). */
export function decodeUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}
