/**
 * The memcomparable key codec: a tuple of SQL values becomes bytes whose bytewise order is
 * the tuple's SQL order, column by column, as TiDB's `codec.EncodeKey`.
 *
 * Each value is a flag byte followed by its body. Flags follow TiDB's numbering, and NULL
 * (0x00) sorts before every other flag, so NULL sorts first in an ascending column:
 *
 *     0x00 NULL     (no body)
 *     0x01 bytes    group-encoded (`group_bytes.ts`); strings store their collation sort key
 *     0x03 int      8 bytes, comparable int64 (`number.ts`)
 *     0x04 uint     8 bytes, comparable uint64
 *     0x05 float    8 bytes, comparable float64; NaN refused, -0 written as +0
 *     0x06 decimal  normalized, self-delimiting (`decimal.ts`)
 *
 * A descending column has every byte of its value inverted, flag included, which reverses
 * its order (NULL then sorts last). Inverted flags (0xff, 0xfe, 0xfc…0xf9) never collide
 * with plain ones, so a key is self-describing: `KeyReader` tells both the kind and the
 * direction of each value from its flag, without a schema.
 *
 * Every body is self-delimiting and prefix-free, so in a multi-column key the first
 * differing column decides the order, whatever the lengths of the columns before it. Equal
 * SQL values give identical bytes (decimals are normalized, -0 is 0, strings go through
 * their collation), so a unique index sees duplicates as duplicates.
 *
 * Decoding accepts only bytes the encoder can produce and throws `Codec:Corrupt` on
 * anything else; it never reads past the input. A string decodes as the `bytes` of its
 * sort key: the original string is not recoverable from a collated key.
 */
import { assert, unreachable } from "../base/mod.ts";
import { ByteReader, ByteWriter, corrupt } from "./bytes.ts";
import type { Collation } from "./collation.ts";
import type { Decimal } from "./decimal.ts";
import { readKeyDecimal, writeKeyDecimal } from "./decimal.ts";
import { readGroupBytes, writeGroupBytes } from "./group_bytes.ts";
import {
  readComparableFloat64,
  readComparableInt64,
  readComparableUint64,
  writeComparableFloat64,
  writeComparableInt64,
  writeComparableUint64,
} from "./number.ts";

/** One SQL value in a key. */
export type KeyDatum =
  | { readonly kind: "null" }
  /** A signed 64-bit integer. */
  | { readonly kind: "int"; readonly value: bigint }
  /** An unsigned 64-bit integer. */
  | { readonly kind: "uint"; readonly value: bigint }
  /** A double; NaN cannot be encoded. */
  | { readonly kind: "float"; readonly value: number }
  /** Raw bytes, compared bytewise (BINARY, VARBINARY, BLOB). */
  | { readonly kind: "bytes"; readonly value: Uint8Array }
  /** A string under a collation; encoded as its sort key, decoded as `bytes`. */
  | { readonly kind: "string"; readonly value: string; readonly collation: Collation }
  /** An exact decimal. */
  | { readonly kind: "decimal"; readonly value: Decimal };

/** The kinds of `KeyDatum`. */
export type KeyDatumKind = KeyDatum["kind"];

/** A value read back from a key, with the direction it was written in. */
export interface KeyColumn {
  readonly datum: KeyDatum;
  readonly descending: boolean;
}

/** Flag bytes, as TiDB's `util/codec` numbers them. */
export const keyFlag = {
  null: 0x00,
  bytes: 0x01,
  int: 0x03,
  uint: 0x04,
  float: 0x05,
  decimal: 0x06,
} as const;

/** The NULL datum. */
export const nullDatum: KeyDatum = { kind: "null" };

/**
 * Builds a key one value at a time. The encoded key is bounded by `limits.keyBytesMax`;
 * a write that would pass it throws `Codec:KeyTooLarge`.
 */
export class KeyWriter {
  private readonly out = new ByteWriter();

  /** Bytes written so far. */
  get length(): number {
    return this.out.length;
  }

  /** Appends one value, inverted when `descending`. Returns the writer for chaining. */
  write(datum: KeyDatum, options: { descending?: boolean } = {}): this {
    const start = this.out.length;
    writeDatum(this.out, datum);
    if (options.descending === true) this.out.invertFrom(start);
    return this;
  }

  /** Appends `bytes` verbatim (a key prefix built elsewhere). */
  writeRaw(bytes: Uint8Array): this {
    this.out.pushBytes(bytes);
    return this;
  }

  /** The key written so far, as a fresh array. The writer may go on being used. */
  finish(): Uint8Array {
    return this.out.toBytes();
  }
}

function writeDatum(out: ByteWriter, datum: KeyDatum): void {
  switch (datum.kind) {
    case "null":
      out.pushByte(keyFlag.null);
      return;
    case "int":
      out.pushByte(keyFlag.int);
      writeComparableInt64(out, datum.value);
      return;
    case "uint":
      out.pushByte(keyFlag.uint);
      writeComparableUint64(out, datum.value);
      return;
    case "float":
      out.pushByte(keyFlag.float);
      writeComparableFloat64(out, datum.value);
      return;
    case "bytes":
      out.pushByte(keyFlag.bytes);
      writeGroupBytes(out, datum.value);
      return;
    case "string":
      out.pushByte(keyFlag.bytes);
      writeGroupBytes(out, datum.collation.sortKey(datum.value));
      return;
    case "decimal":
      out.pushByte(keyFlag.decimal);
      writeKeyDecimal(out, datum.value);
      return;
    default:
      unreachable(datum, "key datum kind");
  }
}

/**
 * Reads values back from an encoded key, one at a time, starting at `offset`. Throws
 * `Codec:Corrupt` for bytes the encoder cannot have written.
 */
export class KeyReader {
  private readonly input: ByteReader;

  constructor(bytes: Uint8Array, options: { offset?: number } = {}) {
    const offset = options.offset ?? 0;
    assert(
      Number.isInteger(offset) && offset >= 0 && offset <= bytes.length,
      `KeyReader offset ${offset} outside 0..${bytes.length}`,
    );
    this.input = new ByteReader(bytes, offset);
  }

  /** Index of the next unread byte. */
  get offset(): number {
    return this.input.offset;
  }

  /** True when every byte has been read. */
  get done(): boolean {
    return this.input.remaining === 0;
  }

  /** Reads the next value and its direction. */
  read(): KeyColumn {
    const start = this.input.offset;
    const raw = this.input.readByte();
    const descending = !isFlag(raw);
    if (descending && !isFlag(~raw & 0xff)) {
      corrupt(`unknown datum flag 0x${raw.toString(16)}`, start);
    }
    this.input.mask = descending ? 0xff : 0;
    try {
      return { datum: readBody(this.input, descending ? ~raw & 0xff : raw), descending };
    } finally {
      this.input.mask = 0;
    }
  }
}

function isFlag(byte: number): boolean {
  // 0x02 is TiDB's compact-bytes flag, which keys never use.
  return byte <= keyFlag.decimal && byte !== 0x02;
}

function readBody(input: ByteReader, flag: number): KeyDatum {
  switch (flag) {
    case keyFlag.null:
      return nullDatum;
    case keyFlag.bytes:
      return { kind: "bytes", value: readGroupBytes(input) };
    case keyFlag.int:
      return { kind: "int", value: readComparableInt64(input) };
    case keyFlag.uint:
      return { kind: "uint", value: readComparableUint64(input) };
    case keyFlag.float:
      return { kind: "float", value: readComparableFloat64(input) };
    case keyFlag.decimal:
      return { kind: "decimal", value: readKeyDecimal(input) };
    default:
      return corrupt(`unknown datum flag 0x${flag.toString(16)}`, input.offset - 1);
  }
}

/**
 * Encodes a tuple of values as one memcomparable key. `descending[i]` inverts column `i`
 * (missing entries are ascending). Throws `Codec:OutOfRange` for integers outside their
 * type, `Codec:Unsupported` for NaN and `Codec:KeyTooLarge` past `limits.keyBytesMax`.
 */
export function encodeKey(
  values: readonly KeyDatum[],
  options: { descending?: readonly boolean[] } = {},
): Uint8Array {
  const descending = options.descending ?? [];
  assert(
    descending.length <= values.length,
    `${descending.length} descending flags for ${values.length} key values`,
  );
  const writer = new KeyWriter();
  values.forEach((datum, i) => writer.write(datum, { descending: descending[i] === true }));
  return writer.finish();
}

/**
 * Decodes every value of a key made by `encodeKey`, in either direction. Strings come back
 * as the `bytes` of their sort key. Throws `Codec:Corrupt` on malformed input.
 */
export function decodeKey(bytes: Uint8Array): KeyDatum[] {
  const reader = new KeyReader(bytes);
  const values: KeyDatum[] = [];
  while (!reader.done) values.push(reader.read().datum);
  return values;
}
