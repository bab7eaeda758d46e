/**
 * Where table data and metadata live in the one ordered key space, as TiDB's `tablecodec`
 * and `structure` packages lay it out:
 *
 *     row key    't' tableId "_r" handle                       19 bytes
 *     index key  't' tableId "_i" indexId values [handle]
 *     meta key   'm' key 's'                  (a string value)
 *                'm' key 'h' field            (a field of a hash)
 *
 * Table ids, index ids and handles are comparable int64s (8 bytes big-endian, sign bit
 * flipped, no flag byte), so all of a table's rows are one contiguous range ordered by
 * handle, negative handles first, and each index is one range ordered by its values.
 * Index values use the key codec (`key.ts`); a non-unique index appends the handle as an
 * int datum so that equal values still give distinct keys. Meta keys and fields are
 * group-encoded byte strings and the type tag a uint64, as in TiDB. The 'm' prefix sorts
 * before 't', so metadata never interleaves with table data.
 */
import type { IndexId, TableId } from "../base/mod.ts";
import { assert, indexId, tableId } from "../base/mod.ts";
import { ByteReader, ByteWriter, corrupt } from "./bytes.ts";
import { readGroupBytes, writeGroupBytes } from "./group_bytes.ts";
import type { KeyDatum } from "./key.ts";
import { KeyReader, KeyWriter } from "./key.ts";
import { readComparableInt64, writeComparableInt64 } from "./number.ts";

const tablePrefixByte = 0x74; // 't'
const metaPrefixByte = 0x6d; // 'm'
const separator = 0x5f; // '_'
const recordTag = 0x72; // 'r'
const indexTag = 0x69; // 'i'
const metaStringTag = 0x73n; // 's'
const metaHashTag = 0x68n; // 'h'

/** Bytes in a row key: 't', table id, "_r", handle. */
export const rowKeyBytes = 19;
/** Bytes in an index prefix: 't', table id, "_i", index id. */
export const indexPrefixBytes = 19;

/** The first byte of every metadata key (`m`). */
export const metaPrefix: Uint8Array = Uint8Array.of(metaPrefixByte);

/** `t{tableId}`: the prefix of every key of the table, rows and indexes. */
export function tablePrefix(table: TableId): Uint8Array {
  const out = new ByteWriter();
  writeTablePrefix(out, table);
  return out.toBytes();
}

/** `t{tableId}_r`: the prefix of every row key of the table. */
export function recordPrefix(table: TableId): Uint8Array {
  const out = new ByteWriter();
  writeTablePrefix(out, table);
  out.pushByte(separator);
  out.pushByte(recordTag);
  return out.toBytes();
}

/** `t{tableId}_i{indexId}`: the prefix of every key of one index. */
export function indexPrefix(table: TableId, index: IndexId): Uint8Array {
  const out = new ByteWriter();
  writeIndexPrefix(out, table, index);
  return out.toBytes();
}

function writeTablePrefix(out: ByteWriter, table: TableId): void {
  out.pushByte(tablePrefixByte);
  writeComparableInt64(out, BigInt(table));
}

function writeIndexPrefix(out: ByteWriter, table: TableId, index: IndexId): void {
  writeTablePrefix(out, table);
  out.pushByte(separator);
  out.pushByte(indexTag);
  writeComparableInt64(out, BigInt(index));
}

/** A decoded row key. */
export interface RowKey {
  readonly tableId: TableId;
  /** The row's int64 handle (its integer primary key or hidden row id). */
  readonly handle: bigint;
}

/** `t{tableId}_r{handle}`. Throws `Codec:OutOfRange` if `handle` is not an int64. */
export function encodeRowKey(table: TableId, handle: bigint): Uint8Array {
  const out = new ByteWriter();
  writeTablePrefix(out, table);
  out.pushByte(separator);
  out.pushByte(recordTag);
  writeComparableInt64(out, handle);
  return out.toBytes();
}

/** Decodes a row key; throws `Codec:Corrupt` unless `key` is exactly one. */
export function decodeRowKey(key: Uint8Array): RowKey {
  const input = new ByteReader(key);
  const table = readTablePrefix(input);
  expectTag(input, recordTag, "row");
  const handle = readComparableInt64(input);
  if (input.remaining !== 0) corrupt("bytes after the row handle", input.offset);
  return { tableId: table, handle };
}

/**
 * The handle of a row key without checking the rest (`decodeRowKey` checks): its last 8
 * bytes, the handle with its sign bit flipped, big-endian; read without a `DataView`, and
 * a handle within ±2^53 without 64-bit arithmetic.
 */
export function handleOfRowKey(key: Uint8Array): bigint {
  const at = key.length - 8;
  const hi = ((key[at]! ^ 0x80) << 24) | (key[at + 1]! << 16) | (key[at + 2]! << 8) |
    key[at + 3]!;
  const lo = ((key[at + 4]! << 24) | (key[at + 5]! << 16) | (key[at + 6]! << 8) |
    key[at + 7]!) >>> 0;
  if (hi >= -0x20_0000 && hi < 0x20_0000) return BigInt(hi * 0x1_0000_0000 + lo);
  return (BigInt(hi) << 32n) + BigInt(lo);
}

/** The parts of an index key. */
export interface IndexKey {
  readonly tableId: TableId;
  readonly indexId: IndexId;
  /** The indexed column values, in index column order. */
  readonly values: readonly KeyDatum[];
  /** Per-column direction; missing entries are ascending. */
  readonly descending?: readonly boolean[];
  /** The row handle, appended for non-unique indexes; absent for unique ones. */
  readonly handle?: bigint;
}

/** `t{tableId}_i{indexId}{values}[handle]`. Throws as `encodeKey` does. */
export function encodeIndexKey(key: IndexKey): Uint8Array {
  const descending = key.descending ?? [];
  assert(
    descending.length <= key.values.length,
    `${descending.length} descending flags for ${key.values.length} index values`,
  );
  const prefix = new ByteWriter();
  writeIndexPrefix(prefix, key.tableId, key.indexId);
  const writer = new KeyWriter().writeRaw(prefix.toBytes());
  key.values.forEach((datum, i) => writer.write(datum, { descending: descending[i] === true }));
  if (key.handle !== undefined) writer.write({ kind: "int", value: key.handle });
  return writer.finish();
}

/** A decoded index key: what `encodeIndexKey` took, with every direction spelled out. */
export interface DecodedIndexKey {
  readonly tableId: TableId;
  readonly indexId: IndexId;
  /** The indexed values; strings come back as the bytes of their sort key. */
  readonly values: KeyDatum[];
  readonly descending: boolean[];
  /** The handle, when the key carries one (a non-unique index). */
  readonly handle: bigint | undefined;
}

/**
 * Decodes an index key of an index with `columnCount` columns. After the values, the key
 * must end or hold exactly one ascending int (the handle); else `Codec:Corrupt`.
 */
export function decodeIndexKey(
  key: Uint8Array,
  options: { columnCount: number },
): DecodedIndexKey {
  const { columnCount } = options;
  assert(Number.isSafeInteger(columnCount) && columnCount >= 0, `bad columnCount ${columnCount}`);
  const input = new ByteReader(key);
  const table = readTablePrefix(input);
  expectTag(input, indexTag, "index");
  const index = indexId(readId(input, "index"));
  const reader = new KeyReader(key, { offset: input.offset });
  const values: KeyDatum[] = [];
  const descending: boolean[] = [];
  for (let i = 0; i < columnCount; i++) {
    if (reader.done) corrupt(`index key has ${i} of ${columnCount} values`, reader.offset);
    const column = reader.read();
    values.push(column.datum);
    descending.push(column.descending);
  }
  let handle: bigint | undefined;
  if (!reader.done) {
    const start = reader.offset;
    const column = reader.read();
    if (column.datum.kind !== "int" || column.descending) corrupt("bad index handle", start);
    handle = column.datum.value;
    if (!reader.done) corrupt("bytes after the index handle", reader.offset);
  }
  return { tableId: table, indexId: index, values, descending, handle };
}

function readTablePrefix(input: ByteReader): TableId {
  if (input.readByte() !== tablePrefixByte) corrupt("not a table key", 0);
  return tableId(readId(input, "table"));
}

/** Reads a comparable int64 id that must be a positive safe integer. */
function readId(input: ByteReader, what: string): number {
  const start = input.offset;
  const id = readComparableInt64(input);
  if (id <= 0n || id > BigInt(Number.MAX_SAFE_INTEGER)) corrupt(`bad ${what} id ${id}`, start);
  return Number(id);
}

function expectTag(input: ByteReader, tag: number, what: string): void {
  const start = input.offset;
  if (input.readByte() !== separator || input.readByte() !== tag) {
    corrupt(`not a ${what} key`, start);
  }
}

/** The parts of a metadata key. */
export interface MetaKey {
  /** The name of the stored value or hash. */
  readonly key: Uint8Array;
  /** The field within a hash; absent for a plain string value. */
  readonly field?: Uint8Array;
}

/** `m{key}s` for a string value, `m{key}h{field}` for a hash field (TiDB's `structure`). */
export function encodeMetaKey(meta: MetaKey): Uint8Array {
  const out = new ByteWriter();
  out.pushByte(metaPrefixByte);
  writeGroupBytes(out, meta.key);
  if (meta.field === undefined) {
    out.pushUint64(metaStringTag);
  } else {
    out.pushUint64(metaHashTag);
    writeGroupBytes(out, meta.field);
  }
  return out.toBytes();
}

/** Decodes a metadata key; throws `Codec:Corrupt` unless `bytes` is exactly one. */
export function decodeMetaKey(bytes: Uint8Array): MetaKey {
  const input = new ByteReader(bytes);
  if (input.readByte() !== metaPrefixByte) corrupt("not a meta key", 0);
  const key = readGroupBytes(input);
  const tagAt = input.offset;
  const tag = input.readUint64();
  let meta: MetaKey;
  if (tag === metaStringTag) {
    meta = { key };
  } else if (tag === metaHashTag) {
    meta = { key, field: readGroupBytes(input) };
  } else {
    corrupt(`unknown meta type tag ${tag}`, tagAt);
  }
  if (input.remaining !== 0) corrupt("bytes after the meta key", input.offset);
  return meta;
}
